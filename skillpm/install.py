"""Install, sync, update and remove skills: the orchestration over resolve, fetch and extract.

Every operation on one lockfile runs under a file lock. An install fetches and
checks every archive (digest, contents, attestations) before it changes
anything, builds each new tree beside the old one, records it in the lockfile,
and swaps it in with renames: a failure at any step leaves the previous skill
directories and lockfile as they were.

A process killed at any point (docs/security.md, "Crash and concurrency safety")
leaves each directory complete, old or new, and the lockfile old or new; the
next locked operation first cleans up what it left (:func:`_recover`), and
``sync`` installs whatever tree the lockfile names that its directory does not hold.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence, TypeVar

from skillpm import agents
from skillpm.archive import MAX_ARCHIVE_SIZE, MAX_FILE_SIZE, VariantMetadata, extract, read_metadata, scan
from skillpm.atomic import (
    discard,
    fsync_directory,
    move_aside,
    recover_folder,
    remove_temporaries,
    replace_dir,
    staging_dir,
)
from skillpm.cache import ArtifactCache
from skillpm.containment import check_writable
from skillpm.errors import ArchiveError, InstallError, LockfileError
from skillpm.index.model import Variant
from skillpm.lockfile import (
    LOCK_NAME,
    LockedSkill,
    Lockfile,
    read_lockfile,
    write_lockfile,
)
from skillpm.locks import lock_for
from skillpm.reading import read_at_most
from skillpm.registry.factory import open_locked_registry
from skillpm.registry.source import Registry, Source
from skillpm.requirements import Requirement, parse_requirement
from skillpm.resolve import Resolution, resolve
from skillpm.targets import Capability, parse_capability

if TYPE_CHECKING:
    from skillpm.attest.variants import InstallOptions

_PROJECT_MARKERS = (LOCK_NAME, ".git")


def find_project(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding skills.lock or .git; ``None`` when there is none."""
    start = start.resolve()
    return next(
        (folder for folder in (start, *start.parents) if any((folder / marker).exists() for marker in _PROJECT_MARKERS)),
        None,
    )


def find_project_root(start: Path) -> Path:
    """:func:`find_project`, else ``start`` itself (where ``install`` starts a project)."""
    return find_project(start) or start.resolve()


def user_lockfile_path() -> Path:
    """Where ``--global`` installs are recorded."""
    from skillpm.userdirs import user_path

    return user_path("data") / LOCK_NAME


@dataclass(frozen=True)
class Destination:
    """Where skills go (``skills_dir/<name>/``) and which lockfile records them."""

    skills_dir: Path
    lockfile: Path


def destination(
    *, project_root: Path, agent: str | None = None, user: bool = False, directory: Path | None = None
) -> Destination:
    """The destination for ``--dir``, ``--global`` and ``--agent`` (default: Claude Code, this project)."""
    if directory is not None:
        return Destination(directory.resolve(), project_root / LOCK_NAME)
    skills_dir = agents.skills_dir(agent or agents.DEFAULT_AGENT, project_root=project_root, user=user)
    lockfile = user_lockfile_path() if user else project_root / LOCK_NAME
    return Destination(skills_dir, lockfile)


@dataclass(frozen=True)
class InstallResult:
    """What one install or sync did for one skill."""

    name: str
    version: str
    target: str
    sha256: str
    directory: Path
    changed: bool  # False when the directory already held exactly these files

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "target": self.target,
            "sha256": self.sha256,
            "directory": str(self.directory),
            "changed": self.changed,
        }


def fetch_artifact(registry: Registry, variant: Variant, cache: ArtifactCache) -> bytes:
    """The variant's archive, from the cache or the registry, checked against its size and sha256."""
    cached = cache.get(variant.sha256)
    if cached is not None:
        return cached
    if variant.size > MAX_ARCHIVE_SIZE:
        raise ArchiveError(
            f"{variant.path} is {variant.size} bytes by the index, over the {MAX_ARCHIVE_SIZE}-byte limit "
            "of an archive; nothing was downloaded or installed",
            hint="the registry serves an archive skillpm cannot install; tell its owner",
        )
    data = registry.artifact(variant.path, limit=variant.size)
    actual = hashlib.sha256(data).hexdigest()
    if len(data) != variant.size or actual != variant.sha256:
        served = (
            f"larger than {variant.size} bytes"
            if len(data) > variant.size
            else f"{actual[:16]}... ({len(data)} bytes)"
        )
        raise ArchiveError(
            f"digest mismatch for {variant.path}: the index says sha256 {variant.sha256[:16]}... "
            f"({variant.size} bytes), the download is {served}; nothing was installed",
            hint="the registry or a mirror serves other bytes than it published; tell its owner",
        )
    cache.put(variant.sha256, data)
    return data


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
    look like a skill skillpm installed (:func:`_check_replaceable`). As in
    :func:`sync`, a directory outside the lockfile's folder after links (a skills
    folder that is a link out of the project) is refused unless ``allow_outside``.

    ``attestations``: the install policy beyond the policy files (default: none);
    see :func:`_check_attestations`.
    """
    with lock_for(dest.lockfile):
        lockfile = read_lockfile(dest.lockfile)
        resolutions, plans = [], []
        for requirement in requirements:
            served, document = registry.locate(requirement.name)
            resolution = resolve(document, requirement, capability)
            resolutions.append(resolution)
            plans.append(
                _plan(
                    served,
                    resolution,
                    directory=_relative_to(dest.skills_dir / resolution.name, lockfile.root),
                    capability="none" if capability is None else str(capability),
                    requirement=str(requirement),
                )
            )
        entries = [plan.entry for plan in plans]
        _check_inside(lockfile, entries, allow_outside=allow_outside)
        _recover(lockfile, map(lockfile.directory, entries))
        results = _install_all(lockfile, plans, cache=cache, jobs=jobs, force=force, attestations=attestations)
    return list(zip(resolutions, results))


@dataclass(frozen=True)
class _Plan:
    """One skill about to be installed: where from, which variant, and its lockfile entry."""

    registry: Registry
    variant: Variant
    entry: LockedSkill


def _plan(registry: Registry, resolution: Resolution, *, directory: str, capability: str, requirement: str) -> _Plan:
    """The plan to install ``resolution`` from ``registry`` into ``directory`` (relative to the lockfile's folder)."""
    variant = resolution.variant
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
    )
    return _Plan(registry, variant, entry)


def _recover(lockfile: Lockfile, directories: Iterable[Path]) -> None:
    """Clean up after runs killed part-way on this lockfile; the caller holds its lock.

    Removes the lockfile's temporary files and every staging tree in the folders
    of ``directories``: those the command may change, never the folders of other
    entries, which a cloned skills.lock may aim anywhere. A tree left aside by a
    killed swap or removal is renamed back when its directory is absent and still
    locked, and removed otherwise. Afterwards each directory is complete: the
    tree its entry names, or the previous one, which :func:`tree_matches` tells
    apart, so that ``sync`` (or the same command again) installs what the
    lockfile says.
    """
    remove_temporaries(lockfile.path)
    locked = {lockfile.directory(skill) for skill in lockfile.skills}
    for folder in sorted({directory.parent for directory in directories}):
        recover_folder(folder, restore=locked)


def _check_replaceable(lockfile: Lockfile, entry: LockedSkill, files: Mapping[str, str], *, force: bool) -> None:
    """Refuse to replace a directory that does not look like a skill skillpm installed, unless ``force``.

    It must be one the lockfile records, a real directory (not a link), and hold a
    ``SKILL.md`` or only files of the archive ``files`` lists (a damaged install):
    a cloned skills.lock must not make skillpm replace some other folder.
    """
    directory = lockfile.directory(entry)
    if force or not (directory.exists() or directory.is_symlink()):
        return
    if not any(skill.directory == entry.directory for skill in lockfile.skills):
        raise InstallError(
            f"{directory} already exists and was not installed by skillpm; nothing was changed",
            hint="move it away, or pass --force to replace it",
        )
    if directory.is_dir() and not directory.is_symlink() and (directory / "SKILL.md").is_file():
        return
    found = tree_digests(directory)
    if not found or not found.items() <= dict(files).items():
        raise InstallError(
            f"{directory} does not look like a skill skillpm installed (no SKILL.md); nothing was changed",
            hint="check skills.lock, which names it; pass --force to replace the folder anyway",
        )


def _check_inside(lockfile: Lockfile, skills: Iterable[LockedSkill], *, allow_outside: bool) -> None:
    """Refuse entries whose folder skillpm must not write (:func:`skillpm.containment.check_writable`).

    The folder each directory is in (where its staging and aside trees go) must
    stay inside the lockfile's folder after links, unless ``allow_outside``, and
    never lie in a version-control folder: a cloned skills.lock may name any
    folder, and a skills folder that is a link may lead anywhere. The directory
    itself is never followed: a link there is replaced or removed as a link.
    The lockfile's own folder must not lie in a version-control folder either.
    """
    check_writable(lockfile.root, root=lockfile.root, allow_outside=True)
    for skill in skills:
        check_writable(lockfile.directory(skill).parent, root=lockfile.root, allow_outside=allow_outside)


def _fetch_checked(plan: _Plan, cache: ArtifactCache) -> VariantMetadata:
    """Fetch the plan's archive into the cache, run extraction's checks on it, and check that it holds the entry."""
    metadata = scan(fetch_artifact(plan.registry, plan.variant, cache))
    _check_metadata(metadata, plan.entry)
    return metadata


def _install_all(
    lockfile: Lockfile,
    plans: Sequence[_Plan],
    *,
    cache: ArtifactCache,
    jobs: int,
    force: bool,
    attestations: InstallOptions | None,
) -> list[InstallResult]:
    """Check all ``plans``, then install each in order; the caller holds the lock.

    First every check before anything is written: fetches every archive and runs
    on it every check extraction runs (``jobs`` at a time), then checks each
    directory it would replace (:func:`_check_replaceable`), then every variant's
    attestations: one failure and nothing is installed. Then each skill is
    installed (:func:`_install_locked`) and recorded beside those installed before it.
    """
    fetched = _in_parallel(lambda plan: _fetch_checked(plan, cache), plans, jobs=jobs)
    for plan, metadata in zip(plans, fetched):
        _check_replaceable(lockfile, plan.entry, metadata.files, force=force)
    attested = [_check_attestations(plan, cache, lockfile.root, attestations) for plan in plans]
    results = []
    for plan in plans:
        results.append(_install_locked(lockfile, plan, cache))
        lockfile = lockfile.with_skill(plan.entry)
    unverified = [
        f"{result.name} {result.version} ({result.target})"
        for result, verified in zip(results, attested)
        if result.changed and not verified
    ]
    if unverified:  # once per command, and only for what it installed
        from skillpm.attest.variants import InstallOptions, unattested_warning

        (attestations or InstallOptions()).warning(unattested_warning(unverified))
    return results


def _install_locked(lockfile: Lockfile, plan: _Plan, cache: ArtifactCache) -> InstallResult:
    """Install a fetched and checked plan and record it; the caller holds the lock.

    The new tree is extracted beside the directory; then the lockfile is written,
    then the tree swapped in. A kill between the two leaves the lockfile naming a
    tree the directory does not hold yet: :func:`tree_matches` sees it, and
    ``sync`` completes it. A failure restores the previous lockfile.
    """
    entry = plan.entry
    directory = lockfile.directory(entry)
    data = fetch_artifact(plan.registry, plan.variant, cache)
    updated = lockfile.with_skill(entry)
    changed = not tree_matches(directory, read_metadata(data).files)
    if not changed:
        if updated != lockfile:
            write_lockfile(updated)
    else:
        staged = staging_dir(directory)
        try:
            extract(data, staged)
            if updated != lockfile:
                write_lockfile(updated)
            try:
                replace_dir(staged, directory)
            except BaseException:
                if staged.exists() and updated != lockfile:
                    write_lockfile(lockfile)  # the new tree never went in
                raise
        finally:
            discard(staged)
    return InstallResult(entry.name, entry.version, entry.target, entry.sha256, directory, changed)


def _check_metadata(metadata: VariantMetadata, entry: LockedSkill) -> None:
    claimed = (metadata.name, metadata.version, metadata.target)
    if claimed != (entry.name, entry.version, entry.target):
        raise ArchiveError(
            f"archive {entry.path} holds {' '.join(claimed)}, not {entry.name} {entry.version} {entry.target}"
        )


def tree_matches(directory: Path, files: Mapping[str, str]) -> bool:
    """Whether ``directory`` holds exactly ``files`` (relative path -> sha256), nothing more."""
    return tree_digests(directory) == dict(files)


def tree_digests(directory: Path) -> dict[str, str] | None:
    """Each file under ``directory`` (relative path -> sha256).

    ``None`` unless it is a directory without links whose files are all regular,
    readable and of at most the archive's :data:`~skillpm.archive.MAX_FILE_SIZE`:
    a fifo is never opened, a huge file never read.
    """
    if not directory.is_dir() or directory.is_symlink():
        return None
    found: dict[str, str] = {}
    for folder, folders, filenames in os.walk(directory):
        for name in [*folders, *filenames]:
            path = Path(folder, name)
            if path.is_symlink():
                return None
            if name in filenames:
                try:
                    content = read_at_most(path, MAX_FILE_SIZE)
                except (OSError, ValueError):
                    return None
                found[path.relative_to(directory).as_posix()] = hashlib.sha256(content).hexdigest()
    return found


def sync(
    lockfile_path: Path,
    *,
    cache: ArtifactCache,
    opener: Callable[[str], Registry] = open_locked_registry,
    jobs: int = 8,
    force: bool = False,
    allow_outside: bool = False,
    attestations: InstallOptions | None = None,
) -> list[InstallResult]:
    """Install exactly what the lockfile records, refusing any digest that differs.

    Every locked artifact is first fetched (up to ``jobs`` at a time) and checked,
    then every one's attestations; only when all passed are the skills installed,
    in lockfile order, so a download, digest or policy failure changes no skill
    directory and not the lockfile. Each skill comes from exactly the registry its
    entry names. An entry whose directory is outside the lockfile's folder is
    refused unless ``allow_outside``; ``force`` replaces directories that do not
    look like skills (:func:`_check_replaceable`).
    """
    with lock_for(lockfile_path):
        lockfile = read_lockfile(lockfile_path)
        _check_inside(lockfile, lockfile.skills, allow_outside=allow_outside)
        _recover(lockfile, map(lockfile.directory, lockfile.skills))
        registries = _open_registries(lockfile.skills, opener)

        def locked(skill: LockedSkill) -> _Plan:
            registry = registries[skill.registry]
            return _Plan(registry, _locked_variant(registry, skill), skill)

        plans = _in_parallel(locked, lockfile.skills, jobs=jobs)
        return _install_all(lockfile, plans, cache=cache, jobs=jobs, force=force, attestations=attestations)


def _locked_variant(registry: Registry, skill: LockedSkill) -> Variant:
    document = registry.require_package(skill.name)
    entry = next((e for e in document.versions if e.version == skill.version), None)
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
) -> list[tuple[Resolution, InstallResult]]:
    """Resolve the locked skills (or ``names`` of them) again and install what changed.

    ``capability`` overrides the one each skill was resolved for. As in :func:`sync`,
    every chosen skill is resolved, fetched and checked before any is installed;
    ``force`` and ``allow_outside`` mean what they mean there.
    """
    with lock_for(lockfile_path):
        lockfile = read_lockfile(lockfile_path)
        chosen = [s for s in lockfile.skills if not names or s.name in names]
        missing = sorted(set(names) - {s.name for s in chosen})
        if missing:
            raise InstallError(f"not installed: {', '.join(missing)}", hint="see 'skillpm list'")
        _check_inside(lockfile, chosen, allow_outside=allow_outside)
        _recover(lockfile, map(lockfile.directory, chosen))
        registries = _open_registries(chosen, opener)
        resolutions, plans = [], []
        for skill in chosen:
            registry = registries[skill.registry]
            target_capability = capability or _recorded_capability(skill)
            resolution = resolve(
                registry.require_package(skill.name), parse_requirement(skill.requirement), target_capability
            )
            resolutions.append(resolution)
            plans.append(
                _plan(
                    registry,
                    resolution,
                    directory=skill.directory,
                    capability=skill.capability if capability is None else str(capability),
                    requirement=skill.requirement,
                )
            )
        results = _install_all(lockfile, plans, cache=cache, jobs=jobs, force=force, attestations=attestations)
    return list(zip(resolutions, results))


def _recorded_capability(skill: LockedSkill) -> Capability | None:
    return None if skill.capability == "none" else parse_capability(skill.capability)


def remove(lockfile_path: Path, name: str, *, force: bool = False, allow_outside: bool = False) -> list[LockedSkill]:
    """Remove every installed directory of ``name`` recorded in the lockfile.

    ``force`` and ``allow_outside`` mean what they mean for :func:`sync`. Each
    directory is first renamed aside, then the lockfile written, then the trees
    deleted: a kill at any point leaves the skill either installed and locked, or
    gone from the lockfile (its aside tree cleaned up by the next run).
    """
    with lock_for(lockfile_path):
        lockfile = read_lockfile(lockfile_path)
        removed = lockfile.named(name)
        if not removed:
            raise InstallError(f"{name} is not installed here ({lockfile_path})", hint="see 'skillpm list'")
        _check_inside(lockfile, removed, allow_outside=allow_outside)
        _recover(lockfile, map(lockfile.directory, removed))
        for skill in removed:
            _check_replaceable(lockfile, skill, {}, force=force)
        aside = [(lockfile.directory(skill), move_aside(lockfile.directory(skill))) for skill in removed]
        for folder in sorted({directory.parent for directory, old in aside if old is not None}):
            fsync_directory(folder)  # the renames aside are durable before the lockfile that records them
        try:
            write_lockfile(lockfile.without(removed))
        except BaseException:
            for directory, old in aside:
                if old is not None:
                    os.replace(old, directory)
                    discard(old)
            raise
        for _, old in aside:
            if old is not None:
                discard(old)
    return removed


def _relative_to(directory: Path, root: Path) -> str:
    try:
        return directory.relative_to(root).as_posix()
    except ValueError:
        return directory.as_posix()


def installed_skills(lockfile_path: Path, capability: Capability | None) -> list[dict[str, object]]:
    """Each locked skill, whether its directory is present, and whether it suits ``capability``."""
    from skillpm.targets import parse_target, why_unusable

    lockfile = read_lockfile(lockfile_path)
    rows = []
    for skill in lockfile.skills:
        target = parse_target(skill.target)
        if capability is None:
            suits = "yes" if target.is_generic else "unknown (no GPU detected)"
        else:
            reason = why_unusable(target, capability)
            suits = "yes" if reason is None else f"no: {reason}"
        rows.append(
            {
                "name": skill.name,
                "version": skill.version,
                "target": skill.target,
                "sha256": skill.sha256,
                "directory": str(lockfile.directory(skill)),
                "present": lockfile.directory(skill).is_dir(),
                "suits": suits,
                "registry": skill.registry,
            }
        )
    return rows


def _open_registries(skills: Iterable[LockedSkill], opener: Callable[[str], Registry]) -> dict[str, Registry]:
    """Each registry the entries name, opened once (one connection pool per server)."""
    registries: dict[str, Registry] = {}
    for skill in skills:
        if skill.registry not in registries:
            registries[skill.registry] = opener(skill.registry)
    return registries


T = TypeVar("T")
R = TypeVar("R")


def _in_parallel(function: Callable[[T], R], items: Sequence[T], *, jobs: int) -> list[R]:
    """``function`` of each item, ``jobs`` at a time, in order (used for downloads).

    The first failure, in the items' order, is raised and the calls not yet
    started are cancelled.
    """
    if jobs <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=min(jobs, len(items)), thread_name_prefix="skillpm-fetch")
    try:
        futures = [pool.submit(function, item) for item in items]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _check_attestations(
    plan: _Plan, cache: ArtifactCache, project_root: Path, options: InstallOptions | None
) -> bool:
    """Verify the plan's attestations under the install policy before anything is written.

    Raises AttestationError on any failed check or unmet requirement; ``False`` when
    the variant has no attestations and none is required (docs/attestations.md).
    """
    from skillpm.attest.variants import check_before_install

    entry = plan.entry
    report = check_before_install(
        plan.registry, name=entry.name, version=entry.version, variant=plan.variant,
        artifact=fetch_artifact(plan.registry, plan.variant, cache), project_root=project_root, options=options,
    )
    return report is not None
