"""The fetch-and-verify step: every archive downloaded (or taken from the cache) and checked.

Each archive is checked against the index's size and sha256, scanned with every
check extraction runs, matched against its lockfile entry, and its attestations
verified under the install policy, before anything is written.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence, TypeVar

from skillpm.archive import VariantMetadata, archive_limit, scan
from skillpm.cache import ArtifactCache
from skillpm.errors import ArchiveError
from skillpm.index.model import Variant
from skillpm.installing.plan import Plan
from skillpm.lockfile import LockedSkill

if TYPE_CHECKING:
    from skillpm.attest.variants import InstallOptions
    from skillpm.registry.source import Registry


def fetch_artifact(registry: Registry, variant: Variant, cache: ArtifactCache) -> bytes:
    """The variant's archive, from the cache or the registry, checked against its size and sha256."""
    limit = archive_limit(variant.path, variant.size)
    cached = cache.get(variant.sha256, size=limit)
    if cached is not None:
        return cached
    data = registry.artifact(variant.path, limit=limit)
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


def fetch_checked(plan: Plan, cache: ArtifactCache) -> VariantMetadata:
    """Fetch the plan's archive into the cache, run extraction's checks on it, and check that it holds the entry."""
    metadata = scan(fetch_artifact(plan.registry, plan.variant, cache))
    _check_metadata(metadata, plan.entry)
    return metadata


def _check_metadata(metadata: VariantMetadata, entry: LockedSkill) -> None:
    claimed = (metadata.name, metadata.version, metadata.target)
    if claimed != (entry.name, entry.version, entry.target):
        raise ArchiveError(
            f"archive {entry.path} holds {' '.join(claimed)}, not {entry.name} {entry.version} {entry.target}"
        )


def check_attestations(
    plan: Plan, cache: ArtifactCache, project_root: Path, options: InstallOptions | None, *, writes: bool = True
) -> bool:
    """Verify the plan's attestations under the install policy before anything is written.

    Raises AttestationError on any failed check or unmet requirement; ``False`` when
    the variant has no attestations and none is required (docs/attestations.md), or
    when its tree is already in place (not ``writes``) and none is required.
    """
    from skillpm.attest.variants import check_before_install

    entry = plan.entry
    report = check_before_install(
        plan.registry, name=entry.name, version=entry.version, variant=plan.variant,
        artifact=fetch_artifact(plan.registry, plan.variant, cache), project_root=project_root, options=options,
        writes=writes,
    )
    return report is not None


T = TypeVar("T")


R = TypeVar("R")


def in_parallel(function: Callable[[T], R], items: Sequence[T], *, jobs: int) -> list[R]:
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
