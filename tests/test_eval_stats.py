"""Statistics: Wilson intervals and Newcombe's interval for the lift, against published values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillpm.evaluation.stats import (
    ModelResult,
    Tally,
    TrialOutcome,
    difference_interval,
    summarize,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("passed", "total", "low", "high"),
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        # textbook values for n = 10
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
    ],
)
def test_wilson_interval_matches_published_values(passed, total, low, high):
    lo, hi = wilson_interval(passed, total)
    assert lo == pytest.approx(low, abs=5e-5) and hi == pytest.approx(high, abs=5e-5)


def test_wilson_interval_of_nothing_is_everything():
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(("passed", "total"), [(-1, 3), (4, 3), (0, -1)])
def test_wilson_interval_refuses_impossible_counts(passed, total):
    with pytest.raises(ValueError, match="passed <= total"):
        wilson_interval(passed, total)


@given(st.integers(0, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_holds_the_rate_within_0_and_1(counts):
    passed, total = counts
    lo, hi = wilson_interval(passed, total)
    rate = passed / total if total else 0.5
    assert 0.0 <= lo <= rate <= hi <= 1.0


@pytest.mark.parametrize(
    ("first", "second", "low", "high"),
    [
        # Newcombe (1998), "Interval estimation for the difference between independent proportions", Table II
        ((56, 70), (48, 80), 0.0524, 0.3339),
        ((5, 56), (0, 29), -0.0381, 0.1926),
    ],
)
def test_lift_interval_matches_newcombes_hybrid_score_values(first, second, low, high):
    lo, hi = difference_interval(Tally(*first), Tally(*second))
    assert lo == pytest.approx(low, abs=5e-5) and hi == pytest.approx(high, abs=5e-5)


def outcome(model, arm, passed, *, tokens=(10, 5), latency=0.5):
    return TrialOutcome(model, arm, 0, 0, passed, tokens[0], tokens[1], latency)


def test_summarize_counts_each_model_and_arm():
    outcomes = [
        outcome("a", "with_skill", True),
        outcome("a", "with_skill", True),
        outcome("a", "baseline", False),
        outcome("a", "baseline", True, latency=1.5),
        outcome("b", "with_skill", False),
        outcome("b", "baseline", False),
    ]
    a, b = summarize(outcomes, ["a", "b"])
    assert (a.with_skill.passed, a.with_skill.total, a.baseline.passed, a.baseline.total) == (2, 2, 1, 2)
    assert a.lift == pytest.approx(0.5) and b.lift == 0
    document = a.to_json()
    assert document["model"] == "a" and document["lift"] == 0.5
    assert document["baseline"]["tokens"] == {"prompt": 20, "completion": 10, "total": 30}
    assert document["baseline"]["latency_s"] == {"total": 2.0, "mean": 1.0}
    assert document["with_skill"]["wilson95"] == [pytest.approx(0.342380, abs=1e-6), 1.0]
    assert len(document["lift95"]) == 2


def test_a_model_without_trials_with_the_skill_is_refused_not_counted_as_zero():
    with pytest.raises(ValueError, match="no trial with the skill"):
        summarize([outcome("c", "baseline", True)], ["c"])


def test_a_model_without_baseline_trials_has_no_baseline_and_no_lift():
    """An arm that was not run is absent (null), never 0 of 0: a 0 baseline would fake a lift."""
    (only,) = summarize([outcome("c", "with_skill", True)], ["c"])
    assert only.baseline is None and only.lift is None and only.lift95 is None
    document = only.to_json()
    assert (document["baseline"], document["lift"], document["lift95"]) == (None, None, None)
    assert document["with_skill"]["pass_rate"] == 1.0


def test_tokens_an_endpoint_did_not_count_are_unknown_not_zero():
    counted, uncounted = outcome("a", "with_skill", True), outcome("a", "with_skill", True, tokens=(None, None))
    (result,) = summarize([counted, uncounted, outcome("a", "baseline", True)], ["a"])
    assert result.to_json()["with_skill"]["tokens"] is None
    assert result.to_json()["baseline"]["tokens"] == {"prompt": 10, "completion": 5, "total": 15}


def test_a_tally_refuses_more_passes_than_trials():
    with pytest.raises(ValueError):
        Tally(passed=3, total=2)
