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
    """Start every command at once, each with a cache of its own; wait for all (and check each exited 0)."""
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
        assert result.returncode in ((0,) if all_succeed else (0, 1)), (result.args, result.stderr)
        assert "Traceback" not in result.stderr, (result.args, result.stderr)
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


def test_concurrent_registry_inits_of_one_folder_make_one_registry_and_refuse_the_others(hostile) -> None:
    """Four 'registry init' of one new folder at once, each with its own name and index key: they all said
    'created', and the folder could hold config.json, snapshot.json, its signature and keys/index.pub of
    different runs, which every client refused. One wins; the others are refused, and clients read it."""
    from skillpm.attest.keys import keygen

    keys = [keygen(hostile.work / "keys" / f"k{index}") for index in range(4)]
    for round in range(8):
        root = hostile.work / f"registry-{round}"
        argvs = [["registry", "init", str(root), "--name", f"run-{index}", "--key", str(key.private_path)]
                 for index, key in enumerate(keys)]

        results = run_together(hostile, argvs, [hostile.work] * len(argvs), all_succeed=False)

        [winner] = [index for index, result in enumerate(results) if result.returncode == 0]
        for index, result in enumerate(results):
            if index != winner:
                hostile.refused(result, f"{root} already holds a registry")
        config = json.loads((root / "config.json").read_text())
        assert (config["name"], config["index-keys"]) == (f"run-{winner}", [keys[winner].fingerprint])
        assert (root / "keys" / "index.pub").read_bytes() == keys[winner].public_path.read_bytes()
        hostile.ok(hostile.run("search", "anything", "--registry", root,
                               env={"SKILLPM_CACHE_DIR": str(hostile.root / f"client-{round}")}))
