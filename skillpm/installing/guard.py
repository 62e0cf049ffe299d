"""The locks of a run that changes skills, all taken before it cleans up or writes anything.

Two runs with different lockfiles may write into one skills folder: a project in the home
folder and ``--global`` (both ``~/.agents/skills``), two projects with ``--dir SHARED --save``.
So a run locks, besides its lockfile's folder, every folder it writes (each place's and each
link's) and every default skills folder there is (``.agents/skills`` and each agent's folder,
the project's or, for the user's lockfile, the user's), whose leftovers it cleans up: the
clean-up of one run never removes the tree another is building, and a killed first install
into a default folder is cleaned up by the next run, whatever it installs. The locks are
taken in one order (:class:`skillpm.locks.FolderLocks`), and every folder is checked
(:func:`skillpm.containment.check_folder`) before its lock makes it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence, TypeVar

from skillpm import agents
from skillpm.containment import check_folder, check_writable
from skillpm.errors import InstallError
from skillpm.installing.destinations import skill_folders
from skillpm.lockfile import LockedSkill, Lockfile, read_lockfile
from skillpm.locks import FolderLocks
from skillpm.project import user_lockfile_path

Prepared = TypeVar("Prepared")


def lock_run(
    locks: FolderLocks,
    lockfile_path: Path,
    prepare: Callable[[Lockfile], tuple[Prepared, Sequence[LockedSkill]]],
    *,
    writes: Sequence[Path] = (),
    allow_outside: bool,
) -> tuple[Lockfile, Prepared, list[Path]]:
    """Lock the lockfile's folder, ``writes`` and the default skills folders; read the lockfile, ``prepare``
    it (check and plan: what to do, and the entries it writes) and lock those entries' folders.

    When locking those meant letting go of the other locks for a moment, the
    lockfile is read and prepared again. Returns the lockfile, what ``prepare``
    returned, and the folders to clean up: every locked one but the lockfile's own
    (unless written too).
    """
    root = lockfile_path.parent
    check_writable(root, root=root, allow_outside=True)
    for folder in writes:
        check_folder(folder, root=root, allow_outside=allow_outside)
    defaults = default_folders(lockfile_path, allow_outside=allow_outside)
    locks.take([root, *writes], existing=defaults)
    while True:
        lockfile = read_lockfile(lockfile_path)
        prepared, entries = prepare(lockfile)
        folders = skill_folders(lockfile, entries)
        if locks.take(folders):
            break
    recovered = {*writes, *folders, *(folder for folder in defaults if locks.holds(folder))}
    return lockfile, prepared, sorted(recovered)


def default_folders(lockfile_path: Path, *, allow_outside: bool) -> list[Path]:
    """The skills folders a default install for ``lockfile_path`` may have written that are there and that
    skillpm may write (:func:`~skillpm.containment.check_writable`): ``.agents/skills`` and every agent's, in
    the lockfile's folder, or the user's for the user's lockfile."""
    root = lockfile_path.parent
    if lockfile_path == user_lockfile_path():
        candidates = {Path.home() / agents.CANONICAL}
        for name in agents.AGENTS:
            try:
                candidates.add(agents.skills_dir(name, project_root=root, user=True))
            except InstallError:  # no user folder: none set in the environment
                continue
        present = {folder for folder in candidates if os.path.isdir(folder)}
    else:  # told by strings first: most are absent, and each Path costs (remove is a benchmarked command)
        present = {root / folder for folder in agents.PROJECT_FOLDERS if os.path.isdir(os.path.join(root, folder))}
    return [folder for folder in sorted(present) if _writable(folder, root, allow_outside)]


def _writable(folder: Path, root: Path, allow_outside: bool) -> bool:
    try:
        check_writable(folder, root=root, allow_outside=allow_outside)
    except InstallError:
        return False
    return True

