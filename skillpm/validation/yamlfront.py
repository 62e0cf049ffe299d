"""Front matter read by PyYAML: whatever :mod:`skillpm.validation.plainyaml` does not read.

Parsing is safe and bounded: PyYAML's safe loader (the C one when available), no anchors or
aliases (so no alias bombs; an anchor is refused on its own line before the document is composed),
only the standard YAML tags, no duplicate keys at any level, and at most
``max_depth`` levels of nesting (deeper values would exhaust Python's recursion limit while
they are constructed).

Numbers are only built where that is cheap and exact: an integer is decimal, of at most
``max_int_digits`` digits (YAML 1.1's hexadecimal, octal, binary and base-60 forms, whose
conversion takes time quadratic in their length, stay strings, as every scalar is a string to
skills-ref); a float is decimal and finite (``.inf``, ``.nan`` and base-60 stay strings). An
explicit tag (``!!int 0x1F``) must agree with what the value would be read as without it.

Top-level keys are taken as written (``yes:`` is the key ``'yes'``), and each key's line is
kept so findings can point at it. Nothing here raises on bad input: a problem is returned.
"""

from __future__ import annotations

import math
import re

import yaml

from skillpm.records import Record

_YAML_TAG_PREFIX = "tag:yaml.org,2002:"
_INT = _YAML_TAG_PREFIX + "int"
_FLOAT = _YAML_TAG_PREFIX + "float"
_STR = _YAML_TAG_PREFIX + "str"
_STANDARD_TAGS = frozenset(
    _YAML_TAG_PREFIX + name
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader, resolving plain scalars to int and float only in decimal."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT, _FLOAT)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


_Loader.add_implicit_resolver(_INT, re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z"), list("-+0123456789"))
_Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(r"[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)(?:[eE][-+][0-9]+)?\Z"),
    list("-+0123456789."),
)


class YamlProblem(Record):
    """Why front matter cannot be read: ``line`` is 0-based in the front matter (-1: not known);
    ``syntax`` when it is not YAML at all (not YAML that front matter may not hold)."""

    line: int
    message: str
    syntax: bool = False


class _Refused(Exception):
    """YAML that is well-formed but not allowed in front matter."""

    def __init__(self, message: str, node: yaml.Node | yaml.Event) -> None:
        super().__init__(message)
        self.line = node.start_mark.line


def read_yaml(
    front: str, *, max_depth: int, max_int_digits: int
) -> tuple[dict[str, object] | None, dict[str, int]] | YamlProblem:
    """``front``'s fields (``None`` if not a mapping) and each key's 0-based line, or the problem."""
    try:
        return _load_mapping(front, max_depth, max_int_digits)
    except _Refused as exc:
        return YamlProblem(exc.line, str(exc))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        return YamlProblem(mark.line if mark else -1, f"invalid YAML: {problem}", syntax=True)
    except yaml.YAMLError as exc:  # a reader error: a character YAML does not allow
        line = front.count("\n", 0, getattr(exc, "position", 0))
        return YamlProblem(line, f"invalid YAML: {str(exc).split(chr(10), 1)[0]}")
    except (ValueError, OverflowError) as exc:  # a scalar that parses but cannot be built: 2024-02-30
        return YamlProblem(-1, f"invalid YAML value: {str(exc)[:200]}")
    except RecursionError:  # PyYAML's pure-Python composer (without libyaml) recurses per level
        return YamlProblem(-1, f"the front matter is nested deeper than {max_depth} levels")


def _load_mapping(text: str, max_depth: int, max_int_digits: int) -> tuple[dict[str, object] | None, dict[str, int]]:
    """Parse front matter text into fields and 0-based key lines; ``None`` if not a mapping.

    Raises :class:`_Refused` or :class:`yaml.YAMLError`.
    """
    if "&" in text:  # every anchor is written with one; most front matter has none, and is parsed once
        _refuse_anchors(text)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if not isinstance(root, yaml.MappingNode):
            return None, {}
        _refuse_tags(root, loader, max_depth, max_int_digits)
        fields: dict[str, object] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in root.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Refused("front matter keys must be plain strings", key_node)
            key = key_node.value
            if key in key_lines:
                first = key_lines[key] + 2
                raise _Refused(f"duplicate key {key!r} (first on line {first})", key_node)
            key_lines[key] = key_node.start_mark.line
            fields[key] = loader.construct_object(value_node, deep=True)
        return fields, key_lines
    finally:
        loader.dispose()


def _refuse_anchors(text: str) -> None:
    """Raise :class:`_Refused` on the line of the first anchor (``&name``) of ``text``'s events.

    Read event by event, before anything is composed: an alias can only name an anchor, so
    with none there is no alias (one that names nothing is the composer's error), and an alias
    bomb costs the length of its text.
    """
    loader = _Loader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if getattr(event, "anchor", None) is not None:
                raise _Refused("YAML anchors and aliases (&name, *name) are not allowed", event)
    finally:
        loader.dispose()


def _refuse_tags(root: yaml.Node, loader: yaml.BaseResolver, max_depth: int, max_int_digits: int) -> None:
    """Raise :class:`_Refused` at the first non-standard tag, duplicate key, too deep node or number
    that cannot be built cheaply."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if node.tag not in _STANDARD_TAGS:
            tag = node.tag.replace(_YAML_TAG_PREFIX, "!!")
            raise _Refused(f"YAML tag {tag!r} is not allowed in front matter", node)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and depth > max_depth:
            raise _Refused(f"the front matter is nested deeper than {max_depth} levels", node)
        if isinstance(node, yaml.MappingNode):
            _refuse_duplicate_keys(node)
            stack.extend((n, depth + 1) for pair in node.value for n in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((n, depth + 1) for n in node.value)
        elif node.tag != _STR:
            _check_scalar(node, loader, max_int_digits)


def _check_scalar(node: yaml.ScalarNode, loader: yaml.BaseResolver, max_int_digits: int) -> None:
    """Raise :class:`_Refused` unless ``node``'s value is one its tag can be built from cheaply."""
    implicit = loader.resolve(yaml.ScalarNode, node.value, (True, False))
    if implicit != node.tag and (implicit, node.tag) != (_INT, _FLOAT):
        tag = node.tag.replace(_YAML_TAG_PREFIX, "!!")
        decimal = " (numbers are read in decimal only)" if node.tag in (_INT, _FLOAT) else ""
        raise _Refused(f"{node.value[:40]!r} is not a value of {tag}{decimal}", node)
    if node.tag == _INT and len(node.value.lstrip("+-")) > max_int_digits:
        raise _Refused(f"an integer has more than {max_int_digits} digits; quote it to keep it as text", node)
    if node.tag == _FLOAT and not math.isfinite(float(node.value.replace("_", ""))):
        raise _Refused(f"the number {node.value[:40]} is too large; quote it to keep it as text", node)


def _refuse_duplicate_keys(node: yaml.MappingNode) -> None:
    """Raise :class:`_Refused` when a nested mapping lists a scalar key twice."""
    first: dict[tuple[str, str], int] = {}
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            key = (key_node.tag, key_node.value)
            if key in first:
                raise _Refused(f"duplicate key {key_node.value!r} (first on line {first[key] + 2})", key_node)
            first[key] = key_node.start_mark.line
