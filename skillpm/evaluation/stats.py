"""Counting trial outcomes: pass rates, Wilson 95% intervals, lift, tokens and latency.

Pure. Every trial (one test case, one model, with or without the skill, one repeat) is
counted as one Bernoulli draw. Repeats of one case are not independent draws of the test
set, so the intervals are narrower than the test set alone would justify; with few cases
read them as a floor on the uncertainty.

A number that was not measured is ``None`` (``null`` in the evidence), never 0: an arm
that was not run (upskill's benchmark mode runs no baseline) has no pass rate, so the
model has no lift; tokens an endpoint did not count are not zero tokens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Literal, TypeVar

Arm = Literal["with_skill", "baseline"]
ARMS: tuple[Arm, ...] = ("with_skill", "baseline")
Number = TypeVar("Number", int, float)

#: The two-sided 95% quantile of the standard normal distribution.
Z95 = 1.959963984540054


def wilson_interval(passed: int, total: int, *, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for ``passed`` successes in ``total`` draws; (0, 1) when there are none."""
    if total < 0 or not 0 <= passed <= total:
        raise ValueError(f"need 0 <= passed <= total, got {passed} of {total}")
    if total == 0:
        return (0.0, 1.0)
    rate = passed / total
    z2 = z * z
    centre = (rate + z2 / (2 * total)) / (1 + z2 / total)
    half = z / (1 + z2 / total) * math.sqrt(rate * (1 - rate) / total + z2 / (4 * total * total))
    # At 0 and at total the bounds are exactly 0 and 1; rounding would leave them a hair off.
    low = 0.0 if passed == 0 else max(0.0, centre - half)
    high = 1.0 if passed == total else min(1.0, centre + half)
    return (low, high)


def difference_interval(first: Tally, second: Tally) -> tuple[float, float]:
    """Newcombe's hybrid score interval for ``first.pass_rate - second.pass_rate`` (95%)."""
    p1, p2 = first.pass_rate, second.pass_rate
    lo1, hi1 = first.wilson95
    lo2, hi2 = second.wilson95
    difference = p1 - p2
    lower = difference - math.sqrt((p1 - lo1) ** 2 + (hi2 - p2) ** 2)
    upper = difference + math.sqrt((hi1 - p1) ** 2 + (p2 - lo2) ** 2)
    return (max(-1.0, lower), min(1.0, upper))


@dataclass(frozen=True)
class TrialOutcome:
    """What one trial gave: whether every check passed, and what the request cost."""

    model: str
    arm: Arm
    case: int
    trial: int
    passed: bool
    prompt_tokens: int | None = None  # None: the endpoint did not count them
    completion_tokens: int | None = None
    latency_s: float | None = None


@dataclass(frozen=True)
class Tally:
    """The counts of one arm (with the skill, or the baseline) for one model.

    ``total`` is at least 1: an arm with nothing counted is no tally (``None``). Tokens and
    latency are ``None`` when any request's were not measured.
    """

    passed: int
    total: int
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None  # summed over requests
    requests: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.passed <= self.total or self.total < 1:
            raise ValueError(f"need 0 <= passed <= total and total >= 1, got {self.passed} of {self.total}")

    @classmethod
    def of(cls, outcomes: Iterable[TrialOutcome]) -> Tally | None:
        """The tally of ``outcomes``; ``None`` when there are none (the arm was not run)."""
        items = list(outcomes)
        if not items:
            return None
        return cls(
            passed=sum(item.passed for item in items),
            total=len(items),
            prompt_tokens=measured_sum(item.prompt_tokens for item in items),
            completion_tokens=measured_sum(item.completion_tokens for item in items),
            latency_s=measured_sum(item.latency_s for item in items),
            requests=len(items),
        )

    @property
    def pass_rate(self) -> float:
        return self.passed / self.total

    @property
    def wilson95(self) -> tuple[float, float]:
        return wilson_interval(self.passed, self.total)

    def to_json(self) -> dict[str, object]:
        prompt, completion, latency = self.prompt_tokens, self.completion_tokens, self.latency_s
        tokens = None if prompt is None or completion is None else {
            "prompt": prompt,
            "completion": completion,
            "total": prompt + completion,
        }
        timing = None if latency is None or not self.requests else {
            "total": _round(latency),
            "mean": _round(latency / self.requests),
        }
        return {
            "passed": self.passed,
            "total": self.total,
            "pass_rate": _round(self.pass_rate),
            "wilson95": [_round(bound) for bound in self.wilson95],
            "tokens": tokens,
            "latency_s": timing,
        }


def measured_sum(values: Iterable[Number | None]) -> Number | None:
    """The sum of measurements; ``None`` when any of them was not measured."""
    items = list(values)
    return None if any(value is None for value in items) else sum(items)  # type: ignore[return-value, arg-type]


@dataclass(frozen=True)
class ModelResult:
    """One model's two arms and the lift the skill gives it; no baseline, no lift (``None``)."""

    model: str
    with_skill: Tally
    baseline: Tally | None

    @property
    def lift(self) -> float | None:
        return None if self.baseline is None else self.with_skill.pass_rate - self.baseline.pass_rate

    @property
    def lift95(self) -> tuple[float, float] | None:
        return None if self.baseline is None else difference_interval(self.with_skill, self.baseline)

    def to_json(self) -> dict[str, object]:
        lift, lift95 = self.lift, self.lift95
        return {
            "model": self.model,
            "with_skill": self.with_skill.to_json(),
            "baseline": None if self.baseline is None else self.baseline.to_json(),
            "lift": None if lift is None else _round(lift),
            "lift95": None if lift95 is None else [_round(bound) for bound in lift95],
        }


def summarize(outcomes: Iterable[TrialOutcome], models: Iterable[str]) -> list[ModelResult]:
    """One :class:`ModelResult` per model, in the order given (every model must have with-skill trials)."""
    items = list(outcomes)
    results = []
    for model in models:
        with_skill = Tally.of(o for o in items if o.model == model and o.arm == "with_skill")
        if with_skill is None:
            raise ValueError(f"model {model!r} has no trial with the skill")
        results.append(ModelResult(model, with_skill, Tally.of(o for o in items if o.model == model and o.arm == "baseline")))
    return results


def _round(value: float) -> float:
    return round(value, 6)
