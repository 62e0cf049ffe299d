"""Remove an installed skill: the links skillpm made to it, its directories, and its entries in skills.lock.

Apart from the install pipeline (:mod:`skillpm.installing.pipeline`): removing reads no
registry and fetches nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from skillpm.errors import InstallError
from skillpm.installing.destinations import check_inside, check_replaceable, recover, take_out
from skillpm.installing.guard import lock_run
from skillpm.installing.link import check_link_folders, unlink
from skillpm.installing.record import record
from skillpm.lockfile import LockedSkill, Lockfile
from skillpm.locks import FolderLocks
from skillpm.stderr import to_stderr


def remove(
    lockfile_path: Path,
    name: str,
    *,
    force: bool = False,
    allow_outside: bool = False,
    warn: Callable[[str], None] | None = None,
) -> list[LockedSkill]:
    """Remove every installed directory of ``name`` recorded in the lockfile, and the links skillpm made to them.

    ``force`` and ``allow_outside`` mean what they mean for :func:`~skillpm.installing.pipeline.sync`. The links
    go first, each only while it still leads to its directory (:func:`unlink`; what
    now lies there instead is left alone, and ``warn`` told). Then each directory
    is renamed aside, the lockfile written, and the trees deleted
    (:func:`~skillpm.installing.destinations.take_out`): a kill at any point leaves
    the skill either installed and locked (a missing link made again by ``sync``),
    or gone from the lockfile (its aside tree cleaned up by the next run).
    """
    def prepare(lockfile: Lockfile) -> tuple[list[LockedSkill], list[LockedSkill]]:
        removed = lockfile.named(name)
        if not removed:
            raise InstallError(f"{name} is not installed here ({lockfile_path})", hint="see 'skillpm list'")
        check_inside(lockfile, removed, allow_outside=allow_outside)
        check_link_folders(lockfile, removed, allow_outside=allow_outside)  # recovery cleans their folders too
        return removed, removed

    with FolderLocks() as locks:
        lockfile, removed, folders = lock_run(locks, lockfile_path, prepare, allow_outside=allow_outside)
        recover(lockfile, folders)
        for skill in removed:
            check_replaceable(lockfile, skill, {}, force=force)
        kept = unlink(lockfile, removed, allow_outside=allow_outside)
        directories = [lockfile.directory(skill) for skill in removed]
        take_out(directories, record=lambda: record(lockfile, lockfile.without(removed)))
    for path in kept:
        line = f"note: left {path} alone: it is not a link skillpm made to {name}"
        if warn is None:
            to_stderr(line)
        else:
            warn(line)
    return removed
