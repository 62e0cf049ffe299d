"""Install, sync and update skills: the pipeline plan -> fetch and verify -> place -> record -> link.

Every operation on one lockfile runs under the locks of the lockfile's folder and
of every skills folder it writes or cleans up (:mod:`~skillpm.installing.guard`).
An install fetches and checks every archive (digest, contents, attestations)
before it changes anything, builds each new tree beside the old one, records it in the lockfile,
and swaps it in with renames: a failure at any step leaves the previous skill
directories and lockfile as they were.

A process killed at any point (docs/security.md, "Crash and concurrency safety")
leaves each directory complete, old or new, and the lockfile old or new; the
next locked operation first cleans up what it left
(:func:`~skillpm.installing.destinations.recover`), and ``sync`` installs
whatever tree the lockfile names that its directory does not hold.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from skillpm.cache import ArtifactCache
from skillpm.installing.destinations import (
    Destination,
    check_inside,
    check_replaceable,
    destination_folders,
    recover,
    tree_matches,
)
from skillpm.installing.fetch import check_attestations, fetch_checked, in_parallel
from skillpm.installing.guard import lock_run
from skillpm.installing.link import check_links, make_links
from skillpm.installing.place import InstallResult, place
from skillpm.installing.plan import Plan, open_registries, plan_requirements
from skillpm.lockfile import LockedSkill, Lockfile, update_source
from skillpm.locks import FolderLocks
from skillpm.registry.factory import open_locked_registry
from skillpm.registry.settings import settings
from skillpm.requirements import Requirement
from skillpm.resolve import Resolution
from skillpm.targets import Capability

if TYPE_CHECKING:
    from skillpm.attest.variants import InstallOptions
    from skillpm.registry.source import Registry, Source


def install(
    requirement: Requirement,
    *,
    registry: Source,
    capability: Capability | None,
    dest: Destination,
    cache: ArtifactCache,
    force: bool = False,
    allow_outside: bool = False,
    attestations: InstallOptions | None = None,
) -> tuple[Resolution, InstallResult]:
    """:func:`install_many` of one requirement."""
    [installed] = install_many(
        [requirement], registry=registry, capability=capability, dest=dest, cache=cache, force=force,
        allow_outside=allow_outside, attestations=attestations,
    )
    return installed


def install_many(
    requirements: Sequence[Requirement],
    *,
    registry: Source,
    capability: Capability | None,
    dest: Destination,
    cache: ArtifactCache,
    jobs: int = 8,
    force: bool = False,
    allow_outside: bool = False,
    attestations: InstallOptions | None = None,
) -> list[tuple[Resolution, InstallResult]]:
    """Resolve each of ``requirements`` for ``capability``, install them into ``dest`` and lock them.

    All or nothing, as :func:`update`: under one lock every requirement is
    located and resolved, then every archive fetched (up to ``jobs`` at a time)
    and checked, then every attestation; only when all passed are the skills
    installed, in the order given, so an unknown name, a digest or a policy
    failure changes no skill directory and not the lockfile.

    ``registry`` may be one registry or the configured chain; the lockfile records
    the one that served each package. ``force`` replaces a directory that does not
    look like a skill skillpm installed (:func:`check_replaceable`). As in
    :func:`sync`, a directory outside the lockfile's folder after links (a skills
    folder that is a link out of the project) is refused unless ``allow_outside``.

    ``attestations``: the install policy beyond the policy files (default: none);
    see :func:`check_attestations`.
    """
    def prepare(lockfile: Lockfile) -> tuple[tuple[list[Resolution], list[Plan]], list[LockedSkill]]:
        resolutions, plans = plan_requirements(requirements, registry, capability, dest.places, lockfile)
        entries = [plan.entry for plan in plans]
        _check(lockfile, entries, allow_outside=allow_outside)
        return (resolutions, plans), entries

    with FolderLocks() as locks:
        lockfile, (resolutions, plans), folders = lock_run(
            locks, dest.lockfile, prepare, writes=destination_folders(dest), allow_outside=allow_outside
        )
        recover(lockfile, folders)
        results = _install_all(lockfile, plans, cache=cache, jobs=jobs, force=force, attestations=attestations)
    return _paired(resolutions, results)


def _paired(resolutions: Sequence[Resolution], results: Sequence[InstallResult]) -> list[tuple[Resolution, InstallResult]]:
    """Each result with the resolution of its skill (a copy made where a link failed is one more result)."""
    by_name = {resolution.name: resolution for resolution in resolutions}
    return [(by_name[result.name], result) for result in results]


def _check(lockfile: Lockfile, skills: Sequence[LockedSkill], *, allow_outside: bool) -> None:
    """Refuse what skillpm must not write for ``skills`` (folders, links): before their locks make any folder."""
    check_inside(lockfile, skills, allow_outside=allow_outside)
    check_links(lockfile, skills, allow_outside=allow_outside)


def _install_all(
    lockfile: Lockfile,
    plans: Sequence[Plan],
    *,
    cache: ArtifactCache,
    jobs: int,
    force: bool,
    attestations: InstallOptions | None,
    unread: Callable[[Plan], bool] | None = None,
) -> list[InstallResult]:
    """Check all ``plans``, then install each in order; the caller holds the lock.

    First every check before anything is written: fetches every archive and runs
    on it every check extraction runs (``jobs`` at a time), then checks each
    directory it would replace (:func:`check_replaceable`), then every variant's
    attestations: one failure and nothing is installed. Then each skill is
    installed (:func:`place`) and recorded beside those installed before it, and
    linked from its agents' folders (:func:`make_links`: a copy where links fail,
    whose result follows the others). The plans ``unread`` picks, whose
    attestations no registry could list, are left out of the warning about skills
    without attestations: the caller says why.
    """
    fetched = in_parallel(lambda plan: fetch_checked(plan, cache), plans, jobs=jobs)
    for plan, metadata in zip(plans, fetched):
        check_replaceable(lockfile, plan.entry, metadata.files, force=force)
    directories = [lockfile.directory(plan.entry) for plan in plans]
    overlapping = _overlapping(directories)
    # Whether each directory already holds its plan's tree. Placing another plan may change a
    # directory it shares or nests with (a hand-made skills.lock): place() looks again at those.
    in_place = [None if directory in overlapping else tree_matches(directory, metadata.files)
                for directory, metadata in zip(directories, fetched)]
    # Installed already: the tree in place and skills.lock pinning the same archive. Another archive
    # whose files equal the installed ones (a new version) is checked like any other.
    attested = [
        check_attestations(plan, cache, lockfile.root, attestations, writes=not (held and lockfile.pins(plan.entry)))
        for plan, held in zip(plans, in_place)
    ]
    results = []
    for plan, held in zip(plans, in_place):
        results.append(place(lockfile, plan, cache, in_place=held))
        lockfile = lockfile.with_skill(plan.entry)
    lockfile, copies, linked = make_links(lockfile, plans, cache=cache,
                                          warn=lambda line: _warning(attestations, line))
    agents_of = {lockfile.directory(skill): skill.agents for skill in lockfile.skills}
    results = [_reaching(result, agents_of[result.directory], linked.get(result.directory, set()))
               for result in results]
    unverified = [
        f"{result.name} {result.version} ({result.target})"
        for plan, result, verified in zip(plans, results, attested)
        if result.changed and not verified and not (unread and unread(plan))
    ]
    if unverified:  # once per command, and only for what it installed
        from skillpm.attest.variants import unattested_warning

        _warning(attestations, unattested_warning(unverified))
    return results + copies


def _reaching(result: InstallResult, agents: tuple[str, ...], linked: set[str]) -> InstallResult:
    """``result`` with the ``agents`` its entry lists once linked (a copy made where a link failed took those
    reading that folder); added are those new to the entry and those whose link was made (``linked``)."""
    added = tuple(name for name in agents if name in result.agents_added or name in linked)
    return result._replace(agents=agents, agents_added=added)


def _overlapping(directories: Sequence[Path]) -> set[Path]:
    """The directories that equal, hold or lie inside another of ``directories`` (as written)."""
    counts = Counter(directories)
    found = {directory for directory, count in counts.items() if count > 1}
    top: Path | None = None
    for directory in sorted(counts, key=lambda path: path.parts):  # a folder's descendants follow it
        if top is not None and directory.parts[: len(top.parts)] == top.parts:
            found |= {top, directory}
        else:
            top = directory
    return found


def _warning(attestations: InstallOptions | None, line: str) -> None:
    """Print ``line`` as the install options say (default: on stderr)."""
    from skillpm.attest.variants import InstallOptions

    (attestations or InstallOptions()).warning(line)


def sync(
    lockfile_path: Path,
    *,
    cache: ArtifactCache,
    opener: Callable[[str], Registry] = open_locked_registry,
    mirror: str | None = None,
    jobs: int = 8,
    force: bool = False,
    allow_outside: bool = False,
    attestations: InstallOptions | None = None,
) -> list[InstallResult]:
    """Install exactly what the lockfile records, refusing any digest that differs.

    Every locked artifact is first fetched (up to ``jobs`` at a time) and checked,
    then every one's attestations; only when all passed are the skills installed,
    in lockfile order, so a download, digest or policy failure changes no skill
    directory and not the lockfile. Each skill comes from the registry its entry
    names, or ``mirror`` (a ``--registry`` value) instead; when that does not answer,
    from any other source of the same digest (:mod:`~skillpm.installing.locked`).
    An entry whose directory is outside the lockfile's folder is refused unless
    ``allow_outside``; ``force`` replaces directories that do not look like skills
    (:func:`check_replaceable`).
    """
    from skillpm.installing.locked import (
        Registries,
        cache_only_warning,
        fallback_labels,
        is_from_cache,
        locked_plan,
        source_labels,
    )

    def prepare(lockfile: Lockfile) -> tuple[None, tuple[LockedSkill, ...]]:
        _check(lockfile, lockfile.skills, allow_outside=allow_outside)
        return None, lockfile.skills

    with FolderLocks() as locks:
        lockfile, _, folders = lock_run(locks, lockfile_path, prepare, allow_outside=allow_outside)
        recover(lockfile, folders)
        registries, others = Registries(opener), fallback_labels(lockfile)

        def locked(skill: LockedSkill) -> Plan:
            return locked_plan(skill, source_labels(skill, mirror=mirror, others=others), registries, cache)

        plans = in_parallel(locked, lockfile.skills, jobs=jobs)
        results = _install_all(
            lockfile, plans, cache=cache, jobs=jobs, force=force, attestations=attestations, unread=is_from_cache
        )
    warning = cache_only_warning([plan for plan, result in zip(plans, results) if result.changed])
    if warning is not None:
        _warning(attestations, warning)
    return results


def update(
    lockfile_path: Path,
    *,
    names: list[str],
    capability: Capability | None,
    cache: ArtifactCache,
    opener: Callable[[str], Registry] = open_locked_registry,
    jobs: int = 8,
    force: bool = False,
    allow_outside: bool = False,
    attestations: InstallOptions | None = None,
    warn: Callable[[str], None] | None = None,
) -> list[tuple[Resolution, InstallResult]]:
    """Resolve the locked skills (or ``names`` of them) again and install what changed.

    ``capability`` overrides the one each skill was resolved for. As in :func:`sync`,
    every chosen skill is resolved, fetched and checked before any is installed;
    ``force`` and ``allow_outside`` mean what they mean there. A skill that now
    resolves to a lower version is kept, and ``warn`` (default: a warning on
    stderr) told why (:mod:`~skillpm.installing.updates`); it is not in the list
    returned.
    """
    from skillpm.installing.updates import chosen_skills, plan_steps

    def prepare(lockfile: Lockfile) -> tuple[list[LockedSkill], list[LockedSkill]]:
        chosen = chosen_skills(lockfile, names)
        _check(lockfile, chosen, allow_outside=allow_outside)
        return chosen, chosen

    with FolderLocks() as locks:
        lockfile, chosen, folders = lock_run(locks, lockfile_path, prepare, allow_outside=allow_outside)
        recover(lockfile, folders)
        steps = plan_steps(chosen, open_registries(chosen, opener, update_source), capability)
        for step in steps:
            if step.reason is not None:
                (warn or settings.warn)(step.reason)
        taken = [step for step in steps if step.action != "keep"]
        plans = [step.plan for step in taken]
        results = _install_all(lockfile, plans, cache=cache, jobs=jobs, force=force, attestations=attestations)
    return _paired([step.resolution for step in taken], results)
