"""The plan step: what to install, from which registry, recorded how.

A :class:`Plan` is one skill about to be installed: the registry that serves it,
the variant resolution chose (or the lockfile names) and its lockfile entry.
Nothing here downloads an archive or writes a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from skillpm.errors import LockfileError
from skillpm.index.model import Variant
from skillpm.lockfile import LockedSkill, Lockfile, update_source
from skillpm.records import Record
from skillpm.requirements import Requirement, parse_requirement
from skillpm.resolve import Resolution, resolve
from skillpm.targets import Capability

if TYPE_CHECKING:
    from skillpm.installing.destinations import Place
    from skillpm.registry.source import Registry, Source


class Plan(Record):
    """One skill about to be installed: where from, which variant, and its lockfile entry."""

    registry: Registry
    variant: Variant
    entry: LockedSkill


def plan_for(
    registry: Registry,
    resolution: Resolution,
    *,
    directory: str,
    capability: str,
    requirement: str,
    agents: tuple[str, ...] = (),
    links: tuple[str, ...] = (),
) -> Plan:
    """The plan to install ``resolution`` from ``registry`` into ``directory`` (relative to the lockfile's folder).

    ``agents`` read the directory, directly or through the ``links`` to it (paths as ``directory``).
    """
    variant = resolution.variant
    origin = getattr(registry, "origin", None)  # only a source beyond a registry (skillpm.sources) has one
    entry = LockedSkill(
        name=resolution.name,
        version=resolution.version,
        target=variant.target,
        sha256=variant.sha256,
        registry=registry.label,
        path=variant.path,
        directory=directory,
        capability=capability,
        requirement=requirement,
        source=origin(resolution.name, variant.target) if origin else None,
        agents=agents,
        links=links,
    )
    return Plan(registry, variant, entry)


def plan_requirements(
    requirements: Sequence[Requirement],
    source: Source,
    capability: Capability | None,
    places: Sequence[Place],
    lockfile: Lockfile,
) -> tuple[list[Resolution], list[Plan]]:
    """Locate and resolve each requirement for ``capability``; a plan into each of ``places`` for each.

    Each plan records the registry that served the package, and the agents and
    links of its place together with those ``lockfile`` records for the same
    directory: installing for more agents adds to those that have the skill.
    Returns the resolution of each plan.
    """
    resolutions, plans = [], []
    for requirement in requirements:
        served, listing = source.locate(requirement.name)
        resolution = resolve(listing, requirement, capability)
        for place in places:
            directory = relative_to(place.folder / resolution.name, lockfile.root)
            before = next((s for s in lockfile.skills if s.directory == directory), None)
            linked = tuple(relative_to(p.folder / resolution.name, lockfile.root) for p in place.linked)
            readers = place.agents + tuple(name for p in place.linked for name in p.agents)
            resolutions.append(resolution)
            plans.append(
                plan_for(
                    served,
                    resolution,
                    directory=directory,
                    capability="none" if capability is None else str(capability),
                    requirement=str(requirement),
                    agents=_merged(before.agents if before else (), readers),
                    links=_merged(before.links if before else (), linked),
                )
            )
    return resolutions, plans


def _merged(first: Sequence[str], then: Sequence[str]) -> tuple[str, ...]:
    """Both, once each, sorted: skills.lock lists agents and links in one order whatever the command line's."""
    return tuple(sorted({*first, *then}))


def plan_updates(
    skills: Sequence[LockedSkill], registries: dict[str, Registry], capability: Capability | None
) -> tuple[list[Resolution], list[Plan]]:
    """Resolve each locked skill's requirement again, in the registry it came from (``registries`` by label).

    ``capability`` overrides the one each skill was resolved for.
    """
    resolutions, plans = [], []
    for skill in skills:
        registry = registries[update_source(skill)]
        target_capability = capability or skill.recorded_capability()
        resolution = resolve(
            registry.locate(skill.name)[1], parse_requirement(skill.requirement), target_capability
        )
        resolutions.append(resolution)
        plans.append(
            plan_for(
                registry,
                resolution,
                directory=skill.directory,
                capability=skill.capability if capability is None else str(capability),
                requirement=skill.requirement,
                agents=skill.agents,
                links=skill.links,
            )
        )
    return resolutions, plans


def locked_variant(registry: Registry, skill: LockedSkill) -> Variant:
    """The variant ``skill`` locks, as ``registry`` lists it now (reading that version alone); LockfileError
    when gone or of other bytes."""
    entry = registry.locate(skill.name)[1].read(skill.version)
    variant = next((v for v in entry.variants if v.target == skill.target), None) if entry else None
    if variant is None:
        raise LockfileError(
            f"{skill.name} {skill.version} ({skill.target}) is locked but no longer in {registry.label}",
            hint="run 'skillpm update' to resolve it again",
        )
    if variant.sha256 != skill.sha256:
        raise LockfileError(
            f"digest mismatch for {skill.name} {skill.version} ({skill.target}): locked sha256 "
            f"{skill.sha256[:16]}..., the registry now says {variant.sha256[:16]}...; nothing was installed",
            hint="published versions must not change; if you trust the new bytes, run 'skillpm update'",
        )
    return variant


def relative_to(directory: Path, root: Path) -> str:
    """``directory`` as the lockfile records it: relative to ``root`` when inside it, else absolute."""
    try:
        return directory.relative_to(root).as_posix()
    except ValueError:
        return directory.as_posix()


def open_registries(
    skills: Iterable[LockedSkill], opener: Callable[[str], Registry], key: Callable[[LockedSkill], str] = lambda s: s.registry
) -> dict[str, Registry]:
    """Each registry the entries name (by ``key``), opened once (one connection pool per server)."""
    registries: dict[str, Registry] = {}
    for skill in skills:
        if key(skill) not in registries:
            registries[key(skill)] = opener(key(skill))
    return registries
