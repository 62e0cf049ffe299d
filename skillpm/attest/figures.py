"""Derived figures of evidence recomputed from what it records: the ``figures`` check.

Policy minimums read derived figures (eval's ``pass_rate`` and ``lift``, bench's ``pct_of_peak``),
so evidence whose figures contradict its own counts or timings (0 of 4 passed, ``pass_rate``
1.0) would meet any minimum once signed. Each derived figure is recomputed from the recorded
fields it is made from and must agree beyond rounding. Pure; a predicate of another shape is
the schema check's to refuse, so what is not there is not compared here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterator

from skillpm.attest.statement import BENCH_PREDICATE, EVAL_PREDICATE, is_finite_number

if TYPE_CHECKING:  # imported where eval evidence is checked: installs of other evidence never load it
    from skillpm.evaluation.stats import Tally

#: eval evidence rounds its figures to 6 decimals (by hand, people round to 3): what differs by more than
#: rounding to 3 decimals was not derived from the counts.
EVAL_TOLERANCE = 5e-4 + 1e-9
#: bench evidence writes floats as computed; figures rounded to 3 significant digits still agree.
BENCH_RELATIVE = 5e-3


def figure_problems(predicate_type: str, predicate: Any) -> list[str]:
    """Why the derived figures of ``predicate`` disagree with what it records (empty: they agree)."""
    if not isinstance(predicate, dict):
        return []
    if predicate_type == EVAL_PREDICATE:
        return list(_eval_problems(predicate))
    if predicate_type == BENCH_PREDICATE:
        return list(_bench_problems(predicate))
    return []


def _items(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _tally(arm: Any) -> Tally | None:
    """The counts an arm records, or None when they are not a valid tally (the schema's to say)."""
    if not isinstance(arm, dict):
        return None
    passed, total = arm.get("passed"), arm.get("total")
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (passed, total)):
        return None
    from skillpm.evaluation.stats import Tally

    try:
        return Tally(passed, total)
    except ValueError:
        return None


def _differs(stated: Any, derived: float, tolerance: float) -> bool:
    return not is_finite_number(stated) or abs(stated - derived) > tolerance


def _eval_problems(predicate: dict[str, Any]) -> Iterator[str]:
    from skillpm.evaluation.stats import difference_interval, wilson_interval

    for model in _items(predicate.get("models")):
        name = str(model.get("model"))[:80]
        tallies = {}
        for arm in ("with_skill", "baseline"):
            tally = _tally(model.get(arm))
            if tally is None:
                continue
            tallies[arm] = tally
            recorded = model[arm]
            counts = f"{tally.passed} of {tally.total}"
            if _differs(recorded.get("pass_rate"), tally.pass_rate, EVAL_TOLERANCE):
                yield f"{name} {arm}: pass_rate {recorded.get('pass_rate')!r} is not {counts} passed"
            if "wilson95" in recorded and not _pair_agrees(recorded["wilson95"], wilson_interval(tally.passed, tally.total)):
                yield f"{name} {arm}: wilson95 {recorded['wilson95']!r} is not the interval of {counts} passed"
        if len(tallies) == 2:
            with_skill, baseline = tallies["with_skill"], tallies["baseline"]
            if _differs(model.get("lift"), with_skill.pass_rate - baseline.pass_rate, EVAL_TOLERANCE):
                yield f"{name}: lift {model.get('lift')!r} is not the difference of the two arms' pass rates"
            if model.get("lift95") is not None and not _pair_agrees(model["lift95"], difference_interval(with_skill, baseline)):
                yield f"{name}: lift95 {model['lift95']!r} is not the interval of the two arms' counts"


def _pair_agrees(stated: Any, derived: tuple[float, float]) -> bool:
    return (
        isinstance(stated, list)
        and len(stated) == 2
        and not any(_differs(value, bound, EVAL_TOLERANCE) for value, bound in zip(stated, derived))
    )


def _close(stated: Any, derived: float) -> bool:
    return is_finite_number(stated) and math.isclose(stated, derived, rel_tol=BENCH_RELATIVE, abs_tol=1e-12)


def _bench_problems(predicate: dict[str, Any]) -> Iterator[str]:
    device = predicate.get("device")
    peak = device.get("peak_gbps") if isinstance(device, dict) else None
    for number, result in enumerate(_items(predicate.get("results"))):
        moved = result.get("bytes_moved")
        if not isinstance(moved, int) or isinstance(moved, bool) or moved < 1:
            continue
        timings = {}
        for name in ("kernel", "eager", "copy"):
            timing = result.get(name)
            median = timing.get("median_ms") if isinstance(timing, dict) else None
            if not is_finite_number(median) or median <= 0:
                continue
            if median < 1e-300:  # no bandwidth can be derived from it (and none of its figures checked)
                yield f"results[{number}].{name}: median_ms {median!r} is too small to be a time"
                continue
            timings[name] = timing
            where = f"results[{number}].{name}"
            gbps = moved / (median * 1e-3) / 1e9
            if not _close(timing.get("gbps"), gbps):
                yield f"{where}: gbps {timing.get('gbps')!r} is not bytes_moved {moved} in {median!r} ms"
            stated = timing.get("pct_of_peak")
            if is_finite_number(peak) and peak > 0 and stated is not None and not _close(stated, 100.0 * gbps / peak):
                yield f"{where}: pct_of_peak {stated!r} is not its bandwidth over the device's peak {peak!r} GB/s"
        if "kernel" in timings and "copy" in timings:
            derived = 100.0 * timings["copy"]["median_ms"] / timings["kernel"]["median_ms"]
            if not _close(result.get("pct_of_copy"), derived):
                yield f"results[{number}]: pct_of_copy {result.get('pct_of_copy')!r} is not the kernel's bandwidth over the copy's"
        if "kernel" in timings and "eager" in timings:
            derived = timings["eager"]["median_ms"] / timings["kernel"]["median_ms"]
            if not _close(result.get("speedup_vs_eager"), derived):
                yield f"results[{number}]: speedup_vs_eager {result.get('speedup_vs_eager')!r} is not eager's time over the kernel's"
