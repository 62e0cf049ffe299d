"""Inter-process locks keyed by the folder they protect, that leave no file in it.

A lock guards a folder: a lockfile's (the project, or the user's data folder for
``--global``), a registry's, the configuration's. Every skillpm process that
changes something there takes an exclusive ``flock`` on the folder itself, so
two processes serialise whatever cache, environment or spelling of the path each
uses, and nothing is created in the folder. The kernel drops the lock when its
holder exits, even when killed.

Where ``fcntl`` is missing (Windows) the lock is a file in the user's cache
folder named after the resolved folder, which serialises the processes that
share that cache.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from filelock import FileLock


class FolderLock:
    """An exclusive ``flock`` on a folder, held inside a ``with`` block (not re-entrant)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._handle: int | None = None

    def __enter__(self) -> FolderLock:
        assert fcntl is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        handle = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
        except BaseException:
            os.close(handle)
            raise
        self._handle = handle
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._handle is not None:
            os.close(self._handle)  # closing the only descriptor releases the flock
            self._handle = None


def lock_for(path: Path) -> FolderLock | FileLock:
    """A lock serialising every writer of ``path``: of the folder it is, or else of the folder it is in."""
    folder = path if path.is_dir() else path.parent
    if fcntl is not None:
        return FolderLock(folder)
    return _cache_lock(folder)


def _cache_lock(folder: Path) -> FileLock:
    import hashlib

    from filelock import FileLock

    from skillpm.cache import cache_root

    resolved = folder.resolve()
    key = hashlib.sha256(str(resolved).encode()).hexdigest()[:32]
    locks = cache_root() / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    return FileLock(locks / f"{resolved.name or 'root'}-{key}.lock")
