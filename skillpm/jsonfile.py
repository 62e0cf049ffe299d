"""Parsing JSON that anyone may have written (index documents, evidence, test files, caches).

:func:`parse_json` is ``json.loads`` made strict: the bytes must be UTF-8; ``NaN``,
``Infinity`` and ``-Infinity`` are refused, and so is a number that overflows to infinity
(``1e999``) or an integer of more than :data:`MAX_INT_DIGITS` digits; strings must be
Unicode (no lone surrogate from a ``\\ud800`` escape) unless the caller only displays them;
and arrays and objects nest at most :data:`MAX_DEPTH` levels. So no non-finite number, no text
that cannot be written back, and no value too deep for the code that walks it can come in. Every refusal is a ValueError with a
one-line reason that starts "not valid JSON".
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from pathlib import Path
from typing import Any

from skillpm.reading import decode_utf8, read_at_most

#: The deepest nesting of arrays and objects (skillpm's documents need fewer than 10 levels).
MAX_DEPTH = 64
#: The most digits an integer may have (far above any count or size skillpm reads).
MAX_INT_DIGITS = 40

#: A JSON string, escapes and all; compiled only for a document with more brackets than MAX_DEPTH.
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_BRACKETS = str.maketrans({"[": "\x01", "{": "\x01", "]": "\xff", "}": "\xff"})


class _Refused(ValueError):
    """Valid JSON syntax that is not accepted; its message is the reason alone."""


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not finite")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:40]} is not finite (it overflows)")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"an integer has more than {MAX_INT_DIGITS} digits")
    return int(text)


def parse_json(data: bytes | str, *, lone_surrogates: bool = False) -> Any:
    """The JSON value of ``data`` (UTF-8 bytes or text); ValueError with a reason when refused.

    ``lone_surrogates=True`` lets strings hold them, for text that is only compared or shown
    (through :mod:`skillpm.display`, which escapes them), never written out as UTF-8.
    """
    try:
        return _parse(data, lone_surrogates)
    except _Refused as error:
        raise ValueError(f"not valid JSON ({error})") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})") from None


def _parse(data: bytes | str, lone_surrogates: bool) -> Any:
    try:
        text = decode_utf8(data) if isinstance(data, bytes) else data
    except ValueError as error:
        raise _Refused(str(error)) from None
    deep = _Refused(f"arrays or objects nested more than {MAX_DEPTH} levels")
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except RecursionError:
        raise deep from None
    if _depth(text) > MAX_DEPTH:
        raise deep
    if lone_surrogates:
        return value
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise _Refused("a string holds a lone surrogate, which is not Unicode text") from None
    return value


def _depth(text: str) -> int:
    """How deeply the arrays and objects of the valid JSON ``text`` nest."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:  # brackets in strings counted too: at most this deep
        return 0
    outside = re.sub(_STRING, "", text, flags=re.DOTALL)
    if outside.count("[") + outside.count("{") <= MAX_DEPTH:
        return 0
    # Outside strings, valid JSON holds only ASCII: each bracket becomes a signed byte, +1 or -1.
    steps = outside.translate(_BRACKETS).encode("latin-1", "ignore").translate(None, _NOT_BRACKETS)
    return max(accumulate(memoryview(steps).cast("b")))


_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in (0x01, 0xFF))


def read_json(path: Path, limit: int) -> Any:
    """Parse the regular file ``path`` (at most ``limit`` bytes) with :func:`parse_json`.

    Raises OSError (FileNotFoundError when absent) or ValueError with a reason.
    """
    return parse_json(read_at_most(path, limit))
