"""Split SKILL.md into YAML front matter and a Markdown body, and parse the front matter.

Parsing is safe and bounded: PyYAML's safe loader (the C one when available) on at most
:data:`MAX_FRONTMATTER_SIZE` bytes, no aliases (so no alias bombs), only the standard YAML
tags, no duplicate keys at any level, and at most :data:`MAX_DEPTH` levels of nesting (deeper
values would exhaust Python's recursion limit while they are constructed).

Numbers are only built where that is cheap and exact: an integer is decimal, of at most
:data:`MAX_INT_DIGITS` digits (YAML 1.1's hexadecimal, octal, binary and base-60 forms, whose
conversion takes time quadratic in their length, stay strings, as every scalar is a string to
skills-ref); a float is decimal and finite (``.inf``, ``.nan`` and base-60 stay strings). An
explicit tag (``!!int 0x1F``) must agree with what the value would be read as without it.

Top-level keys are taken as written (``yes:`` is the key ``'yes'``), and each key's line is
kept so findings can point at it. Every problem becomes a :class:`Finding`; nothing here
raises on bad input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from types import MappingProxyType

import yaml

from skillpm.records import Record
from skillpm.validation.findings import Finding, error

_YAML_TAG_PREFIX = "tag:yaml.org,2002:"
_INT = _YAML_TAG_PREFIX + "int"
_FLOAT = _YAML_TAG_PREFIX + "float"
_STR = _YAML_TAG_PREFIX + "str"
_STANDARD_TAGS = frozenset(
    _YAML_TAG_PREFIX + name
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)

DELIMITER = "---"

#: The deepest nesting of sequences and mappings front matter may have (the top mapping is 1).
MAX_DEPTH = 32
#: The most bytes of front matter parsed (the specification's fields need a few kilobytes).
MAX_FRONTMATTER_SIZE = 64 * 1024
#: The most digits of an integer (a larger one is refused: quote it to keep it as text).
MAX_INT_DIGITS = 18


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


class SkillMd(Record):
    """A SKILL.md split into its parts.

    ``fields`` is ``None`` when the front matter is missing or cannot be parsed;
    ``key_lines`` maps each top-level key to its 1-based line in the file;
    ``body_line`` is the line the body starts on.
    """

    fields: dict[str, object] | None
    key_lines: Mapping[str, int] = MappingProxyType({})  # read-only: one empty mapping shared by every default
    body: str = ""
    body_line: int = 1
    line_count: int = 0


class _Refused(Exception):
    """YAML that is well-formed but not allowed in front matter."""

    def __init__(self, message: str, node: yaml.Node | None) -> None:
        super().__init__(message)
        self.line = node.start_mark.line if node is not None else -1


def parse_skill_md(raw: bytes, *, file: str) -> tuple[SkillMd, list[Finding]]:
    """Decode and split a SKILL.md; return its parts and the problems found."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        message = f"SKILL.md is not UTF-8: byte {raw[exc.start]:#04x} at offset {exc.start}"
        return SkillMd(None), [error(file, line, "spec.skill-md.encoding", message)]
    lines = text.split("\n")
    line_count = len(lines) - (lines[-1] == "")
    if lines[0].rstrip() != DELIMITER:
        return SkillMd(None, body=text, line_count=line_count), [
            error(file, 1, "spec.frontmatter.missing",
                  f"SKILL.md must start with a {DELIMITER!r} line opening the YAML front matter")
        ]
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == DELIMITER), None)
    if end is None:
        return SkillMd(None, line_count=line_count), [
            error(file, 1, "spec.frontmatter.unclosed",
                  f"the front matter opened on line 1 has no closing {DELIMITER!r} line")
        ]
    body = "\n".join(lines[end + 1 :])
    front = "\n".join(lines[1:end])
    try:
        if len(front.encode("utf-8")) > MAX_FRONTMATTER_SIZE:
            raise _Refused(f"the front matter is larger than {MAX_FRONTMATTER_SIZE} bytes", None)
        fields, key_lines = _load_mapping(front)
    except _Refused as exc:
        finding = error(file, exc.line + 2, "spec.frontmatter.yaml", str(exc))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 2 if mark else 1
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        finding = error(file, line, "spec.frontmatter.yaml", f"invalid YAML: {problem}{_unquoted_colon(text)}")
    except yaml.YAMLError as exc:  # a reader error: a character YAML does not allow
        line = front.count("\n", 0, getattr(exc, "position", 0)) + 2
        problem = str(exc).split("\n", 1)[0]
        finding = error(file, line, "spec.frontmatter.yaml", f"invalid YAML: {problem}")
    except (ValueError, OverflowError) as exc:  # a scalar that parses but cannot be built: 2024-02-30
        finding = error(file, 1, "spec.frontmatter.yaml", f"invalid YAML value: {str(exc)[:200]}")
    except RecursionError:  # PyYAML's pure-Python composer (without libyaml) recurses per level
        finding = error(file, 1, "spec.frontmatter.yaml", f"the front matter is nested deeper than {MAX_DEPTH} levels")
    else:
        if fields is None:
            finding = error(file, 1, "spec.frontmatter.not-mapping",
                            "the front matter must be a YAML mapping of field names to values")
        else:
            lines_by_key = {key: line + 2 for key, line in key_lines.items()}
            return SkillMd(fields, lines_by_key, body, end + 2, line_count), []
    return SkillMd(None, body=body, body_line=end + 2, line_count=line_count), [finding]


def _unquoted_colon(text: str) -> str:
    """What to add to a YAML error when a one-line value of ``text``'s front matter holds ``": "`` unquoted."""
    from skillpm.validation.lenient import quote_colon_values

    _, keys = quote_colon_values(text)
    if not keys:
        return ""
    which = " and ".join(repr(key) for key in keys[:3]) + (" ..." if len(keys) > 3 else "")
    return (f"; the value of {which} holds ': ' unquoted, which YAML reads as a mapping: quote it "
            "('skillpm init --from DIR' does)")


def _load_mapping(text: str) -> tuple[dict[str, object] | None, dict[str, int]]:
    """Parse front matter text into fields and 0-based key lines; ``None`` if not a mapping.

    Raises :class:`_Refused` or :class:`yaml.YAMLError`.
    """
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if not isinstance(root, yaml.MappingNode):
            return None, {}
        _refuse_aliases_and_tags(root, loader)
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


def _refuse_aliases_and_tags(root: yaml.Node, loader: yaml.BaseResolver) -> None:
    """Raise :class:`_Refused` at the first alias, non-standard tag, duplicate key, too deep node
    or number that cannot be built cheaply.

    The composer turns an alias into a second reference to its anchored node, so a node
    seen twice is an alias; the walk stops there, which keeps alias bombs cheap.
    """
    seen: set[int] = set()
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            raise _Refused("YAML anchors and aliases (&name, *name) are not allowed", node)
        seen.add(id(node))
        if node.tag not in _STANDARD_TAGS:
            tag = node.tag.replace(_YAML_TAG_PREFIX, "!!")
            raise _Refused(f"YAML tag {tag!r} is not allowed in front matter", node)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and depth > MAX_DEPTH:
            raise _Refused(f"the front matter is nested deeper than {MAX_DEPTH} levels", node)
        if isinstance(node, yaml.MappingNode):
            _refuse_duplicate_keys(node)
            stack.extend((n, depth + 1) for pair in node.value for n in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((n, depth + 1) for n in node.value)
        elif node.tag != _STR:
            _check_scalar(node, loader)


def _check_scalar(node: yaml.ScalarNode, loader: yaml.BaseResolver) -> None:
    """Raise :class:`_Refused` unless ``node``'s value is one its tag can be built from cheaply."""
    implicit = loader.resolve(yaml.ScalarNode, node.value, (True, False))
    if implicit != node.tag and (implicit, node.tag) != (_INT, _FLOAT):
        tag = node.tag.replace(_YAML_TAG_PREFIX, "!!")
        decimal = " (numbers are read in decimal only)" if node.tag in (_INT, _FLOAT) else ""
        raise _Refused(f"{node.value[:40]!r} is not a value of {tag}{decimal}", node)
    if node.tag == _INT and len(node.value.lstrip("+-")) > MAX_INT_DIGITS:
        raise _Refused(f"an integer has more than {MAX_INT_DIGITS} digits; quote it to keep it as text", node)
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
