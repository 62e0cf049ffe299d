"""Test cases in upskill's ``skill_meta.json`` format, and the prompts built from them.

Pure: no I/O. The models mirror upskill's (``src/upskill/models.py``): unknown keys in a
test or in ``expected`` are refused, so a file skillpm accepts loads in upskill too.
Checks of our own live in upskill's ``validator`` + ``validator_config`` fields
(see :mod:`skillpm.evaluation.checks`).
"""

from __future__ import annotations

import json
from typing import Any, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from skillpm.fieldproblems import field_problems

Scalar = Union[str, bool, int, float]


class Expected(BaseModel):
    """``expected``: every string in ``contains`` must occur in the answer (case-insensitive)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    contains: tuple[str, ...]

    @field_validator("contains", mode="before")
    @classmethod
    def _one_string(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class Context(BaseModel):
    """``context``: files appended to the prompt as fenced blocks named by file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    files: dict[str, str] | None = None


class EvalCase(BaseModel):
    """One test case: a prompt, the files it shows, and what a good answer holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: str
    context: Context | None = None
    expected: Expected
    output_file: str | None = None
    validator: str | None = None
    validator_config: dict[str, Scalar] | None = None


class Suite(BaseModel):
    """A whole ``skill_meta.json``: upskill's metadata and its tests (``upskill generate`` may leave none)."""

    model_config = ConfigDict(frozen=True)

    metadata: dict[str, Any] = Field(default_factory=dict)
    tests: tuple[EvalCase, ...] = ()


def parse_suite(data: object) -> tuple[Suite | None, list[str]]:
    """Validate parsed JSON as a suite: the suite, or ``None`` and every problem (``field: message``)."""
    try:
        return Suite.model_validate(data), []
    except ValidationError as error:
        return None, [f"{where}: {reason}" for where, reason in field_problems(error.errors())]


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
