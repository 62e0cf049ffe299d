"""The pages' pure helpers at the edges of what a hostile registry may hand them: text far longer than is
shown, and figures near the ends of the floats (third-pass hostile review)."""

from __future__ import annotations

import math
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillpm.pages import markup
from skillpm.pages.plots import nice_scale


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


@pytest.mark.parametrize(
    ("largest", "scale"),
    [(5e-324, 5e-324), (1e-320, 1e-320), (2.2e-308, 2.5e-308), (0.3, 0.5), (1.0, 1.0), (7.0, 10.0),
     (22.06, 25.0), (1e300, 1e300), (1.5e308, 1.5e308), (1.7976931348623157e308, 1.7976931348623157e308)],
)  # fmt: skip
def test_nice_scale_at_the_ends_of_the_floats(largest: float, scale: float) -> None:
    """5e-324 (valid signed evidence: the schema asks only > 0) underflowed 10 ** floor(log10(x)) to 0 and
    ended the page build in a StopIteration traceback; at the top, 2 * 1e308 overflowed to inf."""
    assert nice_scale(largest) == scale


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), -float("inf")])
def test_nice_scale_of_what_is_no_positive_figure_is_one(bad: float) -> None:
    assert nice_scale(bad) == 1.0


@given(st.floats(min_value=5e-324, allow_nan=False, allow_infinity=False))
def test_nice_scale_is_finite_and_holds_every_positive_finite_float(largest: float) -> None:
    scale = nice_scale(largest)
    assert math.isfinite(scale) and scale >= largest and 0 < largest / scale <= 1
    if 1e-300 < largest < 1e300:  # away from the ends: a nice number, less than ten times the figure
        assert scale < 10 * largest
        mantissa = float(f"{scale:e}".split("e")[0])
        assert mantissa in (1.0, 2.0, 2.5, 5.0)
