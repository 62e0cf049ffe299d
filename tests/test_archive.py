"""Tests for skillpm.archive: reproducible builds, and extraction that trusts nothing."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import tarfile
from pathlib import Path

import pytest

from skillpm import archive
from skillpm.archive import FIXED_MTIME, METADATA_FORMAT_VERSION, METADATA_NAME, VariantMetadata, extract, read_metadata
from skillpm.errors import ArchiveError
from skillpm.pack import pack

FILES = {
    "references/guide.md": "A guide.\n",
    "scripts/run.sh": "#!/bin/sh\necho run\n",
    "assets/b.txt": "b\n",
    "assets/a.txt": "a\n",
}


def _source(make_source, base: Path, *, mtime: int, file_mode: int, exec_mode: int) -> Path:
    root = make_source(base, "repro-skill", {"generic": {}, "sm_90a": {"references/hopper.md": "H\n"}}, common=FILES)
    for path in root.rglob("*"):
        if path.is_file():
            path.chmod(exec_mode if path.suffix == ".sh" else file_mode)
            os.utime(path, (mtime, mtime))
    return root


def _members(data: bytes) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return [(member, tar.extractfile(member).read()) for member in tar.getmembers()]


def test_pack_is_byte_for_byte_reproducible(tmp_path: Path, make_source) -> None:
    first = _source(make_source, tmp_path / "one", mtime=1_000_000_000, file_mode=0o644, exec_mode=0o755)
    old_umask = os.umask(0o077)
    try:
        second = _source(make_source, tmp_path / "two", mtime=1_700_000_000, file_mode=0o600, exec_mode=0o700)
    finally:
        os.umask(old_umask)

    built = [pack(source, tmp_path / out) for source, out in [(first, "a"), (first, "b"), (second, "c")]]

    for archives in zip(*built):
        assert len({a.path.name for a in archives}) == 1
        assert len({a.path.read_bytes() for a in archives}) == 1
        assert len({a.sha256 for a in archives}) == 1
    assert [a.path.name for a in built[0]] == ["repro-skill-1.0.0-generic.tar.gz", "repro-skill-1.0.0-sm_90a.tar.gz"]


def test_archive_layout_is_canonical(tmp_path: Path, make_source) -> None:
    source = _source(make_source, tmp_path, mtime=1_234_567_890, file_mode=0o640, exec_mode=0o750)
    built = {a.metadata.target: a for a in pack(source, tmp_path / "dist")}
    data = built["sm_90a"].path.read_bytes()

    assert data[:2] == b"\x1f\x8b" and data[4:8] == b"\x00\x00\x00\x00"  # gzip header mtime 0
    members = _members(data)
    names = [member.name for member, _ in members]
    assert names[0] == METADATA_NAME
    assert names[1:] == sorted(names[1:])
    assert all(name.startswith("skill/") for name in names[1:])
    for member, _ in members:
        assert member.isfile()
        assert (member.mtime, member.uid, member.gid, member.uname, member.gname) == (FIXED_MTIME, 0, 0, "", "")
    modes = {member.name: member.mode for member, _ in members}
    assert modes["skill/scripts/run.sh"] == 0o755
    assert {mode for name, mode in modes.items() if name != "skill/scripts/run.sh"} == {0o644}

    metadata = json.loads(members[0][1])
    contents = {member.name.removeprefix("skill/"): content for member, content in members[1:]}
    assert metadata["files"] == {path: hashlib.sha256(body).hexdigest() for path, body in contents.items()}
    assert set(contents) == {*FILES, "SKILL.md", "references/hopper.md"}
    assert (metadata["name"], metadata["version"], metadata["target"]) == ("repro-skill", "1.0.0", "sm_90a")
    assert read_metadata(data).files == metadata["files"]


def test_extract_writes_the_tree_with_modes(tmp_path: Path, make_source) -> None:
    source = _source(make_source, tmp_path, mtime=0, file_mode=0o600, exec_mode=0o700)
    built = pack(source, tmp_path / "dist", targets=["generic"])[0]
    dest = tmp_path / "dest"
    dest.mkdir()

    metadata = extract(built.path.read_bytes(), dest)

    assert metadata.target == "generic"
    found = {p.relative_to(dest).as_posix(): p for p in dest.rglob("*") if p.is_file()}
    assert set(found) == set(metadata.files) == {*FILES, "SKILL.md"}
    assert (found["scripts/run.sh"].stat().st_mode & 0o777) == 0o755
    assert (found["assets/a.txt"].stat().st_mode & 0o777) == 0o644
    assert found["assets/a.txt"].read_text() == "a\n"


# --- hostile archives, built by hand -------------------------------------------------------------

Member = tuple[tarfile.TarInfo, bytes | None]


def regular(name: str, data: bytes = b"content\n") -> Member:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    return info, data


def special(name: str, kind: bytes, linkname: str = "") -> Member:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


def metadata_member(files: object = None, **overrides: object) -> Member:
    document = {
        "format-version": 1,
        "name": "evil-skill",
        "version": "1.0.0",
        "target": "generic",
        "description": "d",
        "license": None,
        "authors": [],
        "keywords": [],
        "agents": [],
        "files": files if files is not None else {},
        **overrides,
    }
    return regular(METADATA_NAME, json.dumps(document).encode())


def digests(*members: Member) -> dict[str, str]:
    return {
        info.name.removeprefix("skill/"): hashlib.sha256(data).hexdigest()
        for info, data in members
        if data is not None and info.name.startswith("skill/")
    }


def tar_gz(*members: Member) -> bytes:
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for info, data in members:
                tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return raw.getvalue()


def with_metadata(*members: Member) -> bytes:
    """An archive whose metadata (first) lists exactly the regular members' digests."""
    return tar_gz(metadata_member(digests(*members)), *members)


SKILL = regular("skill/SKILL.md", b"---\nname: evil-skill\ndescription: d\n---\n")


def claimed_size_archive(size: int) -> bytes:
    """A header that claims ``size`` bytes, with no data behind it (nothing large is allocated)."""
    info = tarfile.TarInfo("skill/huge.bin")
    info.size = size
    head = tar_gz(metadata_member({"huge.bin": "0" * 64}))
    tar_bytes = gzip.decompress(head).rstrip(b"\0")
    tar_bytes += b"\0" * (-len(tar_bytes) % 512) + info.tobuf(tarfile.PAX_FORMAT)
    return gzip.compress(tar_bytes, mtime=0)


def truncated_gzip() -> bytes:
    data = with_metadata(SKILL, regular("skill/big.txt", random.Random(1).randbytes(20_000)))
    return data[: len(data) // 2]


HOSTILE = {
    "absolute-path": lambda base: with_metadata(SKILL, regular(f"{base}/escape.txt")),
    "absolute-inside-skill": lambda base: with_metadata(SKILL, regular(f"skill/{base}/escape.txt")),
    "dotdot-top": lambda base: with_metadata(SKILL, regular("../escape.txt")),
    "dotdot-in-skill": lambda base: with_metadata(SKILL, regular("skill/../escape.txt")),
    "dotdot-deep": lambda base: with_metadata(SKILL, regular("skill/a/../../escape.txt")),
    "dot-part": lambda base: with_metadata(SKILL, regular("skill/./SKILL2.md")),
    "backslash": lambda base: with_metadata(SKILL, regular("skill/..\\escape.txt")),
    "drive-letter": lambda base: with_metadata(SKILL, regular("skill/C:escape.txt")),
    "symlink": lambda base: with_metadata(SKILL, special("skill/link", tarfile.SYMTYPE, f"{base}/escape.txt")),
    "hardlink": lambda base: with_metadata(SKILL, special("skill/hard", tarfile.LNKTYPE, "skill/SKILL.md")),
    "char-device": lambda base: with_metadata(SKILL, special("skill/dev", tarfile.CHRTYPE)),
    "block-device": lambda base: with_metadata(SKILL, special("skill/blk", tarfile.BLKTYPE)),
    "fifo": lambda base: with_metadata(SKILL, special("skill/fifo", tarfile.FIFOTYPE)),
    "directory-member": lambda base: with_metadata(special("skill/refs", tarfile.DIRTYPE), SKILL),
    "outside-skill": lambda base: with_metadata(SKILL, regular("other/escape.txt")),
    "bare-skill-dir": lambda base: with_metadata(SKILL, regular("skill/")),
    "duplicate-member": lambda base: tar_gz(metadata_member(digests(SKILL)), SKILL, SKILL),
    "missing-metadata": lambda base: tar_gz(SKILL),
    "empty-archive": lambda base: tar_gz(),
    "metadata-not-first": lambda base: tar_gz(SKILL, metadata_member(digests(SKILL))),
    "metadata-not-json": lambda base: tar_gz(regular(METADATA_NAME, b"{not json"), SKILL),
    "metadata-not-object": lambda base: tar_gz(regular(METADATA_NAME, b"[1, 2]"), SKILL),
    "metadata-format-version": lambda base: tar_gz(metadata_member(digests(SKILL), **{"format-version": 2}), SKILL),
    "metadata-files-wrong-type": lambda base: tar_gz(metadata_member(["SKILL.md"]), SKILL),
    "metadata-name-wrong-type": lambda base: tar_gz(metadata_member(digests(SKILL), name=7), SKILL),
    "metadata-symlink": lambda base: tar_gz(special(METADATA_NAME, tarfile.SYMTYPE, "/etc/passwd"), SKILL),
    "digest-mismatch": lambda base: tar_gz(metadata_member({"SKILL.md": "0" * 64}), SKILL),
    "metadata-lists-missing-file": lambda base: tar_gz(
        metadata_member({**digests(SKILL), "extra.md": "0" * 64}), SKILL
    ),
    "unlisted-file": lambda base: tar_gz(metadata_member(digests(SKILL)), SKILL, regular("skill/extra.md")),
    "claimed-huge-member": lambda base: claimed_size_archive(1 << 40),
    "truncated-gzip": lambda base: truncated_gzip(),
    "random-bytes": lambda base: random.Random(0).randbytes(4096),
    "gzip-of-random-bytes": lambda base: gzip.compress(random.Random(0).randbytes(4096)),
    "empty-bytes": lambda base: b"",
}


def files_outside(root: Path, dest: Path) -> list[str]:
    return [str(p) for p in root.rglob("*") if not p.is_dir() and dest not in p.parents]


def assert_refused(data: bytes, tmp_path: Path, match: str | None = None) -> None:
    dest = tmp_path / "work" / "dest"
    dest.mkdir(parents=True)
    with pytest.raises(ArchiveError, match=match):
        extract(data, dest)
    assert files_outside(tmp_path, dest) == []
    assert not (tmp_path.parent / "escape.txt").exists()


@pytest.mark.parametrize("build", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_archive_is_refused(build, tmp_path: Path) -> None:
    assert_refused(build(tmp_path), tmp_path)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: with_metadata(SKILL, regular("skill/../escape.txt")), "unsafe path"),
        (lambda: with_metadata(SKILL, special("skill/link", tarfile.SYMTYPE, "x")), "is a link"),
        (lambda: with_metadata(SKILL, special("skill/fifo", tarfile.FIFOTYPE)), "special file"),
        (lambda: tar_gz(metadata_member(digests(SKILL)), SKILL, SKILL), "clashes with another"),
        (lambda: tar_gz(SKILL, metadata_member(digests(SKILL))), "does not start with"),
        (lambda: tar_gz(metadata_member({"SKILL.md": "0" * 64}), SKILL), "do not match"),
        (lambda: claimed_size_archive(1 << 40), "too large"),
    ],
)
def test_hostile_archive_messages_say_why(build, match: str, tmp_path: Path) -> None:
    assert_refused(build(), tmp_path, match)


@pytest.mark.parametrize("build", [HOSTILE["missing-metadata"], HOSTILE["metadata-not-json"], HOSTILE["random-bytes"]])
def test_read_metadata_refuses_bad_archives(build, tmp_path: Path) -> None:
    with pytest.raises(ArchiveError):
        read_metadata(build(tmp_path))


def _metadata(**changes: object) -> dict:
    return {"format-version": METADATA_FORMAT_VERSION, "name": "demo", "version": "1.0.0", "target": "generic",
            "description": "d", "files": {}, **changes}


@pytest.mark.parametrize(
    "changes",
    [{"keywords": [{"x": 1}]}, {"agents": [1]}, {"authors": "ab"}, {"keywords": {"a": "b"}},
     {"version": "1.0\n"}, {"version": " 1.0"}, {"name": "de mo"}, {"target": "generic\x1b"},
     {"test-set": "A" * 64}, {"test-set": "a" * 63}, {"test-set": "a" * 64 + "\n"}, {"test-set": 5}],
    ids=["keyword-object", "agent-number", "authors-string", "keywords-mapping", "version-newline",
         "version-space", "name-space", "target-escape", "test-set-capitals", "test-set-short", "test-set-newline",
         "test-set-number"],
)
def test_variant_metadata_of_the_wrong_shape_is_refused(changes: dict) -> None:
    """A hostile archive's skillpm-variant.json (found in a hostile review: keywords [{"x": 1}] were written into
    the index, and every later read of the registry failed; a version '1.0\\n' made a folder with a newline)."""
    with pytest.raises(ArchiveError, match="malformed"):
        VariantMetadata.from_json(_metadata(**changes))


def test_variant_metadata_reads_lists_of_text_and_the_test_set_digest() -> None:
    read = VariantMetadata.from_json(_metadata(keywords=["cuda", "gemm"], agents=[], authors=["A <a@example.com>"],
                                               **{"test-set": "0f" * 32}))
    assert (read.keywords, read.agents, read.authors) == (("cuda", "gemm"), (), ("A <a@example.com>",))
    assert read.test_set == "0f" * 32


def test_member_over_the_file_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_FILE_SIZE", 100)
    assert_refused(with_metadata(SKILL, regular("skill/big.bin", b"x" * 101)), tmp_path, "too large")


def test_members_over_the_total_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_TOTAL_SIZE", 150)
    members = [regular(f"skill/part{i}.bin", b"x" * 60) for i in range(3)]
    assert_refused(with_metadata(*members), tmp_path, "too large")


def test_too_many_members(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_MEMBERS", 2)
    members = [regular(f"skill/file{i}.md") for i in range(3)]
    assert_refused(with_metadata(*members), tmp_path, "more than 2 files")


def test_limits_allow_an_archive_exactly_at_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_MEMBERS", 2)
    monkeypatch.setattr(archive, "MAX_FILE_SIZE", 10)
    monkeypatch.setattr(archive, "MAX_TOTAL_SIZE", 20)
    members = [regular(f"skill/file{i}.md", b"y" * 10) for i in range(2)]
    dest = tmp_path / "dest"
    dest.mkdir()
    extract(with_metadata(*members), dest)
    assert sorted(p.name for p in dest.iterdir()) == ["file0.md", "file1.md"]


def test_an_index_size_over_the_archive_limit_is_refused_before_a_download() -> None:
    """archive_limit: what every download of an archive reads at most (install, pull, verify, attest, push)."""
    assert archive.archive_limit("a.tar.gz", 1234) == 1234
    assert archive.archive_limit("a.tar.gz", archive.MAX_ARCHIVE_SIZE) == archive.MAX_ARCHIVE_SIZE
    with pytest.raises(ArchiveError, match=f"a.tar.gz is {8 << 30} bytes by the index, over the"):
        archive.archive_limit("a.tar.gz", 8 << 30)


def test_every_registry_reads_an_artifact_bounded_whatever_it_is_asked(tmp_path: Path) -> None:
    from skillpm.reading import MAX_ARTIFACT_SIZE, artifact_limit
    from skillpm.registry.directory import LocalRegistry

    assert artifact_limit(8 << 30) == MAX_ARTIFACT_SIZE
    assert artifact_limit(10) == 10 and artifact_limit(-1) == 0
    (tmp_path / "artifacts").mkdir()
    (tmp_path / "artifacts" / "a.tar.gz").write_bytes(b"x" * 100)
    assert LocalRegistry(tmp_path, tmp_path.as_uri()).artifact("artifacts/a.tar.gz", limit=-5) == b"x"
