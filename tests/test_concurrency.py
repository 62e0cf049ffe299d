"""Concurrency: eight ``skillpm install`` and ``sync`` processes on one project and one cache, started together.

Every command that changes a lockfile holds its lock (skillpm.locks) and the
cache is written with atomic renames, so each process must exit 0 (never a
traceback), and afterwards the lockfile lists every skill, every directory
holds exactly its entry's tree, every cache entry hashes to its name, and no
temporary file, staging tree or aside tree is left.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

from conftest import _console_script
from test_crash_safety import archive_tree, leftovers, tree_of

KERNEL = "kernel-helper"


def commands(registry: Path) -> list[list[str]]:
    source = ["--registry", str(registry), "--arch", "9.0"]
    return [
        ["install", KERNEL, *source],
        ["install", KERNEL, *source],
        ["install", "doc-writer", *source],
        ["install", "doc-writer", "gamma", *source],
        ["install", "gamma", *source],
        ["install", "delta", *source, "--dir", "vendor/skills"],
        ["install", "delta", "gamma", *source],
        ["sync"],
    ]


def run_together(argvs: list[list[str]], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    env = {**os.environ, "NO_COLOR": "1"}
    processes = [
        subprocess.Popen([_console_script(), *argv], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for argv in argvs
    ]
    results = []
    try:
        for argv, process in zip(argvs, processes):
            stdout, stderr = process.communicate(timeout=120)
            results.append(subprocess.CompletedProcess(argv, process.returncode, stdout, stderr))
    finally:
        for process in processes:  # one hung: the test fails, and leaves no process behind
            if process.poll() is None:
                process.kill()
                process.communicate()
    return results


def check_project(isolated, registry: Path) -> None:
    entries = tomllib.loads(isolated.lockfile.read_text())["skill"]
    assert sorted((e["name"], e["directory"]) for e in entries) == [
        ("delta", ".agents/skills/delta"),
        ("delta", "vendor/skills/delta"),
        ("doc-writer", ".agents/skills/doc-writer"),
        ("gamma", ".agents/skills/gamma"),
        (KERNEL, f".agents/skills/{KERNEL}"),
    ]
    for entry in entries:
        archive = registry / entry["path"]
        assert hashlib.sha256(archive.read_bytes()).hexdigest() == entry["sha256"]
        assert tree_of(isolated.project / entry["directory"]) == archive_tree(archive), entry["directory"]
        for link in entry.get("links", []):  # each agent's link leads to the one copy
            assert (isolated.project / link).resolve() == (isolated.project / entry["directory"]).resolve(), link
    assert leftovers(isolated) == []
    cached = [path for path in isolated.cache.rglob("*") if path.is_file() and "locks" not in path.parts]
    assert cached and all(path.parent.parent.name == "sha256" for path in cached), cached  # no temporary files
    for path in cached:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name


def test_eight_processes_on_one_project_and_one_cache(isolated, registry: Path, make_source, publish, tmp_path: Path) -> None:
    for name in ("gamma", "delta"):
        publish(registry, make_source(tmp_path, name, {"generic": {"notes.md": f"{name}\n"}}))

    for round in range(3):
        results = run_together(commands(registry), isolated.project)
        for result in results:
            assert result.returncode == 0 and "Traceback" not in result.stderr, (round, result.args, result.stderr)
        check_project(isolated, registry)
        # The next round starts from a cold cache and a damaged project.
        shutil.rmtree(isolated.cache / "artifacts")
        shutil.rmtree(isolated.skills / "gamma")
        (isolated.project / "vendor" / "skills" / "delta" / "notes.md").write_text("edited\n")
