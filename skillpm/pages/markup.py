"""Escaping and formatting for the pages: every piece of registry text goes through here.

Pure. Registry text is untrusted: :func:`text` makes it safe in element content and in
double-quoted attribute values (it escapes ``& < > " '``), after :func:`clean` has replaced
what must never reach a page (controls, lone surrogates, bidirectional overrides). Links are
only ever built by :func:`href` from relative paths it accepts. Numbers are formatted only
when they are finite (:func:`number`); registry text never reaches a CSS context.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from typing import Any

#: Characters replaced by U+FFFD: C0/C1 controls (but tab and newline), lone surrogates,
#: bidirectional embeddings, overrides and isolates (which can make text read backwards).
_UNSAFE_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069\ufeff]")
#: A link target the pages may carry: a plain relative path of safe characters, no scheme, no ``..``.
_HREF_RE = re.compile(r"(?:\.\./)?(?:[A-Za-z0-9_][A-Za-z0-9._+-]*/)*[A-Za-z0-9_][A-Za-z0-9._+-]*(?:#[A-Za-z0-9_-]+)?")
MAX_TEXT = 2000


def clean(value: object, limit: int = MAX_TEXT) -> str:
    """``value`` as text fit for a page: unsafe characters replaced, cut to ``limit`` characters (marked).

    Cut to twice ``limit`` before it is normalised (NFC, which may join a few characters into one): putting a
    run of combining marks in order takes time quadratic in its length, and a description of 80,000 marks
    took 15 s a page."""
    whole = str(value)
    cut = whole[: 2 * limit]
    text = unicodedata.normalize("NFC", _UNSAFE_RE.sub("\ufffd", cut))
    return text if len(text) <= limit and len(cut) == len(whole) else text[: limit - 1] + "\u2026"


def text(value: object, limit: int = MAX_TEXT) -> str:
    """``value`` cleaned and HTML-escaped: safe as element content and as a quoted attribute value."""
    return html.escape(clean(value, limit), quote=True)


def href(path: str) -> str | None:
    """``path`` escaped for an ``href``, or ``None`` when it is not a plain relative path.

    No scheme (so no ``javascript:`` or ``data:``), no absolute path, no ``..`` but one leading
    ``../`` (how a package page reaches the registry root), no query, no odd characters.
    """
    if not _HREF_RE.fullmatch(path) or "/../" in f"/{path.removeprefix('../')}":
        return None
    return html.escape(path, quote=True)


#: The largest integer a page shows as a figure: every integer up to it is exactly a float.
MAX_INTEGER = 2**53


def is_number(value: Any) -> bool:
    """Whether ``value`` is a finite float or an int within :data:`MAX_INTEGER` (not a bool, NaN or an infinity).

    A JSON integer of hundreds of digits is finite, but no figure: it would overflow a float
    (``math.isfinite`` raises on it) and fill a page.
    """
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) <= MAX_INTEGER
    return isinstance(value, float) and math.isfinite(value)


def number(value: Any) -> str:
    """A finite number as people read it (``3350``, ``2440.6``, ``0.055``, ``1e-05``), or ``invalid``.

    Never ``nan`` or ``inf``; floats keep three decimals at most, small ones three significant digits.
    """
    if not is_number(value):
        return "invalid"
    if isinstance(value, int):
        return str(value)
    if value == 0:
        return "0"
    if abs(value) >= 0.001:
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def percent(fraction: float) -> str:
    """``0.9`` -> ``90%`` (one decimal when it matters)."""
    shown = f"{fraction * 100:.1f}".removesuffix(".0")
    return f"{shown}%"


def coordinate(value: float) -> str:
    """An SVG coordinate: two decimals at most, no trailing zeros, never ``-0``."""
    shown = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if shown in ("-0", "") else shown


def size(count: int) -> str:
    """A byte count for people: ``12.3 kB`` (powers of 1000), exact bytes below 1000."""
    if count < 1000:
        return f"{count} B"
    for unit in ("kB", "MB", "GB"):
        count /= 1000
        if count < 1000:
            return f"{count:.1f} {unit}"
    return f"{count:.1f} TB"
