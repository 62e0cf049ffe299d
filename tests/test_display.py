"""skillpm.display.clean: every hidden character made visible, nothing dropped, length bounded."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillpm.display import DEFAULT_IGNORABLE, ELLIPSIS, _escaped, clean


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
        ("cgj\u034f hangul\u3164\uffa0 vs\ufe0f\U000e0100", "cgj\\u034f hangul\\u3164\\uffa0 vs\\ufe0f\\U000e0100"),
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


#: What Unicode takes out of Default_Ignorable_Code_Point's format characters (DerivedCoreProperties.txt's
#: header): interlinear annotation and Egyptian hieroglyph format characters, and Prepended_Concatenation_Mark
#: (PropList.txt), which are shown. No format character is White_Space.
VISIBLE_FORMAT = {*range(0xFFF9, 0xFFFC), *range(0x13430, 0x13441), *range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890,
                  0x0891, 0x08E2, 0x110BD, 0x110CD}


def test_the_default_ignorable_table_agrees_with_python_s_unicode_data() -> None:
    """DEFAULT_IGNORABLE is Unicode's derivation: every format character (Cf) but the visible ones, plus the
    variation selectors and Other_Default_Ignorable_Code_Point (assigned ones are fillers, the grapheme joiner and
    inherent vowels; the rest is reserved). What unicodedata can tell is checked for every code point."""
    table = {code for low, high in DEFAULT_IGNORABLE for code in range(low, high + 1)}
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        if category == "Cf":
            assert (code in table) is (code not in VISIBLE_FORMAT), hex(code)
        elif code in table and category != "Cn":
            name = unicodedata.name(char)
            assert "VARIATION SELECTOR" in name or name.endswith(("FILLER", "GRAPHEME JOINER")) or "INHERENT" in name, name
        if code in table and not 0xD800 <= code < 0xE000:
            assert clean(char).startswith("\\"), hex(code)
    assert list(DEFAULT_IGNORABLE) == sorted(DEFAULT_IGNORABLE)
    assert all(low <= high < next_low - 1 for (low, high), (next_low, _) in zip(DEFAULT_IGNORABLE, DEFAULT_IGNORABLE[1:]))
