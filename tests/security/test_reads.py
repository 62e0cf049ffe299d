"""Files that are not what they claim: fifos, /dev/zero behind a link, folders, sparse gigabytes.

Every file skillpm reads from a project, a registry or a cache goes through one bounded
reader (``skillpm.reading``): regular files only, opened without blocking, and never more
than the limit for that kind of file. Each case plants one such file where a command reads
it, runs the real command line (``hostile.run``: 1 GB of address space, 30 s; a fifo read
without care blocks until the timeout, /dev/zero or a sparse file exhausts the memory), and
checks for one ``error:`` line naming the file, and that nothing changed outside the cache.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Callable

import pytest

from tests.conftest import build_source, skill_md
from tests.security.conftest import Hostile

KINDS = ("fifo", "dev-zero", "directory", "sparse-1gib")
#: What the one error line says for each kind (one of these; click itself refuses a folder for a file option).
PHRASES = {"fifo": ("not a regular file",), "dev-zero": ("not a regular file",),
           "directory": ("not a regular file", "is a directory"), "sparse-1gib": ("larger than",)}


def plant(path: Path, kind: str) -> None:
    """Put a hostile file of ``kind`` at ``path`` (replacing what is there)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "directory":
        path.mkdir()
        (path / "inside").write_text("x")
    else:
        with path.open("wb") as handle:
            handle.truncate(1 << 30)


def registry_with(hostile: Hostile, *key: str | Path) -> Path:
    """A directory registry holding 'demo' 1.0.0 (signed with ``--key KEY`` if given), made through the CLI."""
    source = build_source(hostile.work, "demo")
    registry, dist = hostile.work / "registry", hostile.work / "dist"
    hostile.ok(hostile.run("registry", "init", registry, *key))
    hostile.ok(hostile.run("pack", source, "-o", dist))
    hostile.ok(hostile.run("registry", "add", registry, *sorted(dist.iterdir()), *key))
    return registry


def upskill_dir(hostile: Hostile) -> Path:
    """An upskill output folder: SKILL.md and skill_meta.json."""
    folder = hostile.work / "upskill-out"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(skill_md("demo", "Does one thing."))
    (folder / "skill_meta.json").write_text(json.dumps({"metadata": {"version": "1.2.0"}}))
    return folder


Setup = Callable[[Hostile], tuple[Path, list[str | Path], str]]


def manifest(hostile: Hostile) -> tuple[Path, list[str | Path], str]:
    source = build_source(hostile.work, "demo")
    return source / "skillpm.toml", ["pack", source, "-o", hostile.work / "dist"], "skillpm.toml"


def lockfile(hostile: Hostile) -> tuple[Path, list[str | Path], str]:
    return hostile.project / "skills.lock", ["sync"], "skills.lock"


def user_config(hostile: Hostile) -> tuple[Path, list[str | Path], str]:
    return hostile.home / ".config" / "skillpm" / "config.toml", ["install", "demo"], "config.toml"


def index_document(hostile: Hostile) -> tuple[Path, list[str | Path], str]:
    registry = registry_with(hostile)
    document = next((registry / "index").rglob("demo.json"))
    return document, ["install", "demo", "--registry", registry, "--arch", "9.0"], "demo.json"


def registry_config(hostile: Hostile) -> tuple[Path, list[str | Path], str]:
    registry = registry_with(hostile)
    return registry / "config.json", ["search", "demo", "--registry", registry], "config.json"


def stray_index_document(hostile: Hostile) -> tuple[Path, list[str | Path], str]:
    """'registry add' to a signed registry hashes every index document on disk into the new snapshot."""
    key = hostile.work / "index.key"
    hostile.ok(hostile.run("keygen", "-o", key))
    registry = registry_with(hostile, "--key", key)
    dist = hostile.work / "dist-other"
    hostile.ok(hostile.run("pack", build_source(hostile.work, "other"), "-o", dist))
    args: list[str | Path] = ["registry", "add", registry, *dist.iterdir(), "--key", key]
    return registry / "index" / "zz" / "zz" / "zzzz.json", args, "zzzz.json"


def adopted_skill_md(hostile: Hostile) -> tuple[Path, list[str | Path], str]:
    folder = upskill_dir(hostile)
    return folder / "SKILL.md", ["init", "--from", folder], "SKILL.md"


def trusted_index_key(hostile: Hostile) -> tuple[Path, list[str | Path], str]:
    registry = registry_with(hostile)
    key = hostile.work / "index-key.pub"
    return key, ["registry", "trust", registry, "--index-key", key], "index-key.pub"


def upskill_result(hostile: Hostile) -> tuple[Path, list[str | Path], str]:
    source = build_source(hostile.work, "demo", common={"skill_meta.json": json.dumps(
        {"skill_name": "demo", "tests": [{"input": "q", "expected": {"contains": ["a"]}}]})})
    runs = hostile.work / "runs"
    return runs / "run_1" / "run_result.json", ["eval", source, "--import-upskill", runs], "run_result.json"


SETUPS: dict[str, Setup] = {
    "skills.lock": lockfile,
    "skillpm.toml": manifest,
    "user-config": user_config,
    "index-document": index_document,
    "registry-config-json": registry_config,
    "stray-index-document-on-add": stray_index_document,
    "init-from-SKILL.md": adopted_skill_md,
    "registry-trust-key": trusted_index_key,
    "eval-upskill-result": upskill_result,
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("setup", SETUPS.values(), ids=SETUPS.keys())
def test_hostile_file_is_refused_without_reading_it(hostile: Hostile, setup: Setup, kind: str) -> None:
    """Threat: a file skillpm reads (lockfile, config, index document, SKILL.md, skill_meta.json, a key,
    upskill results) is a fifo (blocks the reader forever), a link to /dev/zero or a sparse 1 GiB file
    (exhausts memory), or a folder. Defence: regular files only, opened without blocking, read to a
    per-kind limit; one error line naming the file, nothing written outside the cache."""
    path, args, name = setup(hostile)
    plant(path, kind)
    before = hostile.state()
    line = hostile.refused(hostile.run(*args), name)
    # a directory registry's file, a skill's own file or an upskill result that is a link (to /dev/zero) is
    # refused before it is opened
    linked_out = {index_document: "leads out of the registry through a link", registry_config:
                  "leads out of the registry through a link", manifest: "a link that leads out of the skill's folder",
                  adopted_skill_md: "a link that leads out of the skill's folder",
                  upskill_result: "through a link; not read"}
    phrases = (linked_out[setup],) if kind == "dev-zero" and setup in linked_out else PHRASES[kind]
    assert any(phrase in line for phrase in phrases), line
    assert hostile.changed_outside(before, hostile.cache) == []


@pytest.mark.parametrize("kind", KINDS)
def test_init_from_passes_over_a_hostile_skill_meta_json_without_reading_it(hostile: Hostile, kind: str) -> None:
    """Threat: upskill output whose skill_meta.json is a fifo, a link to /dev/zero, a sparse 1 GiB file or
    a folder. Defence: it is read as every such file is (regular files only, opened without blocking, to
    the eval-file limit); init --from takes only a licence from it, so one it cannot read is passed over,
    as validate and pack pass it over, and the manifest is written."""
    folder = upskill_dir(hostile)
    plant(folder / "skill_meta.json", kind)
    before = hostile.state()
    hostile.ok(hostile.run("init", "--from", folder))
    assert (folder / "skillpm.toml").is_file()
    assert hostile.changed_outside(before, hostile.cache, folder) == []


def test_oversized_eval_test_file_is_refused(hostile: Hostile) -> None:
    """Threat: a skill source's skill_meta.json (its eval test cases) of a sparse gigabyte.
    Defence: read to the eval-file limit; one line naming it."""
    source = build_source(hostile.work, "demo")
    plant(source / "skill_meta.json", "sparse-1gib")
    runs = hostile.work / "runs" / "run_1"
    runs.mkdir(parents=True)
    (runs / "run_result.json").write_text("{}")
    completed = hostile.run("eval", source, "--import-upskill", runs.parent)
    hostile.refused(completed, "skill_meta.json", "larger than")


def test_a_small_file_under_a_large_limit_costs_its_size_not_the_limit(tmp_path: Path) -> None:
    """Threat (availability): reading a 1 kB archive with the 256 MiB archive limit allocated 256 MiB up
    front, so installs died of MemoryError where memory is tight (1 GB of address space here)."""
    import subprocess
    import sys

    small, grown = tmp_path / "small", tmp_path / "grown"
    small.write_bytes(b"x" * 1000)
    grown.write_bytes(b"y" * (3 << 20))
    script = (
        "import resource, sys\n"
        "from skillpm.reading import MAX_ARTIFACT_SIZE, read_regular_file\n"
        "resource.setrlimit(resource.RLIMIT_AS, (160 << 20, 160 << 20))\n"
        f"assert read_regular_file({str(small)!r}, MAX_ARTIFACT_SIZE) == b'x' * 1000\n"
        f"assert len(read_regular_file({str(grown)!r}, 1 << 20)) == (1 << 20) + 1\n"
        f"assert read_regular_file({str(grown)!r}, 4 << 20) == b'y' * (3 << 20)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
