"""Pydantic's validation errors in skillpm's words: the reference the schema checks are held to.

skillpm checked skillpm.toml, skill_meta.json and validator_config with pydantic models until
issue 18 moved them to JSON Schemas (start-up time). The tests keep those models and word their
errors here, so that :func:`skillpm.fieldproblems.schema_problems` must give the same lines.
"""

from __future__ import annotations

import re

from typing import Any, Iterable, Mapping

_KINDS = {
    "string": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
    "dict": "a table", "list": "a list", "tuple": "a list", "model": "a table", "model_attributes": "a table",
    "int_parsing": "an integer", "float_parsing": "a number", "bool_parsing": "true or false",
}
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
_TYPE_TAGS = {"str", "int", "float", "bool", "dict", "list", "tuple", "none"}


def field_problems(items: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """``(field path, reason)`` for each item of ``ValidationError.errors()``, one per field path.

    The type tags pydantic adds to the path of a union's alternatives (``str``,
    ``list[str]``) are dropped, and the alternatives' reasons joined with "or".
    """
    found: dict[str, list[str]] = {}
    for item in items:
        parts = [str(part) for part in item.get("loc", ()) if not _is_type_tag(part)]
        reasons = found.setdefault(".".join(parts) or "(root)", [])
        reason = reason_for(item)
        if reason not in reasons:
            reasons.append(reason)
    return [(where, _joined(reasons)) for where, reasons in found.items()]


def reason_for(item: Mapping[str, Any]) -> str:
    """One pydantic error item as a short reason, e.g. ``must be a string`` or ``is not a known field``."""
    kind = str(item.get("type", ""))
    context = item.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind in ("value_error", "assertion_error"):
        return str(context.get("error", "is not valid")).removeprefix("Assertion failed, ")
    if kind.removesuffix("_type") in _KINDS or kind in _KINDS:
        return f"must be {_KINDS.get(kind, _KINDS.get(kind.removesuffix('_type')))}"
    if kind in _BOUNDS:
        bound = next(iter(context.values()), "?")
        return f"must be {_BOUNDS[kind]} {bound}"
    if kind in ("literal_error", "enum"):
        return f"must be {context.get('expected', 'one of the allowed values')}"
    if kind == "string_pattern_mismatch":
        return f"must match {context.get('pattern', 'the allowed pattern')}"
    if kind in ("string_too_short", "too_short"):
        return f"must have at least {context.get('min_length', '?')} {'character' if kind.startswith('string') else 'item'}(s)"
    if kind in ("string_too_long", "too_long"):
        return f"must have at most {context.get('max_length', '?')} {'character' if kind.startswith('string') else 'item'}(s)"
    if kind == "finite_number":
        return "must be a finite number"
    return "is not valid here"


def _is_type_tag(part: object) -> bool:
    """Whether a ``loc`` part is pydantic's tag of a type tried (``list[str]``, ``function-after[...]``), not
    a key of the document (which may be ``[`` or ``a[b]``)."""
    return isinstance(part, str) and (part in _TYPE_TAGS or re.fullmatch(r"[a-z-]+\[.+\]", part) is not None)


def _joined(reasons: list[str]) -> str:
    if len(reasons) > 1 and all(reason.startswith("must be ") for reason in reasons):
        return "must be " + " or ".join(reason.removeprefix("must be ") for reason in reasons)
    return "; ".join(reasons)
