"""Text safe to show on a terminal: what a registry, a project or a server sends, made visible.

Pure functions, no I/O. A registry can put escape sequences (``ESC ] 0 ; title BEL``,
``ESC [ 2 J``), other C0 and C1 controls, bidi overrides, zero-width and other invisible
(default-ignorable) characters, lone surrogates or megabytes in any string skillpm shows.
:func:`clean` writes every such character as a visible escape (``\\x1b``, ``\\u202e``), drops
nothing silently, and bounds the length with an ellipsis. JSON output does not come here:
``json.dumps`` (ASCII) keeps the exact data and escapes it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

#: Unicode categories never printed as they are: controls (C0, DEL, C1), format characters
#: (bidi overrides and isolates, zero-width joiners and spaces, BOM), surrogates, line and
#: paragraph separators, and code points without a character.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Cn"})
#: Unicode's Default_Ignorable_Code_Point property, its ranges merged: characters a terminal
#: draws as nothing. From DerivedCoreProperties.txt of the Unicode Character Database 15.0.0
#: (https://www.unicode.org/Public/15.0.0/ucd/DerivedCoreProperties.txt). Most are format
#: characters or unassigned, hidden by category anyway; not so the combining grapheme joiner
#: (U+034F), the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), the Khmer inherent vowels
#: (U+17B4, U+17B5) and the variation selectors (U+180B.., U+FE00.., U+E0100..).
DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)
ELLIPSIS = "…"
#: Default bounds, in characters: one value in a sentence or a cell, and one whole line.
FIELD = 200
LINE = 2000


def _visible(char: str) -> str:
    """``char`` itself, or its escape when a terminal would act on it or not show it."""
    if unicodedata.category(char) not in _HIDDEN and not _ignorable(char):
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _ignorable(char: str) -> bool:
    """Whether ``char`` is a default-ignorable code point (:data:`DEFAULT_IGNORABLE`)."""
    code = ord(char)  # 17 ranges, looked through in turn: importing bisect cost every command 1 M instructions
    return code >= 0xAD and any(low <= code <= high for low, high in DEFAULT_IGNORABLE)


def clean(value: object, limit: int = FIELD) -> str:
    """``str(value)`` with every hidden character escaped, at most ``limit`` characters
    (the last one an ellipsis when it was longer)."""
    text = value if isinstance(value, str) else str(value)
    # Printable, and no default-ignorable character in what is shown: only the bound applies.
    if text.isprintable() and (text.isascii() or not any(map(_ignorable, text[:limit]))):
        return text if len(text) <= limit else text[: limit - len(ELLIPSIS)] + ELLIPSIS
    return _escaped(text, limit)


def _escaped(text: str, limit: int) -> str:
    """:func:`clean`, a character at a time."""
    pieces: list[str] = []
    length = 0
    for char in text:
        piece = _visible(char)
        if length + len(piece) > limit:
            while pieces and length > limit - len(ELLIPSIS):
                length -= len(pieces.pop())
            return "".join(pieces) + ELLIPSIS
        pieces.append(piece)
        length += len(piece)
    return "".join(pieces)


def few(names: Sequence[str], shown: int = 4) -> str:
    """Names as one short text: up to ``shown``, then how many more (where all are wanted, ``--json`` has them)."""
    if len(names) <= shown:
        return ", ".join(names) or "-"
    return f"{', '.join(names[:shown - 1])} +{len(names) - shown + 1} more"
