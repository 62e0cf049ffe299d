"""Install, sync, update and remove skills: the orchestration over resolve, fetch and extract.

Every operation on one lockfile runs under a file lock. An install builds the
new tree beside the old one, checks it, swaps it in with renames, and only
then records it in the lockfile: a failure at any step leaves the previous
skill directory and lockfile as they were.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping

from skillpm import agents
from skillpm.archive import VariantMetadata, extract, read_metadata
from skillpm.atomic import remove_path, replace_dir, staging_dir
from skillpm.cache import ArtifactCache
from skillpm.errors import ArchiveError, InstallError, LockfileError
from skillpm.index.model import Variant
from skillpm.locks import lock_for
from skillpm.lockfile import LOCK_NAME, LockedSkill, Lockfile, read_lockfile, write_lockfile
from skillpm.registry.source import Registry, Source, open_locked_registry
from skillpm.requirements import Requirement, parse_requirement
from skillpm.resolve import Resolution, resolve
from skillpm.targets import Capability, parse_capability

if TYPE_CHECKING:
    from skillpm.attest.variants import InstallOptions

_PROJECT_MARKERS = (LOCK_NAME, ".git")


def find_project_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding skills.lock or .git; else ``start``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in _PROJECT_MARKERS):
            return folder
    return start


def user_lockfile_path() -> Path:
    """Where ``--global`` installs are recorded."""
    from platformdirs import user_data_path

    return user_data_path("skillpm", appauthor=False) / LOCK_NAME


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
    attestations: InstallOptions | None = None,
) -> tuple[Resolution, InstallResult]:
    """Resolve ``requirement`` for ``capability``, install it into ``dest`` and lock it.

    ``registry`` may be one registry or the configured chain; the lockfile records
    the one that served the package.

    ``attestations``: the install policy beyond the policy files (default: that of
    :func:`skillpm.attest.variants.using`, else none); see :func:`_check_attestations`.
    """
    registry, document = registry.locate(requirement.name)
    resolution = resolve(document, requirement, capability)
    with lock_for(dest.lockfile):
        lockfile = read_lockfile(dest.lockfile)
        result = _install_locked(
            lockfile,
            registry=registry,
            name=resolution.name,
            version=resolution.version,
            variant=resolution.variant,
            directory=dest.skills_dir / resolution.name,
            cache=cache,
            force=force,
            capability="none" if capability is None else str(capability),
            requirement=str(requirement),
            attestations=attestations,
        )
    return resolution, result


def _install_locked(
    lockfile: Lockfile,
    *,
    registry: Registry,
    name: str,
    version: str,
    variant: Variant,
    directory: Path,
    cache: ArtifactCache,
    force: bool,
    capability: str,
    requirement: str,
    attestations: InstallOptions | None = None,
) -> InstallResult:
    """Install one variant into ``directory`` and record it; the caller holds the lock."""
    entry = LockedSkill(
        name=name,
        version=version,
        target=variant.target,
        sha256=variant.sha256,
        registry=registry.label,
        path=variant.path,
        directory=_relative_to(directory, lockfile.root),
        capability=capability,
        requirement=requirement,
    )
    known = any(skill.directory == entry.directory for skill in lockfile.skills)
    if (directory.exists() or directory.is_symlink()) and not known and not force:
        raise InstallError(
            f"{directory} already exists and was not installed by skillpm; nothing was changed",
            hint="move it away, or pass --force to replace it",
        )
    data = fetch_artifact(registry, variant, cache)
    metadata = read_metadata(data)
    _check_metadata(metadata, entry)
    _check_attestations(registry, entry, variant, data, lockfile.root, attestations)
    changed = not tree_matches(directory, metadata.files)
    if changed:
        staged = staging_dir(directory)
        try:
            extract(data, staged)
            replace_dir(staged, directory)
        finally:
            remove_path(staged)
    updated = lockfile.with_skill(entry)
    if updated != lockfile:
        write_lockfile(updated)
    return InstallResult(name, version, variant.target, variant.sha256, directory, changed)


def _check_metadata(metadata: VariantMetadata, entry: LockedSkill) -> None:
    claimed = (metadata.name, metadata.version, metadata.target)
    if claimed != (entry.name, entry.version, entry.target):
        raise ArchiveError(
            f"archive {entry.path} holds {' '.join(claimed)}, not {entry.name} {entry.version} {entry.target}"
        )


def tree_matches(directory: Path, files: Mapping[str, str]) -> bool:
    """Whether ``directory`` holds exactly ``files`` (relative path -> sha256), nothing more."""
    if not directory.is_dir() or directory.is_symlink():
        return False
    found: dict[str, str] = {}
    for folder, _, filenames in os.walk(directory):
        for filename in filenames:
            path = Path(folder, filename)
            if path.is_symlink():
                return False
            found[path.relative_to(directory).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found == dict(files)


def sync(
    lockfile_path: Path,
    *,
    cache: ArtifactCache,
    opener: Callable[[str], Registry] = open_locked_registry,
    jobs: int = 8,
) -> list[InstallResult]:
    """Install exactly what the lockfile records, refusing any digest that differs.

    Every locked artifact is first fetched (up to ``jobs`` at a time) and checked;
    only when all are in the cache are the skills installed, in lockfile order, so
    a download or digest failure changes no skill directory and not the lockfile.
    Each skill comes from exactly the registry its entry names.
    """
    with lock_for(lockfile_path):
        lockfile = read_lockfile(lockfile_path)
        fetched = _prefetch_locked(lockfile.skills, cache=cache, opener=opener, jobs=jobs)
        results = []
        for skill, (registry, variant) in zip(lockfile.skills, fetched):
            results.append(
                _install_locked(
                    lockfile,
                    registry=registry,
                    name=skill.name,
                    version=skill.version,
                    variant=variant,
                    directory=lockfile.directory(skill),
                    cache=cache,
                    force=True,
                    capability=skill.capability,
                    requirement=skill.requirement,
                )
            )
    return results


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
) -> list[tuple[Resolution, InstallResult]]:
    """Resolve the locked skills (or ``names`` of them) again and install what changed.

    ``capability`` overrides the one each skill was resolved for.
    """
    with lock_for(lockfile_path):
        lockfile = read_lockfile(lockfile_path)
        chosen = [s for s in lockfile.skills if not names or s.name in names]
        missing = sorted(set(names) - {s.name for s in chosen})
        if missing:
            raise InstallError(f"not installed: {', '.join(missing)}", hint="see 'skillpm list'")
        results = []
        for skill in chosen:
            registry = opener(skill.registry)
            target_capability = capability or _recorded_capability(skill)
            resolution = resolve(
                registry.require_package(skill.name), parse_requirement(skill.requirement), target_capability
            )
            result = _install_locked(
                lockfile,
                registry=registry,
                name=resolution.name,
                version=resolution.version,
                variant=resolution.variant,
                directory=lockfile.directory(skill),
                cache=cache,
                force=True,
                capability=skill.capability if capability is None else str(capability),
                requirement=skill.requirement,
            )
            lockfile = read_lockfile(lockfile_path)
            results.append((resolution, result))
    return results


def _recorded_capability(skill: LockedSkill) -> Capability | None:
    return None if skill.capability == "none" else parse_capability(skill.capability)


def remove(lockfile_path: Path, name: str) -> list[LockedSkill]:
    """Remove every installed directory of ``name`` recorded in the lockfile."""
    with lock_for(lockfile_path):
        lockfile = read_lockfile(lockfile_path)
        removed = lockfile.named(name)
        if not removed:
            raise InstallError(f"{name} is not installed here ({lockfile_path})", hint="see 'skillpm list'")
        write_lockfile(lockfile.without(removed))
        for skill in removed:
            remove_path(lockfile.directory(skill))
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


def _prefetch_locked(
    skills: tuple[LockedSkill, ...],
    *,
    cache: ArtifactCache,
    opener: Callable[[str], Registry],
    jobs: int,
) -> list[tuple[Registry, Variant]]:
    """Each locked skill's registry and variant, its artifact fetched into the cache and checked.

    Registries are opened once each (one connection pool per server). Downloads run
    ``jobs`` at a time; the first failure, in lockfile order, is raised and the
    downloads not yet started are cancelled.
    """
    registries: dict[str, Registry] = {}
    for skill in skills:
        if skill.registry not in registries:
            registries[skill.registry] = opener(skill.registry)

    def fetch(skill: LockedSkill) -> tuple[Registry, Variant]:
        registry = registries[skill.registry]
        variant = _locked_variant(registry, skill)
        _check_metadata(read_metadata(fetch_artifact(registry, variant, cache)), skill)
        return registry, variant

    if jobs <= 1 or len(skills) <= 1:
        return [fetch(skill) for skill in skills]
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=min(jobs, len(skills)), thread_name_prefix="skillpm-fetch")
    try:
        futures = [pool.submit(fetch, skill) for skill in skills]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _check_attestations(
    registry: Registry,
    entry: LockedSkill,
    variant: Variant,
    data: bytes,
    project_root: Path,
    options: InstallOptions | None,
) -> None:
    """Verify the variant's attestations under the install policy before anything is written.

    Raises AttestationError on any failed check or unmet requirement; warns when
    the variant has no attestations and none is required (docs/attestations.md).
    """
    from skillpm.attest.variants import check_before_install

    check_before_install(
        registry, name=entry.name, version=entry.version, variant=variant, artifact=data,
        project_root=project_root, options=options,
    )
