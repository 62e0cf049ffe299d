"""The locks of a run that changes skills, all taken before it cleans up or writes anything.

Two runs with different lockfiles may write into one skills folder: a project in the home
folder and ``--global`` (both ``~/.agents/skills``), two projects with ``--dir SHARED --save``.
So a run locks, besides its lockfile's folder, every folder it writes (each place's and each
link's), whose leftovers it cleans up: the clean-up of one run never removes the tree another
is building. The locks are taken in one order (:class:`skillpm.locks.FolderLocks`), and every
folder is checked (:func:`skillpm.containment.check_folder`) before its lock makes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence, TypeVar

from skillpm.containment import check_folder
from skillpm.installing.destinations import skill_folders
from skillpm.lockfile import LockedSkill, Lockfile, read_lockfile
from skillpm.locks import FolderLocks

Prepared = TypeVar("Prepared")


def lock_run(
    locks: FolderLocks,
    lockfile_path: Path,
    prepare: Callable[[Lockfile], tuple[Prepared, Sequence[LockedSkill]]],
    *,
    writes: Sequence[Path] = (),
    allow_outside: bool,
) -> tuple[Lockfile, Prepared, list[Path]]:
    """Lock the lockfile's folder and ``writes``; read the lockfile, ``prepare`` it (check and plan: what to
    do, and the entries it writes) and lock those entries' folders.

    When locking those meant letting go of the other locks for a moment, the
    lockfile is read and prepared again. Returns the lockfile, what ``prepare``
    returned, and the folders to clean up: every locked one but the lockfile's own
    (unless written too).
    """
    root = lockfile_path.parent
    for folder in writes:
        check_folder(folder, root=root, allow_outside=allow_outside)
    locks.take([root, *writes])
    while True:
        lockfile = read_lockfile(lockfile_path)
        prepared, entries = prepare(lockfile)
        folders = skill_folders(lockfile, entries)
        if locks.take(folders):
            break
    return lockfile, prepared, sorted({*writes, *folders})
