"""Links from agents' skills folders to the one installed copy of a skill.

A link skillpm makes at ``FOLDER/NAME`` points at the skill's directory: by a
relative path inside a project (so the project can move or be cloned), by an
absolute one between the user's folders. What already lies at ``FOLDER/NAME``
is never followed and never replaced unless it is such a link (:func:`is_ours`):
a cloned project may put there a link to anywhere, or a folder of its own.
Where links cannot be made (:func:`make` returns False) the caller copies instead.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from skillpm.atomic import atomic_symlink
from skillpm.containment import check_folder
from skillpm.errors import InstallError

#: What ``symlink`` fails with where the file system or the user's rights allow no links.
_UNSUPPORTED = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EINVAL})


def target(link: Path, directory: Path, *, relative: bool) -> str:
    """What the link at ``link`` holds to reach ``directory``: relative from its folder after links, or absolute."""
    if not relative:
        return str(directory.absolute())
    return os.path.relpath(directory.resolve(), link.parent.resolve())


def is_ours(link: Path, directory: Path) -> bool:
    """Whether ``link`` is a symbolic link that leads to ``directory`` (present or not)."""
    return link.is_symlink() and os.path.realpath(link) == os.path.realpath(directory)


def needs_making(link: Path, directory: Path, *, root: Path, allow_outside: bool) -> bool:
    """Whether a link to ``directory`` must be made at ``link``; InstallError when skillpm must not.

    Its folder must pass :func:`~skillpm.containment.check_folder` (inside ``root``
    after links unless ``allow_outside``, never in a version-control folder, and a
    folder or able to become one); ``link`` must be absent or already a link to ``directory``.
    """
    check_folder(link.parent, root=root, allow_outside=allow_outside)
    if not os.path.lexists(link):
        return True
    if is_ours(link, directory):
        return False
    kind = "a link to elsewhere" if link.is_symlink() else "a folder or file"
    raise InstallError(
        f"{str(link)[:200]} is {kind} that skillpm did not make; nothing was changed",
        hint="move it away, or choose other agents with --agent",
    )


def make(link: Path, directory: Path, *, relative: bool) -> bool:
    """Make ``link`` a link to ``directory``; False (and nothing made) where links are not supported here."""
    try:
        atomic_symlink(link, target(link, directory, relative=relative))
    except OSError as error:
        if error.errno in _UNSUPPORTED or getattr(error, "winerror", None) == 1314:  # no privilege to link
            return False
        raise
    return True


def remove(link: Path, directory: Path) -> bool:
    """Remove ``link`` when it is a link to ``directory`` (:func:`is_ours`); whether it is gone (or was absent)."""
    if not os.path.lexists(link):
        return True
    if not is_ours(link, directory):
        return False
    link.unlink()
    return True
