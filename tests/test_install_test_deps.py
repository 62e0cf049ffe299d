""".ci/install-test-deps: installs the missing ones of chromium, chromium-driver, docker-registry and
apache2-utils with apt-get, else nothing; never fails."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "install-test-deps"
TOOLS = ("bash", "id", "mktemp", "rm", "tail", "timeout", "env", "cat")


def run(bin_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/bin/bash", str(SCRIPT)], env={"PATH": str(bin_dir)}, capture_output=True, text=True, timeout=60)


def stub(bin_dir: Path, name: str, body: str = "exit 0") -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(0o755)


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """A PATH holding only the few tools the script uses (so this machine's chromium is not on it)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found, tool
        (folder / tool).symlink_to(found)
    return folder


ALL = "chromium chromium-driver docker-registry apache2-utils"


def test_nothing_is_done_when_all_are_installed(bin_dir: Path, tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    stub(bin_dir, "apt-get", f'echo "$@" >> {calls}')
    for program in ("chromium", "chromedriver", "docker-registry", "htpasswd"):
        stub(bin_dir, program)
    done = run(bin_dir)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert not calls.exists()


def test_without_apt_get_it_warns_and_succeeds(bin_dir: Path) -> None:
    done = run(bin_dir)
    assert done.returncode == 0 and done.stdout == ""
    assert done.stderr == f"warning: apt-get is not available to install {ALL}; the tests that need them will be skipped\n"


def test_only_the_missing_packages_are_named(bin_dir: Path) -> None:
    stub(bin_dir, "chromium")
    stub(bin_dir, "chromedriver")
    stub(bin_dir, "htpasswd")
    done = run(bin_dir)
    assert "to install docker-registry;" in done.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="the install path runs apt-get as root; this test runs as another user")
def test_as_root_it_updates_and_installs_all_quietly(bin_dir: Path, tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    stub(bin_dir, "apt-get", f'echo "$@" >> {calls}; echo lots of apt output')
    done = run(bin_dir)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    update, install = calls.read_text().splitlines()
    assert update.endswith(" update") and install.endswith(f" install --no-install-recommends {ALL}")
    assert "-y" in install.split()


@pytest.mark.skipif(os.geteuid() != 0, reason="the install path runs apt-get as root; this test runs as another user")
def test_a_failed_install_is_a_warning_not_a_failure(bin_dir: Path) -> None:
    stub(bin_dir, "apt-get", 'echo "E: Unable to locate package chromium" >&2; exit 100')
    done = run(bin_dir)
    assert done.returncode == 0
    assert "Unable to locate package chromium" in done.stderr
    assert done.stderr.endswith(f"warning: apt-get could not install {ALL}; the tests that need them will be skipped\n")


def test_without_root_or_sudo_it_warns_and_installs_nothing(bin_dir: Path, tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    stub(bin_dir, "apt-get", f'echo "$@" >> {calls}')
    (bin_dir / "id").unlink()
    stub(bin_dir, "id", "echo 1000")
    done = run(bin_dir)
    assert done.returncode == 0 and not calls.exists()
    assert "needs root (or password-less sudo)" in done.stderr
