"""Reading TOML that anyone may have written (skills.lock, skillpm.toml, config and
policy files), in bounded time and memory."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from skillpm.reading import decode_utf8, read_at_most

#: Dots a line may have outside strings and comments. tomllib's work grows with the square of a
#: dotted key's length (a 40 KB line of ``a.a.a...`` takes seconds and gigabytes); skillpm's files
#: need one dot at most (``[variants.sm_90a]``).
MAX_TOML_DOTS = 8


@cache
def _strings_and_comments() -> re.Pattern[str]:
    """What a line of TOML may hold besides keys and values: strings (an unterminated one runs to
    the end of its line or, for a multi-line string, of the text, so every match is found in linear
    time) and comments. Compiled on first use: most files have no line with that many dots at all."""
    return re.compile(
        r'"""[\s\S]*?(?:"""|\Z)'
        r"|'''[\s\S]*?(?:'''|\Z)"
        r'|"(?:[^"\\\n]|\\.)*+(?:"|$)'
        r"|'[^'\n]*+(?:'|$)"
        r"|#[^\n]*",
        re.MULTILINE,
    )


def parse_toml(raw: bytes) -> dict[str, Any]:
    """``tomllib.loads`` for a file anyone may have written, in bounded time and memory.

    Refuses keys dotted more than :data:`MAX_TOML_DOTS` times and arrays or inline
    tables nested past Python's recursion limit. Raises ValueError (``TOMLDecodeError``
    included) on anything it does not accept.
    """
    text = decode_utf8(raw)
    line = _overdotted_line(text)
    if line is not None:
        raise ValueError(f"keys dotted more than {MAX_TOML_DOTS} times (near line {line})")
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ValueError("arrays or inline tables nested too deeply") from None


def _overdotted_line(text: str) -> int | None:
    """The first line (from 1) with more than :data:`MAX_TOML_DOTS` dots outside strings and comments.

    Dots in strings only add to a line's count, so a text with no line of that many dots in all
    is answered without the regex."""
    if all(line.count(".") <= MAX_TOML_DOTS for line in text.split("\n")):
        return None
    outside = _strings_and_comments().sub(" ", text)
    return next((n for n, line in enumerate(outside.split("\n"), 1) if line.count(".") > MAX_TOML_DOTS), None)


def read_toml_file(path: Path, *, limit: int) -> dict[str, Any]:
    """Parse the regular file ``path`` (at most ``limit`` bytes) with :func:`parse_toml`.

    Raises OSError (FileNotFoundError when absent) or ValueError with a reason.
    """
    return parse_toml(read_at_most(path, limit))
