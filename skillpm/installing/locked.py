"""Where ``sync`` takes each locked skill from: any source of exactly the bytes its entry pins.

A skills.lock entry pins its archive by sha256, and every archive is checked
against that digest before it is used (:func:`~skillpm.installing.fetch.fetch_artifact`,
:meth:`~skillpm.cache.ArtifactCache.get`), so any source of those exact bytes is
safe: the registry the entry names, a mirror, another registry, or the artifact
cache. This is not the name lookup that dependency confusion abuses (taking a
package of the same *name* from a lower-priority registry): a source that lists
other bytes for the entry is never used.

The sources, asked in turn until one answers (:class:`~skillpm.errors.RegistryUnreachable`
means it did not):

- a skill from a source (folder, git, archive URL; its entry has a ``source``): that
  source alone;
- with a mirror (``sync --registry``, ``$SKILLPM_REGISTRY``): that registry alone;
- else the registry the entry names, then every other registry the lockfile names,
  then the configured ones; another registry that lacks the variant, or cannot serve
  it, is passed over, but the entry's own registry saying it is gone or changed stops
  the sync;
- last, the artifact cache: the archive is installed by its digest alone, and its
  attestations, which only a registry's document lists, are not checked (said once).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable, Sequence

from skillpm.errors import LockfileError, RegistryUnreachable, ResolutionError, SkillpmError
from skillpm.index.model import Variant
from skillpm.installing.plan import Plan, locked_variant
from skillpm.lockfile import LockedSkill, Lockfile
from skillpm.records import Record
from skillpm.registry.settings import offline, settings

if TYPE_CHECKING:
    from skillpm.cache import ArtifactCache
    from skillpm.registry.source import Registry


class Registries:
    """Registries by label, each opened once from any thread; one that did not answer is not asked again."""

    def __init__(self, opener: Callable[[str], Registry]) -> None:
        self._opener = opener
        self._opened: dict[str, Registry | RegistryUnreachable] = {}
        self._lock = threading.Lock()

    def get(self, label: str) -> Registry:
        """The registry ``label`` names; RegistryUnreachable when it cannot be opened (a folder not there)."""
        with self._lock:
            if label not in self._opened:
                try:
                    self._opened[label] = self._opener(label)
                except RegistryUnreachable as error:
                    self._opened[label] = error
            opened = self._opened[label]
        if isinstance(opened, RegistryUnreachable):
            raise opened
        return opened

    def down(self, label: str, error: RegistryUnreachable) -> None:
        """Remember that ``label`` did not answer, so no other skill waits for it again (online only:
        offline, only the one document or archive is missing from the cache)."""
        if not offline():
            with self._lock:
                self._opened[label] = error


class FromCache(Record):
    """Stands for the registry of an entry taken from the artifact cache alone (it never downloads)."""

    label: str  # the entry's registry, as skills.lock names it
    reason: str  # why no registry was asked or answered

    def artifact(self, relative: str, *, limit: int = 0) -> bytes:
        raise RegistryUnreachable(f"{self.label}: {relative} is not in the artifact cache ({self.reason})")


def fallback_labels(lockfile: Lockfile) -> list[str]:
    """The registries to ask when an entry's own does not answer: the lockfile's, then the configured ones."""
    from skillpm.registry.config import load_registries
    from skillpm.registry.urls import comparable

    return list(dict.fromkeys([*(comparable(skill.registry) for skill in lockfile.skills if skill.source is None),
                               *(comparable(remote.url) for remote in load_registries())]))


def source_labels(skill: LockedSkill, *, mirror: str | None, others: Sequence[str]) -> list[str]:
    """The registries to ask for ``skill``, in turn: the mirror alone, else its own then ``others``.

    A skill from a source beyond a registry (a folder, git, an archive URL) has only
    its own pinned source: no registry serves it.
    """
    if skill.source is not None:
        return [skill.registry]
    if mirror is not None:
        return [mirror]
    return [skill.registry, *(label for label in others if label != skill.registry)]


def locked_plan(
    skill: LockedSkill, labels: Sequence[str], registries: Registries, cache: ArtifactCache
) -> Plan:
    """The plan to install ``skill`` from the first of ``labels`` that answers, else from the cache.

    The first label is the entry's own registry (or the mirror): when it answers
    that the variant is gone or has another digest, or fails otherwise, that error
    stands. Later ones that lack the variant are passed over, and those that fail
    otherwise with a warning; taking a later one says so (``settings.warn``). When
    none answers and the cache holds no such bytes, the first one's failure is raised.
    """
    first: RegistryUnreachable | None = None
    for position, label in enumerate(labels):
        try:
            registry = registries.get(label)
            plan = Plan(registry, locked_variant(registry, skill), skill)
        except RegistryUnreachable as error:
            registries.down(label, error)
            first = first or error
        except (LockfileError, ResolutionError):  # gone, other bytes, or no such package
            if position == 0:
                raise
        except SkillpmError as error:  # a registry asked in turn that cannot serve (401, a bad document)
            if position == 0:
                raise
            settings.warn(f"passing over registry {label} for {skill.name}: {error.message}")
        else:
            if first is not None:
                settings.warn(f"{skill.name} {skill.version} ({skill.target}): {labels[0]} did not answer; "
                              f"taking the locked sha256 from {label} ({first.message})")
            return plan
    first = first or RegistryUnreachable(f"no registry to ask for {skill.name}")
    from skillpm.archive import MAX_ARCHIVE_SIZE

    cached = cache.get(skill.sha256, limit=MAX_ARCHIVE_SIZE)
    if cached is None:
        raise RegistryUnreachable(
            f"{first.message}; {skill.name} {skill.version} ({skill.target}) is not in the artifact cache either",
            hint=first.hint,
        )
    variant = Variant(target=skill.target, sha256=skill.sha256, size=len(cached), path=skill.path)
    return Plan(FromCache(skill.registry, first.message), variant, skill)  # type: ignore[arg-type]  # never downloads


def is_from_cache(plan: Plan) -> bool:
    """Whether :func:`locked_plan` took ``plan`` from the artifact cache alone."""
    return isinstance(plan.registry, FromCache)


def cache_only_warning(plans: Sequence[Plan]) -> str | None:
    """The one warning for those of ``plans`` taken from the cache alone, or None."""
    taken = [(plan.entry, plan.registry) for plan in plans if isinstance(plan.registry, FromCache)]
    if not taken:
        return None
    names = ", ".join(f"{entry.name} {entry.version} ({entry.target})" for entry, _ in taken)
    return (
        f"warning: {names}: installed from the artifact cache by the locked sha256, because no registry "
        f"answered (first: {taken[0][1].reason}); attestations were not checked"
    )
