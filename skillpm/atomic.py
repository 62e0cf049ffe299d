"""Atomic filesystem writes: a reader sees the old content or the new, never a mix.

A process killed part-way leaves at most these beside the target, which
:func:`recover_folder` and :func:`remove_temporaries` clean up (under the lock the
writer held), or :func:`remove_stale_temporaries` once they are old (where no lock
covers the folder):

- ``.<name>.<pid>.<random>.tmp``: a file :func:`atomic_write` had not yet renamed;
- ``.<name>.<pid>.<random>.new``: a tree being built by :func:`staging_dir`;
- ``.<name>.<pid>.old``: the previous tree, renamed aside by :func:`replace_dir` or
  :func:`move_aside`; when ``<name>`` itself is absent, the kill fell between the
  two renames and the aside tree is the complete old one.

A rename is durable across a power loss only once its directory is synced:
:func:`atomic_write` and :func:`replace_dir` sync it after the rename that
publishes their result (:func:`fsync_directory`).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
import time
from collections.abc import Container
from pathlib import Path


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def fsync_directory(path: Path) -> None:
    """Flush the entries of the directory ``path`` to disk, so that renames into it survive a power loss.

    Does nothing where directories cannot be opened (no ``os.O_DIRECTORY``, as on
    Windows), nor where the file system cannot sync a directory (``EINVAL``).
    """
    if not hasattr(os, "O_DIRECTORY"):
        return
    handle = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    except OSError as error:
        if error.errno != errno.EINVAL:
            raise
    finally:
        os.close(handle)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename.

    The file's data is synced before the rename and its directory after it, so
    that after a power loss ``path`` holds the old content or the new. The file
    gets the mode an ordinary new file would (0666 less the umask), not the
    private 0600 of a temporary file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        os.fchmod(handle, 0o666 & ~_umask())
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def remove_temporaries(path: Path) -> None:
    """Remove the temporary files that killed :func:`atomic_write` calls for ``path`` left."""
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        remove_path(leftover)


#: What :func:`atomic_write` names its temporary files: ``.<name>.<pid>.<random>.tmp``.
_TEMPORARY = re.compile(r"\..+\.[0-9]+\.[^.]+\.tmp")


def remove_stale_temporaries(folder: Path, *, max_age: float) -> None:
    """Remove the temporary files of :func:`atomic_write` in ``folder`` last modified over ``max_age`` seconds ago.

    Unlike :func:`remove_temporaries` this needs no lock, given a ``max_age`` far
    longer than any write takes: a live writer creates, fills and renames its
    temporary file within one call, so only one a killed process left grows that
    old. Another process may be removing the same files at the same time.
    """
    cutoff = time.time() - max_age
    for leftover in folder.glob(".*.tmp"):
        if not _TEMPORARY.fullmatch(leftover.name):
            continue
        try:
            if leftover.lstat().st_mtime < cutoff:
                leftover.unlink()
        except FileNotFoundError:
            pass  # removed by another process meanwhile


def staging_dir(final: Path) -> Path:
    """A new empty directory beside ``final`` (same filesystem, ordinary mode) to build its replacement in."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.{os.getpid()}.", suffix=".new"))
    staged.chmod(0o777 & ~_umask())
    return staged


def move_aside(final: Path) -> Path | None:
    """Rename ``final`` to ``.<name>.<pid>.old`` beside it; ``None`` when it is absent."""
    if not (final.exists() or final.is_symlink()):
        return None
    old = final.with_name(f".{final.name}.{os.getpid()}.old")
    remove_path(old)
    os.replace(final, old)
    return old


def replace_dir(staged: Path, final: Path) -> None:
    """Put the directory ``staged`` in place of ``final`` (which may be absent).

    The old tree is first renamed aside, then the new one renamed in, then the old
    one removed: at every instant ``final`` is either the complete old tree, absent
    for the moment between two renames (the old tree then complete beside it, see
    :func:`recover_folder`), or the complete new tree.
    """
    old = move_aside(final)
    try:
        os.replace(staged, final)
    except BaseException:
        if old is not None:
            os.replace(old, final)
        raise
    fsync_directory(final.parent)  # makes both renames durable
    if old is not None:
        remove_path(old)


#: What :func:`staging_dir` and :func:`move_aside` name: ``.<name>.<pid>.<random>.new``, ``.<name>.<pid>.old``.
_LEFTOVER = re.compile(r"\.(?P<name>[^.]+)\.[0-9]+\.(?:[^.]+\.new|old)")


def recover_folder(folder: Path, *, restore: Container[Path]) -> None:
    """Finish or undo what killed :func:`replace_dir` and :func:`move_aside` calls left in ``folder``.

    Staging trees are removed. An aside tree is renamed back when its directory
    is absent and in ``restore`` (the kill fell between the two renames of a swap,
    or before a removal was recorded); every other aside tree is removed.
    """
    try:
        names = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in names:
        match = _LEFTOVER.fullmatch(name)
        if match is None:
            continue
        leftover, final = folder / name, folder / match["name"]
        if name.endswith(".old") and final in restore and not (final.exists() or final.is_symlink()):
            os.replace(leftover, final)
        else:
            remove_path(leftover)


def remove_path(path: Path) -> None:
    """Remove a file, link or directory tree; absent is fine."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path)
