"""Atomic filesystem writes: a reader sees the old content or the new, never a mix."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename.

    The file gets the mode an ordinary new file would (0666 less the umask), not
    the private 0600 of a temporary file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
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


def staging_dir(final: Path) -> Path:
    """A new empty directory beside ``final`` (same filesystem, ordinary mode) to build its replacement in."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".new"))
    staged.chmod(0o777 & ~_umask())
    return staged


def replace_dir(staged: Path, final: Path) -> None:
    """Put the directory ``staged`` in place of ``final`` (which may be absent).

    The old tree is first renamed aside, then the new one renamed in, then the old
    one removed: at every instant ``final`` is either the complete old tree, absent
    for the moment between two renames, or the complete new tree.
    """
    old = None
    if final.exists() or final.is_symlink():
        old = final.with_name(f".{final.name}.{os.getpid()}.old")
        os.replace(final, old)
    try:
        os.replace(staged, final)
    except BaseException:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        remove_path(old)


def remove_path(path: Path) -> None:
    """Remove a file, link or directory tree; absent is fine."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path)
