"""skillpm.display.clean: every hidden character made visible, nothing dropped, length bounded."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillpm.display import ELLIPSIS, _escaped, clean


@pytest.mark.parametrize(
    "text, shown",
    [
        ("plain text, ünïcödé, 漢字, emoji 🙂", "plain text, ünïcödé, 漢字, emoji 🙂"),
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("a\x1b[2Jb\x9b1m\x7f", "a\\x1b[2Jb\\x9b1m\\x7f"),
        ("tab\tnew\nline\r", "tab\\x09new\\x0aline\\x0d"),
        ("\u202eevil\u202c \u2066x\u2069", "\\u202eevil\\u202c \\u2066x\\u2069"),
        ("zero\u200bwidth\ufeff\u2028", "zero\\u200bwidth\\ufeff\\u2028"),
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
        ("tag \U000e0041", "tag \\U000e0041"),
        (42, "42"),
    ],
)
def test_clean_escapes_what_a_terminal_would_act_on(text: object, shown: str) -> None:
    assert clean(text) == shown


def test_clean_bounds_the_length_without_cutting_an_escape() -> None:
    assert clean("A" * 1_000_000, 10) == "A" * 9 + ELLIPSIS
    assert clean("abc", 3) == "abc"
    cut = clean("ab" + "\x1b" * 10, 8)
    assert cut == "ab\\x1b" + ELLIPSIS and len(cut) <= 8  # an escape is shown whole or not at all
    assert clean("\x1b" * 3, 9) == "\\x1b" * 2 + ELLIPSIS


@settings(max_examples=500)
@given(text=st.text(), limit=st.integers(min_value=1, max_value=40))
def test_the_printable_shortcut_changes_nothing(text: str, limit: int) -> None:
    """clean() returns printable text without looking at each character: the same as doing so."""
    assert clean(text, limit) == _escaped(text, limit)
    assert len(clean(text, limit)) <= limit
