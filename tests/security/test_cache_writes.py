"""A cache someone else wrote: links, folders, files and sparse gigabytes planted in ``$SKILLPM_CACHE_DIR``.

Whoever can write the user's cache (a CI cache restored from a shared key) but not the config
or data folders plants something where skillpm's caches write or read, then the user runs an
ordinary ``install`` or ``sync`` (``hostile.run``: 1 GiB of address space, 30 s). Nothing is
ever written through a planted link, a cache that cannot take a file fails no command, an
entry is read no further than its index's size, and what skillpm makes in the cache is the
user's alone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import build_source, publish_source
from tests.security.conftest import Hostile

NAME = "demo"


def registry_of(hostile: Hostile, *names: str) -> Path:
    """A static registry folder holding each of ``names`` 1.0.0 (generic)."""
    from skillpm.registry import store

    root = hostile.work / "registry"
    store.init(root)
    for name in names:
        publish_source(root, build_source(hostile.work, name), hostile.work / "dist" / name)
    return root


def test_planted_cache_entries_larger_than_the_index_says_are_not_read(hostile: Hostile) -> None:
    """Eight cached archives replaced by sparse 256 MiB files: sync, eight downloads at once, read
    each whole before its digest was checked (2 GiB; a MemoryError under the suite's 1 GiB)."""
    names = [f"skill{number}" for number in range(8)]
    registry = registry_of(hostile, *names)
    hostile.ok(hostile.run("install", *names, "--registry", registry))
    entries = [path for path in (hostile.cache / "artifacts").rglob("*") if path.is_file()]
    assert len(entries) == 8
    sizes = {path: path.stat().st_size for path in entries}
    for path in entries:
        path.unlink()
        with path.open("wb") as handle:
            handle.truncate(256 << 20)
    shutil.rmtree(hostile.project / ".agents")  # the skills must be installed again
    shutil.rmtree(hostile.project / ".claude", ignore_errors=True)

    hostile.ok(hostile.run("sync"))

    assert all((hostile.project / ".agents" / "skills" / name / "SKILL.md").is_file() for name in names)
    assert {path: path.stat().st_size for path in entries} == sizes  # replaced by the downloads
