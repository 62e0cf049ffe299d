"""The command line as a demanding user meets it: one error style, nothing half-done, --json, --help.

Every test runs the real CLI: the console script in a subprocess for what reaches
the terminal (stderr, exit codes, Ctrl-C), click's runner for --json documents.
"""

from __future__ import annotations

import ast
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import click
import pytest
from conftest import _console_script, signalling_at
from test_cli import KERNEL, all_commands, assert_one_error
from test_eval_client import closed_port_url

import skillpm

# --- one error style: usage errors, click's own and Ctrl-C read like every other error -----------


@pytest.mark.parametrize(
    ("args", "contains", "hint"),
    [
        (["instal", "x"], "no such command 'instal'", "did you mean 'install'"),
        (["registry", "ad"], "no such command 'ad'", None),  # click >= 8.4 adds "did you mean 'add'?"
        (["install", "--jsn", "x"], "no such option '--jsn'", "did you mean '--json'?"),
        (["remove"], "missing argument 'NAME'", "see 'skillpm remove --help'"),
        (["pack", "no-such-dir"], "invalid value for 'SOURCE'", "see 'skillpm pack --help'"),
        (["keygen", "-o", "k", "--algorithm", "rsa"], "'rsa' is not one of", "see 'skillpm keygen --help'"),
        (["registry", "rotate-key", "."], "give --new-key KEYFILE or --retire", "registry rotate-key --help"),
        (["registry", "yank", ".", "my-skill"], "yank needs NAME==VERSION", "e.g. my-skill==1.0.0"),
        (["install", "x", "--agent", "nope"], "'nope' is not one of the 80 agents skillpm knows", "install --help"),
        (["install", "x", "--min-pass-rate", "nan"], "'nan' is not a finite number", "install --help"),
        (["sync", "--min-bandwidth-pct", "inf"], "'inf' is not a finite number", "sync --help"),
        # -v and --debug are skillpm's own, before the command (pip and cargo users put them after)
        (["install", "x", "-v"], "no such option '-v'", "-v goes before the command: 'skillpm -v install ...'"),
        (["registry", "list", "--debug"], "no such option '--debug'",
         "--debug goes before the command: 'skillpm --debug registry list ...'"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_usage_errors_are_one_error_and_a_hint(args, contains, hint, isolated, run_skillpm) -> None:
    result = run_skillpm(*args)
    assert_one_error(result, contains=contains, hint=hint, exit_code=2)
    assert sorted(p.name for p in isolated.project.iterdir()) == [".git"]


def test_an_option_missing_its_value_is_one_error_line(isolated, run_skillpm) -> None:
    result = run_skillpm("install", KERNEL, "--arch")
    assert_one_error(result, contains="option '--arch' requires an argument", exit_code=2)


def test_a_failure_reported_by_a_command_is_one_error_line(isolated, registry: Path, run_skillpm) -> None:
    result = run_skillpm("registry", "serve", registry, "--bind", "192.0.2.1", "--port", "0")  # TEST-NET-1: not ours
    assert_one_error(result, contains="cannot listen on 192.0.2.1:0", exit_code=1)


def test_verify_of_a_missing_variant_is_a_failure_not_a_usage_error(isolated, registry: Path, run_skillpm) -> None:
    result = run_skillpm("verify", KERNEL, "--registry", registry, "--target", "sm_120a")
    assert_one_error(result, contains="has no variant sm_120a (variants: generic, sm_80, sm_90a)", exit_code=1)


def _default_sigint() -> None:
    """In the child: Ctrl-C as in a terminal, even when this test runs where SIGINT is ignored (a background job)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_is_one_error_line_and_changes_nothing(isolated, run_skillpm) -> None:
    """Interrupted while waiting on a registry that never answers: exit 130, nothing written."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(30)
        process = subprocess.Popen(
            [sys.executable, "-m", "skillpm", "install", KERNEL, "--arch", "9.0",
             "--registry", f"http://127.0.0.1:{server.getsockname()[1]}/"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"},
            preexec_fn=_default_sigint,
        )
        try:
            connection, _ = server.accept()  # skillpm waits for config.json now
            with connection:
                process.send_signal(signal.SIGINT)
                stdout, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:  # it ignored the signal or stalled: the test fails, but never hangs
                process.kill()
                process.communicate()
    assert process.returncode == 130 and stdout == ""
    assert stderr.strip().splitlines() == ["error: interrupted; nothing was left half-written"]
    assert sorted(p.name for p in isolated.project.iterdir()) == [".git"]


#: Run the console script's entry with the arguments given, sending itself SIGNAL as MODULE is first looked for.
_SIGNAL_WHILE_IMPORTING = """
import os, signal, sys
class SendWhileImporting:
    def find_spec(self, name, path, target=None):
        if name == "MODULE":
            os.kill(os.getpid(), signal.SIGNAL)
        return None
sys.meta_path.insert(0, SendWhileImporting())
sys.argv = ["skillpm", *sys.argv[1:]]
from skillpm.console import main
main()
"""


def _signalled_while_importing(module: str, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """skillpm ARGS, sent the signal ``name`` as ``module`` is first looked for."""
    code = _SIGNAL_WHILE_IMPORTING.replace("MODULE", module).replace("SIGNAL", name)
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60,
                          preexec_fn=_default_sigint)


@pytest.mark.parametrize(("name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_while_skillpm_starts_is_one_line(name: str, code: int) -> None:
    """Ctrl-C in the first tens of milliseconds, while the CLI imports, printed a traceback of the import (found
    in a hostile review: 13 of 25 early interrupts): now the one line, and 128 plus the signal's number."""
    completed = _signalled_while_importing("click", name, "--help")
    assert (completed.returncode, completed.stdout) == (code, "")
    assert completed.stderr.splitlines() == ["error: interrupted; nothing was left half-written"]


def test_ctrl_c_while_jsonschema_rs_loads_is_one_line(isolated, run_skillpm, tmp_path: Path) -> None:
    """jsonschema-rs's init imports the decimal module and panics when that fails: Ctrl-C while it ran there
    (1 of 400 interrupted 'skillpm validate' runs, in a hostile review) became PyO3's PanicException, which no
    handler of skillpm's takes, and a traceback. decimal is imported before jsonschema-rs now, where Ctrl-C is
    the one line."""
    assert run_skillpm("init", tmp_path / "skill").returncode == 0
    completed = _signalled_while_importing("decimal", "SIGINT", "validate", str(tmp_path / "skill"))
    assert (completed.returncode, completed.stdout) == (130, "")
    assert completed.stderr.strip().splitlines() == ["error: interrupted; nothing was left half-written"]




@pytest.mark.parametrize(("name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_between_the_start_up_handler_and_the_cli_s_is_one_line(name: str, code: int) -> None:
    """The console script hands Ctrl-C over to the CLI's handler a few steps before the CLI's try begins: a
    signal in between was a traceback (1 in 400 interrupted runs, in a hostile review). Now the one line."""
    # as the CLI makes its output streams escape what they cannot encode: after the console script's start-up
    # handler, before the CLI's own
    code_text = signalling_at("_escape_what_output_cannot_encode", name)
    completed = subprocess.run([sys.executable, "-c", code_text, "--version"], capture_output=True, text=True,
                               timeout=60, preexec_fn=_default_sigint)
    assert (completed.returncode, completed.stdout) == (code, "")
    assert completed.stderr.splitlines() == ["error: interrupted; nothing was left half-written"]


def _running_with(text: str) -> list[str]:
    """The command lines of this machine's processes that hold ``text``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path("/proc", pid, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command:
            found.append(command)
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="lists processes through /proc")
def test_sigterm_during_a_git_fetch_stops_git_and_removes_its_checkout(isolated, tmp_path: Path) -> None:
    """SIGTERM (what timeout, CI runners and kill send) killed Python on the spot: git, in a session of its
    own, went on against a server that never answers, and its checkout stayed in $TMPDIR (hostile review).
    Now skillpm stops as for Ctrl-C: git killed, the checkout removed, exit 143."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(30)
        port = server.getsockname()[1]
        process = subprocess.Popen(
            [sys.executable, "-m", "skillpm", "install", f"git+https://127.0.0.1:{port}/org/repo.git"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(scratch)},
        )
        try:
            connection, _ = server.accept()  # git is fetching now, and waits for the server to speak
            with connection:
                assert any("git" in command for command in _running_with(f"127.0.0.1:{port}"))
                process.send_signal(signal.SIGTERM)
                stdout, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:  # it ignored the signal: the test fails, but never hangs
                process.kill()
                process.communicate()
    assert process.returncode == 143 and stdout == ""
    assert stderr.strip().splitlines() == ["error: interrupted; nothing was left half-written"]
    assert _running_with(f"127.0.0.1:{port}") == []
    assert list(scratch.iterdir()) == []


# --- nothing half-done ------------------------------------------------------------------------------


def test_install_of_several_installs_none_when_one_is_unknown(isolated, registry: Path, run_skillpm) -> None:
    result = run_skillpm("install", KERNEL, "kernel-helpr", "--arch", "9.0", "--registry", registry)
    assert_one_error(result, contains="no package named 'kernel-helpr'", hint=f"did you mean {KERNEL}?")
    assert not isolated.lockfile.exists() and not isolated.skills.exists()


def test_install_of_several_installs_none_when_one_has_no_variant(
    isolated, tmp_path: Path, registry: Path, make_source, publish, run_skillpm
) -> None:
    publish(registry, make_source(tmp_path, "hopper-only", {"sm_90a": {}}))
    result = run_skillpm("install", KERNEL, "hopper-only", "--arch", "8.0", "--registry", registry)
    assert_one_error(result, contains="no variant of hopper-only suits capability 8.0")
    assert not isolated.lockfile.exists() and not isolated.skills.exists()


@pytest.mark.parametrize(
    ("options", "contains"),
    [
        (["--dir", "elsewhere", "--global"], "--dir names the folder itself"),
        (["--dir", "elsewhere", "--agent", "codex"], "--dir names the folder itself"),
        (["--dir", "a-file"], "Directory 'a-file' is a file"),
        (["--trusted-key", "no-such.pub"], "File 'no-such.pub' does not exist"),
        (["--min-lift", "2"], "2.0 is not in the range -1<=x<=1"),
    ],
)
def test_install_refuses_options_it_cannot_honour(options, contains, isolated, registry: Path, run_skillpm) -> None:
    (isolated.project / "a-file").write_text("")
    result = run_skillpm("install", KERNEL, "--arch", "9.0", "--registry", registry, *options)
    assert_one_error(result, contains=contains, hint="see 'skillpm install --help'", exit_code=2)
    assert sorted(p.name for p in isolated.project.iterdir()) == [".git", "a-file"]


def test_pack_into_a_file_is_refused(isolated, tmp_path: Path, make_source, run_skillpm) -> None:
    (isolated.project / "dist").write_text("not a folder")
    result = run_skillpm("pack", make_source(tmp_path, "some-skill"), "-o", "dist")
    assert_one_error(result, contains="Directory 'dist' is a file", exit_code=2)
    assert (isolated.project / "dist").read_text() == "not a folder"


def test_add_remote_keeps_a_directory_as_an_absolute_url(isolated, registry: Path, run_skillpm) -> None:
    relative = os.path.relpath(registry, isolated.project)
    added = run_skillpm("registry", "add-remote", "local", relative)
    assert added.returncode == 0, added.stderr
    elsewhere = isolated.tmp / "elsewhere"
    elsewhere.mkdir()
    found = run_skillpm("resolve", KERNEL, "--arch", "9.0", "--registry", "local", cwd=elsewhere)
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith(f"{KERNEL} 1.0.0 sm_90a")
    assert registry.resolve().as_uri() in run_skillpm("registry", "list").stdout


def test_add_remote_refuses_what_is_neither_url_nor_directory(isolated, run_skillpm) -> None:
    result = run_skillpm("registry", "add-remote", "team", "skills.example.org/registry")
    assert_one_error(result, contains="registry skills.example.org/registry does not exist")
    assert "team" not in run_skillpm("registry", "list").stdout


def test_add_remote_with_a_key_it_cannot_pin_adds_nothing(isolated, registry: Path, run_skillpm) -> None:
    (isolated.project / "bad.pub").write_text("not a key")
    result = run_skillpm("registry", "add-remote", "team", registry, "--index-key", "bad.pub")
    assert_one_error(result, contains="not a PEM public key")
    assert "team" not in run_skillpm("registry", "list").stdout


# --- reports: --json everywhere, and a word when there is nothing to do --------------------------------


def test_every_command_but_serve_takes_json() -> None:
    from skillpm.cli import cli

    lacking = [
        " ".join(path)
        for path, command in all_commands(cli).items()
        if not isinstance(command, click.Group) and not any("--json" in param.opts for param in command.params)
    ]
    assert sorted(lacking) == ["registry open", "registry serve"]  # they print a URL and serve until Ctrl-C


def test_registry_commands_print_json(isolated, tmp_path: Path, make_source, run_cli, run_skillpm) -> None:
    def data(*args: object) -> object:
        result = run_cli(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    reg = tmp_path / "reg"
    assert data("registry", "init", reg, "--name", "mine") == {"directory": str(reg), "name": "mine", "index_keys": []}
    packed = data("pack", make_source(tmp_path, "json-skill"), "-o", tmp_path / "dist")
    data("registry", "add", reg, packed[0]["path"])
    assert data("registry", "yank", reg, "json-skill==1.0.0") == {
        "name": "json-skill", "version": "1.0.0", "targets": ["generic"], "yanked": True,
    }
    assert data("registry", "rebuild", reg)["packages"] == ["json-skill"]
    key = data("keygen", "-o", tmp_path / "index.key")
    assert data("registry", "trust", reg, "--index-key", key["public"]) == {  # an unsigned index: nothing verified
        "registry": reg.as_uri(), "index_key": key["fingerprint"], "version": 0, "verified": False, "revoked": [],
    }
    assert data("registry", "trust", reg, "--forget") == {
        "registry": reg.as_uri(), "forgotten": True, "online_read_forgotten": False,
    }
    assert data("registry", "add-remote", "mine", reg, "--priority", "3") == {
        "name": "mine", "url": reg.as_uri(), "priority": 3, "index_key": None,
    }
    assert data("registry", "remove", "mine")["url"] == reg.as_uri()
    created = data("init", tmp_path / "new-skill")["created"]
    assert [Path(path).name for path in created] == ["SKILL.md", "skillpm.toml", "skill_meta.json"]


def test_rotate_key_prints_json(isolated, tmp_path: Path, run_cli) -> None:
    old = json.loads(run_cli("keygen", "-o", tmp_path / "old.key", "--json").stdout)
    new = json.loads(run_cli("keygen", "-o", tmp_path / "new.key", "--json").stdout)
    reg = tmp_path / "reg"
    assert run_cli("registry", "init", reg, "--key", old["private"]).exit_code == 0
    result = run_cli("registry", "rotate-key", reg, "--new-key", new["private"], "--key", old["private"], "--json")
    assert result.exit_code == 0, result.output
    keys = [old["fingerprint"], new["fingerprint"]]
    assert json.loads(result.stdout) == {"added": new["fingerprint"], "index_keys": keys}


def test_remove_json_names_the_directory_as_install_does(isolated, registry: Path, run_cli) -> None:
    [installed] = json.loads(run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry, "--json").stdout)
    [removed] = json.loads(run_cli("remove", KERNEL, "--json").stdout)
    assert removed == {key: installed[key] for key in ("name", "version", "target", "directory")}


def test_update_with_nothing_installed_says_so(isolated, run_skillpm) -> None:
    result = run_skillpm("update")
    assert result.returncode == 0 and result.stdout == ""
    assert "nothing to do" in result.stderr


# --- --help teaches -------------------------------------------------------------------------------


def _environment_variables() -> set[str]:
    """Every ``SKILLPM_*`` variable a module of skillpm reads through a ``*_ENV`` constant."""
    root = Path(skillpm.__file__).parent
    pattern = re.compile(r'^\w*ENV = "(SKILLPM_\w+)"', re.MULTILINE)
    return {name for path in root.rglob("*.py") for name in pattern.findall(path.read_text(encoding="utf-8"))}


def test_help_names_every_environment_variable(run_skillpm) -> None:
    names = _environment_variables() | {"SKILLPM_ARCH", "SIGSTORE_ID_TOKEN"}
    assert len(names) > 10
    text = run_skillpm("--help").stdout
    assert sorted(name for name in names if name not in text) == []


def test_registry_help_shows_every_summary_whole(run_skillpm) -> None:
    from skillpm.cli.registry import registry

    text = " ".join(run_skillpm("registry", "--help").stdout.split())
    for name, command in registry.commands.items():
        assert command.get_short_help_str(limit=500) in text, name


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("update", "else the GPU each skill was resolved for before"),
        ("remove", "Delete the directory even when it holds no SKILL.md"),
        ("install", "--dir DIR"),
        ("init", "The skill's description"),
    ],
)
def test_help_describes_what_each_option_does_there(command: str, says: str, run_skillpm) -> None:
    assert says in " ".join(run_skillpm(command, "--help").stdout.split())


@pytest.mark.parametrize("command", ["sync", "update"])
def test_sync_and_update_outside_any_project_say_so_and_how_to_start_one(tmp_path: Path, run_skillpm, command) -> None:
    nowhere = tmp_path / "not-a-project"
    nowhere.mkdir()
    result = run_skillpm(command, cwd=nowhere)
    assert_one_error(result, contains="no project here", hint="skillpm install NAME", exit_code=1)
    assert list(nowhere.iterdir()) == []


@pytest.mark.parametrize("command", [["sync"], ["update"], ["update", "--dry-run"]])
def test_sync_and_update_in_a_project_without_skills_lock_say_it_is_not_there_yet(
    tmp_path: Path, run_skillpm, command: list[str]
) -> None:
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    result = run_skillpm(*command, cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == (
        f"{project / 'skills.lock'} does not exist yet, so there is nothing to do; 'skillpm install NAME' starts it"
    )
    assert not (project / "skills.lock").exists()


# --- errors for scripts (--json), for the curious (-v) and for bug reports (--debug) ----------------------


def test_with_json_an_error_is_a_json_object_and_the_exit_code_stays(isolated, registry: Path, run_skillpm) -> None:
    result = run_skillpm("install", "kernel-helpr", "--registry", registry, "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {
        "error": f"no package named 'kernel-helpr' in registry {registry.as_uri()}",
        "hint": f"did you mean {KERNEL}?",
        "code": 1,
    }
    assert result.stderr.startswith("error: no package named 'kernel-helpr'")
    usage = run_skillpm("info", "--json")
    assert usage.returncode == 2 and json.loads(usage.stdout)["code"] == 2


@pytest.mark.parametrize("buffered", [False, True], ids=["unbuffered", "buffered"])
def test_with_json_an_error_still_reaches_stderr_when_stdout_is_gone(isolated, registry: Path, buffered: bool) -> None:
    """`skillpm ... --json | head -c0` (a reader that left) and `> /dev/full`: the error line on stderr and the
    exit code (2 for a usage error), no traceback of the failed write of the JSON error."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    env.update(NO_COLOR="1", **({} if buffered else {"PYTHONUNBUFFERED": "1"}))
    runs = [(["info", "--json"], 2, "error: missing argument 'NAME"),
            (["install", "kernel-helpr", "--registry", str(registry), "--json"], 1, "error: no package named"),
            (["search", "kernel", "--registry", str(registry), "--json"], 1, "")]  # no error: quiet, as for `| head`
    for args, code, error in runs:
        read, write = os.pipe()
        os.close(read)
        try:
            result = subprocess.run([_console_script(), *args], stdout=write, stderr=subprocess.PIPE, text=True,
                                    env=env, timeout=60)
        finally:
            os.close(write)
        assert (result.returncode, result.stderr.startswith(error), bool(result.stderr)) == (code, True, bool(error))
        assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr
    if os.path.exists("/dev/full"):
        with open("/dev/full", "w") as full:
            result = subprocess.run([_console_script(), *runs[2][0]], stdout=full, stderr=subprocess.PIPE, text=True,
                                    env=env, timeout=60)
        assert (result.returncode, result.stderr) == (1, "error: No space left on device\n")


def _without_stderr() -> None:
    """In the child: fd 2 closed, as `2>&-` leaves it (Python then sets sys.stderr to None)."""
    os.close(2)


def test_with_stderr_closed_notes_and_warnings_stay_out_of_stdout(isolated, registry: Path) -> None:
    """`2>&-` (cron, daemons, CI wrappers): a lock wait's note went into --json stdout (print to a None
    sys.stderr prints to stdout) and a registry skipped for not answering ended search in an AttributeError."""
    import fcntl
    import threading

    config = isolated.tmp / "config.toml"
    config.write_text(f'[[registry]]\nname = "down"\nurl = "{closed_port_url().removesuffix("/v1")}/"\npriority = 5\n')
    env = {**os.environ, "NO_COLOR": "1", "SKILLPM_CONFIG": str(config), "SKILLPM_HTTP_RETRIES": "1"}
    search = subprocess.run([_console_script(), "search", "kernel", "--json"], capture_output=True, text=True,
                            env=env, timeout=60, preexec_fn=_without_stderr)
    assert search.returncode == 0 and json.loads(search.stdout), search.stdout  # the embedded registry's packages
    held = os.open(isolated.project, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(held, fcntl.LOCK_EX)  # another run holds the project's lock, and lets go a moment later
    threading.Timer(1.0, os.close, (held,)).start()
    install = subprocess.run([_console_script(), "install", KERNEL, "--arch", "9.0", "--registry", registry, "--json"],
                             capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}, timeout=60,
                             preexec_fn=_without_stderr)
    assert install.returncode == 0 and json.loads(install.stdout)[0]["name"] == KERNEL, install.stdout


def test_a_traceback_only_with_debug(isolated, registry: Path, run_skillpm) -> None:
    for flags, traceback in (((), False), (("-v",), False), (("--debug",), True)):
        result = run_skillpm(*flags, "install", "kernel-helpr", "--registry", registry)
        assert result.returncode != 0
        assert ("Traceback" in result.stderr) is traceback, result.stderr
        assert [line for line in result.stderr.splitlines() if line.startswith("error: ")], result.stderr


def test_verbose_shows_an_explicit_cause_and_a_context_only_when_not_hidden() -> None:
    from skillpm.cli import _shown_cause

    def raised(hide: bool, explicit: bool) -> BaseException:
        try:
            try:
                raise ValueError("the secret")
            except ValueError as inner:
                if explicit:
                    raise KeyError("outer") from inner
                if hide:
                    raise KeyError("outer") from None
                raise KeyError("outer")
        except KeyError as outer:
            return outer

    assert _shown_cause(raised(hide=True, explicit=False)) is None
    assert str(_shown_cause(raised(hide=False, explicit=False))) == "the secret"
    assert str(_shown_cause(raised(hide=False, explicit=True))) == "the secret"


def test_the_secret_variables_child_programs_never_see_are_the_ones_skillpm_reads() -> None:
    from skillpm.attest.keys import PASSPHRASE_ENV
    from skillpm.childenv import SECRET_PREFIX, SECRET_VARIABLES, is_secret, without_secrets
    from skillpm.registry.credentials import TOKEN_ENV_PREFIX
    from skillpm.registry.oci.auth import PASSWORD_ENV, USERNAME_ENV
    from skillpm.registry.store import INDEX_KEY_ENV

    assert {PASSWORD_ENV, USERNAME_ENV, PASSPHRASE_ENV, INDEX_KEY_ENV} < SECRET_VARIABLES and SECRET_PREFIX == TOKEN_ENV_PREFIX
    assert is_secret("skillpm_token_team") and not is_secret("SKILLPM_CACHE_DIR")
    assert without_secrets({"SIGSTORE_ID_TOKEN": "t", "SKILLPM_TOKEN_X": "t", "HOME": "/h"}) == {"HOME": "/h"}
    # Every program skillpm starts gets an environment skillpm chose (without_secrets, or a minimal one),
    # never its own whole environment: nvidia-smi, found on PATH, once got every secret (a hostile review).
    inheriting = []
    for path in sorted(Path(skillpm.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("run", "Popen")
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "subprocess"
                    and not any(keyword.arg in ("env", None) for keyword in node.keywords)):
                inheriting.append(f"{path.name}:{node.lineno}")
    assert inheriting == []


def test_a_did_you_mean_hint_compares_a_bounded_number_of_names(registry: Path, run_cli, monkeypatch) -> None:
    """A hostile review: a registry's search.json (or any registry in the chain) listing 20,000 names of the
    asked name's length and first letter made 'info' of an unknown name run difflib against each (14 s; 83 s
    for 180,000). At most 500 are compared, those sharing most of the name's start and end, so the near
    name is still found."""
    import difflib
    import json

    search = json.loads((registry / "search.json").read_text())
    shuffled, letters = set(), list("kernelhelpr")  # the asked name's letters: difflib's quick checks pass them all
    random.Random(0).shuffle(letters)
    while len(shuffled) < 3_000:
        random.Random(len(shuffled)).shuffle(letters)
        shuffled.add("".join(letters))
    padding = [{**search["packages"][0], "name": name, "description": "x", "keywords": []} for name in sorted(shuffled)]
    search["packages"] += padding
    (registry / "search.json").write_text(json.dumps(search))
    compared = []
    ratio = difflib.SequenceMatcher.ratio
    monkeypatch.setattr(difflib.SequenceMatcher, "ratio", lambda self: compared.append(1) or ratio(self))
    result = run_cli("info", "kernel-helpr", "--registry", registry)
    error = result.exception  # the in-process runner keeps it: the console script prints it as one line
    assert "no package named 'kernel-helpr'" in str(error), result.output
    assert error.hint.startswith("did you mean kernel-helper")
    assert 0 < len(compared) <= 2 * 500  # MAX_NEAR_CANDIDATES compared (difflib asks a match its ratio twice); 3,353 before
