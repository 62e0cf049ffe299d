"""The place step: each checked archive put into its directory, and the lockfile recorded.

Each tree is built beside the one it replaces and renamed into place
(:func:`skillpm.installing.destinations.put_tree`), the lockfile recorded in
between, so a failure or a kill leaves each directory complete, old or new
(docs/security.md, "Crash and concurrency safety").
"""

from __future__ import annotations

from pathlib import Path

from skillpm.archive import read_metadata
from skillpm.cache import ArtifactCache
from skillpm.installing.destinations import put_tree, tree_matches
from skillpm.installing.fetch import fetch_artifact
from skillpm.installing.plan import Plan
from skillpm.installing.record import record
from skillpm.lockfile import Lockfile
from skillpm.records import Record


class InstallResult(Record):
    """What one install or sync did for one skill."""

    name: str
    version: str
    target: str
    sha256: str
    directory: Path
    changed: bool  # False when the directory held these files and skills.lock already pinned this archive
    agents: tuple[str, ...] = ()  # the agents that read it, directly or through links
    agents_added: tuple[str, ...] = ()  # those of ``agents`` it did not reach before: new in skills.lock, or relinked

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "target": self.target,
            "sha256": self.sha256,
            "directory": str(self.directory),
            "changed": self.changed,
            "agents": list(self.agents),
            "agents_added": list(self.agents_added),
        }


def place(lockfile: Lockfile, plan: Plan, cache: ArtifactCache, *, in_place: bool | None = None) -> InstallResult:
    """Install a fetched and checked plan and record it; the caller holds the lock.

    The new tree is extracted beside the directory; then the lockfile is written,
    then the tree swapped in. A kill between the two leaves the lockfile naming a
    tree the directory does not hold yet: :func:`tree_matches` sees it, and
    ``sync`` completes it. A failure restores the previous lockfile. ``in_place``:
    whether the directory already holds the plan's tree, as the caller found under
    the lock (then only the lockfile is written); ``None``: found out here.
    """
    entry = plan.entry
    directory = lockfile.directory(entry)
    updated = lockfile.with_skill(entry)
    data = None
    if in_place is None:
        data = fetch_artifact(plan.registry, plan.variant, cache)
        in_place = tree_matches(directory, read_metadata(data).files)
    if in_place:
        record(lockfile, updated)
    else:
        data = data or fetch_artifact(plan.registry, plan.variant, cache)
        put_tree(directory, data, record=lambda: record(lockfile, updated), undo=lambda: record(updated, lockfile))
    changed = not (in_place and lockfile.pins(entry))
    before = lockfile.at(entry)
    added = tuple(name for name in entry.agents if before is None or name not in before.agents)
    return InstallResult(entry.name, entry.version, entry.target, entry.sha256, directory, changed, entry.agents, added)
