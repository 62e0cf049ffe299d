"""The ``figures`` check: derived figures of evidence recomputed from its counts and timings."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from skillpm.attest.figures import figure_problems
from skillpm.attest.statement import BENCH_PREDICATE, EVAL_PREDICATE
from skillpm.benchmark.metrics import measure, pct_of_copy
from skillpm.evaluation.stats import ModelResult, Tally

ASSETS = Path(__file__).parent / "assets" / "attest"


def asset(kind: str) -> dict[str, Any]:
    return json.loads((ASSETS / f"{kind}-evidence.json").read_text(encoding="utf-8"))


def model(passed: int, total: int, base_passed: int | None, base_total: int) -> dict[str, Any]:
    baseline = None if base_passed is None else Tally(base_passed, base_total)
    return ModelResult("m", Tally(passed, total), baseline).to_json()


counts = st.integers(1, 400).flatmap(lambda total: st.tuples(st.integers(0, total), st.just(total)))


@given(counts, counts, st.booleans())
def test_the_figures_skillpm_writes_agree_with_their_counts(with_skill, baseline, has_baseline) -> None:
    document = {"models": [model(*with_skill, *(baseline if has_baseline else (None, 1)))]}
    assert figure_problems(EVAL_PREDICATE, document) == []


@given(counts, counts, st.sampled_from(["pass_rate", "wilson95", "lift", "lift95"]), st.floats(0.001, 0.5))
def test_a_figure_moved_past_rounding_is_named(with_skill, baseline, field, shift) -> None:
    document = {"models": [model(*with_skill, *baseline)]}
    entry = document["models"][0]
    if field in ("pass_rate", "wilson95"):
        arm = entry["with_skill"]
        arm[field] = arm[field] + shift if field == "pass_rate" else [arm[field][0], arm[field][1] - shift]
    else:
        entry[field] = entry[field] + shift if field == "lift" else [entry[field][0] - shift, entry[field][1]]
    problems = figure_problems(EVAL_PREDICATE, document)
    assert len(problems) == 1 and f"{field} " in problems[0], problems


def test_figures_rounded_to_three_decimals_still_agree() -> None:
    assert figure_problems(EVAL_PREDICATE, asset("eval")) == []
    assert figure_problems(BENCH_PREDICATE, asset("bench")) == []


def test_the_forgery_of_the_review_is_named() -> None:
    """0 of 4 passed with the skill, 0 of 4 without, but pass_rate 1.0 and lift 1.0."""
    entry = model(0, 4, 0, 4)
    entry["with_skill"].update(pass_rate=1.0, wilson95=[0.9, 1.0])
    entry.update(lift=1.0, lift95=[0.9, 1.0])
    problems = figure_problems(EVAL_PREDICATE, {"models": [entry]})
    assert problems == [
        "m with_skill: pass_rate 1.0 is not 0 of 4 passed",
        "m with_skill: wilson95 [0.9, 1.0] is not the interval of 0 of 4 passed",
        "m: lift 1.0 is not the difference of the two arms' pass rates",
        "m: lift95 [0.9, 1.0] is not the interval of the two arms' counts",
    ]


def bench_result(moved: int, kernel_ms: float, copy_ms: float, eager_ms: float, peak: float) -> dict[str, Any]:
    kernel, copied, eager = (measure([ms] * 3, moved, peak) for ms in (kernel_ms, copy_ms, eager_ms))
    return {
        "bytes_moved": moved,
        "kernel": kernel.to_json(), "copy": copied.to_json(), "eager": eager.to_json(),
        "pct_of_copy": pct_of_copy(kernel.gbps, copied.gbps), "speedup_vs_eager": eager_ms / kernel_ms,
    }


timings = st.floats(1e-4, 1e4, allow_nan=False)


@given(st.integers(1, 1 << 40), timings, timings, timings, st.floats(1.0, 1e5))
def test_bench_figures_skillpm_writes_agree_with_their_timings(moved, kernel_ms, copy_ms, eager_ms, peak) -> None:
    document = {"device": {"peak_gbps": peak}, "results": [bench_result(moved, kernel_ms, copy_ms, eager_ms, peak)]}
    assert figure_problems(BENCH_PREDICATE, document) == []


def test_a_percent_of_peak_its_timing_does_not_give_is_named() -> None:
    document = asset("bench")
    forged = copy.deepcopy(document)
    forged["results"][0]["kernel"]["pct_of_peak"] = 99.0
    assert figure_problems(BENCH_PREDICATE, forged) == [
        "results[0].kernel: pct_of_peak 99.0 is not its bandwidth over the device's peak 3350.0 GB/s"
    ]
    forged = copy.deepcopy(document)
    forged["results"][1]["kernel"]["median_ms"] = 0.006  # a faster time than its GB/s says
    assert len(figure_problems(BENCH_PREDICATE, forged)) == 4  # gbps, pct_of_peak, pct_of_copy, speedup


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=30,
)


@given(st.sampled_from([EVAL_PREDICATE, BENCH_PREDICATE]), json_values)
def test_any_shape_gives_a_list_and_never_raises(predicate_type, value) -> None:
    assert isinstance(figure_problems(predicate_type, value), list)
    for key in ("models", "results"):
        assert isinstance(figure_problems(predicate_type, {key: value, "device": value}), list)


def test_a_time_too_small_to_divide_by_is_refused() -> None:
    result = {"bytes_moved": 5, "kernel": {"median_ms": 5e-324, "gbps": 1.0, "pct_of_peak": 1.0}}
    assert figure_problems(BENCH_PREDICATE, {"device": {"peak_gbps": 1e-300}, "results": [result]}) == [
        "results[0].kernel: median_ms 5e-324 is too small to be a time"
    ]
