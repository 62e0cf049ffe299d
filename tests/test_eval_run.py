"""``skillpm eval`` end to end against a scripted chat completions server on 127.0.0.1.

The server answers well only when the skill's text is in the system prompt, so the lift
below is measured, not assumed. Requests are counted on the server to prove resuming.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import test_eval_client
from conftest import _console_script, build_source, skill_md
from jsonschema import Draft202012Validator, FormatChecker
from test_eval_client import KEY, Reply, closed_port_url, completion

from skillpm.evaluation.cache import AnswerCache
from skillpm.evaluation.client import ChatClient
from skillpm.evaluation.errors import EndpointError
from skillpm.evaluation.programs import LocalPrograms
from skillpm.evaluation.run import Settings, evaluate_endpoint, import_upskill, plan
from skillpm.evaluation.subject import load_subject

chat_server = test_eval_client.chat_server  # the fixture, shared

SCHEMA = json.loads((Path(__file__).parents[1] / "schemas" / "eval-evidence.schema.json").read_text())
MARKER = "FLUX-CAPACITOR"
CASES = [
    {"input": "Which pattern fixes the flux?", "expected": {"contains": ["flux-capacitor pattern"]}},
    {"input": "Say hello.", "context": {"files": {"note.txt": "greet"}}, "expected": {"contains": ["hello"]}},
]


def skill_aware(body: dict) -> Reply:
    """Knows the answer only when the skill is in the system prompt."""
    system = " ".join(m["content"] for m in body["messages"] if m["role"] == "system")
    knows = MARKER in system
    return completion("hello" + (" - use the flux-capacitor pattern." if knows else "."), prompt_tokens=100 if knows else 20)


def make_skill(tmp_path: Path, body: str = f"Always use the {MARKER} pattern.", cases=CASES) -> Path:
    files = {
        "SKILL.md": skill_md("flux-skill", "Fixes flux problems. Use for flux.", body),
        "skill_meta.json": json.dumps({"metadata": {"version": "1.0"}, "tests": cases}),
    }
    return build_source(tmp_path, "flux-skill", {"generic": files})


def run(server, root: Path, cache: AnswerCache, *, trials: int = 3, concurrency: int = 4, **client_options):
    subject = load_subject(root)
    settings = Settings(models=("model-a",), trials=trials, concurrency=concurrency)
    with ChatClient(server.url, sleep=lambda s: None, timeout_s=5, **client_options) as client:
        return evaluate_endpoint(
            subject, settings, base_url=server.url, client=client, cache=cache, programs=LocalPrograms()
        )


def validate(evidence: dict) -> None:
    Draft202012Validator(SCHEMA, format_checker=FormatChecker()).validate(evidence)


def test_the_lift_is_measured_and_the_evidence_validates(chat_server, tmp_path):
    server = chat_server(default=skill_aware)
    report = run(server, make_skill(tmp_path), AnswerCache(tmp_path / "cache"))
    (result,) = report.results
    assert (result.with_skill.passed, result.with_skill.total) == (6, 6)
    assert (result.baseline.passed, result.baseline.total) == (3, 6)
    assert result.lift == pytest.approx(0.5)
    assert len(server.requests) == 12 and report.new_requests == 12
    with_skill = [r for r in server.requests if r["messages"][0]["role"] == "system"]
    assert len(with_skill) == 6
    assert with_skill[0]["messages"][0]["content"].startswith("## Skill: flux-skill\n\n# flux-skill")
    assert any("```note.txt\ngreet\n```" in r["messages"][-1]["content"] for r in server.requests)

    evidence = report.evidence
    validate(evidence)
    assert evidence["schema"] == "https://skillpm.dev/evidence/eval/v1"
    assert evidence["endpoint"] == {"kind": "openai-chat-completions", "host": server.url.split("/")[2]}
    assert evidence["skill"]["target"] == "generic" and evidence["trials"] == 3
    assert evidence["test_set"]["count"] == 2 and evidence["test_set"]["checks"] == {"contains": 2}
    model = evidence["models"][0]
    assert (model["with_skill"]["pass_rate"], model["baseline"]["pass_rate"], model["lift"]) == (1.0, 0.5, 0.5)
    assert model["with_skill"]["tokens"] == {"prompt": 600, "completion": 42, "total": 642}


def test_an_endpoint_that_counts_no_tokens_gives_unknown_tokens_not_zero(chat_server, tmp_path):
    """A server whose answers carry no ``usage``: the tokens were not counted, so the evidence says null."""

    def no_usage(body: dict) -> Reply:
        reply = skill_aware(body)
        del reply.body["usage"]
        return reply

    report = run(chat_server(default=no_usage), make_skill(tmp_path), AnswerCache(tmp_path / "cache"), trials=1)
    validate(report.evidence)
    model = report.evidence["models"][0]
    assert model["with_skill"]["tokens"] is None and model["baseline"]["tokens"] is None
    assert model["lift"] == 0.5 and model["with_skill"]["latency_s"]["total"] >= 0


def test_a_second_run_asks_nothing_and_a_changed_skill_asks_again_with_it(chat_server, tmp_path):
    server = chat_server(default=skill_aware)
    cache = AnswerCache(tmp_path / "cache")
    root = make_skill(tmp_path)
    first = run(server, root, cache)
    again = run(server, root, cache)
    assert len(server.requests) == 12 and again.new_requests == 0
    assert again.evidence["models"] == first.evidence["models"]

    (root / "variants/generic/SKILL.md").write_text(skill_md("flux-skill", "Fixes flux problems. Use for flux.", "Be brief."))
    changed = run(server, root, cache)
    # only the with-skill answers depend on the skill: 2 cases x 3 trials are asked again
    assert len(server.requests) == 18 and changed.new_requests == 6
    assert all(r["messages"][0]["content"].endswith("Be brief.") for r in server.requests[12:])
    assert changed.results[0].lift == 0
    assert changed.evidence["skill"]["artifact_sha256"] != first.evidence["skill"]["artifact_sha256"]


def test_an_interrupted_run_resumes_where_it_stopped(chat_server, tmp_path):
    server = chat_server(default=lambda body: Reply(503, b""), script=[completion("hello")] * 5)
    cache = AnswerCache(tmp_path / "cache")
    root = make_skill(tmp_path)
    with pytest.raises(EndpointError, match="HTTP 503; gave up after 2 attempts"):
        run(server, root, cache, concurrency=1, max_attempts=2)
    assert len(server.requests) == 7  # 5 answers, then two attempts at the 6th
    server.default = skill_aware
    report = run(server, root, cache, concurrency=1)
    assert report.new_requests == 12 - 5 and len(server.requests) == 7 + 7


def test_no_cache_asks_again(chat_server, tmp_path):
    server = chat_server(default=skill_aware)
    cache = AnswerCache(tmp_path / "cache")
    root = make_skill(tmp_path)
    run(server, root, cache, trials=1)
    subject = load_subject(root)
    with ChatClient(server.url) as client:
        report = evaluate_endpoint(
            subject,
            Settings(models=("model-a",), use_cache=False, temperature=0.0, max_tokens=64),
            base_url=server.url,
            client=client,
            cache=cache,
            programs=LocalPrograms(),
        )
    assert report.new_requests == 4 and len(server.requests) == 8
    assert server.requests[-1]["temperature"] == 0.0 and server.requests[-1]["max_tokens"] == 64
    assert report.evidence["parameters"] == {"temperature": 0.0, "max_tokens": 64}


def test_the_plan_covers_every_model_case_arm_and_trial(tmp_path):
    subject = load_subject(make_skill(tmp_path))
    jobs = plan(subject, Settings(models=("a", "b"), trials=3))
    assert len(jobs) == len(set(jobs)) == 2 * 2 * 2 * 3
    assert [job.trial for job in jobs[:8]] == [0] * 8  # whole rounds first


# ---------------------------------------------------------------- upskill's results


def upskill_run(model, run_type, passed, total, number, tokens=(100, 50), llm_ms=2000.0):
    return {
        "metadata": {"model": model, "task": "t", "batch_id": "b", "run_number": number, "timestamp": "2026-01-01T00:00:00"},
        "stats": {"input_tokens": tokens[0], "output_tokens": tokens[1], "total_tokens": sum(tokens), "llm_time_ms": llm_ms},
        "passed": passed > total / 2,
        "assertions_passed": passed,
        "assertions_total": total,
        "run_type": run_type,
        "skill_name": "flux-skill",
    }


def write_upskill_runs(runs: Path) -> None:
    """One batch with a batch_summary.json, one with only run_N/run_result.json files."""
    first = runs / "2026_01_01_10_00"
    first.mkdir(parents=True)
    results = [upskill_run("haiku", "baseline", 1, 2, 1), upskill_run("haiku", "with_skill", 2, 2, 2)]
    (first / "batch_summary.json").write_text(
        json.dumps({"batch_id": "x", "model": "haiku", "task": "t", "total_runs": 2, "passed_runs": 1, "results": results})
    )
    second = runs / "2026_01_02_10_00"
    for number, run_result in enumerate(
        [upskill_run("haiku", "baseline", 0, 2, 1), upskill_run("haiku", "with_skill", 2, 2, 2), upskill_run("sonnet", "with_skill", 1, 2, 3)],
        start=1,
    ):
        (second / f"run_{number}").mkdir(parents=True)
        (second / f"run_{number}" / "run_result.json").write_text(json.dumps(run_result))
    (runs / "results.csv").write_text("not a batch\n")


def test_upskill_results_are_adopted(tmp_path):
    write_upskill_runs(tmp_path / "runs")
    report = import_upskill(load_subject(make_skill(tmp_path)), tmp_path / "runs")
    haiku, sonnet = report.results
    assert (haiku.model, haiku.with_skill.passed, haiku.with_skill.total) == ("haiku", 4, 4)
    assert (haiku.baseline.passed, haiku.baseline.total, haiku.lift) == (1, 4, 0.75)
    assert (sonnet.with_skill.passed, sonnet.with_skill.total, sonnet.baseline, sonnet.lift) == (1, 2, None, None)
    validate(report.evidence)
    assert report.evidence["endpoint"] == {"kind": "upskill", "host": None} and report.evidence["trials"] == 2
    assert report.evidence["models"][0]["with_skill"]["latency_s"] == {"total": 4.0, "mean": 1.0}
    only = import_upskill(load_subject(make_skill(tmp_path / "again")), tmp_path / "runs" / "2026_01_02_10_00", models=["sonnet"])
    assert [r.model for r in only.results] == ["sonnet"] and only.evidence["trials"] == 1


def test_broken_upskill_results_are_reported(tmp_path):
    from skillpm.evaluation.errors import EvalError

    batch = tmp_path / "runs" / "b1"
    (batch / "run_1").mkdir(parents=True)
    (batch / "run_1" / "run_result.json").write_text(json.dumps(upskill_run("m", "sideways", 1, 1, 1)))
    subject = load_subject(make_skill(tmp_path))
    with pytest.raises(EvalError, match="run_type 'sideways'"):
        import_upskill(subject, tmp_path / "runs")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EvalError, match="no upskill run results"):
        import_upskill(subject, tmp_path / "empty")


# ---------------------------------------------------------------- the command line


def test_cli_json_prints_the_results_and_writes_the_evidence(chat_server, isolated, run_cli):
    server = chat_server(default=skill_aware)
    root = make_skill(isolated.tmp)
    result = run_cli("eval", root, "--model", "model-a", "--model", "model-b", "--base-url", server.url, "--trials", "2", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [m["model"] for m in document["models"]] == ["model-a", "model-b"]
    for model in document["models"]:
        assert (model["with_skill"]["pass_rate"], model["baseline"]["pass_rate"], model["lift"]) == (1.0, 0.5, 0.5)
    path = isolated.project / "eval-flux-skill-1.0.0-generic.json"
    assert document["evidence_file"] == "eval-flux-skill-1.0.0-generic.json"
    written = json.loads(path.read_text())
    validate(written)
    assert written == {k: v for k, v in document.items() if k != "evidence_file"}
    assert len(list((isolated.cache / "eval").rglob("*.json"))) == 16  # answers cached in the user cache


def test_cli_text_output_and_out_option(chat_server, isolated, run_cli):
    server = chat_server(default=skill_aware)
    out = isolated.tmp / "evidence" / "e.json"
    result = run_cli("eval", make_skill(isolated.tmp), "-m", "model-a", "--base-url", server.url, "-o", out)
    assert result.exit_code == 0, result.output
    assert "model-a" in result.stdout and "+50%" in result.stdout and f"wrote {out}" in result.stdout
    validate(json.loads(out.read_text()))


def test_cli_with_stderr_closed_reports_as_with_it(chat_server, isolated):
    """`2>&-`: eval asked sys.stderr (None) whether it is a terminal and failed after the endpoint answered."""
    server = chat_server(default=skill_aware)
    out = isolated.tmp / "e.json"
    result = subprocess.run([_console_script(), "eval", make_skill(isolated.tmp), "-m", "model-a", "--base-url", server.url,
                             "-o", out], capture_output=True, text=True, timeout=60, preexec_fn=lambda: os.close(2))
    assert result.returncode == 0 and f"wrote {out}" in result.stdout, result.stdout
    validate(json.loads(out.read_text()))


def test_cli_imports_upskill_results(isolated, run_cli):
    write_upskill_runs(isolated.tmp / "runs")
    result = run_cli("eval", make_skill(isolated.tmp), "--import-upskill", isolated.tmp / "runs", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["models"][0]["lift"] == 0.75


@pytest.mark.parametrize(
    "args",
    [
        ["--base-url", "http://127.0.0.1:1/v1"],
        ["--model", "m"],
        ["--model", "m", "--base-url", "http://x/v1", "--arch", "9.0", "--target", "generic"],
    ],
)
def test_cli_usage_errors_exit_2(isolated, run_skillpm, args):
    result = run_skillpm("eval", make_skill(isolated.tmp), *args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("base_url", "problem"),
    [
        ("http://127.0.0.1:1/v1?api-key=SECRET", "it has a query or a fragment"),
        ("http://127.0.0.1:1/v1#SECRET", "it has a query or a fragment"),
        ("ftp://x/v1", "'ftp://x/v1' is not an http(s) URL"),
        ("localhost:8080/v1", "is not an http(s) URL"),
        ("http://[::1/v1", "its host or port cannot be read"),
    ],
)
def test_cli_an_unusable_base_url_is_a_usage_error(isolated, run_skillpm, base_url, problem):
    """As any bad option value: exit 2, one line naming the option and what is wrong, the --help hint."""
    result = run_skillpm("eval", make_skill(isolated.tmp), "-m", "m", "--base-url", base_url)
    assert result.returncode == 2, result.stderr
    error, hint = result.stderr.splitlines()
    assert error.startswith("error: invalid value for '--base-url': ") and problem in error, error
    assert "e.g. http://localhost:8080/v1" in error and hint == "hint: see 'skillpm eval --help'"
    assert "SECRET" not in result.stdout + result.stderr


def test_cli_connection_refused_is_one_line_naming_the_url(isolated, run_skillpm):
    url = closed_port_url()
    result = run_skillpm("eval", make_skill(isolated.tmp), "--model", "m", "--base-url", url)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: cannot connect to") and url in lines[0]
    assert lines[1].startswith("hint:") and len(lines) == 2
    assert not (isolated.project / "eval-flux-skill-1.0.0-generic.json").exists()


def test_cli_bad_key_is_one_line_naming_the_variable_and_never_the_key(chat_server, isolated, run_skillpm, monkeypatch):
    server = chat_server(default=lambda body: Reply(401, {"error": {"message": f"invalid key {KEY}"}}))
    monkeypatch.setenv("EVAL_KEY", KEY)
    result = run_skillpm("eval", make_skill(isolated.tmp), "-m", "m", "--base-url", server.url, "--api-key-env", "EVAL_KEY")
    assert result.returncode == 1
    assert "$EVAL_KEY" in result.stderr and "HTTP 401" in result.stderr and "Traceback" not in result.stderr
    assert KEY not in result.stderr + result.stdout
    assert all(KEY not in path.read_text() for path in isolated.tmp.rglob("*.json"))


def test_cli_unset_key_variable_is_an_error(isolated, run_skillpm):
    result = run_skillpm("eval", make_skill(isolated.tmp), "-m", "m", "--base-url", "http://127.0.0.1:1/v1", "--api-key-env", "NO_SUCH_VAR_X")
    assert result.returncode == 1 and "$NO_SUCH_VAR_X is not set" in result.stderr
