"""Files a registry write receives (pulled archives and bundles, copies of the archives ``add`` is given),
kept in the registry's own folder until the write's journal renames them in (:mod:`.journal`).

A file is never held in memory: it is written as it arrives, its sha256 and size computed on the
way, and synced. Each writer receives into a folder of its own, ``.skillpm-incoming/<random>`` at the
registry's root (the file system of the journal, so a file moves in by a rename), and holds a lock on
that folder (:mod:`skillpm.locks`) for as long as it lives, which may be before it takes the
registry's lock (``registry pull`` downloads first). The folder is removed when the writer is done,
whatever the outcome; one a killed writer left is no longer locked, and the next write to the
registry removes it (:func:`remove_abandoned`, from the journal's recovery), leaving any folder a
live writer holds. A ``.skillpm-incoming`` that is a link, or anything but a folder, is never
entered: receiving refuses it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Union

from skillpm.containment import real_folder
from skillpm.errors import RegistryError
from skillpm.locks import FolderLock, remove_if_unlocked
from skillpm.records import Record

INCOMING = ".skillpm-incoming"


class Hashed(Record):
    """A file, with the sha256 and size of its bytes as they were written (or read, in one pass)."""

    path: Path
    sha256: str
    size: int


#: What a registry write puts at a path: bytes made in memory, or a file received in the registry's folder.
Content = Union[bytes, Hashed]


def sha256_of(content: Content) -> str:
    """The sha256 of bytes in memory, or of a received file."""
    return content.sha256 if isinstance(content, Hashed) else hashlib.sha256(content).hexdigest()


class Incoming:
    """A writer's own folder in the registry at ``root`` to receive files into; a context manager that
    makes and locks it, and removes it at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / INCOMING / os.urandom(8).hex()
        self._lock = FolderLock(self.folder)
        self._count = 0

    def __enter__(self) -> Incoming:
        top = self.root / INCOMING
        try:
            top.mkdir(exist_ok=True)
        except OSError as error:
            raise RegistryError(f"cannot write in {self.root}: {error.strerror or error}") from None
        if real_folder(self.root, INCOMING) is None:
            raise RegistryError(f"{top} is a link or not a folder; nothing was written",
                                hint="remove it: skillpm makes that folder itself, and removes it when done")
        self._lock.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        from skillpm.atomic import remove_path

        try:
            remove_path(self.folder)
        finally:
            self._lock.__exit__(kind, error, traceback)
            _remove_if_empty(self.root / INCOMING)

    def receive(self, fill: Callable[[Callable[[bytes], None]], None]) -> Hashed:
        """A new file of this folder, written by ``fill(write)``, hashed as it is written, then synced.

        Whatever ``fill`` raises leaves the file behind, removed with the folder.
        """
        path = self.folder / str(self._count)
        self._count += 1
        hashed = hashlib.sha256()
        size = 0
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
        with os.fdopen(handle, "wb") as stream:

            def write(chunk: bytes) -> None:
                nonlocal size
                hashed.update(chunk)
                size += len(chunk)
                stream.write(chunk)

            fill(write)
            stream.flush()
            os.fsync(stream.fileno())
        return Hashed(path, hashed.hexdigest(), size)


def remove_abandoned(root: Path) -> None:
    """Remove the incoming folders that writers now gone left in the registry at ``root`` (none that a
    live writer holds); a ``.skillpm-incoming`` that is a link is not entered."""
    top = real_folder(root, INCOMING)
    if top is None:
        return
    for name in sorted(os.listdir(top)):
        if real_folder(top, name) is not None:
            remove_if_unlocked(top / name)
    _remove_if_empty(top)


def _remove_if_empty(folder: Path) -> None:
    try:
        os.rmdir(folder)
    except OSError:  # absent, or holding another writer's folder
        pass
