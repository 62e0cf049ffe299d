"""GPU targets, compute capabilities, and which targets a GPU can use.

Pure logic, no I/O. A *target* names what a skill variant was written for
(``generic``, ``sm_80``, ``sm_90a``, ``sm_100f``...); a *capability* is what a
GPU is (``9.0``). :func:`supported_targets` plays the part that
``packaging.tags.sys_tags`` plays for wheels: it ranks the targets a GPU can
use, best first.

Rules (NVIDIA CUDA C++ Programming Guide, "Compute Capabilities"; nvcc manual,
"GPU Compilation"; CUDA 12.9 family-specific features):

* ``sm_XY`` code runs on GPUs of major ``X`` with minor ``>= Y``, never across
  majors;
* ``sm_XYa`` (arch-specific) runs on capability ``X.Y`` only;
* ``sm_XYf`` (family-specific) runs on the members of its family.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from skillpm.errors import TargetError
from skillpm.records import Record
from skillpm.spelling import target_parts

GENERIC = "generic"

#: Every compute capability a GPU has, in order (sources: :mod:`skillpm.gpu_names`).
KNOWN_CAPABILITIES: tuple[tuple[int, int], ...] = (
    (5, 0), (5, 2), (5, 3), (6, 0), (6, 1), (6, 2), (7, 0), (7, 2), (7, 5),
    (8, 0), (8, 6), (8, 7), (8, 8), (8, 9), (9, 0),
    (10, 0), (10, 1), (10, 3), (11, 0), (12, 0), (12, 1),
)  # fmt: skip

#: Family-specific targets and the capabilities they run on (CUDA 12.9+, CUDA 13).
#: ``sm_101f`` is Jetson Thor's family under CUDA 12.9 (Thor is 11.0 from CUDA 13 on).
FAMILY_MEMBERS: dict[tuple[int, int], tuple[tuple[int, int], ...]] = {
    (10, 0): ((10, 0), (10, 3)),
    (10, 1): ((10, 1),),
    (10, 3): ((10, 3),),
    (11, 0): ((11, 0),),
    (12, 0): ((12, 0), (12, 1)),
    (12, 1): ((12, 1),),
}

#: Family-specific targets begin with Blackwell (10.x): there is no ``sm_90f`` or ``sm_86f``.
FIRST_FAMILY_MAJOR = 10

class Capability(Record):
    """A GPU's compute capability, such as 9.0."""

    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


class Target(Record):
    """A variant's GPU target: ``generic`` or ``sm_<major><minor>[a|f]``."""

    major: int  # 0 for generic
    minor: int
    suffix: str  # "", "a" (arch-specific) or "f" (family-specific)

    @property
    def is_generic(self) -> bool:
        return self.major == 0

    @property
    def capability(self) -> Capability:
        return Capability(self.major, self.minor)

    def __str__(self) -> str:
        if self.is_generic:
            return GENERIC
        return f"sm_{self.major}{self.minor}{self.suffix}"


GENERIC_TARGET = Target(0, 0, "")


def parse_target(text: str) -> Target:
    """Parse a variant key such as ``generic``, ``sm_86`` or ``sm_100a``."""
    if text == GENERIC:
        return GENERIC_TARGET
    parts = target_parts(text)
    if parts is None:
        raise TargetError(
            f"invalid GPU target {text!r}",
            hint="use 'generic' or sm_<major><minor> with an optional a or f suffix, e.g. sm_90a",
        )
    return Target(*parts)


def capability_as_written(text: str) -> Capability | None:
    """A capability as skillpm records it (``9.0``, ``str(Capability)``) of a GPU that exists; ``None``
    for any other text. Reading files skillpm wrote needs no GPU names (:func:`parse_capability`)."""
    major, dot, minor = text.partition(".")
    if not (dot and major.isdecimal() and minor.isdecimal() and major.isascii() and minor.isascii()):
        return None
    capability = Capability(int(major), int(minor))
    return capability if capability in KNOWN_CAPABILITIES and str(capability) == text else None


def parse_capability(text: str) -> Capability:
    """Parse what a user gives ``--arch`` (:mod:`skillpm.gpu_names`): ``9.0``, ``sm_90a``, ``compute_90``,
    ``h100``, ``NVIDIA H100 80GB HBM3``, ``hopper``...

    A capability no GPU has (``9.1``) is refused with the nearest known ones.
    """
    from skillpm.gpu_names import UnknownCapability, capability_from_text

    try:
        found = capability_from_text(text)
    except UnknownCapability as unknown:
        nearest = " or ".join(f"{major}.{minor}" for major, minor in unknown.nearest)
        shown = f"{unknown.capability[0]}.{unknown.capability[1]}"
        raise TargetError(
            f"no GPU has compute capability {shown}; the nearest known: {nearest}",
            hint="give --arch as one of those, or a GPU name such as h100",
        ) from None
    if found is None:
        raise TargetError(
            f"cannot read {text[:80]!r} as a GPU compute capability",
            hint="give --arch as 9.0, 90, sm_90, sm_90a, compute_90, a GPU name (h100, rtx 5090, "
            "'NVIDIA H100 80GB HBM3') or a generation (ampere, ada, hopper, blackwell)",
        )
    return Capability(*found)


def family_members(target: Target) -> tuple[Capability, ...]:
    """The capabilities a family-specific target runs on.

    Known families come from NVIDIA's table. A family NVIDIA has not listed
    is taken to cover only its own capability (the one member every family
    has), and targets before Blackwell (``sm_90f``, ``sm_86f``) name no
    family at all: an empty tuple.
    """
    key = (target.major, target.minor)
    if key in FAMILY_MEMBERS:
        return tuple(Capability(*cap) for cap in FAMILY_MEMBERS[key])
    if target.major < FIRST_FAMILY_MAJOR:
        return ()
    return (target.capability,)


def why_unusable(target: Target, capability: Capability) -> str | None:
    """Why ``target`` cannot run on ``capability``, or ``None`` when it can."""
    if target.is_generic:
        return None
    if target.suffix == "a":
        if target.capability != capability:
            return f"{target} runs only on capability {target.capability}"
        return None
    if target.suffix == "f":
        members = family_members(target)
        if not members:
            return f"{target} names no GPU family (family-specific targets begin with 10.x)"
        if capability not in members:
            listed = ", ".join(str(cap) for cap in members)
            return f"{target} runs only on its family ({listed})"
        return None
    if target.major != capability.major:
        return f"{target} is for major {target.major}; code never carries across majors"
    if target.minor > capability.minor:
        return f"{target} needs capability {target.capability} or a newer {target.major}.x"
    return None


def supported_targets(capability: Capability) -> Iterator[Target]:
    """Every target a GPU of ``capability`` can use, best first.

    The order: the exact arch-specific target, the exact baseline target,
    family-specific targets that cover this GPU (nearest first), baseline
    targets of the same major with a lower minor (nearest first), ``generic``.
    """
    major, minor = capability
    yield Target(major, minor, "a")
    yield Target(major, minor, "")
    for family_minor in range(minor, -1, -1):
        family = Target(major, family_minor, "f")
        if capability in family_members(family):
            yield family
    for lower in range(minor - 1, -1, -1):
        yield Target(major, lower, "")
    yield GENERIC_TARGET


def rank(capability: Capability) -> dict[Target, int]:
    """Map each target usable on ``capability`` to its preference (0 is best)."""
    return {target: index for index, target in enumerate(supported_targets(capability))}


def ranking_for(capability: Capability | None) -> dict[Target, int]:
    """:func:`rank` of ``capability``; without one (no GPU known), only ``generic``."""
    return rank(capability) if capability is not None else {GENERIC_TARGET: 0}


def match_kind(target: Target, capability: Capability | None) -> str:
    """Say how a usable ``target`` fits ``capability``, for ``--explain``."""
    if target.is_generic or capability is None:
        return "generic, runs anywhere"
    if target.suffix == "a":
        return f"arch-specific target for exactly {capability}"
    if target.suffix == "f":
        return f"family-specific target covering {capability}"
    if target.capability == capability:
        return f"exact target for {capability}"
    return f"same major, lower minor ({target.capability} code runs on {capability})"


def best_target(targets: Iterable[str], capability: Capability | None) -> str | None:
    """The target among ``targets`` that ``install`` would choose for ``capability``.

    ``None`` when none is usable; without a capability only ``generic`` is.
    Target names that do not parse are passed over.
    """
    ranking = ranking_for(capability)
    usable = []
    for name in targets:
        try:
            parsed = parse_target(name)
        except TargetError:
            continue
        if parsed in ranking:
            usable.append((ranking[parsed], name))
    return min(usable)[1] if usable else None
