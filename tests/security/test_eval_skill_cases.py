"""Hostile skills for ``skillpm eval``: test cases and checks that hold the run, leak or lie.

A skill's author writes its ``skill_meta.json`` (its checks, their patterns and time limits,
the test scripts), and the model's answer is the endpoint's to choose; neither may hold
``eval`` for ever, read the user's API key, exhaust memory, or make a case pass whatever the
answer. Each case runs the real command line against a chat server on 127.0.0.1 that gives
one scripted answer.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from skillpm.evaluation.programs import find_cuobjdump
from tests.conftest import build_source, needs_nvcc, skill_md, write_files
from tests.security.conftest import Hostile, limit_memory
from tests.test_eval_client import ChatServer, completion

KEY = "sk-hostile-skill-0123456789abcdefghijklmnopqrstuvwxyz"
#: A pattern that backtracks catastrophically in ``re`` on a sentence ending in "!" (not in ``regex``).
REDOS_RE = r"^(\w+\s?)*$"
REDOS_ANSWER = "Layer normalization rescales each row of activations to zero mean and unit variance!"
#: A pattern that backtracks for ever in ``re`` and past any time limit in ``regex`` too.
REDOS_BOTH = r"^(a{1,30}){1,30}b"


@pytest.fixture
def answering() -> Iterator[Callable[[str], ChatServer]]:
    """``answering(text)``: a chat server on 127.0.0.1 answering every request with ``text``."""
    started: list[ChatServer] = []

    def start(text: str) -> ChatServer:
        server = ChatServer(lambda body: completion(text))
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def skill(hostile: Hostile, tests: list[dict], files: dict[str, str] | None = None) -> Path:
    """A one-variant skill source whose skill_meta.json holds ``tests`` (and ``files`` beside it)."""
    common = {"skill_meta.json": json.dumps({"metadata": {"version": "1.0"}, "tests": tests}), **(files or {})}
    variant = {"SKILL.md": skill_md("hostile", "Tests hostile checks. Use in tests.", "Answer.")}
    return build_source(hostile.work, "hostile", {"generic": variant}, common=common, tests=False)


def eval_args(source: Path, server: ChatServer, *extra: str) -> list[str]:
    return ["eval", str(source), "-m", "m", "--base-url", server.url, "--no-cache", "--json", *extra]


def arms(completed: subprocess.CompletedProcess[str]) -> tuple[int, int]:
    """With-skill and baseline passes of the one model of an ``eval --json`` run."""
    model = json.loads(completed.stdout)["models"][0]
    return model["with_skill"]["passed"], model["baseline"]["passed"]


def start_eval(hostile: Hostile, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``skillpm ARGS`` started in the background (to be signalled), under the suite's memory limit."""
    return subprocess.Popen(
        [sys.executable, "-m", "skillpm", *args],
        cwd=hostile.project,
        env=hostile.env(**(env or {})),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=limit_memory,
    )


def wait_for_requests(server: ChatServer, count: int = 1, *, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while len(server.requests) < count:
        assert time.monotonic() < deadline, "eval asked nothing"
        time.sleep(0.05)


def stopped_by_sigterm(process: subprocess.Popen[bytes], *, within: float) -> tuple[float, str]:
    """Send SIGTERM; the seconds ``process`` took to end (asserting it ended within ``within``) and its stderr."""
    start = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"skillpm went on for {within} s after SIGTERM")
    return time.monotonic() - start, stderr.decode("utf-8", "replace")


# ---------------------------------------------------------------- regex checks that backtrack


def test_a_backtracking_regex_check_fails_instead_of_holding_the_run(hostile, answering) -> None:
    """Threat: a skill's regex check backtracks catastrophically on an ordinary answer; eval never ended."""
    source = skill(hostile, [{"input": "Explain layer norm.", "expected": {"contains": []}, "validator": "regex", "validator_config": {"pattern": REDOS_RE}}])
    completed = hostile.ok(hostile.run(*eval_args(source, answering(REDOS_ANSWER))))
    assert arms(completed) == (0, 0)  # no match: the answer ends in "!"
    assert hostile.seconds < 15


def test_sigterm_stops_an_eval_whose_regex_check_backtracks(hostile, answering) -> None:
    """Threat: SIGTERM (and Ctrl-C) went unanswered while a worker held the GIL inside re.search."""
    tests = [{"input": "Say a.", "expected": {"contains": []}, "validator": "regex", "validator_config": {"pattern": REDOS_BOTH}}]
    server = answering("a" * 32 + "!")
    process = start_eval(hostile, eval_args(skill(hostile, tests), server, "--trials", "20", "--concurrency", "1"))
    wait_for_requests(server)
    time.sleep(1.0)  # inside the search by now
    seconds, stderr = stopped_by_sigterm(process, within=12)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "error: interrupted" in stderr and "Traceback" not in stderr
    assert seconds < 8  # at most one search's time limit (2 s, checked now and then) and unwinding


# ---------------------------------------------------------------- the API key and the programs checks run

NOBODY = 65534
STEAL = """\
import os, pathlib, sys
try:
    environ = open(f"/proc/{os.getppid()}/environ", "rb").read()
except OSError:
    sys.exit(0)
if b"{key}" in environ:
    pathlib.Path("{stolen}").write_bytes(environ)
    sys.exit(1)
"""


@pytest.fixture
def user_world(hostile: Hostile) -> Iterator[tuple[Path, list[str]]]:
    """A folder the command's user owns, and how to run a command as that user: the test's own user,
    or, when the suite runs as root (which reads any process's /proc files, undumpable or not),
    user nobody through setpriv (keeping the right to search folders, for an interpreter under /root)."""
    if os.geteuid() != 0:
        yield hostile.root, []
        return
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("run as root without setpriv to become another user")
    world = Path(tempfile.mkdtemp(prefix="skillpm-eval-key-"))
    as_nobody = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                 "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    try:
        yield world, as_nobody
    finally:
        shutil.rmtree(world, ignore_errors=True)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/<pid>/environ is Linux's")
def test_a_test_script_cannot_read_the_api_key_out_of_skillpm_s_environment(hostile, answering, user_world) -> None:
    """Threat: a skill's python_test script read --api-key-env's key from /proc/<skillpm's pid>/environ."""
    user_world, as_user = user_world
    stolen = user_world / "stolen"
    tests = [{"input": "Write f.", "expected": {"contains": []}, "validator": "python_test",
              "validator_config": {"script": ".eval/steal.py"}}]
    files = {
        "skill_meta.json": json.dumps({"metadata": {"version": "1.0"}, "tests": tests}),
        ".eval/steal.py": STEAL.replace("{key}", KEY).replace("{stolen}", str(stolen)),
    }
    variant = {"SKILL.md": skill_md("hostile", "Tests hostile checks. Use in tests.", "Answer.")}
    source = build_source(user_world / "work", "hostile", {"generic": variant}, common=files, tests=False)
    folders = {name: user_world / name for name in ("project", "home", "cache")}
    for folder in folders.values():
        folder.mkdir(exist_ok=True)
    if as_user:
        for path in [user_world, *user_world.rglob("*")]:
            os.chown(path, NOBODY, NOBODY)
    env = {"HOME": str(folders["home"]), "SKILLPM_CACHE_DIR": str(folders["cache"]), "EVAL_KEY": KEY}
    env.update({name: str(folders["home"] / name.lower()) for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")})
    server = answering("Here:\n```python\ndef f():\n    return 1\n```\n")
    completed = subprocess.run(
        [*as_user, sys.executable, "-m", "skillpm", *eval_args(source, server, "--api-key-env", "EVAL_KEY")],
        cwd=folders["project"], env=hostile.env(**env), capture_output=True, text=True, timeout=60,
        preexec_fn=limit_memory,
    )
    hostile.ok(completed)
    assert not stolen.exists()
    assert arms(completed) == (1, 1)


# ---------------------------------------------------------------- programs that outlive the run

SLEEPER = """\
import os, pathlib, time
pathlib.Path("{mark}").write_text(str(os.getpid()))
time.sleep({seconds})
"""


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def sleeping_test(hostile: Hostile, mark: Path, *, seconds: float, timeout_s: float | str = 60) -> Path:
    tests = [{"input": "Write f.", "expected": {"contains": []}, "validator": "python_test",
              "validator_config": {"script": ".eval/sleep.py", "timeout_s": timeout_s}}]
    script = SLEEPER.replace("{mark}", str(mark)).replace("{seconds}", str(seconds))
    return skill(hostile, tests, {".eval/sleep.py": script})


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_sigterm_during_a_test_script_ends_eval_and_the_script(hostile, answering) -> None:
    """Threat: SIGTERM waited for a running test script (up to its timeout_s), which then outlived skillpm."""
    mark = hostile.work / "started"
    server = answering("```python\ndef f():\n    return 1\n```\n")
    process = start_eval(hostile, eval_args(sleeping_test(hostile, mark, seconds=60), server))
    deadline = time.monotonic() + 15
    while not mark.exists() or not mark.read_text():
        assert time.monotonic() < deadline and process.poll() is None, "the test script never started"
        time.sleep(0.05)
    seconds, stderr = stopped_by_sigterm(process, within=12)
    assert process.returncode == 128 + signal.SIGTERM and "error: interrupted" in stderr, stderr
    assert seconds < 5
    time.sleep(0.2)
    assert not alive(int(mark.read_text()))


FLOOD = """\
import sys
block = b"x" * (1 << 20)
while True:
    sys.stdout.buffer.write(block)
"""


def test_a_test_script_printing_without_end_is_killed_at_the_output_limit(hostile, answering) -> None:
    """Threat: a program's output was read whole into memory (7 GB in 8 s) until its time limit."""
    tests = [{"input": "Write f.", "expected": {"contains": []}, "validator": "python_test",
              "validator_config": {"script": ".eval/flood.py", "timeout_s": 25}}]
    source = skill(hostile, tests, {".eval/flood.py": FLOOD})
    completed = hostile.ok(hostile.run(*eval_args(source, answering("```python\ndef f():\n    return 1\n```\n"))))
    assert arms(completed) == (0, 0)
    assert hostile.seconds < 15  # cut at 16 MiB, not at the 25 s time limit (nor out of memory)


@pytest.mark.parametrize("timeout_s", [1e300, 2e6, 3600.5])
def test_a_time_limit_over_an_hour_is_refused_when_the_cases_are_read(hostile, answering, timeout_s) -> None:
    """Threat: timeout_s 1e300 ended eval in an OverflowError traceback; 2e6 let a sleeping script run for weeks."""
    mark = hostile.work / "started"
    server = answering("```python\ndef f():\n    return 1\n```\n")
    completed = hostile.run(*eval_args(sleeping_test(hostile, mark, seconds=60, timeout_s=timeout_s), server))
    hostile.refused(completed, "validator_config.timeout_s", "3600")
    assert not mark.exists() and server.requests == []


def test_an_answer_of_fence_openings_that_never_close_is_read_at_once(hostile, answering) -> None:
    """Threat: finding code blocks was quadratic in fence openings that never close (16,000 lines: 42 s a search)."""
    tests = [{"input": "Write f.", "expected": {"contains": []}, "validator": "python_test",
              "validator_config": {"script": ".eval/check.py"}}]
    source = skill(hostile, tests, {".eval/check.py": "raise SystemExit(0)\n"})
    completed = hostile.ok(hostile.run(*eval_args(source, answering("```a\n" * 16_000))))
    assert arms(completed) == (0, 0)  # no block: nothing to test
    assert hostile.seconds < 10


@needs_nvcc
def test_a_kernel_whose_name_only_looks_mangled_fails_its_check_in_one_piece(hostile, answering) -> None:
    """Threat: an extern "C" kernel named _Z and 5,000 digits made reading its name end eval in a traceback."""
    if find_cuobjdump() is None:
        pytest.skip("cuobjdump and nvdisasm are not installed")
    tests = [{"input": "Write kernel k.", "expected": {"contains": []}, "validator": "cuda_kernel",
              "validator_config": {"kernel": "k", "arch": "sm_90"}}]
    name = "_Z" + "9" * 5000 + "k"
    answer = f'```cuda\nextern "C" __global__ void {name}(float *p) {{ p[threadIdx.x] = 1.0f; }}\n```\n'
    completed = hostile.ok(hostile.run(*eval_args(skill(hostile, tests), answering(answer), "--concurrency", "1")))
    assert arms(completed) == (0, 0)


# ---------------------------------------------------------------- test sets larger than skillpm reads


def evals_folder(hostile: Hostile, evals: list[dict], files: dict[str, str] | None = None) -> Path:
    """A plain skill folder (no skillpm.toml) whose evals/evals.json holds ``evals`` (and ``files`` beside it)."""
    folder = hostile.work / "s"
    write_files(folder, {"SKILL.md": skill_md("s", "Tests hostile evals. Use in tests.", "Answer."),
                         "evals/evals.json": json.dumps({"skill_name": "s", "evals": evals}), **(files or {})})
    return folder


def test_evals_showing_one_file_many_times_are_refused_past_the_shown_limit(hostile, answering) -> None:
    """Threat: evals.json's evals each showing the same 4 MiB file were each given a decoded copy
    (100,000 evals: 400 GB), so pack, publish and eval of the skill ended in MemoryError."""
    evals = [{"prompt": "Total?", "files": ["d.md"], "expected": {"contains": ["42"]}} for _ in range(300)]
    folder = evals_folder(hostile, evals, {"d.md": "a" * ((4 << 20) - 16)})
    packed = hostile.ok(hostile.run("pack", folder, "-o", hostile.work / "dist"))
    assert "evals.1.files: 'd.md' takes the files the evals show past 4 MiB in all" in packed.stderr
    server = answering("42")
    hostile.refused(hostile.run(*eval_args(folder, server)), "evals.1.files", "past 4 MiB in all")
    assert server.requests == []


def test_a_test_set_of_more_cases_than_skillpm_reads_is_refused_before_any_request(hostile, answering) -> None:
    """Threat: an evals.json of 100,000 evals (1.7 MB) is 200,000 requests per model, and each case was
    checked against the schema on every pack and publish."""
    folder = evals_folder(hostile, [{"prompt": "Total?", "expected": {"contains": ["42"]}}] * 10_001)
    server = answering("42")
    hostile.refused(hostile.run(*eval_args(folder, server)), "evals: 10,001 evals, more than the 10,000 skillpm reads")
    assert server.requests == []


# ---------------------------------------------------------------- cases that pass whatever the answer


@pytest.mark.parametrize(
    ("files", "named"),
    [
        ({"skill_meta.json": {"tests": [{"input": "q", "expected": {"contains": ["a"]}}, {"input": "q", "expected": {"contains": []}}]}}, "tests.1"),
        ({"skill_meta.json": {"tests": [{"input": "q", "expected": {"contains": [""]}}]}}, "tests.0"),
        ({"skill_meta.json": {"tests": [{"input": "q", "expected": {"contains": []}, "validator": "hf_eval_yaml"}]}}, "tests.0"),
        ({"evals/evals.json": {"evals": [{"id": 1, "prompt": "Total?", "expectations": ["42"], "expected": {"contains": []}}]}}, "evals.0"),
    ],
    ids=["empty-contains", "empty-string", "unknown-validator", "evals-json"],
)
def test_a_case_with_no_check_that_can_fail_is_refused_naming_it(hostile, answering, files, named) -> None:
    """Threat: a case whose only check is "expected": {"contains": []} passed whatever the answer ("I refuse.")."""
    variant = {"SKILL.md": skill_md("hostile", "Tests hostile checks. Use in tests.", "Answer.")}
    variant.update({path: json.dumps({"metadata": {}, **document}) for path, document in files.items()})
    source = build_source(hostile.work, "hostile", {"generic": variant}, tests=False)
    server = answering("I refuse.")
    completed = hostile.run(*eval_args(source, server))
    error = hostile.refused(completed, named, "no check that can fail", "would pass whatever the answer")
    assert "hint: " in completed.stderr and server.requests == [], error


def test_answers_planted_in_a_shared_cache_are_not_taken_as_the_model_s(hostile) -> None:
    """Threat (a hostile review of the cache): an answer's cache key is worked out from what anyone can
    know (the endpoint, the model, a public skill's cases), so whoever else writes the cache (a shared or
    restored CI cache) planted answers that passed every case, and the publisher's eval reported them as
    the model's, 0 requests made, in evidence it then signs. Here the planting runs with another user's
    data folder, so its entries are sealed with another secret."""
    answer = {"text": "the phrase a good answer holds"}
    server = ChatServer(lambda body: completion(answer["text"]))
    try:
        source = skill(hostile, [{"input": "Say it.", "expected": {"contains": ["the phrase a good answer holds"]}}])
        args = ["eval", str(source), "-m", "m", "--base-url", server.url, "--trials", "1", "--json"]
        planted = hostile.ok(hostile.run(*args, env={"XDG_DATA_HOME": str(hostile.work / "elsewhere")}))
        assert arms(planted) == (1, 1) and len(server.requests) == 2
        answer["text"] = "I do not know."
        assert arms(hostile.ok(hostile.run(*args))) == (0, 0)  # the model's own answers, asked again
        assert len(server.requests) == 4
        assert arms(hostile.ok(hostile.run(*args))) == (0, 0)  # and this user's own entries are taken
        assert len(server.requests) == 4
        secret = Path(os.environ["XDG_DATA_HOME"], "skillpm", "eval-answers.key")  # the data folder, not the cache
        assert secret.stat().st_mode & 0o077 == 0
    finally:
        server.close()
