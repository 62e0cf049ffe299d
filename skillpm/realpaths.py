"""``os.path.realpath`` for many paths of one tree, each folder and link on the way looked at once for them all.

``os.path.realpath`` looks at every component of the path it is given, and of every link's target, each
time: a skill holding a link to each of 600 nested folders (``l599 -> c/d/d/.../d``) made ``validate``
call ``lstat`` 190,000 times, on paths 600 levels deep. :class:`RealPaths` remembers each path it
resolved, as spelled and with its folder already resolved, so a component is looked at once whatever
the number of paths it lies on. The tree must not change while it is used (a walk of it, then its checks).
"""

from __future__ import annotations

import errno
import os
import stat

#: Links one path may pass through: Linux's limit (``MAXSYMLINKS``); past it, a loop of links is assumed.
MAX_LINKS = 40


class RealPaths:
    """Resolves paths as ``os.path.realpath`` does, remembering what it found; a loop of links (or more than
    :data:`MAX_LINKS` on one path) is OSError ``ELOOP``, as the kernel says, where realpath returns a path
    with the link unresolved."""

    def __init__(self) -> None:
        #: An absolute path, as spelled or as its resolved folder joined with a name -> its real path.
        self._real: dict[str, str] = {os.sep: os.sep}

    def real(self, path: str | os.PathLike[str]) -> str:
        """The real path of ``path`` (relative to the working folder when not absolute): links resolved,
        ``..`` taken after the links before it; a component that is not there is kept as it is spelled."""
        path = os.fspath(path)
        return self._resolve(path if os.path.isabs(path) else os.path.join(os.getcwd(), path), [0])

    def _resolve(self, path: str, links: list[int]) -> str:
        """The real path of the absolute ``path``; ``links`` counts the links followed on the way."""
        names = []
        head = os.sep + path.lstrip(os.sep)  # "//x" is "/x" to realpath (and os.path.split never leaves "//")
        while head not in self._real:  # up to the nearest path known (the root at worst)
            head, name = os.path.split(head)
            names.append(name)
        real = self._real[head]
        for name in reversed(names):
            head = os.path.join(head, name)
            real = self._real[head] = self._step(real, name, links)
        return real

    def _step(self, folder: str, name: str, links: list[int]) -> str:
        """The real path of ``name`` in the real folder ``folder``."""
        if name in ("", os.curdir):
            return folder
        if name == os.pardir:
            return os.path.dirname(folder)
        path = os.path.join(folder, name)
        known = self._real.get(path)
        if known is not None:
            return known
        try:
            linked = stat.S_ISLNK(os.lstat(path).st_mode)
        except OSError:  # not there (or not readable): kept as spelled, as realpath keeps it
            return path
        if linked:
            links[0] += 1
            if links[0] > MAX_LINKS:
                raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
            real = self._resolve(os.path.join(folder, os.readlink(path)), links)
        else:
            real = path
        self._real[path] = real
        return real
