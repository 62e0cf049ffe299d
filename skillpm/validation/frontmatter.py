"""Split SKILL.md into YAML front matter and a Markdown body, and parse the front matter.

The front matter is at most :data:`MAX_FRONTMATTER_SIZE` bytes. Most is a few ``key: value``
lines, which :mod:`skillpm.validation.plainyaml` reads without importing PyYAML; the rest is
read by :mod:`skillpm.validation.yamlfront`, with PyYAML's safe loader, no anchors or aliases, only the
standard tags, no duplicate keys, at most :data:`MAX_DEPTH` levels, and numbers only in
decimal (integers of at most :data:`MAX_INT_DIGITS` digits). Both readers give the same
fields for the same text. Every problem becomes a :class:`Finding`; nothing here raises on
bad input.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from skillpm.records import Record
from skillpm.validation.findings import Finding, error
from skillpm.validation.plainyaml import read_plain

DELIMITER = "---"
#: The byte-order mark some editors write first in a UTF-8 file.
BOM = "\ufeff"

#: The deepest nesting of sequences and mappings front matter may have (the top mapping is 1).
MAX_DEPTH = 32
#: The most bytes of front matter parsed (the specification's fields need a few kilobytes).
MAX_FRONTMATTER_SIZE = 64 * 1024
#: The most digits of an integer (a larger one is refused: quote it to keep it as text).
MAX_INT_DIGITS = 18


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
        message = f"SKILL.md must start with a {DELIMITER!r} line opening the YAML front matter"
        if text.startswith(BOM) and lines[0][1:].rstrip() == DELIMITER:
            message = (f"SKILL.md starts with a byte-order mark (U+FEFF) before its {DELIMITER!r}, so skills-ref, and "
                       "agents that read front matter strictly, find none: save it as UTF-8 without the mark "
                       "('skillpm init --from DIR' does)")
        return SkillMd(None, body=text, line_count=line_count), [error(file, 1, "spec.frontmatter.missing", message)]
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == DELIMITER), None)
    if end is None:
        return SkillMd(None, line_count=line_count), [
            error(file, 1, "spec.frontmatter.unclosed",
                  f"the front matter opened on line 1 has no closing {DELIMITER!r} line")
        ]
    body = "\n".join(lines[end + 1 :])
    front = "\n".join(lines[1:end])
    if len(front.encode("utf-8")) > MAX_FRONTMATTER_SIZE:
        finding = error(file, 1, "spec.frontmatter.yaml", f"the front matter is larger than {MAX_FRONTMATTER_SIZE} bytes")
    else:
        loaded = read_plain(front)
        if loaded is None:
            from skillpm.validation.yamlfront import YamlProblem, read_yaml

            loaded = read_yaml(front, max_depth=MAX_DEPTH, max_int_digits=MAX_INT_DIGITS)
            if isinstance(loaded, YamlProblem):
                message = loaded.message + (_unquoted_colon(text) if loaded.syntax else "")
                return SkillMd(None, body=body, body_line=end + 2, line_count=line_count), [
                    error(file, loaded.line + 2, "spec.frontmatter.yaml", message)
                ]
        fields, key_lines = loaded
        if fields is not None:
            lines_by_key = {key: line + 2 for key, line in key_lines.items()}
            return SkillMd(fields, lines_by_key, body, end + 2, line_count), []
        finding = error(file, 1, "spec.frontmatter.not-mapping",
                        "the front matter must be a YAML mapping of field names to values")
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
