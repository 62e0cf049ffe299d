"""Counting trial outcomes: pass rates, Wilson 95% intervals, lift, tokens and latency.

Pure. Every trial (one test case, one model, with or without the skill, one repeat) is
counted as one Bernoulli draw. Repeats of one case are not independent draws of the test
set, so the intervals are narrower than the test set alone would justify; with few cases
read them as a floor on the uncertainty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Literal

Arm = Literal["with_skill", "baseline"]
ARMS: tuple[Arm, ...] = ("with_skill", "baseline")

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
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0


@dataclass(frozen=True)
class Tally:
    """The counts of one arm (with the skill, or the baseline) for one model."""

    passed: int = 0
    total: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0  # summed over requests
    requests: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.passed <= self.total:
            raise ValueError(f"need 0 <= passed <= total, got {self.passed} of {self.total}")

    @classmethod
    def of(cls, outcomes: Iterable[TrialOutcome]) -> Tally:
        items = list(outcomes)
        return cls(
            passed=sum(item.passed for item in items),
            total=len(items),
            prompt_tokens=sum(item.prompt_tokens for item in items),
            completion_tokens=sum(item.completion_tokens for item in items),
            latency_s=sum(item.latency_s for item in items),
            requests=len(items),
        )

    @property
    def pass_rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    @property
    def wilson95(self) -> tuple[float, float]:
        return wilson_interval(self.passed, self.total)

    def to_json(self) -> dict[str, object]:
        mean = self.latency_s / self.requests if self.requests else 0.0
        return {
            "passed": self.passed,
            "total": self.total,
            "pass_rate": _round(self.pass_rate),
            "wilson95": [_round(bound) for bound in self.wilson95],
            "tokens": {
                "prompt": self.prompt_tokens,
                "completion": self.completion_tokens,
                "total": self.prompt_tokens + self.completion_tokens,
            },
            "latency_s": {"total": _round(self.latency_s), "mean": _round(mean)},
        }


@dataclass(frozen=True)
class ModelResult:
    """One model's two arms and the lift the skill gives it."""

    model: str
    with_skill: Tally
    baseline: Tally

    @property
    def lift(self) -> float:
        return self.with_skill.pass_rate - self.baseline.pass_rate

    @property
    def lift95(self) -> tuple[float, float]:
        return difference_interval(self.with_skill, self.baseline)

    def to_json(self) -> dict[str, object]:
        return {
            "model": self.model,
            "with_skill": self.with_skill.to_json(),
            "baseline": self.baseline.to_json(),
            "lift": _round(self.lift),
            "lift95": [_round(bound) for bound in self.lift95],
        }


def summarize(outcomes: Iterable[TrialOutcome], models: Iterable[str]) -> list[ModelResult]:
    """One :class:`ModelResult` per model, in the order given."""
    items = list(outcomes)
    return [
        ModelResult(
            model,
            with_skill=Tally.of(o for o in items if o.model == model and o.arm == "with_skill"),
            baseline=Tally.of(o for o in items if o.model == model and o.arm == "baseline"),
        )
        for model in models
    ]


def _round(value: float) -> float:
    return round(value, 6)
