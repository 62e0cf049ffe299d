"""Tests of skillpm.targets: parsing targets and capabilities, and which targets a GPU can use."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillpm.errors import TargetError
from skillpm.gpu_names import GENERATIONS, GPU_CAPABILITIES
from skillpm.targets import (
    FAMILY_MEMBERS,
    GENERIC_TARGET,
    KNOWN_CAPABILITIES,
    Capability,
    Target,
    capability_as_written,
    family_members,
    match_kind,
    parse_capability,
    parse_target,
    rank,
    supported_targets,
    why_unusable,
)

majors = st.integers(min_value=1, max_value=99)
minors = st.integers(min_value=0, max_value=9)
capabilities = st.sampled_from([Capability(*known) for known in KNOWN_CAPABILITIES])
# Targets near real hardware (so that they often are usable) and anywhere else.
targets = st.one_of(
    st.just(GENERIC_TARGET),
    st.builds(Target, st.integers(min_value=7, max_value=13), minors, st.sampled_from(["", "a", "f"])),
    st.builds(Target, majors, minors, st.sampled_from(["", "a", "f"])),
)


def names(capability: Capability) -> list[str]:
    return [str(target) for target in supported_targets(capability)]


# --- parse_target -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("generic", GENERIC_TARGET),
        ("sm_75", Target(7, 5, "")),
        ("sm_80", Target(8, 0, "")),
        ("sm_86", Target(8, 6, "")),
        ("sm_89", Target(8, 9, "")),
        ("sm_90", Target(9, 0, "")),
        ("sm_90a", Target(9, 0, "a")),
        ("sm_100", Target(10, 0, "")),
        ("sm_100a", Target(10, 0, "a")),
        ("sm_100f", Target(10, 0, "f")),
        ("sm_103a", Target(10, 3, "a")),
        ("sm_110f", Target(11, 0, "f")),
        ("sm_120", Target(12, 0, "")),
        ("sm_121f", Target(12, 1, "f")),
        ("sm_10", Target(1, 0, "")),
        ("sm_999", Target(99, 9, "")),
    ],
)
def test_parse_target(text: str, expected: Target) -> None:
    assert parse_target(text) == expected
    assert str(parse_target(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Generic",
        "GENERIC",
        "sm90",
        "sm_",
        "sm_9",
        "sm_09",
        "sm_090",
        "sm_1000",
        "sm_90b",
        "sm_90af",
        "SM_90",
        "compute_90",
        "sm_90 ",
        " sm_90",
        "sm_-90",
        "9.0",
        "90",
        "sm_9.0",
    ],
)
def test_parse_target_rejects(text: str) -> None:
    with pytest.raises(TargetError, match="invalid GPU target") as raised:
        parse_target(text)
    assert repr(text) in raised.value.message
    assert raised.value.hint


@given(target=targets)
def test_parse_target_round_trips(target: Target) -> None:
    assert parse_target(str(target)) == target


# --- parse_capability -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9.0", (9, 0)),
        ("8.6", (8, 6)),
        ("10.3", (10, 3)),
        ("12.1", (12, 1)),
        ("90", (9, 0)),
        ("86", (8, 6)),
        ("100", (10, 0)),
        ("121", (12, 1)),
        ("sm_90", (9, 0)),
        ("sm_90a", (9, 0)),
        ("sm_100f", (10, 0)),
        ("SM_120A", (12, 0)),
        ("  9.0  ", (9, 0)),
        ("h100", (9, 0)),
        ("H100", (9, 0)),
        ("RTX 4090", (8, 9)),
        ("rtx-5090", (12, 0)),
        ("RTX_PRO_6000", (12, 0)),
        ("GB10", (12, 1)),
        ("a100", (8, 0)),
        ("a10", (8, 6)),
        ("b300", (10, 3)),
        ("thor", (11, 0)),
        ("t4", (7, 5)),
        # what nvidia-smi prints
        ("NVIDIA H100 80GB HBM3", (9, 0)),
        ("NVIDIA RTX A6000", (8, 6)),
        ("Tesla V100-SXM2-16GB", (7, 0)),
        ("NVIDIA A100-SXM4-80GB", (8, 0)),
        ("NVIDIA GeForce RTX 3090 Ti", (8, 6)),
        ("NVIDIA RTX 6000 Ada Generation", (8, 9)),
        ("Quadro RTX 6000", (7, 5)),
        ("NVIDIA RTX PRO 6000 Blackwell Server Edition", (12, 0)),
        ("NVIDIA GeForce RTX 5090", (12, 0)),
        ("NVIDIA B200", (10, 0)),
        ("NVIDIA L40S", (8, 9)),
        # product names
        ("v100", (7, 0)),
        ("a6000", (8, 6)),
        ("l40s", (8, 9)),
        ("b100", (10, 0)),
        ("b200", (10, 0)),
        ("gb200", (10, 0)),
        ("rtx 5090", (12, 0)),
        ("rtx pro 6000", (12, 0)),
        # generations
        ("ampere", (8, 0)),
        ("Ada", (8, 9)),
        ("hopper", (9, 0)),
        ("blackwell", (10, 0)),
        # nvcc spellings
        ("sm90", (9, 0)),
        ("compute_90", (9, 0)),
        ("compute_100a", (10, 0)),
        ("9.0a", (9, 0)),
        ("sm_103a", (10, 3)),
    ],
)
def test_parse_capability(text: str, expected: tuple[int, int]) -> None:
    assert parse_capability(text) == Capability(*expected)


@pytest.mark.parametrize(
    ("text", "nearest"), [("9.1", "9.0 or 10.0"), ("99.9", "12.1"), ("sm_91", "9.0 or 10.0"), ("1.0", "5.0"), ("13.0", "12.1")]
)
def test_a_capability_no_gpu_has_is_refused_with_the_nearest_known(text: str, nearest: str) -> None:
    with pytest.raises(TargetError, match="no GPU has compute capability") as raised:
        parse_capability(text)
    assert raised.value.message.endswith(f"the nearest known: {nearest}")


@pytest.mark.parametrize(("name", "capability"), sorted(GENERATIONS.items()))
def test_every_generation_parses(name: str, capability: tuple[int, int]) -> None:
    assert parse_capability(name) == Capability(*capability)


@pytest.mark.parametrize(
    "text", ["", "9", "9.", ".9", "9.10", "0.9", "09.0", "9,0", "1000", "sm_9", "generic", "h1000", "gpu", "v100x"]
)
def test_parse_capability_rejects(text: str) -> None:
    with pytest.raises(TargetError, match="compute capability") as raised:
        parse_capability(text)
    assert repr(text) in raised.value.message
    assert "--arch" in (raised.value.hint or "")


@pytest.mark.parametrize(("name", "capability"), sorted(GPU_CAPABILITIES.items()))
def test_every_gpu_name_parses(name: str, capability: tuple[int, int]) -> None:
    assert parse_capability(name) == Capability(*capability)
    assert parse_capability(name.upper()) == Capability(*capability)


@given(capability=capabilities)
def test_parse_capability_round_trips(capability: Capability) -> None:
    major, minor = capability
    for text in (str(capability), f"{major}{minor}", f"sm_{major}{minor}", f"sm_{major}{minor}a"):
        assert parse_capability(text) == capability, text


# --- family_members ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "members"),
    [
        ("sm_100f", ["10.0", "10.3"]),
        ("sm_101f", ["10.1"]),
        ("sm_103f", ["10.3"]),
        ("sm_110f", ["11.0"]),
        ("sm_120f", ["12.0", "12.1"]),
        ("sm_121f", ["12.1"]),
        # Not listed by NVIDIA: only its own capability.
        ("sm_102f", ["10.2"]),
        ("sm_130f", ["13.0"]),
        # Before Blackwell there are no families.
        ("sm_90f", []),
        ("sm_86f", []),
        ("sm_80f", []),
    ],
)
def test_family_members(target: str, members: list[str]) -> None:
    assert [str(cap) for cap in family_members(parse_target(target))] == members


# --- why_unusable -----------------------------------------------------------------------------

USABLE = [
    # generic runs anywhere
    ("generic", "7.5"),
    ("generic", "12.1"),
    # baseline: same major, lower or equal minor
    ("sm_80", "8.0"),
    ("sm_80", "8.6"),
    ("sm_80", "8.9"),
    ("sm_86", "8.9"),
    ("sm_90", "9.0"),
    ("sm_100", "10.3"),
    ("sm_120", "12.1"),
    # arch-specific: exactly that capability
    ("sm_90a", "9.0"),
    ("sm_100a", "10.0"),
    ("sm_103a", "10.3"),
    ("sm_120a", "12.0"),
    ("sm_121a", "12.1"),
    # family-specific: NVIDIA's table
    ("sm_100f", "10.0"),
    ("sm_100f", "10.3"),
    ("sm_103f", "10.3"),
    ("sm_101f", "10.1"),
    ("sm_110f", "11.0"),
    ("sm_120f", "12.0"),
    ("sm_120f", "12.1"),
    ("sm_121f", "12.1"),
]

UNUSABLE = [
    # a higher minor
    ("sm_86", "8.0", "needs capability 8.6"),
    ("sm_89", "8.6", "needs capability 8.9"),
    ("sm_103", "10.0", "needs capability 10.3"),
    ("sm_121", "12.0", "needs capability 12.1"),
    # another major, either way
    ("sm_80", "9.0", "never carries across majors"),
    ("sm_90", "10.0", "never carries across majors"),
    ("sm_100", "12.0", "never carries across majors"),
    ("sm_100", "11.0", "never carries across majors"),
    ("sm_120", "10.0", "never carries across majors"),
    ("sm_90", "8.9", "never carries across majors"),
    # an `a` target on any other capability
    ("sm_90a", "10.0", "runs only on capability 9.0"),
    ("sm_100a", "10.3", "runs only on capability 10.0"),
    ("sm_100a", "12.0", "runs only on capability 10.0"),
    ("sm_103a", "10.0", "runs only on capability 10.3"),
    ("sm_120a", "12.1", "runs only on capability 12.0"),
    ("sm_80a", "8.6", "runs only on capability 8.0"),
    # a family that does not cover the GPU
    ("sm_100f", "12.0", "runs only on its family (10.0, 10.3)"),
    ("sm_100f", "12.1", "runs only on its family"),
    ("sm_100f", "10.1", "runs only on its family"),
    ("sm_100f", "11.0", "runs only on its family"),
    ("sm_103f", "10.0", "runs only on its family (10.3)"),
    ("sm_101f", "10.3", "runs only on its family (10.1)"),
    ("sm_120f", "10.0", "runs only on its family (12.0, 12.1)"),
    ("sm_121f", "12.0", "runs only on its family (12.1)"),
    ("sm_110f", "10.0", "runs only on its family (11.0)"),
    ("sm_102f", "10.3", "runs only on its family (10.2)"),
    # no family before Blackwell
    ("sm_90f", "9.0", "names no GPU family"),
    ("sm_86f", "8.6", "names no GPU family"),
]


@pytest.mark.parametrize(("target", "capability"), USABLE)
def test_usable(target: str, capability: str) -> None:
    assert why_unusable(parse_target(target), parse_capability(capability)) is None


@pytest.mark.parametrize(("target", "capability", "reason"), UNUSABLE)
def test_unusable(target: str, capability: str, reason: str) -> None:
    why = why_unusable(parse_target(target), parse_capability(capability))
    assert why is not None and reason in why
    assert why.startswith(target)


# --- supported_targets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("capability", "expected"),
    [
        ("7.5", ["sm_75a", "sm_75", "sm_74", "sm_73", "sm_72", "sm_71", "sm_70", "generic"]),
        ("8.0", ["sm_80a", "sm_80", "generic"]),
        ("8.6", ["sm_86a", "sm_86", "sm_85", "sm_84", "sm_83", "sm_82", "sm_81", "sm_80", "generic"]),
        ("9.0", ["sm_90a", "sm_90", "generic"]),
        ("10.0", ["sm_100a", "sm_100", "sm_100f", "generic"]),
        ("10.1", ["sm_101a", "sm_101", "sm_101f", "sm_100", "generic"]),
        ("10.3", ["sm_103a", "sm_103", "sm_103f", "sm_100f", "sm_102", "sm_101", "sm_100", "generic"]),
        ("11.0", ["sm_110a", "sm_110", "sm_110f", "generic"]),
        ("12.0", ["sm_120a", "sm_120", "sm_120f", "generic"]),
        ("12.1", ["sm_121a", "sm_121", "sm_121f", "sm_120f", "sm_120", "generic"]),
        ("13.0", ["sm_130a", "sm_130", "sm_130f", "generic"]),
    ],
)
def test_supported_targets(capability: str, expected: list[str]) -> None:
    """Also for a capability no GPU has yet (13.0): a detected GPU newer than this skillpm still resolves."""
    assert names(Capability(*map(int, capability.split(".")))) == expected


@pytest.mark.parametrize(
    ("capability", "better", "worse"),
    [
        ("9.0", "sm_90a", "sm_90"),
        ("9.0", "sm_90", "generic"),
        ("8.6", "sm_80", "generic"),
        ("8.9", "sm_86", "sm_80"),
        ("8.9", "sm_80", "generic"),
        ("10.0", "sm_100a", "sm_100"),
        ("10.0", "sm_100", "sm_100f"),
        ("10.3", "sm_103a", "sm_103"),
        ("10.3", "sm_103", "sm_103f"),
        ("10.3", "sm_103f", "sm_100f"),
        ("10.3", "sm_100f", "sm_100"),
        ("10.3", "sm_100", "generic"),
        ("12.1", "sm_121f", "sm_120f"),
        ("12.1", "sm_120f", "sm_120"),
    ],
)
def test_rank_order(capability: str, better: str, worse: str) -> None:
    ranking = rank(parse_capability(capability))
    assert ranking[parse_target(better)] < ranking[parse_target(worse)]


@pytest.mark.parametrize(
    ("capability", "absent"),
    [
        ("12.0", ["sm_100", "sm_100a", "sm_100f", "sm_103f", "sm_90", "sm_90a", "sm_121", "sm_121f"]),
        ("12.1", ["sm_100f", "sm_120a", "sm_100"]),
        ("10.0", ["sm_90a", "sm_90", "sm_103", "sm_103f", "sm_120f"]),
        ("10.3", ["sm_100a", "sm_120f", "sm_90a"]),
        ("9.0", ["sm_90f", "sm_80", "sm_89", "sm_100"]),
        ("8.6", ["sm_86f", "sm_80a", "sm_89", "sm_90"]),
    ],
)
def test_never_supported(capability: str, absent: list[str]) -> None:
    supported = names(parse_capability(capability))
    assert not set(absent) & set(supported)


@given(capability=capabilities, target=targets)
def test_usable_iff_supported(capability: Capability, target: Target) -> None:
    assert (why_unusable(target, capability) is None) == (target in set(supported_targets(capability)))


@given(capability=capabilities)
def test_supported_targets_invariants(capability: Capability) -> None:
    supported = list(supported_targets(capability))
    assert len(supported) == len(set(supported)), "no duplicates"
    assert supported[0] == Target(capability.major, capability.minor, "a"), "exact `a` first"
    assert supported[-1] == GENERIC_TARGET, "generic always last"
    assert supported.count(GENERIC_TARGET) == 1
    for target in supported[:-1]:
        assert target.major == capability.major, "never another major"
        assert target.minor <= capability.minor, "never a higher minor"
        if target.suffix == "a":
            assert target.capability == capability, "no `a` target other than the exact one"
        if target.suffix == "f":
            assert capability in family_members(target)
    assert rank(capability) == {target: index for index, target in enumerate(supported)}


@given(capability=capabilities)
def test_kinds_come_in_order(capability: Capability) -> None:
    """exact `a`, exact baseline, families, lower baselines (nearest first), generic."""

    def kind(target: Target) -> int:
        if target.is_generic:
            return 4
        if target.capability == capability and target.suffix != "f":
            return 0 if target.suffix == "a" else 1
        return 2 if target.suffix == "f" else 3

    supported = list(supported_targets(capability))
    assert [kind(t) for t in supported] == sorted(kind(t) for t in supported)
    lower = [t.minor for t in supported if kind(t) == 3]
    assert lower == sorted(lower, reverse=True)


def test_family_table_members_share_the_major_and_include_their_own_capability() -> None:
    for (major, minor), members in FAMILY_MEMBERS.items():
        assert (major, minor) in members
        assert all(member[0] == major and member[1] >= minor for member in members)


# --- match_kind and value types ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "capability", "phrase"),
    [
        ("generic", "9.0", "generic"),
        ("generic", None, "generic"),
        ("sm_90a", "9.0", "arch-specific target for exactly 9.0"),
        ("sm_100f", "10.3", "family-specific target covering 10.3"),
        ("sm_90", "9.0", "exact target for 9.0"),
        ("sm_80", "8.6", "same major, lower minor (8.0 code runs on 8.6)"),
    ],
)
def test_match_kind(target: str, capability: str | None, phrase: str) -> None:
    cap = None if capability is None else parse_capability(capability)
    assert phrase in match_kind(parse_target(target), cap)


def test_value_types() -> None:
    assert str(Capability(12, 1)) == "12.1"
    assert Target(9, 0, "a").capability == Capability(9, 0)
    assert GENERIC_TARGET.is_generic and not Target(9, 0, "").is_generic
    assert str(GENERIC_TARGET) == "generic"
    assert len({Target(9, 0, "a"), parse_target("sm_90a")}) == 1


@given(st.one_of(st.text(st.sampled_from("0123456789.٩ a"), max_size=6), capabilities.map(str)))
def test_a_recorded_capability_is_one_parse_capability_reads_and_spells_the_same(text: str) -> None:
    """skills.lock's capability: ``X.Y`` of a GPU that exists, as ``str(Capability)`` writes it, and
    nothing else parse_capability reads (names, ``sm_90``, ``9.0a``) nor another spelling of one."""
    try:
        spelled = str(parse_capability(text)) == text
    except TargetError:
        spelled = False
    found = capability_as_written(text)
    assert (found is not None) == spelled, text
    assert found is None or (str(found) == text and found in KNOWN_CAPABILITIES)


@pytest.mark.parametrize("text", ["h100", "sm_90", "9.0a", "90", " 9.0", "9.1", "09.0", "٩.٠"])
def test_a_recorded_capability_is_never_a_name_or_another_spelling(text: str) -> None:
    assert capability_as_written(text) is None
