"""Choosing a source's variant for eval and bench: the one install would choose."""

from __future__ import annotations

import pytest

from skillpm.errors import ManifestError
from skillpm.manifest import choose_variant
from skillpm.targets import Capability

KERNEL_TARGETS = ["generic", "sm_80", "sm_90a", "sm_100a"]


@pytest.mark.parametrize(
    ("targets", "capability", "target", "chosen"),
    [
        (KERNEL_TARGETS, Capability(9, 0), None, "sm_90a"),
        (KERNEL_TARGETS, Capability(8, 0), None, "sm_80"),
        (KERNEL_TARGETS, Capability(8, 6), None, "sm_80"),
        (KERNEL_TARGETS, Capability(8, 9), None, "sm_80"),
        (KERNEL_TARGETS, Capability(10, 0), None, "sm_100a"),
        (KERNEL_TARGETS, Capability(10, 3), None, "generic"),
        (KERNEL_TARGETS, Capability(12, 0), None, "generic"),
        (KERNEL_TARGETS, Capability(7, 5), None, "generic"),
        (KERNEL_TARGETS, None, None, "generic"),
        (KERNEL_TARGETS, None, "sm_80", "sm_80"),
        (KERNEL_TARGETS, Capability(9, 0), "sm_80", "sm_80"),
        (["sm_90", "sm_90a"], Capability(9, 0), None, "sm_90a"),
        (["sm_90", "sm_bogus", "generic"], Capability(9, 0), None, "sm_90"),
    ],
)
def test_the_variant_is_the_one_install_would_choose(targets, capability, target, chosen) -> None:
    assert choose_variant(targets, capability, target=target) == chosen


@pytest.mark.parametrize(
    ("targets", "capability", "target", "message"),
    [
        (["sm_80"], None, None, "no variant of the skill suits a machine with no GPU"),
        (["sm_80"], Capability(9, 0), None, "no variant of the skill suits compute capability 9.0"),
        (["sm_90a"], Capability(8, 0), None, r"variants: sm_90a"),
        (["generic"], None, "sm_90a", "no variant 'sm_90a'"),
    ],
)
def test_no_suitable_variant_is_an_error(targets, capability, target, message) -> None:
    with pytest.raises(ManifestError, match=message):
        choose_variant(targets, capability, target=target)
