"""Inter-process locks that leave no files in the user's project or registry.

A lock guards a path (a lockfile, a registry directory); its lock file lives in
the user's cache directory under a name derived from the resolved path, so every
skillpm process of the user that works on that path takes the same lock.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from skillpm.cache import cache_root

if TYPE_CHECKING:
    from filelock import FileLock


def lock_for(path: Path) -> FileLock:
    """A lock serialising every writer of ``path``."""
    from filelock import FileLock

    resolved = path.resolve()
    key = hashlib.sha256(str(resolved).encode()).hexdigest()[:32]
    folder = cache_root() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return FileLock(folder / f"{resolved.name or 'root'}-{key}.lock")
