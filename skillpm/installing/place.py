"""The place step: each checked archive extracted beside its directory and swapped in.

With :mod:`skillpm.installing.record`, the only code that writes into a skills
folder: every tree is built beside the one it replaces and renamed into place,
the lockfile recorded in between, so a failure or a kill leaves each directory
complete, old or new (docs/security.md, "Crash and concurrency safety").
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from skillpm.archive import extract, read_metadata
from skillpm.atomic import discard, fsync_directory, move_aside, replace_dir, staging_dir
from skillpm.cache import ArtifactCache
from skillpm.installing.destinations import tree_matches
from skillpm.installing.fetch import fetch_artifact
from skillpm.installing.plan import Plan
from skillpm.installing.record import record
from skillpm.lockfile import LockedSkill, Lockfile


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


def place(lockfile: Lockfile, plan: Plan, cache: ArtifactCache) -> InstallResult:
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
        record(lockfile, updated)
    else:
        staged = staging_dir(directory)
        try:
            extract(data, staged)
            record(lockfile, updated)
            try:
                replace_dir(staged, directory)
            except BaseException:
                if staged.exists():
                    record(updated, lockfile)  # the new tree never went in
                raise
        finally:
            discard(staged)
    return InstallResult(entry.name, entry.version, entry.target, entry.sha256, directory, changed)


def unplace(lockfile: Lockfile, removed: Sequence[LockedSkill]) -> None:
    """Take the directories of ``removed`` out and record the lockfile without them; the caller holds the lock.

    Each directory is first renamed aside, then the lockfile written, then the
    trees deleted: a kill at any point leaves the skill either installed and
    locked, or gone from the lockfile (its aside tree cleaned up by the next run).
    """
    aside = [(lockfile.directory(skill), move_aside(lockfile.directory(skill))) for skill in removed]
    for folder in sorted({directory.parent for directory, old in aside if old is not None}):
        fsync_directory(folder)  # the renames aside are durable before the lockfile that records them
    try:
        record(lockfile, lockfile.without(removed))
    except BaseException:
        for directory, old in aside:
            if old is not None:
                os.replace(old, directory)
                discard(old)
        raise
    for _, old in aside:
        if old is not None:
            discard(old)
