"""Where skills go, and the only code that writes skill trees into a skills folder.

:func:`destination` turns ``--dir``, ``--global``, ``--agent`` and ``--copy`` into
the folders that get a copy of each skill, those that link to it, and the
lockfile that records them. Before anything is written there,
:func:`check_inside` and :func:`check_replaceable` refuse folders skillpm must
not touch, and :func:`recover` cleans up after a killed run (under the locks
:mod:`skillpm.installing.guard` takes). A tree goes in with
:func:`put_tree` (built beside, renamed into place) and out with :func:`take_out`
(renamed aside, then deleted); the caller records the lockfile in between, so a
kill leaves each directory complete, old or new. The links to a tree are made
and removed by :mod:`skillpm.installing.link`, through :mod:`skillpm.links`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from skillpm import agents
from skillpm.atomic import (
    check_removable,
    discard,
    fsync_directory,
    move_aside,
    recover_folder,
    remove_temporaries,
    replace_dir,
    staging_dir,
)
from skillpm.containment import check_writable
from skillpm.errors import InstallError
from skillpm.lockfile import LockedSkill, Lockfile
from skillpm.project import LOCK_NAME, user_lockfile_path
from skillpm.walking import walk
from skillpm.reading import read_at_most
from skillpm.records import Record


class Place(Record):
    """A folder that gets a copy of each skill (``folder/<name>/``), the agents that read it there,
    and the folders (with their agents) that get a link to that copy."""

    folder: Path
    agents: tuple[str, ...] = ()
    linked: tuple[agents.Placement, ...] = ()


class Destination(Record):
    """Where skills go, and which lockfile records them."""

    places: tuple[Place, ...]
    lockfile: Path


def destination(
    *,
    project_root: Path,
    agent_names: Sequence[str] = (),
    user: bool = False,
    directory: Path | None = None,
    copy: bool = False,
    save: bool = False,
) -> Destination:
    """The destination for ``--dir``, ``--global``, ``--agent`` (names, aliases or ``all``) and ``--copy``.

    ``--dir`` is one folder: inside the project it is recorded in the project's
    skills.lock; outside it, in ``DIR/skills.lock`` (as ``npm install --prefix DIR``
    keeps its own lock), unless ``save`` asks for the project's. Otherwise the agents
    chosen (:func:`skillpm.agents.choose`: by default those detected here, else Claude
    Code) share one copy in ``.agents/skills`` (the project's, or the user's with
    ``user``), linked from each other folder they read; with ``copy``, each of their
    folders gets a copy instead.
    """
    if directory is not None:
        folder = directory.resolve()
        recorded_in = project_root if save or folder.is_relative_to(project_root) else folder
        return Destination((Place(folder),), recorded_in / LOCK_NAME)
    chosen = agents.choose(agent_names, project_root=project_root, user=user)
    canonical, *others = agents.placements(chosen, project_root=project_root, user=user)
    if copy:
        places = tuple(Place(p.folder, p.agents) for p in (canonical, *others) if p.agents)
    else:
        places = (Place(canonical.folder, canonical.agents, tuple(others)),)
    return Destination(places, user_lockfile_path() if user else project_root / LOCK_NAME)


def check_inside(lockfile: Lockfile, skills: Iterable[LockedSkill], *, allow_outside: bool) -> None:
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


def recover(lockfile: Lockfile, folders: Iterable[Path]) -> None:
    """Clean up after runs killed part-way in ``folders``; the caller holds the lock of each and of the lockfile.

    Removes the lockfile's temporary files and every staging tree in ``folders``:
    those the command may change and the default skills folders (all locked by
    :mod:`skillpm.installing.guard`), never the folders of other entries, which a
    cloned skills.lock may aim anywhere. A tree left aside by a killed swap or
    removal is renamed back when its directory is absent and still locked, and
    removed otherwise. Afterwards each directory is complete: the tree its entry
    names, or the previous one, which :func:`tree_matches` tells apart, so that
    ``sync`` (or the same command again) installs what the lockfile says.
    """
    remove_temporaries(lockfile.path)
    locked = {lockfile.directory(skill) for skill in lockfile.skills}
    for folder in sorted(set(folders)):
        recover_folder(folder, restore=locked)


def skill_folders(lockfile: Lockfile, skills: Iterable[LockedSkill]) -> list[Path]:
    """The folders that writing ``skills`` changes: those their directories and their links are in."""
    skills = list(skills)
    paths = [*map(lockfile.directory, skills), *(lockfile.root / text for s in skills for text in s.links)]
    return sorted({path.parent for path in paths})


def destination_folders(dest: Destination) -> list[Path]:
    """The folders an install into ``dest`` writes: each place's, and each folder linked to it."""
    return sorted({folder for place in dest.places for folder in (place.folder, *(p.folder for p in place.linked))})


def check_replaceable(lockfile: Lockfile, entry: LockedSkill, files: Mapping[str, str], *, force: bool) -> None:
    """Refuse to replace a directory that does not look like a skill skillpm installed, unless ``force``.

    It must be one the lockfile records, a real directory (not a link), and hold a
    ``SKILL.md`` or only files of the archive ``files`` lists (a damaged install):
    a cloned skills.lock must not make skillpm replace some other folder.
    """
    directory = lockfile.directory(entry)
    check_removable(directory)  # even with force: a tree too deep to remove is not replaced either
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


def tree_matches(directory: Path, files: Mapping[str, str]) -> bool:
    """Whether ``directory`` holds exactly ``files`` (relative path -> sha256), nothing more."""
    return tree_digests(directory) == dict(files)


def tree_digests(directory: Path) -> dict[str, str] | None:
    """Each file under ``directory`` (relative path -> sha256).

    ``None`` unless it is a directory without links whose files are all regular,
    readable and of at most an archive's :data:`~skillpm.portable.MAX_FILE_SIZE`:
    a fifo is never opened, a huge file never read.
    """
    import hashlib  # here, as remove hashes a tree only when it has no SKILL.md

    from skillpm.portable import MAX_FILE_SIZE

    if not directory.is_dir() or directory.is_symlink():
        return None
    found: dict[str, str] = {}
    for folder, folders, filenames in walk(directory):
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


def put_tree(directory: Path, archive: bytes, *, record: Callable[[], None], undo: Callable[[], None]) -> None:
    """Extract ``archive`` beside ``directory``, check that the tree is the archive's, call ``record``,
    then swap the new tree in.

    ``undo`` is called when the swap fails before the new tree went in (it puts
    the previous lockfile back); the staged tree is removed in any case.
    """
    from skillpm.archive import extract  # here: remove and list never extract

    staged = staging_dir(directory)
    try:
        metadata = extract(archive, staged)
        if not tree_matches(staged, metadata.files):  # never swap in a tree something else took files from
            raise InstallError(
                f"files of the new tree of {directory} went missing or changed while skillpm built it "
                f"beside it; {directory} was left as it was",
                hint="another program writes in that folder; run the command again when it is done",
            )
        record()
        try:
            replace_dir(staged, directory)
        except BaseException:
            if staged.exists():
                undo()  # the new tree never went in
            raise
    finally:
        discard(staged)


def take_out(directories: Sequence[Path], *, record: Callable[[], None]) -> None:
    """Rename each of ``directories`` aside, call ``record``, then delete the trees.

    The renames are made durable before ``record`` (which writes the lockfile
    without them); when ``record`` fails, every tree is renamed back. A kill at
    any point leaves each directory either in place or aside, where the next
    locked run's :func:`recover` finds it.
    """
    aside = [(directory, move_aside(directory)) for directory in directories]
    for folder in sorted({directory.parent for directory, old in aside if old is not None}):
        fsync_directory(folder)  # the renames aside are durable before the lockfile that records them
    try:
        record()
    except BaseException:
        for directory, old in aside:
            if old is not None:
                os.replace(old, directory)
                discard(old)
        raise
    for _, old in aside:
        if old is not None:
            discard(old)
