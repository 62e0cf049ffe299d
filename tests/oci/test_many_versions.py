"""A package of many versions on a real OCI registry: each command reads the version indexes it needs, no others.

An OCI registry keeps each version's entry in the index its tag holds, one request apiece. Resolving
read every version's index first, so one ``install`` from a repository of 10,000 version tags used up
the command's 300 s deadline. Versions now come from the tag names, and indexes are read highest
candidate first, stopping at the first that suits. The registry's own access log counts the reads.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import urllib.request
import uuid
from collections.abc import Mapping
from pathlib import Path

import pytest

from skillpm.atomic import _leftover
from skillpm.cache import STALE_TEMPORARY_AGE, registry_key
from skillpm.index.model import VersionEntry
from skillpm.registry.oci import layout, tags
from skillpm.registry.oci.registry import OciRegistry

from conftest import build_source
from test_publish import one_error, skillpm

from .conftest import RunningRegistry

NAME = "layer-norm"
VARIANTS = {"generic": {}, "sm_90a": {"references/hopper.md": "Hopper notes.\n"}}
#: Versions below the published one: each a tag, an index and nothing else.
OLDER = [f"1.0.{n}" for n in range(300)]


class AccessLog:
    """The version indexes (by tag) a registry served, from its access log (``docker-registry`` logs each request)."""

    def __init__(self, running: RunningRegistry) -> None:
        self.running = running
        self.start = 0

    def mark(self) -> None:
        """Count from here on."""
        self.start = self.running.log.stat().st_size

    def index_reads(self) -> list[str]:
        """The tags whose manifest was fetched since :meth:`mark`, in order.

        A request sent after the command is waited for in the log first: the registry logs a
        request as it finishes answering it, so the command's last one is then in the log too.
        """
        token = uuid.uuid4().hex
        urllib.request.urlopen(f"http://{self.running.host}/v2/?after={token}", timeout=10)  # noqa: S310 - loopback
        for _ in range(200):
            text = self.running.log.read_bytes()[self.start:].decode(errors="replace")
            if token in text:
                break
            time.sleep(0.05)
        references = re.findall(rf'"(?:GET|HEAD) /v2/skills/{NAME}/manifests/([^ "]+) HTTP', text)
        return [reference for reference in references if not reference.startswith("sha256:")]


def _ok(*args: object) -> str:
    result = skillpm(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


def _published(oci_registry: RunningRegistry, tmp_path: Path) -> tuple[str, OciRegistry, VersionEntry]:
    """layer-norm 2.0.0 (generic, sm_90a) published to the registry; its URL, a reader, and its entry."""
    url = f"oci://{oci_registry.host}/skills"
    _ok("publish", build_source(tmp_path, NAME, VARIANTS, version="2.0.0"), "--registry", url)
    oci = OciRegistry(url)
    entry = oci.version_entry(NAME, "2.0.0")
    assert entry is not None
    return url, oci, entry


def _tag(oci: OciRegistry, entry: VersionEntry, version: str, targets: Mapping[str, str] | None = None, *,
         yanked: bool = False) -> None:
    """Tag ``version``: an index like ``entry``'s, whose variants (``targets``: each new target and the
    target of ``entry`` whose pushed manifest it lists) are ``yanked`` or not. One manifest pushed, no blob:
    such a version is never installed, only resolved."""
    own = {variant.target: variant for variant in entry.variants}
    targets = targets or {target: target for target in own}
    manifests = {target: layout.variant_manifest(NAME, entry.version, own[real]) for target, real in targets.items()}
    variants = tuple(own[real]._replace(target=target, yanked=yanked) for target, real in targets.items())
    index = layout.version_index(NAME, entry._replace(version=version, variants=variants), manifests)
    oci.client.push_manifest(oci.location.repository(NAME), tags.tag_for(version), index, layout.INDEX_TYPE)


def test_commands_read_one_version_index_of_a_package_of_many_versions(
    oci_registry: RunningRegistry, isolated, tmp_path: Path
) -> None:
    """install, resolve, info of one version, outdated, update and sync of the locked version each read
    the index of 2.0.0 alone, whatever the 300 versions below it."""
    url, oci, entry = _published(oci_registry, tmp_path)
    for version in OLDER:
        _tag(oci, entry, version)
    log = AccessLog(oci_registry)
    for command in (
        ("resolve", NAME, "--arch", "h100", "--registry", url),
        ("install", NAME, "--arch", "h100", "--registry", url),
        ("info", f"{NAME}==2.0.0", "--registry", url),
        ("outdated",),
        ("update", "--dry-run"),
    ):
        log.mark()
        _ok(*command)
        assert log.index_reads() == ["2.0.0"], command
    shutil.rmtree(isolated.skills / NAME)
    log.mark()
    _ok("sync")
    assert log.index_reads() == ["2.0.0"]
    assert (isolated.skills / NAME / "references" / "hopper.md").is_file()


def test_resolution_reads_down_from_the_highest_candidate_to_the_first_that_suits(
    oci_registry: RunningRegistry, isolated, tmp_path: Path
) -> None:
    """Above 2.0.0: 2.1.0 wholly yanked, 2.2.0 only for sm_100a, 3.0.0rc1 a pre-release no requirement
    asks for. An H100 gets 2.0.0 sm_90a, as from a document of every version, reading the indexes of
    2.2.0, 2.1.0 and 2.0.0: never the pre-release's, nor those below the version taken. --explain shows
    a version it did not read as one row whose target is not known."""
    url, oci, entry = _published(oci_registry, tmp_path)
    for version in OLDER[:20]:
        _tag(oci, entry, version)
    _tag(oci, entry, "2.1.0", yanked=True)
    _tag(oci, entry, "2.2.0", {"sm_100a": "sm_90a"})
    _tag(oci, entry, "3.0.0rc1")
    log = AccessLog(oci_registry)
    log.mark()
    resolved = json.loads(_ok("resolve", NAME, "--arch", "h100", "--registry", url, "--json", "--explain"))
    assert (resolved["version"], resolved["target"]) == ("2.0.0", "sm_90a")
    assert log.index_reads() == ["2.2.0", "2.1.0", "2.0.0"]
    rows = [(row["version"], row["target"], row["reason"].split(":")[0]) for row in resolved["candidates"]]
    assert rows[:7] == [
        ("3.0.0rc1", None, "version does not match the requirement"),
        ("2.2.0", "sm_100a", "skipped"),
        ("2.1.0", "generic", "skipped"),
        ("2.1.0", "sm_90a", "skipped"),
        ("2.0.0", "sm_90a", "taken"),
        ("2.0.0", "generic", "usable, but sm_90a ranks higher"),
        ("1.0.19", None, "not considered"),
    ]
    log.mark()
    refused = skillpm("install", f"{NAME}>=2.1", "--arch", "h100", "--registry", url)
    assert one_error(refused) == (f"error: no variant of {NAME} suits capability 9.0 (variants: generic, sm_100a, "
                                  "sm_90a)")
    assert log.index_reads() == ["2.2.0", "2.1.0"]  # final releases match, so the pre-release is no candidate
    log.mark()
    _ok("install", NAME, "--arch", "h100", "--registry", url)
    assert log.index_reads() == ["2.2.0", "2.1.0", "2.0.0"]


def test_two_tags_of_one_version_are_refused_before_any_index_is_read(
    oci_registry: RunningRegistry, isolated, tmp_path: Path
) -> None:
    url, oci, entry = _published(oci_registry, tmp_path)
    for version in [*OLDER[:20], "2.0.0.0"]:
        _tag(oci, entry, version)
    log = AccessLog(oci_registry)
    log.mark()
    refused = one_error(skillpm("install", f"{NAME}==1.0.3", "--registry", url))
    assert "tags '2.0.0' and '2.0.0.0' are one version" in refused or "tags '2.0.0.0' and '2.0.0'" in refused
    assert log.index_reads() == []


def test_a_broken_version_index_is_refused_when_resolution_reaches_it(
    oci_registry: RunningRegistry, isolated, tmp_path: Path
) -> None:
    """A tag holding another version's index is refused, as when every index was read, once resolution
    reads it: above the version taken it stops the install; below it, it is never read."""
    url, oci, entry = _published(oci_registry, tmp_path)
    repository = oci.location.repository(NAME)
    index, _ = oci.client.manifest(repository, "2.0.0", layout.INDEX_TYPE)
    oci.client.push_manifest(repository, "1.5.0", index, layout.INDEX_TYPE)
    _ok("install", NAME, "--arch", "h100", "--registry", url)
    oci.client.push_manifest(repository, "2.5.0", index, layout.INDEX_TYPE)
    refused = one_error(skillpm("install", NAME, "--arch", "h100", "--registry", url))
    assert refused.endswith(f"/skills/{NAME}:2.5.0: the tag holds version '2.0.0'"), refused


def test_a_tag_holding_an_underscore_is_read_to_know_its_version(
    oci_registry: RunningRegistry, isolated, tmp_path: Path
) -> None:
    """Tag 2.0_post1 is 2.0.post1 (PEP 440's '_' separator), above 2.0.0, or 2.0+post1 (a '+' written '_'), a
    local version never taken: only its index says which, so it is read when the walk reaches 2.0.post1 and
    the choice is the one the whole document gives."""
    url, oci, entry = _published(oci_registry, tmp_path)
    for version in [*OLDER[:20], "2.0_post1"]:
        _tag(oci, entry, version)
    log = AccessLog(oci_registry)
    log.mark()
    resolved = json.loads(_ok("resolve", NAME, "--arch", "h100", "--registry", url, "--json"))
    assert (resolved["version"], resolved["target"]) == ("2.0_post1", "sm_90a")
    assert log.index_reads() == ["2.0_post1"]


def test_tags_holding_an_underscore_are_read_when_the_walk_reaches_them(
    oci_registry: RunningRegistry, isolated, tmp_path: Path
) -> None:
    """A tag holding '_' was read with the tag list, whatever the walk needed: 30 local versions written as
    Helm writes them (1.0.N+build, tag 1.0.N_build) cost every resolve 30 reads. A tag that is no version
    as spelt is a local version whatever its index says, never taken: it is not read. One that is a version
    (2.0_post1, 2.1_rc1) is read when the walk reaches that version: here 2.0_post1 holds the local
    2.0+post1, so the walk goes on to 2.0.0, and the pre-release 2.1_rc1 is read only when asked for.
    The choices and the versions info shows are those of the whole document."""
    url, oci, entry = _published(oci_registry, tmp_path)
    for version in [*OLDER[:20], *(f"1.0.{n}+build" for n in range(30)), "2.0+post1", "2.1_rc1"]:
        _tag(oci, entry, version)
    log = AccessLog(oci_registry)
    log.mark()
    resolved = json.loads(_ok("resolve", NAME, "--arch", "h100", "--registry", url, "--json", "--explain"))
    assert (resolved["version"], resolved["target"]) == ("2.0.0", "sm_90a")
    assert log.index_reads() == ["2.0_post1", "2.0.0"]
    rows = [(row["version"], row["target"], row["reason"].split(":")[0]) for row in resolved["candidates"]]
    local = "skipped"
    assert rows[:5] == [("2.1_rc1", None, "version does not match the requirement"), ("2.0+post1", "generic", local),
                        ("2.0+post1", "sm_90a", local), ("2.0.0", "sm_90a", "taken"),
                        ("2.0.0", "generic", "usable, but sm_90a ranks higher")]
    assert ("1.0.29+build", None, "not considered") in rows and len(rows) == 5 + 30 + 20
    log.mark()
    resolved = json.loads(_ok("resolve", f"{NAME}==2.1rc1", "--arch", "h100", "--registry", url, "--json"))
    assert (resolved["version"], resolved["target"]) == ("2.1_rc1", "sm_90a")
    assert log.index_reads() == ["2.1_rc1"]
    shown = json.loads(_ok("info", f"{NAME}==2.0", "--registry", url, "--json"))
    assert [version["version"] for version in shown["versions"]] == ["2.0.0", "2.0+post1"]


def test_indexes_kept_for_offline_are_not_synced_and_their_folder_is_swept_once(
    oci_registry: RunningRegistry, isolated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each index a command reads is kept for --offline: each write synced the file and its folder and listed
    the whole folder for killed writes' leftovers, so an online walk of 10,000 indexes spent over a minute
    keeping them. 'info NAME' of 31 versions now syncs nothing there and lists the folder once; a stale
    leftover still goes (a younger one, maybe a live writer's, stays), and what is kept reads back offline."""
    url, oci, entry = _published(oci_registry, tmp_path)
    for version in OLDER[:30]:
        _tag(oci, entry, version)
    kept = isolated.cache / "oci" / registry_key(url)
    indexes = kept / f"skills+{NAME}" / "indexes"
    stale, fresh = (_leftover(indexes / "1.0.0", "tmp") for _ in range(2))  # what killed writes leave
    for path in (stale, fresh):
        path.write_bytes(b"half an index")
    past = time.time() - STALE_TEMPORARY_AGE - 60
    os.utime(stale.parent, (past, past))
    synced: list[Path] = []
    listed: list[Path] = []
    real_fsync, real_listdir = os.fsync, os.listdir

    def fsync(fd: int) -> None:
        synced.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def listdir(path: str | os.PathLike[str] = ".") -> list[str]:
        listed.append(Path(path))
        return real_listdir(path)

    with monkeypatch.context() as spying:
        spying.setattr(os, "fsync", fsync)
        spying.setattr(os, "listdir", listdir)
        online = _ok("info", NAME, "--registry", url)

    assert [path for path in synced if path.is_relative_to(kept)] == []
    assert listed.count(indexes) == 1
    assert not stale.parent.exists() and fresh.parent.exists()
    assert len(list(indexes.iterdir())) == 31 + 1  # each version's index, and the younger leftover
    assert _ok("info", NAME, "--registry", url, "--offline") == online


def test_search_reads_versions_down_to_the_first_it_shows(
    oci_registry: RunningRegistry, isolated, tmp_path: Path
) -> None:
    """search shows each package as its highest public version not wholly yanked describes it, and read every
    version's index of every package to find it (10,000 a package at most). It now reads down from the
    highest: above 2.0.0 a wholly yanked 2.1.0 and a local 3.0.0+build (a tag holding '_' that is no version
    as it stands, so a local version, never read), so two indexes of 33, and shows what reading them all
    showed."""
    url, oci, entry = _published(oci_registry, tmp_path)
    for version in OLDER[:30]:
        _tag(oci, entry, version)
    _tag(oci, entry, "2.1.0", yanked=True)
    _tag(oci, entry, "3.0.0+build")
    log = AccessLog(oci_registry)
    log.mark()

    found = json.loads(_ok("search", "layer", "--registry", url, "--json"))

    assert [(item["name"], item["version"], sorted(item["targets"])) for item in found] == [
        (NAME, "2.0.0", ["generic", "sm_90a"])]
    assert log.index_reads() == ["2.1.0", "2.0.0"]
