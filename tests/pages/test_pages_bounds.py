"""The pages' pure helpers at the edges of what a hostile registry may hand them: text far longer than is
shown (third-pass hostile review)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillpm.pages import markup


def test_clean_normalises_at_most_twice_what_it_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Putting a run of combining marks in canonical order is quadratic: clean() normalised a whole
    description of 80,000 marks (15 s a page) before cutting it to 300 characters."""
    seen: list[int] = []
    normalize = unicodedata.normalize

    def measured(form: str, text: str) -> str:
        seen.append(len(text))
        return normalize(form, text)

    monkeypatch.setattr(markup.unicodedata, "normalize", measured)
    shown = markup.clean("Helps. " + "\u0300\u0316" * 40_000, 300)
    assert seen and max(seen) <= 600
    assert len(shown) == 300 and shown.endswith("\u2026") and shown.startswith("Helps. ")


@pytest.mark.parametrize(
    ("raw", "limit", "shown"),
    [
        ("e\u0301", 5, "\u00e9"),  # composed
        ("e\u0301" * 3, 3, "\u00e9\u00e9\u00e9"),  # six characters that are three: not cut
        ("e\u0301" * 4, 3, "\u00e9\u00e9\u2026"),
        ("x" * 7, 3, "xx\u2026"),  # longer than twice the limit: cut and marked
        ("\u1100\u1161\u11a8" * 2, 3, "\uac01\uac01"),  # Hangul: three to one, within twice the limit
        ("abc", 3, "abc"),
    ],
)
def test_clean_cuts_what_it_normalised(raw: str, limit: int, shown: str) -> None:
    assert markup.clean(raw, limit) == shown


@given(st.text(max_size=60), st.integers(min_value=2, max_value=40))
def test_clean_is_the_whole_texts_normal_form_when_that_fits(raw: str, limit: int) -> None:
    whole = unicodedata.normalize("NFC", markup._UNSAFE_RE.sub("\ufffd", raw))
    shown = markup.clean(raw, limit)
    assert len(shown) <= limit
    if len(raw) <= 2 * limit and len(whole) <= limit:
        assert shown == whole
    else:
        assert shown.endswith("\u2026")
