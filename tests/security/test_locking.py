"""Class 8: lost updates when concurrent writers of one project (or registry) take different locks.

The lock used to be a file in the cache folder, so processes with different ``SKILLPM_CACHE_DIR``
(two terminals, a CI job and a user, a container) each took their own lock and overwrote each
other's skills.lock. Each case starts real processes together, each with its own cache, and checks
that every one's change is recorded and no file was added to the project for the lock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import build_source, publish_source

NAMES = [f"pkg-{letter}" for letter in "abcdefgh"]


@pytest.fixture
def eight_packages(registry: Path, tmp_path: Path) -> Path:
    """The test registry plus eight small packages."""
    for name in NAMES:
        source = build_source(tmp_path / "eight", name, {"generic": {"notes.md": f"{name}\n"}})
        publish_source(registry, source, tmp_path / "dist-eight" / name)
    return registry


def run_together(
    hostile, argvs: list[list[str]], cwds: list[Path], *, all_succeed: bool = True
) -> list[subprocess.CompletedProcess[str]]:
    """Start every command at once, each with a cache of its own; wait for all (each must succeed, by default)."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "skillpm", *argv], cwd=cwd,
            env=hostile.env(SKILLPM_CACHE_DIR=str(hostile.root / f"cache-{index}")),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for index, (argv, cwd) in enumerate(zip(argvs, cwds))
    ]
    results = []
    for argv, process in zip(argvs, processes):
        stdout, stderr = process.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(argv, process.returncode, stdout, stderr))
    for result in results:
        assert "Traceback" not in result.stderr, (result.args, result.stderr)
        assert result.returncode == 0 or not all_succeed, (result.args, result.stderr)
    return results


def recorded(project: Path) -> list[str]:
    return sorted(entry["name"] for entry in tomllib.loads((project / "skills.lock").read_text())["skill"])


def test_eight_installs_with_eight_caches_are_all_recorded(hostile, eight_packages: Path) -> None:
    """Eight 'install' processes into one project, each with its own cache: all eight in skills.lock."""
    argvs = [["install", name, "--registry", str(eight_packages)] for name in NAMES]

    run_together(hostile, argvs, [hostile.project] * len(argvs))

    assert recorded(hostile.project) == NAMES
    for name in NAMES:
        assert (hostile.project / ".claude" / "skills" / name / "notes.md").read_text() == f"{name}\n"
    assert sorted(os.listdir(hostile.project)) == [".agents", ".claude", ".git", "skills.lock"]  # no lock file left here
    for folder in (".agents", ".claude"):
        assert sorted(os.listdir(hostile.project / folder / "skills")) == NAMES  # no leftover folder or link


def test_writers_reaching_the_project_through_a_link_share_its_lock(hostile, eight_packages: Path) -> None:
    """Half the processes work in the project through a linked path, and every one has its own cache."""
    link = hostile.root / "project-link"
    link.symlink_to(hostile.project)
    argvs = [["install", name, "--registry", str(eight_packages)] for name in NAMES[:4]]
    argvs += [["install", name, "--registry", str(eight_packages), "--dir", "vendor"] for name in NAMES[4:]]

    run_together(hostile, argvs, [hostile.project, link] * 4)

    assert recorded(hostile.project) == NAMES


def test_concurrent_removes_and_installs_with_their_own_caches(hostile, eight_packages: Path) -> None:
    """Four skills removed while four others are installed, all with their own caches."""
    hostile.ok(hostile.run("install", *NAMES[:4], "--registry", eight_packages))
    argvs = [["remove", name] for name in NAMES[:4]]
    argvs += [["install", name, "--registry", str(eight_packages)] for name in NAMES[4:]]

    run_together(hostile, argvs, [hostile.project] * len(argvs))

    assert recorded(hostile.project) == NAMES[4:]
    for folder in (".agents", ".claude"):
        assert sorted(os.listdir(hostile.project / folder / "skills")) == NAMES[4:]


def test_concurrent_registry_adds_with_their_own_caches_are_all_published(hostile, registry: Path) -> None:
    """Four 'registry add' processes into one registry: the registry's own folder is locked, not a cache file."""
    from skillpm.pack import pack

    archives = []
    for name in NAMES[:4]:
        source = build_source(hostile.work, name, {"generic": {"notes.md": f"{name}\n"}})
        archives += [str(built.path) for built in pack(source, hostile.work / "dist" / name)]
    argvs = [["registry", "add", str(registry), archive] for archive in archives]

    run_together(hostile, argvs, [hostile.work] * len(argvs))

    search = json.loads((registry / "search.json").read_text())
    assert set(NAMES[:4]) <= {package["name"] for package in search["packages"]}


def test_concurrent_inits_of_one_folder_make_one_skeleton(hostile) -> None:
    """Eight 'skillpm init' of one folder at once each checked that it held no skillpm.toml, then wrote, so
    several said 'created' and the folder could hold one's SKILL.md beside another's skillpm.toml (found in a
    hostile review): the folder is locked while it is checked and written."""
    folder = hostile.work / "new-skill"
    argvs = [["init", str(folder), "--name", "new-skill", "--description", f"Version {n}. Use when testing."]
             for n in range(8)]
    results = run_together(hostile, argvs, [hostile.work] * 8, all_succeed=False)
    made = [result for result in results if result.returncode == 0]
    assert len(made) == 1, [result.stderr for result in results]
    for result in results:
        if result.returncode != 0:
            hostile.refused(result, "already exists")
    description = (folder / "skillpm.toml").read_text().split('description = "')[1].split('"')[0]
    assert description in (folder / "SKILL.md").read_text()
