"""Tests for skillpm.registry.store (and reading it back with skillpm.registry.directory)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillpm.errors import IndexFormatError, RegistryError
from skillpm.pack import pack
from skillpm.registry import store
from skillpm.registry.store import entries
from skillpm.registry.directory import LocalRegistry
from skillpm.registry.factory import open_registry

DOC = Path("index/ke/rn/kernel-helper.json")


def read_json(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


def search_versions(root: Path) -> dict[str, str]:
    return {entry["name"]: entry["version"] for entry in read_json(root / "search.json")["packages"]}


@pytest.fixture
def refused(snapshot):
    """``refused(root, error, match, action)``: ``action()`` raises ``error`` and ``root`` is byte-for-byte unchanged."""

    def check(root: Path, error: type[Exception], match: str, action) -> pytest.ExceptionInfo:
        before = snapshot(root)
        with pytest.raises(error, match=match) as caught:
            action()
        assert snapshot(root) == before
        return caught

    return check


@pytest.fixture
def empty_registry(tmp_path: Path) -> Path:
    root = tmp_path / "reg"
    store.init(root, name="demo")
    return root


@pytest.fixture
def kernel_archives(tmp_path: Path, make_source) -> list[Path]:
    """kernel-helper 1.0.0 packed for generic and sm_90a."""
    source = make_source(tmp_path, "kernel-helper", {"generic": {}, "sm_90a": {"references/h.md": "H\n"}})
    return [built.path for built in pack(source, tmp_path / "dist-1.0.0")]


def pack_version(tmp_path: Path, make_source, version: str, base: str = "") -> list[Path]:
    source = make_source(tmp_path / base, "kernel-helper", {"generic": {}}, version=version)
    return [built.path for built in pack(source, tmp_path / base / f"dist-{version}")]


def test_init_writes_config_and_empty_search(empty_registry: Path) -> None:
    assert read_json(empty_registry / "config.json") == {
        "format": "skillpm-index",
        "format-version": 1,
        "name": "demo",
    }
    assert read_json(empty_registry / "search.json") == {"format-version": 1, "packages": []}
    assert (empty_registry / "index").is_dir()


def test_init_refuses_an_existing_registry(empty_registry: Path, refused) -> None:
    refused(empty_registry, RegistryError, "already holds a registry", lambda: store.init(empty_registry, name="x"))


def test_add_writes_artifacts_document_and_search(empty_registry: Path, kernel_archives: list[Path]) -> None:
    added = store.add(empty_registry, kernel_archives)

    assert [(a.name, a.version, a.target, a.new) for a in added] == [
        ("kernel-helper", "1.0.0", "generic", True),
        ("kernel-helper", "1.0.0", "sm_90a", True),
    ]
    for item, archive in zip(added, kernel_archives):
        assert (empty_registry / item.path).read_bytes() == archive.read_bytes()
        assert item.path == f"artifacts/kernel-helper/1.0.0/{archive.name}"
    document = read_json(empty_registry / DOC)
    assert document["name"] == "kernel-helper"
    [version] = document["versions"]
    assert version["version"] == "1.0.0"
    assert [(v["target"], v["sha256"], v["size"], v["yanked"]) for v in version["variants"]] == [
        (a.target, a.sha256, a.size, False) for a in added
    ]
    [entry] = read_json(empty_registry / "search.json")["packages"]
    assert (entry["name"], entry["version"], entry["targets"]) == ("kernel-helper", "1.0.0", ["generic", "sm_90a"])
    reader = open_registry(str(empty_registry))
    assert reader.package("kernel-helper").versions[0].variants[1].sha256 == added[1].sha256


def test_adding_the_same_archives_again_is_a_no_op(
    empty_registry: Path, kernel_archives: list[Path], snapshot
) -> None:
    first = store.add(empty_registry, kernel_archives)
    before = snapshot(empty_registry)

    again = store.add(empty_registry, kernel_archives)

    assert [a.new for a in again] == [False, False]
    assert [a.sha256 for a in again] == [a.sha256 for a in first]
    assert snapshot(empty_registry) == before


def test_other_content_for_a_published_version_is_refused(
    tmp_path: Path, empty_registry: Path, kernel_archives: list[Path], make_source, refused
) -> None:
    store.add(empty_registry, kernel_archives)
    other = make_source(tmp_path / "other", "kernel-helper", {"generic": {"extra.md": "changed\n"}})
    changed = [built.path for built in pack(other, tmp_path / "other-dist")]

    caught = refused(empty_registry, RegistryError, "immutable", lambda: store.add(empty_registry, changed))

    assert "bump the version" in caught.value.hint


def test_a_published_version_cannot_gain_a_variant(
    empty_registry: Path, kernel_archives: list[Path], refused
) -> None:
    store.add(empty_registry, kernel_archives[:1])
    refused(empty_registry, RegistryError, "immutable", lambda: store.add(empty_registry, kernel_archives))


def test_a_refused_add_writes_none_of_its_other_versions(
    tmp_path: Path, empty_registry: Path, kernel_archives: list[Path], make_source, refused
) -> None:
    store.add(empty_registry, kernel_archives)
    newer = pack_version(tmp_path, make_source, "2.0.0")
    clash = pack_version(tmp_path, make_source, "1.0.0", base="clash")
    refused(empty_registry, RegistryError, "immutable", lambda: store.add(empty_registry, [*newer, *clash]))


def test_add_two_versions_at_once(tmp_path: Path, empty_registry: Path, make_source) -> None:
    archives = pack_version(tmp_path, make_source, "1.0.0") + pack_version(tmp_path, make_source, "1.10.0")
    archives += pack_version(tmp_path, make_source, "1.2.0")

    added = store.add(empty_registry, reversed(archives))

    assert sorted(a.version for a in added) == ["1.0.0", "1.10.0", "1.2.0"]
    assert [v["version"] for v in read_json(empty_registry / DOC)["versions"]] == ["1.0.0", "1.2.0", "1.10.0"]
    assert search_versions(empty_registry) == {"kernel-helper": "1.10.0"}


def test_add_refuses_what_is_not_an_archive(tmp_path: Path, empty_registry: Path, refused) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive")
    refused(empty_registry, RegistryError, "not a skillpm variant archive", lambda: store.add(empty_registry, [junk]))


def test_add_needs_a_registry(tmp_path: Path, kernel_archives: list[Path]) -> None:
    (tmp_path / "nothing").mkdir()
    with pytest.raises(IndexFormatError, match="not a skillpm registry"):
        store.add(tmp_path / "nothing", kernel_archives)


def test_yank_and_undo(tmp_path: Path, empty_registry: Path, make_source) -> None:
    store.add(empty_registry, pack_version(tmp_path, make_source, "1.0.0"))
    store.add(empty_registry, pack_version(tmp_path, make_source, "2.0.0"))
    assert search_versions(empty_registry) == {"kernel-helper": "2.0.0"}

    assert store.yank(empty_registry, "kernel-helper", "2.0.0") == ["generic"]
    versions = {v["version"]: v for v in read_json(empty_registry / DOC)["versions"]}
    assert versions["2.0.0"]["variants"][0]["yanked"] is True
    assert versions["1.0.0"]["variants"][0]["yanked"] is False
    assert search_versions(empty_registry) == {"kernel-helper": "1.0.0"}

    store.yank(empty_registry, "kernel-helper", "2.0.0", undo=True)
    assert search_versions(empty_registry) == {"kernel-helper": "2.0.0"}
    assert read_json(empty_registry / DOC)["versions"][1]["variants"][0]["yanked"] is False


def test_yank_one_variant_keeps_the_version_live(empty_registry: Path, kernel_archives: list[Path]) -> None:
    store.add(empty_registry, kernel_archives)
    assert store.yank(empty_registry, "kernel-helper", "1.0.0", target="sm_90a") == ["sm_90a"]
    flags = {v["target"]: v["yanked"] for v in read_json(empty_registry / DOC)["versions"][0]["variants"]}
    assert flags == {"generic": False, "sm_90a": True}
    assert search_versions(empty_registry) == {"kernel-helper": "1.0.0"}


@pytest.mark.parametrize(
    ("name", "version", "target", "match"),
    [
        ("kernel-helper", "9.9.9", None, "not in the registry"),
        ("no-such", "1.0.0", None, "not in the registry"),
        ("kernel-helper", "1.0.0", "sm_80", "has no variant sm_80"),
    ],
)
def test_yank_refuses_what_is_not_there(
    empty_registry: Path, kernel_archives: list[Path], refused, name: str, version: str, target, match: str
) -> None:
    store.add(empty_registry, kernel_archives)
    refused(empty_registry, RegistryError, match, lambda: store.yank(empty_registry, name, version, target=target))


def test_rebuild_regenerates_identical_documents(registry: Path, snapshot) -> None:
    before = snapshot(registry)
    (registry / DOC).unlink()
    (registry / "search.json").write_text('{"format-version": 1, "packages": []}')
    stale = registry / "index" / "st" / "al" / "stale-package.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")

    documents = store.rebuild(registry)

    assert sorted(d.name for d in documents) == ["doc-writer", "kernel-helper"]
    assert not stale.exists()
    assert snapshot(registry) == before


def test_rebuild_keeps_yanked_flags(registry: Path, snapshot) -> None:
    store.yank(registry, "kernel-helper", "1.0.0", target="sm_80")
    before = snapshot(registry)
    store.rebuild(registry)
    assert snapshot(registry) == before
    flags = {v["target"]: v["yanked"] for v in read_json(registry / DOC)["versions"][0]["variants"]}
    assert flags == {"generic": False, "sm_80": True, "sm_90a": False}


CORRUPTIONS = {
    "config-not-json": ("config.json", "{oops"),
    "config-format-version": ("config.json", '{"format": "skillpm-index", "format-version": 99, "name": "x"}'),
    "config-other-format": ("config.json", '{"format": "pypi-simple", "format-version": 1}'),
    "config-not-object": ("config.json", "[]"),
    "doc-not-json": (str(DOC), "<html>"),
    "doc-format-version": (str(DOC), '{"format-version": 2, "name": "kernel-helper", "versions": []}'),
    "doc-wrong-name": (str(DOC), '{"format-version": 1, "name": "other-name", "versions": []}'),
    "doc-bad-sha": (
        str(DOC),
        '{"format-version": 1, "name": "kernel-helper", "versions": [{"version": "1.0.0", "variants": '
        '[{"target": "generic", "sha256": "xyz", "size": 1, "path": "a.tar.gz"}]}]}',
    ),
    "doc-unsafe-path": (
        str(DOC),
        '{"format-version": 1, "name": "kernel-helper", "versions": [{"version": "1.0.0", "variants": '
        '[{"target": "generic", "sha256": "' + "a" * 64 + '", "size": 1, "path": "../../etc/passwd"}]}]}',
    ),
}


@pytest.mark.parametrize(("relative", "text"), CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_corrupt_documents_raise_index_format_error(registry: Path, relative: str, text: str) -> None:
    (registry / relative).write_text(text)
    reader = LocalRegistry(registry, "test")
    with pytest.raises(IndexFormatError):
        reader.package("kernel-helper")


@pytest.mark.parametrize("relative", ["config.json", str(DOC)])
def test_store_refuses_to_write_over_a_corrupt_index(registry: Path, refused, relative: str) -> None:
    document = read_json(registry / relative)
    (registry / relative).write_text(json.dumps({**document, "format-version": 99}))
    refused(registry, IndexFormatError, "format version 99 is not supported", lambda: store.yank(registry, "kernel-helper", "1.0.0"))


def test_corrupt_search_document(registry: Path) -> None:
    (registry / "search.json").write_text('{"format-version": 3, "packages": []}')
    with pytest.raises(IndexFormatError, match="format version 3"):
        LocalRegistry(registry, "test").search_entries()


def test_open_registry_forms(registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert open_registry(str(registry)).root == registry.resolve()
    assert open_registry(registry.resolve().as_uri()).label == registry.resolve().as_uri()
    monkeypatch.setenv("SKILLPM_REGISTRY", str(registry))
    assert open_registry().root == registry.resolve()
    with pytest.raises(RegistryError, match="not supported"):
        open_registry("ftp://example.org/registry")
    with pytest.raises(RegistryError, match="does not exist"):
        open_registry(str(tmp_path / "missing"))


# --- hostile inputs to the store and to a local registry ---------------------------------------------------


def _archive_with(tmp_path: Path, kernel_archives: list[Path], extra: str) -> Path:
    """kernel-helper's generic archive with one more member, ``extra``, after the metadata."""
    import gzip
    import io
    import tarfile

    source = next(path for path in kernel_archives if path.name.endswith("-generic.tar.gz"))
    out = io.BytesIO()
    with tarfile.open(fileobj=gzip.GzipFile(fileobj=io.BytesIO(source.read_bytes()))) as old:
        with gzip.GzipFile(fileobj=out, mode="wb") as zipped, tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as new:
            for member in old.getmembers():
                new.addfile(member, old.extractfile(member))
            info = tarfile.TarInfo(extra)
            info.size = 4
            new.addfile(info, io.BytesIO(b"evil"))
    path = tmp_path / "hostile" / source.name
    path.parent.mkdir()
    path.write_bytes(out.getvalue())
    return path


@pytest.mark.parametrize("member", ["../../evil.sh", "skill/../../evil.sh", "/etc/evil", "skill/extra.md"])
def test_add_runs_the_extraction_checks_on_every_member(
    tmp_path: Path, empty_registry: Path, kernel_archives: list[Path], refused, member: str
) -> None:
    """Unsafe paths, and files the metadata does not list, are refused before anything is published."""
    hostile = _archive_with(tmp_path, kernel_archives, member)
    refused(empty_registry, RegistryError, "not a skillpm variant archive", lambda: store.add(empty_registry, [hostile]))


@pytest.mark.parametrize("special", ["/dev/zero", "fifo", "directory"])
def test_add_reads_only_regular_files(tmp_path: Path, empty_registry: Path, refused, special: str) -> None:
    """/dev/zero would fill memory and a fifo would block forever: both are refused at once."""
    import os

    path = Path(special)
    if special == "fifo":
        path = tmp_path / "archive.tar.gz"
        os.mkfifo(path)
    elif special == "directory":
        path = tmp_path / "folder.tar.gz"
        path.mkdir()
    refused(empty_registry, RegistryError, "not a regular file", lambda: store.add(empty_registry, [path]))


def test_add_refuses_an_archive_larger_than_any_client_accepts(
    tmp_path: Path, empty_registry: Path, refused, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entries, "MAX_ARCHIVE_SIZE", 1000)
    big = tmp_path / "big.tar.gz"
    big.write_bytes(b"\0" * 1001)
    refused(empty_registry, RegistryError, "larger than 1000 bytes", lambda: store.add(empty_registry, [big]))


@pytest.mark.parametrize("relative", ["config.json", "search.json", "index/ke/rn/kernel-helper.json"])
def test_a_fifo_in_a_local_registry_is_refused_without_blocking(registry: Path, relative: str) -> None:
    import os

    path = registry / relative
    path.unlink()
    os.mkfifo(path)
    opened = LocalRegistry(registry, registry.as_uri(), verify=False)
    with pytest.raises(RegistryError, match="not a regular file"):
        opened.search_entries() if relative == "search.json" else opened.package("kernel-helper")


def test_a_fifo_artifact_is_refused_without_blocking(registry: Path) -> None:
    import os

    path = next((registry / "artifacts").rglob("*.tar.gz"))
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(RegistryError, match="not a regular file"):
        open_registry(str(registry)).artifact(path.relative_to(registry).as_posix())


def test_one_version_in_two_spellings_is_refused_before_anything_is_written(
    tmp_path: Path, empty_registry: Path, make_source, snapshot
) -> None:
    """'1.0' and '1.0.0' are one PEP 440 version: an index listing both was written and signed, and then
    every reader refused the package (found by a hostile review)."""
    from test_publish import one_error, skillpm

    short, long = pack_version(tmp_path, make_source, "1.0"), pack_version(tmp_path, make_source, "1.0.0", base="b")
    before = snapshot(empty_registry)
    refused = skillpm("registry", "add", empty_registry, *short, *long)
    assert "archives of kernel-helper spell one version several ways ('1.0', '1.0.0')" in one_error(refused)
    assert snapshot(empty_registry) == before
    assert skillpm("registry", "add", empty_registry, *long).exit_code == 0
    before = snapshot(empty_registry)
    assert "kernel-helper 1.0 is published as 1.0.0" in one_error(skillpm("registry", "add", empty_registry, *short))
    assert snapshot(empty_registry) == before
    assert skillpm("info", "kernel-helper", "--registry", empty_registry).exit_code == 0


def test_archives_are_grouped_by_pep_440_version(tmp_path: Path, make_source) -> None:
    items = entries.read_archives([*pack_version(tmp_path, make_source, "1.0"),
                                   *pack_version(tmp_path, make_source, "2.0.0", base="b")])
    assert sorted(entries.group(items)) == [("kernel-helper", "1.0"), ("kernel-helper", "2.0.0")]
    items += entries.read_archives(pack_version(tmp_path, make_source, "1.0.0", base="c"))
    with pytest.raises(RegistryError, match="spell one version several ways"):
        entries.group(items)
