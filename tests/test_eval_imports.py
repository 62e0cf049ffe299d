"""Evidence imported from other tools, end to end through the CLI, with fixtures in their exact formats.

upskill (huggingface/upskill): ``src/upskill/models.py`` (``RunResult``, ``RunMetadata``,
``ConversationStats``, ``BatchSummary``, ``TestCase``) and ``src/upskill/cli.py`` (what ``upskill
eval`` writes under ``runs/<batch>/``: in benchmark mode, several models or runs, only
``run_type: "with_skill"`` runs and no baseline). The run files below are those models'
``model_dump(mode="json")``, key for key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import build_source, skill_md
from test_publish import one_error, skillpm

NAME = "flux-skill"
DESCRIPTION = "Fixes flux problems. Use for flux."
CASES = [
    {"input": "Which pattern fixes the flux?", "context": None, "expected": {"contains": ["flux-capacitor"]},
     "output_file": None, "validator": None, "validator_config": None},
    {"input": "Say hello.", "context": {"files": {"note.txt": "greet"}}, "expected": {"contains": ["hello"]},
     "output_file": None, "validator": None, "validator_config": None},
]


def upskill_skill(base: Path, cases: list[dict[str, Any]] = CASES) -> Path:
    """A skill source whose generic variant holds upskill's skill_meta.json (``Skill.save``'s layout)."""
    meta = {"metadata": {"version": "1.0", "generated_by": "sonnet", "generated_at": "2026-01-22T13:10:00",
                         "source_task": "fix flux", "test_pass_rate": None, "license": None, "compatibility": None},
            "tests": cases}
    return build_source(base, NAME, {"generic": {"SKILL.md": skill_md(NAME, DESCRIPTION, "Use the flux-capacitor."),
                                                 "skill_meta.json": json.dumps(meta, indent=2)}})


def run_result(model: str, run_number: int, passed: int, total: int, *, run_type: str = "with_skill",
               batch: str = "2026_01_22_13_10") -> dict[str, Any]:
    """One ``RunResult.model_dump(mode="json")`` as upskill's ``write_run_result`` writes it."""
    return {
        "metadata": {"model": model, "task": DESCRIPTION, "batch_id": batch, "run_number": run_number,
                     "timestamp": "2026-01-22T13:10:45.370438"},
        "stats": {"conversation_span_ms": 14484.33, "llm_time_ms": 14484.33, "tool_time_ms": 0.0, "turns": 2,
                  "tool_calls": 0, "tool_errors": 0, "mcp_calls": 0, "execute_calls": 0, "tool_call_map": {},
                  "tool_error_map": {}, "input_tokens": 276, "output_tokens": 2837, "total_tokens": 3113,
                  "usage_summaries": [], "timing_summaries": []},
        "passed": passed == total,
        "assertions_passed": passed,
        "assertions_total": total,
        "error_message": None,
        "session_id": None,
        "session_history_file": None,
        "run_type": run_type,
        "skill_name": NAME,
    }


def write_batch(runs: Path, results: list[dict[str, Any]], *, models: str, batch: str = "2026_01_22_13_10") -> Path:
    """``runs/<batch>/run_N/{run_metadata,run_result}.json`` and ``batch_summary.json``, as upskill lays them out."""
    folder = runs / batch
    for number, result in enumerate(results, start=1):
        (folder / f"run_{number}").mkdir(parents=True)
        (folder / f"run_{number}" / "run_metadata.json").write_text(json.dumps(result["metadata"], indent=2))
        (folder / f"run_{number}" / "run_result.json").write_text(json.dumps(result, indent=2))
    summary = {"batch_id": batch, "model": models, "task": DESCRIPTION, "total_runs": len(results),
               "passed_runs": sum(result["passed"] for result in results), "results": results}
    (folder / "batch_summary.json").write_text(json.dumps(summary, indent=2))
    return folder


def benchmark_batch(runs: Path) -> Path:
    """``upskill eval SKILL -m haiku -m sonnet --runs 2``: benchmark mode, with-skill runs only."""
    results = [run_result("haiku", 1, 2, 2), run_result("haiku", 2, 1, 2),
               run_result("sonnet", 1, 2, 2), run_result("sonnet", 2, 2, 2)]
    return write_batch(runs, results, models="haiku, sonnet")


def keypair(tmp: Path) -> tuple[Path, Path]:
    result = skillpm("keygen", "-o", tmp / "keys" / "me")
    assert result.exit_code == 0, result.output
    return tmp / "keys" / "me", tmp / "keys" / "me.pub"


def test_a_benchmark_mode_run_has_no_baseline_and_no_lift_and_min_lift_refuses_it(isolated) -> None:
    """upskill's benchmark mode runs no baseline: the evidence says so (null), never a 0/0 baseline
    and a fake lift; ``install --min-lift`` refuses it with one line, ``--min-pass-rate`` still applies."""
    source = upskill_skill(isolated.tmp)
    benchmark_batch(isolated.tmp / "runs")
    evidence = isolated.tmp / "eval.json"
    result = skillpm("eval", source, "--import-upskill", isolated.tmp / "runs", "-o", evidence)
    assert result.exit_code == 0, result.output
    assert "n/a (no baseline)" in result.stdout and "not measured" in result.stdout
    assert "no baseline was run for haiku, sonnet" in result.stderr
    document = json.loads(evidence.read_text())
    haiku = document["models"][0]
    assert (haiku["baseline"], haiku["lift"], haiku["lift95"]) == (None, None, None)
    assert (haiku["with_skill"]["passed"], haiku["with_skill"]["total"]) == (3, 4)

    private, public = keypair(isolated.tmp)
    registry = isolated.tmp / "registry"
    assert skillpm("registry", "init", registry).exit_code == 0
    published = skillpm("publish", source, "--registry", registry, "--evidence", evidence, "--sign", f"key:{private}")
    assert published.exit_code == 0, published.output

    error = one_error(skillpm("install", NAME, "--registry", registry, "--trusted-key", public, "--min-lift", "0.1"))
    assert "no baseline was measured for haiku, sonnet, so the evidence has no lift" in error
    assert "policy requires a minimum lift of 0.1" in error
    installed = skillpm("install", NAME, "--registry", registry, "--trusted-key", public, "--min-pass-rate", "0.7")
    assert installed.exit_code == 0, installed.output
    from skillpm.attest.keys import load_public_key
    from skillpm.attest.policyfile import user_policy_path

    user_policy_path().parent.mkdir(parents=True, exist_ok=True)
    user_policy_path().write_text(
        f'[[trust.keys]]\nfingerprint = "{load_public_key(public).fingerprint}"\npublic-key = "{public}"\n'
    )
    info = skillpm("info", NAME, "--registry", registry)
    assert info.exit_code == 0 and "lift n/a (no baseline)" in info.stdout, info.output


def test_a_model_named_twice_is_one_model_in_the_evidence(isolated) -> None:
    """``--import-upskill runs -m haiku -m haiku`` wrote haiku's one measurement into the evidence twice, as two
    models; a model named twice is one, as ``eval -m`` against an endpoint counts it."""
    source = upskill_skill(isolated.tmp)
    benchmark_batch(isolated.tmp / "runs")
    result = skillpm("eval", source, "--import-upskill", isolated.tmp / "runs", "-m", "haiku", "-m", "haiku", "--json")
    assert result.exit_code == 0, result.output
    assert [model["model"] for model in json.loads(result.stdout)["models"]] == ["haiku"]


def test_upskill_results_missing_a_count_are_refused_not_read_as_zero(isolated) -> None:
    """A run result without ``assertions_total`` is not a run of 0 tests; one without token counts has
    unknown tokens (null), not 0."""
    source = upskill_skill(isolated.tmp)
    broken = run_result("haiku", 1, 2, 2)
    del broken["assertions_total"]
    write_batch(isolated.tmp / "runs", [broken], models="haiku")
    error = one_error(skillpm("eval", source, "--import-upskill", isolated.tmp / "runs"))
    assert "not an upskill run result ('assertions_total')" in error

    untimed = [run_result("haiku", 1, 1, 2, run_type="baseline"), run_result("haiku", 2, 2, 2)]
    for result in untimed:
        del result["stats"]
    write_batch(isolated.tmp / "runs2", untimed, models="haiku")
    result = skillpm("eval", source, "--import-upskill", isolated.tmp / "runs2", "--json")
    assert result.exit_code == 0, result.output
    (model,) = json.loads(result.stdout)["models"]
    assert model["lift"] == 0.5 and model["with_skill"]["tokens"] is None and model["baseline"]["latency_s"] is None


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [("stats", [1], "stats is not an object"), ("stats", "fast", "stats is not an object"),
     ("metadata", [1], "list indices"), ("run_type", ["with_skill"], "neither 'with_skill' nor 'baseline'")],
)
def test_upskill_results_of_another_shape_are_one_line_naming_the_file(isolated, field, value, why) -> None:
    """A run result whose ``stats`` is a list (or whose other fields have another shape) ended in a traceback."""
    hostile = run_result("haiku", 1, 1, 1)
    hostile[field] = value
    write_batch(isolated.tmp / "runs", [hostile], models="haiku")
    error = one_error(skillpm("eval", upskill_skill(isolated.tmp), "--import-upskill", isolated.tmp / "runs"))
    assert "batch_summary.json: results.0: not an upskill run result" in error and why in error, error


def test_upskill_results_for_a_case_that_cannot_fail_are_refused(isolated) -> None:
    """A case with an empty ``expected.contains`` and no validator passes in upskill whatever the answer."""
    source = upskill_skill(isolated.tmp, [{"input": "q", "expected": {"contains": []}}])
    write_batch(isolated.tmp / "runs", [run_result("haiku", 1, 1, 1)], models="haiku")
    error = one_error(skillpm("eval", source, "--import-upskill", isolated.tmp / "runs"))
    assert "tests.0 have no check that can fail" in error


def test_upskill_results_linked_from_elsewhere_are_not_read(isolated) -> None:
    """A runs folder whose batch folder, or one run's result, is a link out of it (found in a hostile review: the
    results outside went into the evidence): refused, naming the link."""
    source = upskill_skill(isolated.tmp)
    elsewhere = write_batch(isolated.tmp / "elsewhere", [run_result("haiku", 1, 2, 2)], models="haiku")
    runs = isolated.tmp / "runs"
    runs.mkdir()
    (runs / "linked-batch").symlink_to(elsewhere, target_is_directory=True)
    error = one_error(skillpm("eval", source, "--import-upskill", runs))
    assert "leads out of" in error and "through a link; not read" in error
    (runs / "linked-batch").unlink()
    batch = write_batch(runs, [run_result("haiku", 1, 2, 2)], models="haiku")
    (batch / "batch_summary.json").unlink()  # so that each run's result is read
    result_file = next(batch.glob("run_*/run_result.json"))
    result_file.unlink()
    result_file.symlink_to(next(elsewhere.glob("run_*/run_result.json")))
    error = one_error(skillpm("eval", source, "--import-upskill", runs))
    assert f"{result_file}: leads out of" in error


def test_only_baseline_runs_are_refused(isolated) -> None:
    source = upskill_skill(isolated.tmp)
    write_batch(isolated.tmp / "runs", [run_result("haiku", 1, 1, 2, run_type="baseline")], models="haiku")
    error = one_error(skillpm("eval", source, "--import-upskill", isolated.tmp / "runs"))
    assert "hold no run with the skill" in error


def test_imported_runs_are_tied_to_the_test_set_and_publish_refuses_another(isolated) -> None:
    """The evidence names the digest of the test set the runs were made on; upskill's runs that
    counted another number of tests are refused, and evidence whose test set is no longer the
    variant's is refused at publish with a line giving both digests."""
    import hashlib

    source = upskill_skill(isolated.tmp)
    write_batch(isolated.tmp / "other", [run_result("haiku", 1, 2, 3, run_type="baseline"), run_result("haiku", 2, 3, 3)],
                models="haiku")
    error = one_error(skillpm("eval", source, "--import-upskill", isolated.tmp / "other"))
    assert "counted 3 test(s), but the variant's test set has 2: it ran other test cases" in error

    write_batch(isolated.tmp / "runs", [run_result("haiku", 1, 1, 2, run_type="baseline"), run_result("haiku", 2, 2, 2)],
                models="haiku")
    evidence = isolated.tmp / "eval.json"
    assert skillpm("eval", source, "--import-upskill", isolated.tmp / "runs", "-o", evidence).exit_code == 0
    digest = json.loads(evidence.read_text())["test_set"]["digest"]
    canonical = json.dumps({"scripts": {}, "tests": [{k: v for k, v in case.items() if v is not None} for case in CASES]},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert digest == hashlib.sha256(canonical).hexdigest()  # as docs/evaluation.md defines it

    meta = source / "variants" / "generic" / "skill_meta.json"
    changed = json.loads(meta.read_text())
    changed["tests"].append({"input": "And now?", "expected": {"contains": ["now"]}})
    meta.write_text(json.dumps(changed))
    private, _ = keypair(isolated.tmp)
    registry = isolated.tmp / "registry"
    assert skillpm("registry", "init", registry).exit_code == 0
    error = one_error(skillpm("publish", source, "--registry", registry, "--evidence", evidence, "--sign", f"key:{private}"))
    assert f"the generic variant: the evidence ran test set {digest}, but the variant's test set is " in error
    assert "measured on other test cases" in error
    assert not (registry / "artifacts").exists() or not any((registry / "artifacts").rglob("*.tar.gz"))


# ---------------------------------------------------------------- test files as other tools write them

import test_eval_client  # noqa: E402
from test_eval_client import Reply, completion  # noqa: E402

chat_server = test_eval_client.chat_server  # the fixture, shared


def answers_with_the_skill(body: dict) -> Reply:
    system = " ".join(m["content"] for m in body["messages"] if m["role"] == "system")
    return completion("hello - use the flux-capacitor." if "flux-capacitor" in system else "hello.")


def test_upskill_generate_output_with_no_tests_says_there_is_nothing_to_evaluate(isolated, run_skillpm) -> None:
    """``upskill generate`` saves ``{"metadata": ..., "tests": []}`` when it made no cases
    (``Skill.save`` in src/upskill/models.py): one line saying so, and how to add cases."""
    source = upskill_skill(isolated.tmp, cases=[])
    result = run_skillpm("eval", source, "-m", "m", "--base-url", "http://127.0.0.1:9/v1")
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and lines[0].endswith("skill_meta.json has no test cases: there is nothing to evaluate")
    assert lines[1].startswith('hint: add cases to the "tests" list of skill_meta.json') and len(lines) == 2


def test_validators_skillpm_does_not_know_fall_back_to_contains_with_one_warning(isolated, chat_server, run_cli) -> None:
    """upskill's ``check_expected`` (src/upskill/evaluate.py) checks ``expected.contains`` when
    ``get_validator`` finds no validator; ``output_file`` is only read by a validator. The cases
    below are upskill's ``TestCase`` fields, as ``hf_eval_yaml`` is named in its models.py."""
    cases = [
        {**CASES[0], "output_file": "model-index.yaml", "validator": "hf_eval_yaml", "validator_config": {"strict": True}},
        {**CASES[1], "validator": "hf_eval_yaml"},
    ]
    server = chat_server(default=answers_with_the_skill)
    result = run_cli("eval", upskill_skill(isolated.tmp, cases), "-m", "m", "--base-url", server.url, "--json")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2 and "no validator 'hf_eval_yaml' (test(s) 0, 1)" in warnings[0]
    assert "expected.contains" in warnings[0] and "test(s) 0 name an output_file" in warnings[1]
    model = json.loads(result.stdout)["models"][0]
    assert (model["with_skill"]["pass_rate"], model["baseline"]["pass_rate"]) == (1.0, 0.5)


def evals_skill(base: Path, evals: list[dict[str, Any]]) -> Path:
    """A skill with agentskills.io's evals/evals.json and an input file beside it, as
    https://agentskills.io/skill-creation/evaluating-skills lays them out."""
    files = {
        "SKILL.md": skill_md(NAME, DESCRIPTION, "Use the flux-capacitor."),
        "evals/evals.json": json.dumps({"skill_name": NAME, "evals": evals}, indent=2),
        "evals/files/readings.csv": "t,flux\n0,1.21\n",
    }
    return build_source(base, NAME, {"generic": files}, tests=False)


AGENTSKILLS_EVAL = {
    "id": 1,
    "prompt": "The readings in evals/files/readings.csv drift. Which pattern fixes the flux?",
    "expected_output": "Names the flux-capacitor pattern.",
    "files": ["evals/files/readings.csv"],
    "expectations": ["The answer names the flux-capacitor pattern"],
}


def test_agentskills_evals_json_is_read_as_the_test_source(isolated, chat_server, run_cli) -> None:
    """evals/evals.json (agentskills.io's evaluating-skills page; anthropics/skills
    skills/skill-creator/references/schemas.md): ``prompt`` is asked, ``files`` are shown with it.
    Its expectations are for a grader, so skillpm refuses to score evals without a check of its own,
    and scores those that carry upskill's ``expected`` beside them."""
    server = chat_server(default=answers_with_the_skill)
    plain = evals_skill(isolated.tmp / "plain", [AGENTSKILLS_EVAL])
    result = skillpm("eval", plain, "-m", "m", "--base-url", server.url)
    assert "evals/evals.json: evals.0 (id 1) have only expectations for a grader to judge" in one_error(result)
    assert 'hint: give each eval upskill\'s "expected"' in result.stderr and not server.requests
    many = evals_skill(isolated.tmp / "many", [{**AGENTSKILLS_EVAL, "id": n} for n in range(16)])
    error = one_error(skillpm("eval", many, "-m", "m", "--base-url", server.url))  # sixteen, named in one short line
    assert "evals.0 (id 0), evals.1 (id 1), evals.2 (id 2) +13 more have only expectations" in error

    graded = evals_skill(isolated.tmp / "graded", [{**AGENTSKILLS_EVAL, "expected": {"contains": ["flux-capacitor"]}}])
    result = run_cli("eval", graded, "-m", "m", "--base-url", server.url, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["test_set"]["count"] == 1
    assert (document["models"][0]["with_skill"]["pass_rate"], document["models"][0]["lift"]) == (1.0, 1.0)
    asked = server.requests[-1]["messages"][-1]["content"]
    assert asked.startswith(AGENTSKILLS_EVAL["prompt"]) and "```evals/files/readings.csv\nt,flux\n0,1.21\n\n```" in asked
    error = one_error(skillpm("eval", graded, "--import-upskill", isolated.tmp))
    assert "evals/evals.json, which upskill does not run" in error


def test_a_file_several_evals_show_is_read_once_and_its_text_shared() -> None:
    """Each eval was given its own decoded copy of the files it shows; a file is now read once (by its
    normal path) and every case shows the same text, under each eval's own spelling of the path."""
    from skillpm.evaluation.agentskills import parse_evals

    reads: list[str] = []

    def read(path: str) -> bytes:
        reads.append(path)
        return b"t,flux\n0,1.21\n"

    evals = [{"prompt": "q", "files": ["evals/files/readings.csv"]}, {"prompt": "r", "files": ["./evals/files/readings.csv"]}]
    parsed = parse_evals({"evals": evals}, read)
    first, second = (case.context.files for case in parsed.cases)
    assert reads == ["evals/files/readings.csv"] and parsed.problems == []
    assert first["evals/files/readings.csv"] is second["./evals/files/readings.csv"]


def test_a_plain_skill_folder_is_evaluated_as_pack_reads_it(isolated, chat_server, run_cli) -> None:
    """A skill folder with evals/evals.json and no skillpm.toml, as thousands of public repositories
    hold one (0065paula/skill-inspector, 88lin/diataxis-docs-skill): eval takes it as pack does, and
    the evidence names the archive pack builds of it."""
    server = chat_server(default=answers_with_the_skill)
    folder = isolated.tmp / NAME
    evals = [{**AGENTSKILLS_EVAL, "expected": {"contains": ["flux-capacitor"]}}]
    for path, text in {
        "SKILL.md": skill_md(NAME, DESCRIPTION, "Use the flux-capacitor."),
        "evals/evals.json": json.dumps({"skill_name": NAME, "evals": evals}),
        "evals/files/readings.csv": "t,flux\n0,1.21\n",
    }.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    result = run_cli("eval", folder, "-m", "m", "--base-url", server.url, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["test_set"]["count"] == 1 and document["models"][0]["with_skill"]["pass_rate"] == 1.0
    packed = json.loads(run_cli("pack", folder, "-o", isolated.tmp / "dist", "--json").stdout)
    assert document["skill"]["artifact_sha256"] == packed[0]["sha256"]
    assert not (folder / "skillpm.toml").exists()  # nothing written into the folder


def test_a_plugin_skill_linking_its_plugin_s_files_is_evaluated_with_links_within(
    isolated, chat_server, run_cli
) -> None:
    """As pack: a link out of the skill is refused, unless --links-within names where it may lead."""
    server = chat_server(default=answers_with_the_skill)
    plugin = isolated.tmp / "plugin"
    folder = plugin / "skills" / NAME
    evals = [{**AGENTSKILLS_EVAL, "expected": {"contains": ["flux-capacitor"]}}]
    for path, text in {
        "skills/" + NAME + "/SKILL.md": skill_md(NAME, DESCRIPTION, "Use the flux-capacitor."),
        "skills/" + NAME + "/evals/evals.json": json.dumps({"skill_name": NAME, "evals": evals}),
        "skills/" + NAME + "/evals/files/readings.csv": "t,flux\n0,1.21\n",
        "scripts/calibrate.py": "print('calibrated')\n",
    }.items():
        (plugin / path).parent.mkdir(parents=True, exist_ok=True)
        (plugin / path).write_text(text)
    (folder / "scripts").mkdir()
    (folder / "scripts" / "calibrate.py").symlink_to(Path("..", "..", "..", "scripts", "calibrate.py"))
    ask = ("eval", folder, "-m", "m", "--base-url", server.url, "--json")
    assert "--links-within DIR" in one_error(skillpm(*ask))
    result = run_cli(*ask, "--links-within", plugin)
    assert result.exit_code == 0, result.output
    packed = json.loads(run_cli("pack", folder, "-o", isolated.tmp / "dist", "--links-within", plugin, "--json").stdout)
    assert json.loads(result.stdout)["skill"]["artifact_sha256"] == packed[0]["sha256"]


def test_a_folder_with_no_manifest_says_how_to_make_or_adopt_one(isolated) -> None:
    empty = isolated.tmp / "empty"
    empty.mkdir()
    result = skillpm("bench", empty, "--arch", "9.0")
    assert f"{empty} has no skillpm.toml" in one_error(result) and f"'skillpm init {empty}' makes one" in result.stderr
    (empty / "SKILL.md").write_text(skill_md(NAME, DESCRIPTION, "Body."))
    result = skillpm("bench", empty, "--arch", "9.0")
    assert f"'skillpm init --from {empty}' adopts its SKILL.md" in result.stderr
