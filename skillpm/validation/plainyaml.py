"""The plain subset of YAML most front matter is written in, read without PyYAML.

Importing PyYAML costs about half of what importing click does (its reader compiles a regular
expression over all of Unicode when it loads): most of what validating one skill cost beyond
click. Most front matter is a few ``key: value`` entries, so :func:`read_plain` reads those,
and returns ``None`` for anything else, which the caller then gives to PyYAML. It reads:

* top-level entries ``key: value``, the key a word (``[A-Za-z0-9_][A-Za-z0-9_.-]*``), with
  blank lines and whole-line ``#`` comments between them;
* values written plain, over one line or more (folded as YAML folds them): text that starts
  with a letter, a character beyond ASCII or one of ``/($^_``, or with a digit when it holds
  a character no number or date can (``001-intro``); YAML 1.1's booleans and nulls (``yes``,
  ``off``, ``null``, ``~``...); short decimal integers and numbers (``3``, ``1.0``); dates
  (``2026-04-04``); dotted versions (``1.2.3``). None holds ``": "`` or ``" #"`` or ends in ``:``;
* quoted values, over one line or more, with nothing to unescape (no ``\\``, and in single
  quotes no quote that is not doubled);
* block values ``|``, ``|-``, ``>`` and ``>-``, indented by spaces (folded ones without
  more-indented lines);
* a flow list on one line (``[Read, "Write"]``) of such values;
* below an empty top-level value, ``key: value`` lines (its keys read as text, each value on
  its line, a flow list among them, or below an empty one in turn, down to the fourth level),
  ``- value`` lines (at the key's column too), or text.

Anything else is ``None``: a character :meth:`str.isprintable` refuses (a tab, a carriage
return, YAML's other line breaks, a control character, a non-breaking space), an escape, a
flow mapping, an anchor, a tag, a time, a duplicate key, a list of mappings, a fifth level.
What this returns is what :mod:`skillpm.validation.yamlfront` returns for the same text:
the tests hold the two to that on cases and generated text, and ``bench/frontmatter_readers.py``
on folders of real skills.
"""

from __future__ import annotations

import datetime
import re

_WORDS: dict[str, object] = {
    **dict.fromkeys("yes Yes YES true True TRUE on On ON".split(), True),
    **dict.fromkeys("no No NO false False FALSE off Off OFF".split(), False),
    **dict.fromkeys("null Null NULL ~".split(), None),
}
_ENTRY = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_.-]*):(?: +(.*))?\Z")
#: Short decimal numbers (longer ones, which may be over a limit, are left to PyYAML).
_INT = re.compile(r"(?:0|[1-9][0-9]{0,8})\Z")
_FLOAT = re.compile(r"[0-9]{1,9}\.[0-9]{1,9}\Z")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
_DOTTED = re.compile(r"[0-9]+(?:\.[0-9]+){2,}\Z")
#: The characters a number, a date or a time can be written with.
_NUMERIC = frozenset("0123456789_.eE+-:TtZz ")
#: The deepest level read here (the top-level mapping is 1); deeper goes to PyYAML.
_DEEPEST = 4
_BLOCK_HEADERS = {"|": ("literal", "\n"), "|-": ("literal", ""), ">": ("folded", "\n"), ">-": ("folded", "")}

Fields = dict[str, object]


class _NotPlain(Exception):
    """What is not in the subset."""


def read_plain(text: str) -> tuple[Fields, dict[str, int]] | None:
    """``text``'s fields and the 0-based line of each key, or ``None`` when it is not plain."""
    lines = text.split("\n")
    if not all(line.isprintable() for line in lines):  # a tab, another line break, a control character
        return None
    fields: Fields = {}
    key_lines: dict[str, int] = {}
    at = 0
    try:
        while at < len(lines):
            if _blank(lines[at]) or lines[at].startswith("#"):
                at += 1
                continue
            entry = _ENTRY.match(lines[at])
            if entry is None or entry[1] in key_lines:
                return None
            end = at + 1
            while end < len(lines) and (_blank(lines[end]) or lines[end].startswith(" ")):
                end += 1
            key_lines[entry[1]] = at
            written, below = (entry[2] or "").rstrip(" "), lines[at + 1 : end]
            if not written and not _trimmed(below) and end < len(lines) and lines[end].startswith("- "):
                fields[entry[1]], end = _column_list(lines, end)
            else:
                fields[entry[1]] = _value(written, below, end == len(lines))
            at = end
    except _NotPlain:
        return None
    return (fields, key_lines) if fields else None


def _column_list(lines: list[str], start: int) -> tuple[list[object], int]:
    """A list written at its key's column (``tags:`` then ``- a`` lines) from ``start``, and where it ends."""
    items, end = [], start
    while end < len(lines) and (lines[end].startswith("- ") or _blank(lines[end])):
        if not _blank(lines[end]):
            items.append(_scalar(lines[end][2:].strip(" ")))
        end += 1
    return items, end  # an item over more lines is then no top-level entry: not plain


def _blank(line: str) -> bool:
    return not line.strip(" ")


def _trimmed(lines: list[str]) -> list[str]:
    """``lines`` without the blank lines at their end."""
    end = len(lines)
    while end and _blank(lines[end - 1]):
        end -= 1
    return lines[:end]


def _value(written: str, below: list[str], last: bool) -> object:
    """The value of a top-level key from what is written after it and the indented lines below
    (``last`` when they end the text)."""
    if written in _BLOCK_HEADERS:
        return _block(written, below, last)
    below = _trimmed(below)
    if not written:
        return _nested(below) if below else None
    if written[0] in "'\"":
        return _quoted("\n".join([written, *below]))
    if written[0] == "[" and not below:
        return _flow_list(written)
    if below:
        return _plain_text([written, *below])
    return _scalar(written)


def _nested(lines: list[str], depth: int = 2) -> object:
    """The lines below an empty key: a mapping (each value on its line, or below it in turn), a list
    of values, or text. ``depth`` is the level of what they hold (the top-level mapping is 1)."""
    if depth > _DEEPEST or any(line.lstrip(" ").startswith("#") for line in lines):  # where folding would differ
        raise _NotPlain
    written = [line for line in lines if not _blank(line)]
    indent = _indent(written[0])
    if any(_indent(line) < indent for line in written):
        raise _NotPlain
    groups: list[tuple[str, list[str]]] = []
    for line in lines[lines.index(written[0]) :]:
        if not _blank(line) and _indent(line) == indent:
            groups.append((line[indent:], []))
        else:
            groups[-1][1].append(line)
    nested = any(_trimmed(below) for _, below in groups)
    if all(head.startswith("- ") for head, _ in groups) and not nested:
        return [_scalar(head[2:].strip(" ")) for head, _ in groups]
    entries = [_ENTRY.match(head) for head, _ in groups]
    if not any(entries) and not nested:
        return _plain_text(lines)
    mapping: Fields = {}
    for entry, (_, below) in zip(entries, groups):
        if entry is None or entry[1] in mapping or entry[1] in _WORDS or entry[1][0].isdigit():
            raise _NotPlain
        value, below = (entry[2] or "").rstrip(" "), _trimmed(below)
        if value and below:
            raise _NotPlain
        if value:
            mapping[entry[1]] = _flow_list(value) if value[0] == "[" else _scalar(value)
        else:
            mapping[entry[1]] = _nested(below, depth + 1) if below else None
    return mapping


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _scalar(written: str, flow: bool = False) -> object:
    """The value of a scalar written on one line (in a flow list when ``flow``)."""
    if written[:1] in ("'", '"'):
        return _quoted(written)
    if not written or ": " in written or " #" in written or written.endswith(":"):
        raise _NotPlain
    if flow and any(mark in written for mark in ",[]{}:#"):
        raise _NotPlain
    if written in _WORDS:
        return _WORDS[written]
    first = written[0]
    if first.isalpha() or not first.isascii() or first in "/($^_":
        return written
    if _INT.match(written):
        return int(written)
    if date := _DATE.match(written):
        try:
            return datetime.date(*map(int, date.groups()))
        except ValueError:  # 2024-02-30: PyYAML's finding
            raise _NotPlain from None
    if _FLOAT.match(written):
        return float(written)
    if _DOTTED.match(written) or (first.isdigit() and not _NUMERIC.issuperset(written)):
        return written
    raise _NotPlain


def _plain_text(lines: list[str]) -> str:
    """Plain text written over ``lines`` (the first as written after its key), folded.

    Its first line starts it as text (:func:`_scalar`); a line after it goes on with any
    character but ``#`` (a comment), and ends it, as on the first line, at ``": "`` or ``" #"``
    or a ``:`` at its end, which :func:`read_plain` leaves to PyYAML.
    """
    pieces = [line.strip(" ") for line in lines]
    pieces = pieces[next(at for at, piece in enumerate(pieces) if piece) :]  # from the first line of text
    if not isinstance(_scalar(pieces[0]), str):
        raise _NotPlain
    for piece in pieces[1:]:
        if piece.startswith("#") or ": " in piece or " #" in piece or piece.endswith(":"):
            raise _NotPlain
    return _fold(pieces)


def _fold(pieces: list[str], quoted: bool = False) -> str:
    """Lines folded as YAML folds them: a line break is a space, and each empty line a newline
    (when ``quoted``, the last line is the closing quote's, text even when empty)."""
    folded, breaks = [pieces[0]], 0
    for number, piece in enumerate(pieces[1:], 2):
        if not piece and not (quoted and number == len(pieces)):
            breaks += 1
            continue
        folded += ("\n" * breaks if breaks else " ", piece)
        breaks = 0
    return "".join(folded)


def _quoted(written: str) -> str:
    """A quoted value over one line or more, folded, with nothing to unescape."""
    quote, inner = written[0], written[1:-1]
    if len(written) < 2 or written[-1] != quote or "\\" in inner or quote in inner.replace("''", ""):
        raise _NotPlain  # an escape, or a quote not doubled ("" is no escape in double quotes: it ends them)
    lines = inner.split("\n")
    if len(lines) > 1:
        inner = _fold([lines[0].rstrip(" "), *(line.strip(" ") for line in lines[1:-1]), lines[-1].lstrip(" ")], True)
    return inner.replace("''", "'") if quote == "'" else inner


def _block(header: str, lines: list[str], last: bool) -> str:
    """A block value (``|``, ``|-``, ``>``, ``>-``) from its indented lines (``last`` when they end
    the text: the last line then has no line break for ``|`` and ``>`` to keep)."""
    style, ending = _BLOCK_HEADERS[header]
    below, lines = lines, _trimmed(lines)
    if not lines or _blank(lines[0]):
        raise _NotPlain
    indent = _indent(lines[0])
    if any(len(line) > indent for line in below[len(lines) :]):  # trailing spaces YAML keeps as text
        raise _NotPlain
    content = []
    for line in lines:
        if _blank(line) and len(line) <= indent:
            content.append("")
        elif line[:indent].strip(" ") or (style == "folded" and line[indent] == " "):
            raise _NotPlain  # less indented, or more indented where folding keeps it apart
        else:
            content.append(line[indent:])
    body = "\n".join(content) if style == "literal" else _fold(content)
    return body + (ending if len(lines) < len(below) or not last else "")


def _flow_list(written: str) -> list[object]:
    """A flow list written on one line (read in one pass: a hostile one may be 64 KiB long)."""
    if written[-1] != "]":
        raise _NotPlain
    inner = written[1:-1]
    if not inner.strip(" "):
        return []
    items, at = [], 0
    while True:
        at = _after_spaces(inner, at)
        if at == len(inner):  # nothing after a comma
            raise _NotPlain
        if inner[at] in ("'", '"'):
            close = inner.find(inner[at], at + 1)
            while close >= 0 and inner[at] == "'" and inner.startswith("'", close + 1):
                close = inner.find("'", close + 2)
            if close < 0:
                raise _NotPlain
            item, comma = inner[at : close + 1], _after_spaces(inner, close + 1)
        else:
            comma = inner.find(",", at)
            comma = len(inner) if comma < 0 else comma
            item = inner[at:comma].rstrip(" ")
        items.append(_scalar(item, flow=True))
        if comma == len(inner):
            return items
        if inner[comma] != ",":
            raise _NotPlain
        at = comma + 1


def _after_spaces(text: str, at: int) -> int:
    while text.startswith(" ", at):
        at += 1
    return at
