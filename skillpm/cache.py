"""The download cache: artifacts stored by their sha256 in the user's cache directory.

Anyone who can write the cache (a CI cache restored from a shared key) may have planted
files, folders and links in it. An artifact is therefore read no further than the size
its caller expects and returned only when its bytes hash to its name; and a write goes
only into real folders inside the cache root, made private to the user (folders 0700,
files 0600): a link, a file or a folder planted on the way makes skillpm skip the write,
never follow it, and never fail the command, for a cache only saves work.

The cache takes no lock (processes working on any project write it at once), so
temporary files that killed writers left are told apart by age alone: a live
writer's exists for one write, which takes seconds, never
:data:`STALE_TEMPORARY_AGE`. A killed download leaves its temporary file in the
folder of its own digest, which no later write may go into, so a process's first
artifact write sweeps every artifact folder; its later writes sweep none.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from skillpm.reading import MAX_ARTIFACT_SIZE, artifact_limit, read_at_most
from skillpm.spelling import HEX_DIGITS, only

CACHE_ENV = "SKILLPM_CACHE_DIR"

#: Seconds after which a temporary file in the cache is taken for one a killed process left.
STALE_TEMPORARY_AGE = 3600.0


def cache_root() -> Path:
    """``$SKILLPM_CACHE_DIR``, else the platform's user cache directory for skillpm."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    from skillpm.userdirs import user_path

    return user_path("cache")


def write_cache_file(path: Path, data: bytes, *, root: Path | None = None, sweep: bool = True,
                     durable: bool = True) -> None:
    """Write ``data`` to ``path`` in the cache ``root`` (default :func:`cache_root`) atomically, mode 0600,
    first removing stale temporaries beside it (unless ``sweep`` is false: a caller writing many files into
    one folder sweeps it once), synced to disk unless ``durable`` is false (:func:`skillpm.atomic.atomic_write`).

    Written only when every folder from ``root`` to ``path`` is a real directory (:func:`_real_folders`);
    otherwise, or when the write fails (a read-only cache, a folder where the file goes), nothing is written.
    """
    root = cache_root() if root is None else root
    if _real_folders(root, path.parent):
        if sweep:
            _sweep(path.parent)
        _write(path, data, durable=durable)


def _real_folders(root: Path, folder: Path) -> bool:
    """Whether ``folder`` and each folder between ``root`` and it is a real directory, made (0700) where absent.

    ``root`` is the user's choice and may be reached through a link; below it nothing is followed: a part
    that is a link, a file or ``..`` (or a ``folder`` outside ``root``) makes the answer False.
    """
    try:
        parts = folder.relative_to(root).parts
        if ".." in parts:
            return False
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        for depth in range(1, len(parts) + 1):
            current = root.joinpath(*parts[:depth])
            try:
                os.mkdir(current, 0o700)
            except FileExistsError:
                pass
            if not stat.S_ISDIR(os.lstat(current).st_mode):
                return False
    except (OSError, ValueError):
        return False
    return True


def _sweep(folder: Path) -> None:
    """Remove the stale temporaries killed writes left in ``folder``; a folder that cannot be cleaned is left."""
    from skillpm.atomic import remove_stale_temporaries

    try:
        remove_stale_temporaries(folder, max_age=STALE_TEMPORARY_AGE)
    except OSError:
        pass


def _write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``path`` (in a folder :func:`_real_folders` checked) atomically, mode 0600; a failure is ignored."""
    from skillpm.atomic import atomic_write

    try:
        atomic_write(path, data, mode=0o600, durable=durable)
    except OSError:
        pass  # the cache only saves work; a cache that cannot take a file must not fail a command


def _fan_out(folder: Path) -> list[Path]:
    """The real directories (not links) in ``folder`` named as :meth:`ArtifactCache._path` names them (two
    hex digits): 256 at most, whatever else was planted beside them; none when it cannot be listed."""
    try:
        with os.scandir(folder) as entries:
            return [Path(entry.path) for entry in entries
                    if len(entry.name) == 2 and only(entry.name, HEX_DIGITS) and entry.is_dir(follow_symlinks=False)]
    except OSError:
        return []


#: The artifact folders (one per cache root) this process has swept for killed writes' leftovers.
_swept_artifacts: set[Path] = set()


def registry_key(url: str) -> str:
    """A file name for what is kept per registry: its host (or ``embedded``) and a hash of its URL."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = "".join(c if c.isalnum() or c in ".-" else "_" for c in (parts.netloc or parts.scheme or url or "host"))
    return f"{host[:64]}-{hashlib.sha256(url.encode()).hexdigest()[:16]}"


class ArtifactCache:
    """Content-addressed storage: an entry is only ever returned when its bytes hash to its name."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_root()

    def _folder(self) -> Path:
        return self.root / "artifacts" / "sha256"

    def _path(self, sha256: str) -> Path:
        return self._folder() / sha256[:2] / sha256

    def get(self, sha256: str, *, size: int | None = None, limit: int = MAX_ARTIFACT_SIZE) -> bytes | None:
        """The cached bytes for ``sha256``, or ``None``.

        No more is read than ``size``, the size the index gives (an entry of another size is a miss),
        or, when that is not known, ``limit`` bytes. An entry of other bytes is dropped.
        """
        path = self._path(sha256)
        try:
            data = read_at_most(path, artifact_limit(limit if size is None else size))
        except (OSError, ValueError):  # absent, not a regular file, or larger than expected: a miss
            return None
        if (size is not None and len(data) != size) or hashlib.sha256(data).hexdigest() != sha256:
            if _real_folders(self.root, path.parent):  # never through a planted link
                try:
                    path.unlink()
                except OSError:
                    pass  # the write after the download replaces it
            return None
        return data

    def put(self, sha256: str, data: bytes) -> None:
        """Store ``data`` (whose digest the caller has checked) under ``sha256``, as :func:`write_cache_file` writes.

        The process's first put first removes the temporary files that killed writes left among all
        the artifacts, once they are :data:`STALE_TEMPORARY_AGE` old: one listing of each of the 256
        folders a process, not a put (one that goes stale while the process runs waits for the next).
        """
        path = self._path(sha256)
        if _real_folders(self.root, path.parent):
            if self._folder() not in _swept_artifacts:
                _swept_artifacts.add(self._folder())
                for folder in _fan_out(self._folder()):
                    _sweep(folder)
            _write(path, data)
