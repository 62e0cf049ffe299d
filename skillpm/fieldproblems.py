"""Validation errors in skillpm's words: a field path and a short reason.

jsonschema-rs's messages ("5 is not of type \"string\"") read as the library talking, not
as a problem in the user's file; this turns each error into a plain reason, in the words
skillpm used when pydantic checked these files ("must be a string", "is not a known field"),
which tests/pydantic_wording.py keeps as the reference the tests hold the schemas to.
Imports nothing (the caller holds the errors); pure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

if TYPE_CHECKING:
    from skillpm.schemacheck import SchemaError

#: JSON Schema's types as the author of a TOML or JSON file knows them, in the order pydantic
#: names a union's alternatives (``str | bool | int | float``).
_SCHEMA_TYPES = {
    "string": "a string", "boolean": "true or false", "integer": "an integer", "number": "a number",
    "object": "a table", "array": "a list", "null": "empty",
}
#: Of several keywords broken at one place, the one named: the order pydantic checks them in.
_SCHEMA_KEYWORDS = ("required", "additionalProperties", "type", "minLength", "maxLength", "minItems", "maxItems",
                    "minProperties", "maxProperties", "pattern", "enum")
_SCHEMA_BOUNDS = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}


def schema_problems(errors: Iterable[SchemaError]) -> list[tuple[tuple[str | int, ...], str]]:
    """``(path, reason)`` for JSON Schema errors (:func:`skillpm.schemacheck.errors`), one per path.

    A missing or unknown field is reported at its own path, not its table's, and of several
    keywords a value breaks only the first in :data:`_SCHEMA_KEYWORDS` is named (a name too long
    and badly formed is "must have at most 64 character(s)", as pydantic says it).
    """
    found: dict[tuple[str | int, ...], tuple[int, str]] = {}
    for error in errors:
        detail = error.detail or {}
        if error.keyword == "required":
            places = [((*error.path, detail.get("property", "?")), "is required")]
        elif error.keyword == "additionalProperties":
            places = [((*error.path, name), "is not a known field") for name in detail.get("unexpected", ())]
        else:
            places = [(error.path, schema_reason(error.keyword, detail))]
        rank = _SCHEMA_KEYWORDS.index(error.keyword) if error.keyword in _SCHEMA_KEYWORDS else len(_SCHEMA_KEYWORDS)
        for path, reason in places:
            if path not in found or rank < found[path][0]:
                found[path] = (rank, reason)
    return [(path, reason) for path, (_, reason) in found.items()]


def schema_reason(keyword: str, detail: Mapping[str, Any]) -> str:
    """The reason for one broken JSON Schema keyword ("must be a string", "must match P")."""
    limit = detail.get("limit", "?")
    if keyword == "type":
        types = [kind for kind in _SCHEMA_TYPES if kind in (detail.get("types") or ())]
        named = [kind for kind in types if kind != "null"] or types  # "X or null" is worded as X, as pydantic does
        return "must be " + " or ".join(_SCHEMA_TYPES[kind] for kind in named)
    if keyword in ("minLength", "maxLength"):
        return f"must have {'at least' if keyword == 'minLength' else 'at most'} {limit} character(s)"
    if keyword in ("minItems", "maxItems", "minProperties", "maxProperties"):
        return f"must have {'at least' if keyword.startswith('min') else 'at most'} {limit} item(s)"
    if keyword == "pattern":
        return f"must match {detail.get('pattern', 'the allowed pattern')}"
    if keyword == "enum":
        return f"must be {_one_of(list(detail.get('options') or ()))}"
    if keyword in _SCHEMA_BOUNDS:
        return f"must be {_SCHEMA_BOUNDS[keyword]} {limit}"
    return "is not valid here"


def _one_of(options: list[Any]) -> str:
    """``'a', 'b' or 'c'``: pydantic's wording of a choice."""
    shown = [repr(option) for option in options] or ["one of the allowed values"]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def field_order(
    path: Sequence[str | int], data: object, order: Mapping[tuple[str, ...], tuple[str, ...]]
) -> list[tuple[int, int]]:
    """A sort key putting problems in pydantic's order: a table's fields as ``order`` lists them (keyed
    by the table's path, a list item as ``*``), then its unknown keys as written, list items by index."""
    key: list[tuple[int, int]] = []
    node: Any = data
    for depth, part in enumerate(path):
        known = order.get(tuple("*" if isinstance(step, int) else str(step) for step in path[:depth]), ())
        written = list(node) if isinstance(node, Mapping) else []
        if isinstance(part, int):
            key.append((0, part))
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            continue
        if part in known:
            key.append((0, known.index(part)))
        else:
            key.append((1, written.index(part) if part in written else len(written)))
        node = node.get(part) if isinstance(node, Mapping) else None
    return key
