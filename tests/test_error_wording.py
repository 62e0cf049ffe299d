"""Errors say what is wrong in the user's file in skillpm's words, never pydantic's (issue 18, part 4).

One test per place that turns a pydantic ValidationError into a message, each through the
console script: skillpm.toml (validate and pack), upskill's skill_meta.json, a case's
validator_config, and agentskills.io's evals/evals.json (eval).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pydantic_wording import field_problems

#: Phrases only pydantic writes; a message holding one shows the library, not the problem.
PYDANTIC = re.compile(r"Input should|Extra inputs|Field required|Value error|errors\.pydantic\.dev|String should|type=")
CLOSED = "http://127.0.0.1:9/v1"  # never asked: the cases are refused before any request


def stderr_of(result) -> str:
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert not PYDANTIC.search(result.stdout + result.stderr), result.stdout + result.stderr
    return result.stderr


def test_a_manifest_s_problems_in_skillpm_s_words(isolated, run_skillpm) -> None:
    assert run_skillpm("init", "broken").returncode == 0
    (isolated.project / "broken" / "skillpm.toml").write_text(
        '[package]\nname = "broken"\nversion = 3\ncolour = "red"\ndescription = "x"\n[variants.generic]\n'
    )
    validated = run_skillpm("validate", "broken")
    assert validated.returncode == 1 and not PYDANTIC.search(validated.stdout + validated.stderr)
    assert "package.version: must be a string" in validated.stdout
    assert "package.colour: is not a known field" in validated.stdout
    assert "package.version: must be a string" in stderr_of(run_skillpm("pack", "broken", "-o", "dist"))


@pytest.mark.parametrize(
    ("tests", "expected"),
    [
        ([{"input": 3, "expected": {"contains": ["x"]}}], "tests.0.input: must be a string"),
        ([{"input": "q"}], "tests.0.expected: is required"),
        ([{"input": "q", "expected": {"contains": ["x"]}, "bogus": 1}], "tests.0.bogus: is not a known field"),
        ([{"input": "q", "expected": {"contains": ["x"]}, "validator": "regex", "validator_config": {"pattern": 5}}],
         "validator_config.pattern: must be a string"),
    ],
    ids=["type", "missing", "unknown field", "validator_config"],
)
def test_eval_cases_problems_in_skillpm_s_words(isolated, run_skillpm, tests: list, expected: str) -> None:
    assert run_skillpm("init", "cases").returncode == 0
    (isolated.project / "cases" / "skill_meta.json").write_text(json.dumps({"tests": tests}))
    assert expected in stderr_of(run_skillpm("eval", "cases", "-m", "m", "--base-url", CLOSED))


def test_agentskills_evals_problems_in_skillpm_s_words(isolated, run_skillpm) -> None:
    assert run_skillpm("init", "evals").returncode == 0
    (isolated.project / "evals" / "skill_meta.json").unlink()
    (isolated.project / "evals" / "evals").mkdir()
    evals = {"skill_name": "evals", "evals": [{"id": 1, "prompt": "p", "expected_output": "x", "validator_config": 5}]}
    (isolated.project / "evals" / "evals" / "evals.json").write_text(json.dumps(evals))
    assert "evals.0.validator_config: must be a table" in stderr_of(run_skillpm("eval", "evals", "-m", "m", "--base-url", CLOSED))


def test_a_union_s_alternatives_are_one_reason_for_one_field() -> None:
    """pydantic reports each alternative of ``str | list[str]`` under a type-tagged path."""
    items = [
        {"type": "string_type", "loc": ("allowed-tools", "str"), "msg": "Input should be a valid string"},
        {"type": "list_type", "loc": ("allowed-tools", "list[str]"), "msg": "Input should be a valid list"},
        {"type": "greater_than_equal", "loc": ("trials",), "ctx": {"ge": 1}, "msg": "Input should be >= 1"},
        {"type": "value_error", "loc": ("version",), "ctx": {"error": ValueError("'x' is not PEP 440")}},
        {"type": "something_new", "loc": (), "msg": "Input should be new"},
    ]
    assert field_problems(items) == [
        ("allowed-tools", "must be a string or a list"),
        ("trials", "must be >= 1"),
        ("version", "'x' is not PEP 440"),
        ("(root)", "is not valid here"),
    ]
