"""Inter-process locks keyed by the folders they protect, that leave no file in them.

A lock guards a folder: a lockfile's (the project, or the user's data folder for
``--global``), a skills folder, a registry's, the configuration's. Every skillpm
process that changes something there takes an exclusive ``flock`` on the folder
itself, so two processes serialise whatever cache, environment or spelling of the
path each uses, and nothing is created in the folder. The kernel drops the lock
when its holder exits, even when killed.

A process that has to wait says so, once, on stderr (naming the holder where
``/proc/locks`` tells it), and Ctrl-C ends the wait. :class:`FolderLocks` holds
several locks at once, taken in one order every process shares, so that processes
wanting the same folders never wait for each other in a circle.

Where ``fcntl`` is missing (Windows) the lock is a file in the user's cache
folder named after the resolved folder, which serialises the processes that
share that cache.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Container, Iterable, NamedTuple

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from filelock import FileLock

#: How many times a folder is locked again when it was removed or replaced while this process waited for it.
_ATTEMPTS = 100


class Busy(Exception):
    """Another process holds a lock taken without waiting."""


class _Held(NamedTuple):
    folder: Path
    make: bool  # whether the folder is made when missing
    handle: int | FileLock
    created: tuple[Path, ...]  # the folders this lock made, outermost first (the folder itself last)


class FolderLocks:
    """Exclusive locks on folders, held together until the ``with`` block ends.

    A process waits for a lock only while every lock it holds comes before it in
    one order of resolved paths: :meth:`take` takes a lock out of that order only
    without waiting, else lets go of every lock and takes them all again in order.
    A folder is locked once, however many times or ways it is named.
    """

    def __init__(self) -> None:
        self._held: dict[str, _Held] = {}  # by resolved path

    def __enter__(self) -> FolderLocks:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()

    def holds(self, folder: Path) -> bool:
        """Whether ``folder`` is locked here (after links)."""
        return _key(folder) in self._held

    def take(self, folders: Iterable[Path], *, existing: Iterable[Path] = ()) -> bool:
        """Lock each of ``folders`` (made when missing) and each of ``existing`` that is a folder.

        True when every lock held before is still held; False when they were let go
        of for a moment, to take every lock in order: whatever they guard may have
        changed meanwhile, so the caller reads it again. A folder this made is
        removed again when the locks are let go of, if it is still empty.
        """
        wanted = {_key(folder): (folder, True) for folder in folders}
        for folder in existing:
            if os.path.isdir(folder):
                wanted.setdefault(_key(folder), (folder, False))
        new = sorted((key, folder, make) for key, (folder, make) in wanted.items() if key not in self._held)
        if not new:
            return True
        top = max(self._held, default="")
        if new[0][0] > top:  # in order: waiting cannot close a circle
            for key, folder, make in new:
                self._take(key, folder, make=make, wait=True)
            return True
        try:
            for key, folder, make in new:
                self._take(key, folder, make=make, wait=False)
            return True
        except Busy:
            pass
        everything = sorted({*((key, held.folder, held.make) for key, held in self._held.items()), *new})
        self.release()
        for key, folder, make in everything:
            self._take(key, folder, make=make, wait=True)
        return False

    def _take(self, key: str, folder: Path, *, make: bool, wait: bool) -> None:
        if fcntl is None:
            self._held[key] = _cache_locked(folder, make=make, wait=wait)
            return
        mine = {_identity(held.handle) for held in self._held.values() if isinstance(held.handle, int)}
        held = _lock(folder, make=make, wait=wait, mine=mine)
        if held is not None:
            self._held[key] = held

    def release(self) -> None:
        """Let go of every lock, last taken first, removing the empty folders they made."""
        for key in sorted(self._held, reverse=True):
            _let_go(self._held.pop(key))


class FolderLock:
    """An exclusive lock on one folder (made when missing), held inside a ``with`` block (not re-entrant)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._held: _Held | None = None

    def __enter__(self) -> FolderLock:
        self._held = _lock(self.folder, make=True, wait=True, keep=True)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._held is not None:
            _let_go(self._held)
            self._held = None


def lock_for(path: Path) -> FolderLock | FileLock:
    """A lock serialising every writer of ``path``: of the folder it is, or else of the folder it is in."""
    folder = path if path.is_dir() else path.parent
    if fcntl is not None:
        return FolderLock(folder)
    return _cache_lock(folder)


def remove_if_unlocked(folder: Path) -> bool:
    """Remove the folder ``folder`` (a real folder, not a link) and all it holds when no process holds
    its lock: the process that made and locked it is gone, killed perhaps. Whether it was removed."""
    from skillpm.atomic import remove_path

    if fcntl is None:
        from filelock import Timeout

        lock = _cache_lock(folder)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return False
        try:
            remove_path(folder)
        finally:
            lock.release()
        return True
    try:
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if not (_try_lock(handle) and _is_open(folder, handle)):
            return False
        remove_path(folder)
        return True
    finally:
        os.close(handle)


def _key(folder: Path) -> str:
    """The folder's place in the one order of locks: its path after links, as every process resolves it."""
    return str(folder.resolve())


def _lock(
    folder: Path, *, make: bool, wait: bool, keep: bool = False, mine: Container[tuple[int, int]] = ()
) -> _Held | None:
    """An exclusive flock on ``folder``; None when it is missing and not ``make``, or is one of the folders
    this process holds (``mine``, by identity: a second lock on one would wait for the first forever).

    Raises :class:`Busy` when another process holds it and not ``wait``. A folder
    removed or replaced while this waited is locked again. The folders made on the
    way are listed, to be removed when let go of (unless ``keep``).
    """
    assert fcntl is not None
    for _ in range(_ATTEMPTS):
        created = _make(folder) if make else ()
        try:
            handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            if make:
                continue  # removed meanwhile by the process that made it
            return None
        if _identity(handle) in mine:
            os.close(handle)
            return None
        try:
            if not _try_lock(handle):
                if not wait:
                    raise Busy(str(folder))
                _say_waiting(folder, _holder(handle))
                fcntl.flock(handle, fcntl.LOCK_EX)
            if _is_open(folder, handle):
                return _Held(folder, make, handle, () if keep else created)
        except BaseException:
            os.close(handle)
            raise
        os.close(handle)  # the folder went away while this waited: lock the one there now
        if not make and not os.path.isdir(folder):
            return None
    raise OSError(errno.ESTALE, "removed again and again while skillpm tried to lock it", str(folder))


def _try_lock(handle: int) -> bool:
    assert fcntl is not None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _make(folder: Path) -> tuple[Path, ...]:
    """Make ``folder`` and the folders missing on the way; those this made, outermost first."""
    missing = []
    for candidate in (folder, *folder.parents):
        if os.path.isdir(candidate):
            break
        missing.append(candidate)
    made = []
    for candidate in reversed(missing):
        try:
            os.mkdir(candidate)
        except FileExistsError:
            if not os.path.isdir(candidate):
                raise
            continue  # made by another process meanwhile: not this one's to remove
        except FileNotFoundError:
            return tuple(made)  # a folder on the way was removed meanwhile: the caller tries again
        made.append(candidate)
    return tuple(made)


def _is_open(folder: Path, handle: int) -> bool:
    """Whether ``folder`` is still the folder ``handle`` has open (not removed, nor replaced)."""
    try:
        now = os.stat(folder)
    except OSError:
        return False
    return (now.st_dev, now.st_ino) == _identity(handle)


def _identity(handle: int) -> tuple[int, int]:
    info = os.fstat(handle)
    return info.st_dev, info.st_ino


def _let_go(held: _Held) -> None:
    """Release ``held``, first removing the folders it made that are still empty, innermost first.

    A folder is removed only under a lock on it: this one, or one taken without
    waiting on a folder it made on the way. A process that was waiting for it
    finds it gone or replaced, and locks the one there then (:func:`_lock`).
    """
    if not isinstance(held.handle, int):
        held.handle.release()
        return
    try:
        for folder in reversed(held.created):
            if not (_remove_empty(folder) if folder == held.folder else _remove_locked(folder)):
                break
    finally:
        os.close(held.handle)


def _remove_locked(folder: Path) -> bool:
    """Remove the empty ``folder`` if it can be locked without waiting; whether it was removed."""
    try:
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return _try_lock(handle) and _is_open(folder, handle) and _remove_empty(folder)
    finally:
        os.close(handle)


def _remove_empty(folder: Path) -> bool:
    try:
        os.rmdir(folder)
    except OSError:
        return False
    return True


def _holder(handle: int) -> int | None:
    """The process holding the flock on the folder open as ``handle``, as ``/proc/locks`` (Linux) tells; or None."""
    info = os.fstat(handle)
    wanted = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    try:
        with open("/proc/locks", "rb") as stream:
            text = stream.read(1 << 20).decode("ascii", "replace")
    except OSError:
        return None
    for line in text.splitlines():
        fields = line.split()  # "1: FLOCK ADVISORY WRITE <pid> <major>:<minor>:<inode> 0 EOF"; waiters show "->"
        if len(fields) > 5 and fields[1] == "FLOCK" and fields[5] == wanted and fields[4].isdigit():
            return int(fields[4]) or None  # 0: a process in another pid namespace
    return None


def _say_waiting(folder: Path, holder: int | None) -> None:
    """One line on stderr: this run waits for another one's lock on ``folder``."""
    from skillpm.display import clean
    from skillpm.stderr import to_stderr

    by = f" (pid {holder})" if holder else ""
    to_stderr(f"waiting for another skillpm run{by} on {clean(folder)}...")


def _cache_locked(folder: Path, *, make: bool, wait: bool) -> _Held:
    """A lock file in the cache for ``folder`` (no ``fcntl``: Windows), taken; :class:`Busy` if not ``wait``."""
    from filelock import Timeout

    lock = _cache_lock(folder)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if not wait:
            raise Busy(str(folder)) from None
        _say_waiting(folder, None)
        lock.acquire()
    return _Held(folder, make, lock, ())


def _cache_lock(folder: Path) -> FileLock:
    import hashlib

    from filelock import FileLock

    from skillpm.cache import cache_root

    resolved = folder.resolve()
    key = hashlib.sha256(str(resolved).encode()).hexdigest()[:32]
    locks = cache_root() / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    return FileLock(locks / f"{resolved.name or 'root'}-{key}.lock")
