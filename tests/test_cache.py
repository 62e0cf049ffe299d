"""The artifact cache removes the temporary files killed writers left, once they are stale."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from skillpm.atomic import _leftover
from skillpm.cache import STALE_TEMPORARY_AGE, ArtifactCache, cache_root, write_cache_file


def temporary(target: Path) -> Path:
    """The temporary file's folder a killed atomic_write of ``target`` leaves (created by skillpm's own code)."""
    data = _leftover(target, "tmp")
    data.write_bytes(b"partial")
    return data.parent


def backdate(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_a_write_removes_stale_temporaries_and_keeps_fresh_ones(tmp_path: Path) -> None:
    """The process's first put sweeps every artifact folder, its later ones none: a leftover planted after
    the first waits for the next process."""
    cache = ArtifactCache(tmp_path)
    old_data, new_data = b"cached long ago", b"new download"
    old_sha, new_sha = (hashlib.sha256(data).hexdigest() for data in (old_data, new_data))
    cache._path(old_sha).parent.mkdir(parents=True)
    cache._path(old_sha).write_bytes(old_data)  # as an earlier process's put left it
    folder = tmp_path / "artifacts" / "sha256" / old_sha[:2]  # another entry's folder than the new write's
    assert old_sha[:2] != new_sha[:2]
    stale = temporary(folder / old_sha)  # as a killed atomic_write leaves it
    fresh = temporary(folder / old_sha)  # a live writer's, still being written
    foreign = folder / ".notes.tmp"  # not skillpm's
    foreign.write_bytes(b"partial")
    for path in (stale, foreign, cache._path(old_sha)):
        backdate(path, STALE_TEMPORARY_AGE + 60)

    cache.put(new_sha, new_data)

    assert not stale.exists()
    assert fresh.exists() and foreign.exists()
    assert cache.get(old_sha) == old_data  # an old entry is no temporary file
    assert cache.get(new_sha) == new_data
    later = temporary(folder / old_sha)
    backdate(later, STALE_TEMPORARY_AGE + 60)
    cache.put(hashlib.sha256(b"another").hexdigest(), b"another")
    assert later.exists()


def test_a_cache_file_write_sweeps_its_own_folder(tmp_path: Path) -> None:
    """What the index and answer caches write through: stale temporaries beside the file go, nothing else."""
    target = cache_root() / "eval" / "ab" / "abcd.json"
    target.parent.mkdir(parents=True)
    stale, fresh = temporary(target), temporary(target)
    other = temporary(cache_root() / "eval" / "cd" / "cdef.json")
    for path in (stale, other):
        backdate(path, STALE_TEMPORARY_AGE + 60)

    write_cache_file(target, b"{}")

    assert target.read_bytes() == b"{}"
    assert not stale.exists()
    assert fresh.exists() and other.exists()  # younger, or in another folder


def test_a_cache_write_goes_through_no_link_and_outside_the_cache_not_at_all(tmp_path: Path) -> None:
    """What the eval answers and an OCI registry's kept reads write through: a link planted on the way
    (by whoever can write the cache) is never followed, nor is a path outside the cache written."""
    outside = tmp_path / "outside"
    outside.mkdir()
    for planted in (cache_root() / "eval", cache_root() / "oci" / "registry"):
        planted.parent.mkdir(parents=True, exist_ok=True)
        planted.symlink_to(outside, target_is_directory=True)

    write_cache_file(cache_root() / "eval" / "ab" / "abcd.json", b"{}")
    write_cache_file(cache_root() / "oci" / "registry" / "skills+demo" / "tags.json", b"[]")
    write_cache_file(cache_root() / ".." / "outside" / "escaped.json", b"{}")
    write_cache_file(outside / "elsewhere.json", b"{}")

    assert list(outside.iterdir()) == []
