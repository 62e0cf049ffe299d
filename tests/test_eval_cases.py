"""Test cases in upskill's format, prompts, the test-set digest, and which variant is evaluated."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import build_source, skill_md
from skillpm.evaluation.cases import messages, parse_suite, system_prompt, user_prompt
from skillpm.evaluation.testset import load_tests
from skillpm.evaluation.errors import EvalError
from skillpm.evaluation.subject import load_subject

UPSKILL_SUITE = {
    "metadata": {"version": "1.0", "generated_by": "sonnet", "test_pass_rate": 0.8},
    "tests": [
        {"input": "Which intrinsic?", "expected": {"contains": "__shfl_xor_sync"}},
        {
            "input": "Why does this fail?",
            "context": {"files": {"launch.cu": "kernel<<<1, 1024>>>();"}},
            "expected": {"contains": ["__launch_bounds__", "1024"]},
            "validator": "regex",
            "validator_config": {"pattern": "launch_bounds", "ignore_case": True},
        },
    ],
}


def test_an_upskill_suite_parses_and_a_single_string_becomes_a_list():
    suite, problems = parse_suite(UPSKILL_SUITE)
    assert problems == [] and suite is not None
    assert suite.tests[0].expected.contains == ("__shfl_xor_sync",)
    assert suite.tests[1].validator_config == {"pattern": "launch_bounds", "ignore_case": True}


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"tests": [{"input": "q"}]}, "tests.0.expected: is required"),
        ({"tests": [{"input": "q", "expected": {"contains": []}, "extra": 1}]}, "tests.0.extra: is not a known field"),
        ({"tests": [{"input": "q", "expected": {"contains": [], "regex": "x"}}]}, "tests.0.expected.regex: is not a known field"),
        (
            {"tests": [{"input": "q", "expected": {"contains": []}, "validator_config": {"a": [1]}}]},
            "tests.0.validator_config.a",
        ),
        ([], "(root)"),
    ],
)
def test_a_bad_suite_reports_where(data, problem):
    suite, problems = parse_suite(data)
    assert suite is None and any(item.startswith(problem) for item in problems), problems


def test_prompts_are_built_as_upskill_builds_them():
    suite, _ = parse_suite(UPSKILL_SUITE)
    case = suite.tests[1]
    assert user_prompt(case) == "Why does this fail?\n\n```launch.cu\nkernel<<<1, 1024>>>();\n```"
    assert system_prompt("demo", "\n# Demo\n\nDo it.\n") == "## Skill: demo\n\n# Demo\n\nDo it."
    assert messages(case, None) == [{"role": "user", "content": user_prompt(case)}]
    assert messages(case, "S")[0] == {"role": "system", "content": "S"}


def digest(files: dict[str, bytes]) -> str:
    return load_tests(files.get, target="generic").test_set.digest


def test_the_digest_ignores_formatting_but_not_content_or_scripts():
    meta_json = json.dumps(UPSKILL_SUITE).encode()
    reordered = json.dumps(UPSKILL_SUITE, sort_keys=True, indent=4).encode()
    assert digest({"skill_meta.json": meta_json}) == digest({"skill_meta.json": reordered})
    changed = json.dumps({"tests": [{"input": "other", "expected": {"contains": []}}]}).encode()
    assert digest({"skill_meta.json": meta_json}) != digest({"skill_meta.json": changed})
    scripted = {"tests": [{"input": "q", "expected": {"contains": []}, "validator": "python_test",
                           "validator_config": {"script": "t.py"}}]}
    files = {"skill_meta.json": json.dumps(scripted).encode()}
    assert digest({**files, "t.py": b"a"}) != digest({**files, "t.py": b"b"})


def test_the_digest_is_sha256_of_the_canonical_json_of_the_tests_as_docs_evaluation_md_says():
    """docs/evaluation.md defines it, so another tool can recompute it."""
    import hashlib

    tests = [{"input": "q", "expected": {"contains": ["a"]}}]
    canonical = json.dumps({"scripts": {}, "tests": tests}, sort_keys=True, separators=(",", ":")).encode()
    meta_json = json.dumps({"metadata": {}, "tests": [{**tests[0], "context": None, "validator": None}]}).encode()
    assert digest({"skill_meta.json": meta_json}) == hashlib.sha256(canonical).hexdigest()


def meta(*tests):
    return json.dumps({"metadata": {}, "tests": list(tests)})


def test_load_subject_reads_the_variant_and_falls_back_to_the_root_suite(tmp_path):
    root = build_source(
        tmp_path,
        "demo-skill",
        {
            "generic": {"SKILL.md": skill_md("demo-skill", "Demo skill. Use for demos.", "Say FLUX.")},
            "sm_90a": {"skill_meta.json": meta({"input": "hopper?", "expected": {"contains": ["x"]}, "validator": "nvcc_compile"})},
        },
        common={"skill_meta.json": meta({"input": "q", "expected": {"contains": ["FLUX"]}})},
    )
    generic = load_subject(root)
    assert generic.skill.target == "generic" and generic.cases[0].input == "q"
    assert generic.system_prompt.startswith("## Skill: demo-skill\n\n# demo-skill") and "Say FLUX." in generic.system_prompt
    assert "name:" not in generic.system_prompt  # front matter stripped
    assert len(generic.skill.artifact_sha256) == 64
    hopper = load_subject(root, arch="9.0")
    assert hopper.skill.target == "sm_90a" and hopper.test_set.checks == {"contains": 1, "nvcc_compile": 1}
    assert hopper.checks[0][1].flags == ("-gencode", "arch=compute_90a,code=sm_90a")
    assert hopper.skill.artifact_sha256 != generic.skill.artifact_sha256


def test_load_subject_reports_every_bad_case(tmp_path):
    root = build_source(
        tmp_path,
        "demo-skill",
        {
            "generic": {
                "skill_meta.json": meta(
                    {"input": "a", "expected": {"contains": []}, "validator": "nope"},
                    {"input": "b", "expected": {"contains": []}, "validator": "python_test", "validator_config": {"script": "../x.py"}},
                    {"input": "c", "expected": {"contains": []}, "validator": "python_test", "validator_config": {"script": "missing.py"}},
                )
            }
        },
    )
    with pytest.raises(EvalError) as caught:
        load_subject(root)
    assert "tests.1: script '../x.py' is not a file of the skill source" in caught.value.message
    assert "tests.2: script 'missing.py' is not a file" in caught.value.message
    (root / "variants/generic/skill_meta.json").write_text(
        meta(
            {"input": "b", "expected": {"contains": []}, "validator": "python_test", "validator_config": {"script": "../x.py"}},
            {"input": "c", "expected": {"contains": []}, "validator": "python_test", "validator_config": {"script": "missing.py"}},
        )
    )
    with pytest.raises(EvalError, match="tests.0: script '../x.py'"):
        load_subject(root)


def test_load_subject_without_cases_says_where_it_looked(tmp_path):
    root = build_source(tmp_path, "demo-skill", tests=False)
    with pytest.raises(EvalError, match="no test cases for the generic variant"):
        load_subject(root)


def test_the_pure_modules_and_the_cli_start_up_import_no_network_or_processes():
    code = (
        "import sys\n"
        "import skillpm.evaluation.cases, skillpm.evaluation.checks, skillpm.evaluation.stats, skillpm.evaluation.evidence\n"
        "assert 'httpx' not in sys.modules and 'subprocess' not in sys.modules, 'pure modules import I/O'\n"
        "import skillpm.cli\n"
        "assert 'httpx' not in sys.modules and 'skillpm.evaluation.client' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
