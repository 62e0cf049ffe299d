"""Test cases in upskill's ``skill_meta.json`` format, and the prompts built from them.

Pure but for reading the schema: the format is schemas/skill-meta.schema.json, upskill's
models (``src/upskill/models.py``) as a JSON Schema, checked with jsonschema-rs. Unknown
keys in a test, in ``expected`` or in ``context`` are refused, so a file skillpm accepts
loads in upskill too. Checks of our own live in upskill's ``validator`` +
``validator_config`` fields (see :mod:`skillpm.evaluation.checks`). No pydantic (issue 18,
start-up): the records are :mod:`skillpm.records` records, built only from a document that
passed.
"""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import Any, Mapping, Union

from skillpm.errors import SkillpmError
from skillpm.records import Record

Scalar = Union[str, bool, int, float]
SCHEMA_FILE = "skill-meta.schema.json"
#: The most test cases a test set holds (skill_meta.json's tests or evals.json's evals): each is a request per model and arm.
MAX_CASES = 10_000

#: The order of upskill's fields, which problems are reported in (as pydantic reported them).
_FIELD_ORDER: dict[tuple[str, ...], tuple[str, ...]] = {
    (): ("metadata", "tests"),
    ("tests", "*"): ("input", "context", "expected", "output_file", "validator", "validator_config"),
    ("tests", "*", "context"): ("files",),
    ("tests", "*", "expected"): ("contains",),
}


class Expected(Record):
    """``expected``: every string in ``contains`` must occur in the answer (case-insensitive)."""

    contains: tuple[str, ...]


class Context(Record):
    """``context``: files appended to the prompt as fenced blocks named by file."""

    files: Mapping[str, str] | None = None


class EvalCase(Record):
    """One test case: a prompt, the files it shows, and what a good answer holds."""

    input: str
    expected: Expected
    context: Context | None = None
    output_file: str | None = None
    validator: str | None = None
    validator_config: Mapping[str, Scalar] | None = None


class Suite(Record):
    """A whole ``skill_meta.json``: upskill's metadata and its tests (``upskill generate`` may leave none)."""

    metadata: Mapping[str, Any]
    tests: tuple[EvalCase, ...] = ()


def parse_suite(data: object) -> tuple[Suite | None, list[str]]:
    """Check parsed JSON as a suite: the suite, or ``None`` and every problem (``field: message``)."""
    problems = _problems(data)
    if problems:
        return None, _lines(problems)
    assert isinstance(data, dict)
    tests = tuple(_case(case) for case in data.get("tests", ()))
    return Suite(MappingProxyType(dict(data.get("metadata", {}))), tests), []


def parse_case(data: object) -> tuple[EvalCase | None, list[str]]:
    """Check one parsed test case: the case, or ``None`` and every problem (``field: message``)."""
    problems = _problems({"tests": [data]})
    if problems:
        return None, _lines([(path[2:], reason) for path, reason in problems])
    assert isinstance(data, dict)
    return _case(data), []


def _problems(data: object) -> list[tuple[tuple[str | int, ...], str]]:
    """Every way parsed JSON breaks schemas/skill-meta.schema.json, in pydantic's words and order."""
    from skillpm import schemacheck
    from skillpm.fieldproblems import field_order, schema_problems
    from skillpm.resources import shipped

    try:
        broken = schemacheck.errors(shipped("schemas") / SCHEMA_FILE, data)
    except schemacheck.SchemaUnusable as error:  # a broken installation, not the user's file
        raise SkillpmError(f"cannot check test cases: {error}", hint="reinstall skillpm") from None
    return sorted(schema_problems(broken), key=lambda item: field_order(item[0], data, _FIELD_ORDER))


def _lines(problems: list[tuple[tuple[str | int, ...], str]]) -> list[str]:
    return [f"{'.'.join(map(str, path)) or '(root)'}: {reason}" for path, reason in problems]


def case_json(case: EvalCase) -> dict[str, Any]:
    """A case as upskill's model dumps it to JSON, null fields left out (``model_dump(mode="json",
    exclude_none=True)``): what the test-set digest is computed from."""
    return _json_value(case)


def _json_value(value: Any) -> Any:
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {key: _json_value(item) for key, item in value._asdict().items() if item is not None}
    if isinstance(value, tuple):
        return [_json_value(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _json_value(item) for key, item in value.items()}
    return value


def _case(data: Mapping[str, Any]) -> EvalCase:
    """The record of one case that passed the schema."""
    contains = data["expected"]["contains"]
    context = data.get("context")
    return EvalCase(
        input=data["input"],
        expected=Expected((contains,) if isinstance(contains, str) else tuple(contains)),
        context=None if context is None else Context(_frozen(context.get("files"))),
        output_file=data.get("output_file"),
        validator=data.get("validator"),
        validator_config=_frozen(data.get("validator_config")),
    )


def _frozen(table: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    return None if table is None else MappingProxyType(dict(table))


def system_prompt(name: str, body: str) -> str:
    """The system prompt with the skill in context, as upskill writes it."""
    return f"## Skill: {name}\n\n{body.strip()}"


def user_prompt(case: EvalCase) -> str:
    """The user message: the case's input, then each context file as a fenced block named by file."""
    content = case.input
    if case.context and case.context.files:
        for filename, text in case.context.files.items():
            content += f"\n\n```{filename}\n{text}\n```"
    return content


def messages(case: EvalCase, system: str | None) -> list[dict[str, str]]:
    """Chat messages for one case: with the skill (``system`` given) or the baseline (none)."""
    chat = [{"role": "system", "content": system}] if system is not None else []
    return [*chat, {"role": "user", "content": user_prompt(case)}]


def canonical_json(data: object) -> bytes:
    """JSON with sorted keys, no spaces and UTF-8 text: equal data, equal bytes."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
