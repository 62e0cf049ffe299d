"""skillpm.locks: several folder locks held together, in one order, leaving no folder they made behind.

Another process holding a lock is a real one: a child Python that takes the same ``flock``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from skillpm.locks import FolderLock, FolderLocks

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock")

HOLD = """
import fcntl, os, sys, time
handle = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
fcntl.flock(handle, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def holding(folder: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the lock of ``folder`` for ``seconds``, once it said so."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(folder), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline() == "held\n"
    return process


def test_folders_it_made_are_removed_when_empty_and_kept_when_not(tmp_path: Path) -> None:
    empty, used, there = tmp_path / "a" / "b" / "skills", tmp_path / "c" / "skills", tmp_path / "there"
    there.mkdir()
    with FolderLocks() as locks:
        assert locks.take([empty, used, there])
        assert empty.is_dir() and used.is_dir()
        (used / "alpha").mkdir()

    assert sorted(os.listdir(tmp_path)) == ["c", "there"]  # a/b/skills and the a/b it made are gone
    assert os.listdir(tmp_path / "c" / "skills") == ["alpha"]


def test_existing_folders_are_locked_only_when_there(tmp_path: Path) -> None:
    there, missing = tmp_path / "there", tmp_path / "missing"
    there.mkdir()
    with FolderLocks() as locks:
        assert locks.take([], existing=[there, missing])
        assert locks.holds(there) and not locks.holds(missing)
    assert sorted(os.listdir(tmp_path)) == ["there"]


def test_a_folder_named_twice_or_through_a_link_is_locked_once(tmp_path: Path) -> None:
    """Two descriptors of one folder would wait for each other in one process: forever."""
    folder = tmp_path / "skills"
    folder.mkdir()
    (tmp_path / "link").symlink_to(folder)
    with FolderLocks() as locks:
        assert locks.take([folder, tmp_path / "link"])
        assert locks.take([tmp_path / "link"])
        assert holds_elsewhere(folder)


@pytest.mark.parametrize(("held", "wanted", "kept"), [("a", "b", True), ("b", "a", False)], ids=["in-order", "out-of-order"])
def test_a_lock_held_elsewhere_is_waited_for_in_order_else_after_letting_go_of_the_others(
    tmp_path: Path, held: str, wanted: str, kept: bool
) -> None:
    """Holding 'a' and wanting 'b', it waits. Holding 'b' and wanting 'a', held elsewhere, waiting could close a
    circle: 'b' is let go of first (take says so: False), then both are taken in order."""
    for name in "ab":
        (tmp_path / name).mkdir()
    with FolderLocks() as locks:
        assert locks.take([tmp_path / held])
        other = holding(tmp_path / wanted, 0.5)
        began = time.monotonic()
        try:
            assert locks.take([tmp_path / wanted]) is kept
        finally:
            other.wait()
        assert time.monotonic() - began > 0.2
        assert holds_elsewhere(tmp_path / "a") and holds_elsewhere(tmp_path / "b")


def test_a_waiter_whose_folder_was_removed_meanwhile_locks_the_one_there_then(tmp_path: Path) -> None:
    """The holder made the folder and removes it, empty, when done (and another run makes it again):
    the waiter's descriptor names a removed folder, so it locks the one there now."""
    folder = tmp_path / "skills"
    folder.mkdir()
    other = holding(folder, 0.6)
    outcome: list[bool] = []

    def wait_then_check() -> None:
        with FolderLock(folder):
            outcome.append(holds_elsewhere(folder))

    waiter = threading.Thread(target=wait_then_check)
    waiter.start()
    time.sleep(0.3)  # the waiter has opened the folder and waits
    os.rmdir(folder)
    folder.mkdir()
    other.wait()
    waiter.join(timeout=30)
    assert outcome == [True]


def holds_elsewhere(folder: Path) -> bool:
    """Whether another process finds the lock of ``folder`` taken."""
    probe = "import fcntl, os, sys\nh = os.open(sys.argv[1], os.O_RDONLY)\ntry:\n fcntl.flock(h, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept BlockingIOError:\n sys.exit(3)"
    return subprocess.run([sys.executable, "-c", probe, str(folder)]).returncode == 3
