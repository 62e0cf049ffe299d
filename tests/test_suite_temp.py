"""Where the suite keeps its temporary files: in memory (a tmpfs) where the machine has one to spare."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import memory_temp_root


def _mounts(tmp_path: Path, kind: str) -> str:
    table = tmp_path / "mounts"
    table.write_text(f"sysfs /sys sysfs rw 0 0\nshm /dev/shm {kind} rw,nosuid,nodev 0 0\n/dev/vda / ext4 rw 0 0\n")
    return str(table)


def test_only_a_tmpfs_is_taken(tmp_path: Path) -> None:
    assert memory_temp_root(_mounts(tmp_path, "ext4")) is None
    assert memory_temp_root(str(tmp_path / "no-such-table")) is None
    if memory_temp_root() is not None:  # this machine's /dev/shm is one, with room
        assert memory_temp_root(_mounts(tmp_path, "tmpfs")) == "/dev/shm"


@pytest.mark.skipif(memory_temp_root() is None, reason="no tmpfs with room to spare at /dev/shm")
def test_a_run_that_names_no_temporary_folder_keeps_its_files_in_memory(tmp_path: Path) -> None:
    """pytest and xdist's workers take the folder as the run starts, so a later choice would be lost silently."""
    env = {key: value for key, value in os.environ.items() if key not in ("TMPDIR", "PYTEST_XDIST_WORKER")}
    test = tmp_path / "test_where.py"
    test.write_text(f"def test_where(tmp_path):\n    open({str(tmp_path / 'where')!r}, 'w').write(str(tmp_path))\n")
    conftest = Path(__file__).with_name("conftest.py")
    (tmp_path / "conftest.py").write_text(conftest.read_text())
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", str(test)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    where = (tmp_path / "where").read_text()
    assert where.startswith("/dev/shm/"), where
