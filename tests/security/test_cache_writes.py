"""A cache someone else wrote: links, folders, files and sparse gigabytes planted in ``$SKILLPM_CACHE_DIR``.

Whoever can write the user's cache (a CI cache restored from a shared key) but not the config
or data folders plants something where skillpm's caches write or read, then the user runs an
ordinary ``install`` or ``sync`` (``hostile.run``: 1 GiB of address space, 30 s). Nothing is
ever written through a planted link, a cache that cannot take a file fails no command, an
entry is read no further than its index's size, and what skillpm makes in the cache is the
user's alone.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from skillpm.atomic import _leftover  # builds what a killed writer leaves, as skillpm itself does
from skillpm.cache import STALE_TEMPORARY_AGE, registry_key
from skillpm.index.model import Variant
from skillpm.registry.directory import LocalRegistry
from tests.conftest import build_source, publish_source
from tests.security.conftest import Hostile, serving

NAME = "demo"


def registry_of(hostile: Hostile, *names: str) -> Path:
    """A static registry folder holding each of ``names`` 1.0.0 (generic)."""
    from skillpm.registry import store

    root = hostile.work / "registry"
    store.init(root)
    for name in names:
        publish_source(root, build_source(hostile.work, name), hostile.work / "dist" / name)
    return root


def variant_of(root: Path, name: str) -> Variant:
    """What the registry's index says of ``name``'s archive: its path and sha256."""
    return LocalRegistry(root, root.as_uri()).require_package(name).versions[0].variants[0]


@pytest.fixture
def served(hostile: Hostile) -> Iterator[tuple[str, Path]]:
    """The URL (with its trailing slash, as skillpm spells it) and folder of a registry served on 127.0.0.1."""
    root = registry_of(hostile, NAME)
    with serving(root) as url:
        yield f"{url}/", root


def victim_folder(hostile: Hostile) -> Path:
    """A folder of the user's outside the cache, holding a file named like an index document."""
    folder = hostile.home / ".docker"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"auths": {"ghcr.io": {"auth": "dXNlcjpzZWNyZXQ="}}}')
    return folder


@pytest.mark.parametrize("spot", ["index", "index/REGISTRY", "artifacts", "artifacts/sha256/XX"])
def test_a_link_planted_in_the_cache_is_never_written_through(hostile: Hostile, served, spot: str) -> None:
    url, root = served
    spot = spot.replace("REGISTRY", registry_key(url)).replace("XX", variant_of(root, NAME).sha256[:2])
    planted = hostile.cache / spot
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.symlink_to(victim_folder(hostile), target_is_directory=True)
    before = hostile.state()

    hostile.ok(hostile.run("install", NAME, "--registry", url))

    assert (hostile.project / ".agents" / "skills" / NAME / "SKILL.md").is_file()
    assert hostile.changed_outside(before, hostile.project, hostile.cache) == []  # ~/.docker as it was
    assert planted.is_symlink()


def plant_deep_leftover(hostile: Hostile, _sha256: str) -> None:
    """A killed write's leftover folder, an hour old, whose entry is a folder nested 300 deep."""
    leftover = hostile.cache / "artifacts" / "sha256" / "00" / ".00aa.0badc0de.skillpm-tmp"
    (leftover / ".skillpm-leftover").mkdir(parents=True)
    os.mkdir(leftover / "data")
    deep = os.open(leftover / "data", os.O_RDONLY)
    for _ in range(300):  # deeper than a path may spell: one level at a time
        os.mkdir("d", dir_fd=deep)
        inner = os.open("d", os.O_RDONLY, dir_fd=deep)
        os.close(deep)
        deep = inner
    os.close(deep)
    past = time.time() - 2 * 3600
    os.utime(leftover, (past, past))


def plant_folder_at_the_entry(hostile: Hostile, sha256: str) -> None:
    (hostile.cache / "artifacts" / "sha256" / sha256[:2] / sha256 / "x").mkdir(parents=True)


def plant_file_for_the_folder(hostile: Hostile, _sha256: str) -> None:
    (hostile.cache / "artifacts").mkdir()
    (hostile.cache / "artifacts" / "sha256").write_text("x")


@pytest.mark.parametrize(
    "plant", [plant_folder_at_the_entry, plant_file_for_the_folder, plant_deep_leftover],
    ids=["folder-at-the-entry", "file-for-the-folder", "deep-leftover"],
)
def test_a_cache_that_cannot_take_the_archive_fails_no_install(hostile: Hostile, served, plant) -> None:
    url, root = served
    variant = variant_of(root, NAME)
    plant(hostile, variant.sha256)

    hostile.ok(hostile.run("install", NAME, "--registry", url))
    hostile.ok(hostile.run("install", url + variant.path, "--sha256", variant.sha256,
                           "--dir", hostile.work / "elsewhere"))  # an archive URL's download, cached by its pin

    assert (hostile.project / ".agents" / "skills" / NAME / "SKILL.md").is_file()
    assert (hostile.work / "elsewhere" / NAME / "SKILL.md").is_file()


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


def test_what_skillpm_makes_in_the_cache_is_private_to_the_user(hostile: Hostile, served) -> None:
    """A private registry's archives and index documents must not be readable by the machine's other users."""
    url, _root = served
    hostile.cache.rmdir()  # made by the command

    hostile.ok(hostile.run("install", NAME, "--registry", url))

    made = [hostile.cache, *hostile.cache.rglob("*")]
    assert any(path.name == "config.json" for path in made)
    assert any(path.parent.parent.name == "sha256" and path.is_file() for path in made)  # the archive
    modes = {str(path.relative_to(hostile.cache)): stat.S_IMODE(path.lstat().st_mode) for path in made}
    assert {name: mode for name, mode in modes.items() if mode & 0o077} == {}


#: Runs ``skillpm ARGV[2:]`` in this process and writes to ARGV[1] each folder it lists, one a line: the
#: ``os.listdir`` and ``os.scandir`` audit events Python raises for each real call.
_LISTINGS = """
import os, runpy, sys
report = open(sys.argv[1], "w")
def hook(event, args):
    if event in ("os.listdir", "os.scandir") and not isinstance(args[0], int):
        report.write(os.fsdecode(os.path.abspath(args[0] or ".")) + "\\n")
sys.addaudithook(hook)
sys.argv = ["skillpm", *sys.argv[2:]]
try:
    runpy.run_module("skillpm", run_name="__main__", alter_sys=True)
finally:
    report.flush()
"""


def test_a_download_lists_each_artifact_folder_once_a_process_and_no_planted_one(hostile: Hostile) -> None:
    """Every download into the cache listed every folder in artifacts/sha256 for killed writes' leftovers:
    256 folders (a filled cache), 1,000 more planted there, three archives: 3,771 listings. The process's
    first download now lists the fan-out once, and the folders skillpm never names not at all; a stale
    leftover in a folder no download goes into still goes, a younger one (maybe a live writer's) stays."""
    names = ["one", "two", "three"]
    registry = registry_of(hostile, *names)
    fan_out = hostile.cache / "artifacts" / "sha256"
    for number in range(256):
        (fan_out / f"{number:02x}").mkdir(parents=True)
    for number in range(1000):
        (fan_out / f"planted-{number}").mkdir()
    digests = {variant_of(registry, name).sha256[:2] for name in names}
    other = next(fan_out / f"{number:02x}" for number in range(256) if f"{number:02x}" not in digests)
    stale, fresh = (_leftover(other / ("ab" * 32), "tmp") for _ in range(2))
    for path in (stale, fresh):
        path.write_bytes(b"half a download")
    past = time.time() - STALE_TEMPORARY_AGE - 60
    os.utime(stale.parent, (past, past))
    report = hostile.work / "listed"

    hostile.ok(hostile.run(report, "install", *names, "--registry", registry, code=_LISTINGS))

    listed = Counter(Path(line) for line in report.read_text().splitlines())
    under = {path: count for path, count in listed.items() if path == fan_out or path.parent == fan_out}
    assert under == {fan_out: 1, **{fan_out / f"{number:02x}": 1 for number in range(256)}}, sum(under.values())
    assert not stale.parent.exists() and fresh.parent.exists()
    assert all((hostile.project / ".agents" / "skills" / name / "SKILL.md").is_file() for name in names)
