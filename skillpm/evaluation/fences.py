"""The fenced code blocks of a Markdown answer, found in one pass over its lines.

A block opens on a line of up to 3 spaces or tabs, then 3 or more backticks or tildes (the
fence), then an info string whose first word is the language; it closes on the first later
line that is up to 3 spaces or tabs, the very same fence, and spaces or tabs. An opening line
with no such closing line is no block, and the lines after it are read as if it were prose.

This is what a single regular expression found before, in time quadratic in the lines when
openings never close (an answer of 16,000 lines of ```a took 42 s); here each line is looked
at once and each opening's closing line found by a binary search. One difference: an opening
fence closes only on a fence of its own length (```` is not closed by ```), where the
expression, backtracking, also tried the opening as a shorter fence.
"""

from __future__ import annotations

import re
from bisect import bisect_right

_OPENING = re.compile(r"[ \t]{0,3}(`{3,}|~{3,})[ \t]*([^\s`{]*)")
_CLOSING = re.compile(r"[ \t]{0,3}(`{3,}|~{3,})[ \t]*")


def code_blocks(answer: str) -> list[tuple[str, str]]:
    """Each block of ``answer`` in order: ``(language lower-cased, code)``, the code with its last newline."""
    starts = [0]
    starts.extend(index + 1 for index, char in enumerate(answer) if char == "\n")
    lines = answer.split("\n")
    closings: dict[str, list[int]] = {}
    for number, line in enumerate(lines):
        closing = _CLOSING.fullmatch(line)
        if closing:
            closings.setdefault(closing[1], []).append(number)
    blocks = []
    number = 0
    last_with_newline = len(lines) - 2  # the last line is not followed by a newline
    while number <= last_with_newline:
        opening = _OPENING.match(lines[number])
        candidates = closings.get(opening[1], []) if opening else []
        after = bisect_right(candidates, number)
        if opening and after < len(candidates):
            closing = candidates[after]
            blocks.append((opening[2].lower(), answer[starts[number + 1] : starts[closing]]))
            number = closing + 1
        else:
            number += 1
    return blocks
