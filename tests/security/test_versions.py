"""Versions a registry publishes that would move an exact pin: local labels and two spellings of one version.

PEP 440 lets ``==1.0.0`` match ``1.0.0+evil``, which sorts higher; and ``1.0.0`` and ``1.0.0.0`` are one
version. Someone who may publish to a shared registry (or tag in an OCI one) used either to move every
``==1.0.0`` pin onto their build (found in a hostile review). Each case runs the real command line.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

from conftest import build_source
from oci.hostile_registry import HostileRegistry
from skillpm.archive import build_archive, write_archive
from skillpm.manifest import SkillSource
from skillpm.pack import pack
from skillpm.registry import store
from skillpm.registry.directory import LocalRegistry
from skillpm.registry.store.files import artifact_path
from skillpm.index.model import shard_path
from test_publish import digests, make_evidence, write_json, write_key

NAME = "demo-skill"
EVIL = "Evil advice.\n"


def local_archive(work: Path) -> Path:
    """An archive of NAME 1.0.0+evil (sm_90a) with an EVIL.md, built as skillpm packed one before it refused to."""
    source = SkillSource.load_or_derive(build_source(work / "evil", NAME, {"sm_90a": {"EVIL.md": EVIL}}))
    package = source.manifest.package
    fields = {"name": NAME, "version": "1.0.0+evil", "target": "sm_90a", "description": package.description,
              "license": package.license, "authors": package.authors, "keywords": package.keywords,
              "agents": package.agents, "test_set": None}
    data, metadata = build_archive(fields, source.variant_files("sm_90a"))
    (work / "evil-dist").mkdir()
    return write_archive(work / "evil-dist", data, metadata).path


def test_pack_and_registry_add_refuse_a_local_version(hostile) -> None:
    source = build_source(hostile.work, NAME, {"generic": {}}, version="1.0.0+evil")
    hostile.refused(hostile.run("pack", source, "-o", hostile.work / "dist"), "has a local version label ('+evil')")
    assert not any((hostile.work / "dist").glob("*"))
    root, archive = hostile.work / "registry", local_archive(hostile.work)
    hostile.ok(hostile.run("registry", "init", root))
    before = hostile.state()
    refusal = hostile.refused(hostile.run("registry", "add", root, archive), "local version label")
    assert "registries do not take" in refusal
    assert hostile.changed_outside(before, hostile.cache) == []


def test_a_local_version_in_a_registry_never_satisfies_an_exact_pin(hostile) -> None:
    """A registry holding 1.0.0+evil (added by an older skillpm, then rebuilt): install, update, outdated and
    resolve keep to 1.0.0, and --explain says why 1.0.0+evil was skipped."""
    root = hostile.work / "registry"
    source = build_source(hostile.work / "good", NAME, {"generic": {}, "sm_90a": {}})
    hostile.ok(hostile.run("registry", "init", root))
    hostile.ok(hostile.run("registry", "add", root, *(built.path for built in pack(source, hostile.work / "dist"))))
    hostile.ok(hostile.run("install", f"{NAME}==1.0.0", "--arch", "9.0", "--registry", root))
    evil = root / artifact_path(NAME, "1.0.0+evil", "sm_90a")
    evil.parent.mkdir(parents=True)
    shutil.copyfile(local_archive(hostile.work), evil)
    hostile.ok(hostile.run("registry", "rebuild", root))  # an old registry stays usable
    assert [e.version for e in LocalRegistry(root, root.as_uri()).require_package(NAME).versions] == [
        "1.0.0", "1.0.0+evil"]

    hostile.ok(hostile.run("update"))
    (entry,) = tomllib.loads((hostile.project / "skills.lock").read_text())["skill"]
    assert entry["version"] == "1.0.0" and not list(hostile.project.rglob("EVIL.md"))
    (row,) = json.loads(hostile.ok(hostile.run("outdated", "--json")).stdout)
    assert (row["wanted"], row["latest"], row["behind"]) == ("1.0.0", "1.0.0", False)
    for requirement in (f"{NAME}==1.0.0", f"{NAME}<=1.0.0", NAME):
        resolved = json.loads(hostile.ok(hostile.run("resolve", requirement, "--arch", "9.0", "--registry", root,
                                                     "--json", "--explain")).stdout)
        assert (resolved["version"], resolved["target"]) == ("1.0.0", "sm_90a"), requirement
        skipped = [c["reason"] for c in resolved["candidates"] if c["version"] == "1.0.0+evil"]
        assert skipped == ["skipped: a local version (+label), which registries do not publish"]
    hostile.refused(hostile.run("install", f"{NAME}===1.0.0+evil", "--registry", root, "--dir", hostile.work / "x"),
                    "no version of demo-skill matches ===1.0.0+evil (available: 1.0.0)")


def serve_spelled(registry: HostileRegistry, work: Path, version: str, body: str = "", name: str = NAME) -> None:
    """Serve ``name`` ``version`` (generic, with a NOTE.md saying ``body``) under its own tag, as a static
    registry holds it."""
    source = build_source(work / version, name, {"generic": {"NOTE.md": body or version}}, version=version)
    root = work / version / "static"
    store.init(root)
    store.add(root, [built.path for built in pack(source, work / version / "dist")])
    entry = LocalRegistry(root, root.as_uri()).require_package(name).versions[0]
    registry.put_version(name, entry, {variant.path: (root / variant.path).read_bytes() for variant in entry.variants})


def test_an_oci_registry_tagging_one_version_twice_is_refused(hostile) -> None:
    """Tags 1.0.0 and 1.0.0.0 both got in, and the one listed later won even '===1.0.0' (hostile review)."""
    with HostileRegistry() as registry:
        serve_spelled(registry, hostile.work, "1.0.0", "Good.")
        serve_spelled(registry, hostile.work, "1.0.0.0", "Evil.")
        before = hostile.state()
        for requirement in (f"{NAME}===1.0.0", f"{NAME}==1.0.0", NAME):
            hostile.refused(hostile.run("install", requirement, "--registry", registry.url),
                            "tags '1.0.0' and '1.0.0.0' are one version")
        hostile.refused(hostile.run("resolve", NAME, "--registry", registry.url), "are one version")
        assert hostile.changed_outside(before, hostile.cache) == []
        assert not (hostile.project / "skills.lock").exists()


def test_an_oci_tag_list_holding_what_is_no_tag_is_read_as_another_tool_s_tags(hostile) -> None:
    """A tag list holding 5,000 digits (a tag is at most 128 characters): resolve, install and info of every
    package of that repository ended in a ValueError traceback from int() (hostile review)."""
    with HostileRegistry() as registry:
        serve_spelled(registry, hostile.work, "1.0.0", "Good.")
        registry.tags[f"{registry.namespace}/{NAME}"] += ["9" * 5000, "2." + "9" * 4400, "1.0.0_" + "9" * 5000]
        resolved = hostile.ok(hostile.run("resolve", NAME, "--registry", registry.url))
        assert resolved.stdout.split()[:2] == [NAME, "1.0.0"]
        hostile.ok(hostile.run("info", NAME, "--registry", registry.url))
        hostile.ok(hostile.run("install", NAME, "--registry", registry.url))
        assert (hostile.project / ".agents" / "skills" / NAME / "NOTE.md").read_text() == "Good."


def test_writers_keep_a_version_that_is_not_pep_440_and_go_on(hostile) -> None:
    """A package document also listing 'not-a-version' (a hand edit, a contributor's commit to a registry kept in
    git), which clients skip: registry add, yank, publish and attest ended in an InvalidVersion traceback."""
    root = hostile.work / "registry"
    hostile.ok(hostile.run("registry", "init", root))
    first = build_source(hostile.work / "v1", NAME, {"generic": {}})
    hostile.ok(hostile.run("registry", "add", root, *(built.path for built in pack(first, hostile.work / "dist1"))))
    shard = root / "index" / shard_path(NAME)
    document = json.loads(shard.read_text())
    document["versions"].insert(0, {**document["versions"][0], "version": "not-a-version"})
    shard.write_text(json.dumps(document))
    second = build_source(hostile.work / "v2", NAME, {"generic": {}}, version="1.1.0")
    hostile.ok(hostile.run("registry", "add", root, *(built.path for built in pack(second, hostile.work / "dist2"))))
    hostile.ok(hostile.run("registry", "yank", root, f"{NAME}==1.1.0"))
    hostile.ok(hostile.run("publish", build_source(hostile.work / "v3", NAME, {"generic": {}}, version="1.2.0"),
                           "--registry", root))
    key = write_key(hostile.work / "key")
    evidence = make_evidence("bench", target="generic", sha256=digests(first, hostile.work / "sums")["generic"], name=NAME)
    hostile.ok(hostile.run("attest", f"{NAME}==1.0.0", "--target", "generic", "--registry", root, "--evidence",
                           write_json(hostile.work / "bench.json", evidence), "--sign", f"key:{key}"))
    versions = [entry["version"] for entry in json.loads(shard.read_text())["versions"]]
    assert versions == ["not-a-version", "1.0.0", "1.1.0", "1.2.0"]  # kept, and first, as clients order it
    assert json.loads((root / "search.json").read_text())["packages"][0]["version"] == "1.2.0"
