"""The static-kernel evidence document, built from a counter's measurement (pure; no compiler)."""

from __future__ import annotations

import copy
import math

import pytest

from skillpm.attest.static_kernel import build_evidence, compile_targets, summary
from skillpm.evidence import SkillRef

SKILL = SkillRef("kernel-builder-cuda", "0.2.0", "sm_100f", "a" * 64)
ROW = {"target": "sm_100f", "dtype": "bf16", "gelu": "none", "hidden": 8192, "kernel": "k<...>", "ept": 32,
       "loop_instructions": 441, "per_element": 13.78, "registers": 128, "spill_bytes": 0, "budget": 14,
       "gencode": "arch=compute_100f,code=sm_100f",
       "gpus": [{"name": "B200", "capability": "10.0", "sms": 148, "bandwidth_gbps": 8000.0, "source": "datasheet"}]}
MEASURED = {"versions": {"nvcc": "13.0.88", "cuobjdump": "13.5.37", "nvdisasm": "13.5.37"},
            "sources": {"k/a.cu": "1" * 64}, "rows": [ROW, {**ROW, "gelu": "tanh", "per_element": 11.69}]}


def test_generic_covers_every_capability_the_project_builds() -> None:
    assert compile_targets("generic", ["8.0", "9.0", "10.3", "12.0"]) == ["sm_80", "sm_90", "sm_103", "sm_120"]
    assert compile_targets("sm_100f", ["8.0"]) == ["sm_100f"]


def test_a_gpu_without_a_clock_has_no_budget_and_the_summary_says_so() -> None:
    document = build_evidence(skill=SKILL, project="assets/k", measured=MEASURED, targets=["sm_100f"])
    assert [k["gelu"] for k in document["kernels"]] == ["none", "tanh"]
    assert "ceiling" not in document["kernels"][0]["gpus"][0] and document["kernels"][0]["target_budget"] == 14
    assert summary(document) == "static: sm_100f 13.78/11.69 SASS/elem, 128 regs, 0 B spilled; ceiling not known"


def test_a_budget_the_skill_does_not_set_is_absent_not_zero() -> None:
    measured = copy.deepcopy(MEASURED)
    for row in measured["rows"]:
        row["budget"] = None
    document = build_evidence(skill=SKILL, project="assets/k", measured=measured, targets=["sm_100f"])
    assert all("target_budget" not in kernel for kernel in document["kernels"])


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_number_that_is_not_finite_is_refused(bad: float) -> None:
    measured = copy.deepcopy(MEASURED)
    measured["rows"][1]["per_element"] = bad
    with pytest.raises(ValueError, match=r"not finite at rows\[1\]\.per_element"):
        build_evidence(skill=SKILL, project="assets/k", measured=measured, targets=["sm_100f"])


def test_a_target_that_was_not_measured_is_refused() -> None:
    with pytest.raises(ValueError, match="no bf16 kernels for sm_120f"):
        build_evidence(skill=SKILL, project="assets/k", measured=MEASURED, targets=["sm_100f", "sm_120f"])
