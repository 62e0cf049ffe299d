"""Hostile archives and hostile project folders beyond those of test_archive.py and test_hostile_corpus.py.

Archives: names that clash on case-insensitive or normalising file systems (macOS, Windows), or where
a file and a folder share a path; names Windows reads as a drive, a stream or a device; header chains
and corrupt sparse maps that crash tarfile; headers that inflate past any limit; folder (inode) bombs;
file modes; bytes after the end of the archive. Each is real tar bytes, refused alike by ``scan``
(what ``registry add`` runs) and ``extract``, with nothing written.

Project folders: a cloned repository's skills.lock naming folders outside the project, a skill folder
that is a link or holds one, a fifo or a huge file in a skill folder, ``--dir`` naming a file, and a
``sync`` whose last archive is hostile. Each runs through the real library or command line.
"""

from __future__ import annotations

import gzip
import os
import resource
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from test_archive import (
    SKILL,
    assert_refused,
    digests,
    metadata_member,
    regular,
    special,
    tar_gz,
    with_metadata,
)

from skillpm import archive
from skillpm.installing import pipeline as installer
from skillpm.archive import extract, scan
from skillpm.cache import ArtifactCache
from skillpm.errors import ArchiveError
from skillpm.lockfile import LockedSkill, read_lockfile, write_lockfile
from skillpm.registry import store
from skillpm.registry.store import entries
from skillpm.registry.factory import open_registry

KERNEL = "kernel-helper"


def assert_both_refuse(data: bytes, tmp_path: Path, match: str) -> None:
    """``scan`` and ``extract`` refuse ``data`` with the same reason, and nothing is written outside."""
    with pytest.raises(ArchiveError, match=match):
        scan(data)
    assert_refused(data, tmp_path, match)


# --- names ----------------------------------------------------------------------------------------

CLASHES = {
    "file-then-folder": [regular("skill/a"), regular("skill/a/b")],
    "folder-then-file": [regular("skill/a/b"), regular("skill/a")],
    "case-of-files": [regular("skill/NOTES.md"), regular("skill/notes.md")],
    "case-of-skill-md": [regular("skill/skill.md")],
    "case-of-folders": [regular("skill/Refs/a.md"), regular("skill/refs/b.md")],
    "case-of-file-and-folder": [regular("skill/Refs"), regular("skill/refs/b.md")],
    "nfc-and-nfd": [regular("skill/caf\u00e9.md"), regular("skill/cafe\u0301.md")],
    "nfd-folder": [regular("skill/caf\u00e9/a.md"), regular("skill/cafe\u0301/b.md")],
    "folded-mark-in-another-order": [regular("skill/\u1fb4.md"), regular("skill/\u1fb3\u0301.md")],
}


@pytest.mark.parametrize("members", CLASHES.values(), ids=CLASHES.keys())
def test_names_that_clash_on_some_file_system_are_refused_everywhere(members, tmp_path: Path) -> None:
    assert_both_refuse(with_metadata(SKILL, *members), tmp_path, "clashes with another")


UNSAFE_NAMES = {
    "drive-in-a-later-part": "skill/a/C:/escape.txt",  # Windows joins dest/a/C: to C:
    "drive-relative-in-a-later-part": "skill/a/C:escape.txt",
    "alternate-data-stream": "skill/notes.md:hidden",
    "device-nul": "skill/NUL",
    "device-with-extension": "skill/scripts/com1.txt",
    "device-with-spaces-before-the-extension": "skill/references/nul .md",
    "device-lowercase": "skill/aux",
    "console-input": "skill/CONIN$",
    "trailing-dot": "skill/notes.md.",
    "trailing-space-in-folder": "skill/refs /a.md",
    "question-mark": "skill/what?.md",
    "pipe": "skill/a|b.md",
    "quote": 'skill/a"b.md',
    "escape-sequence": "skill/a\x1b[31m.md",
    "newline": "skill/a\nb.md",
    "right-to-left-override": "skill/evil\u202egnp.sh",
    "not-utf8": "skill/\udcff.md",  # the byte 0xff, as tarfile decodes it
}


@pytest.mark.parametrize("name", UNSAFE_NAMES.values(), ids=UNSAFE_NAMES.keys())
def test_names_windows_or_a_terminal_would_misread_are_refused(name: str, tmp_path: Path) -> None:
    # A name that is not UTF-8 can only be listed in the metadata as a lone surrogate escape, which strict JSON refuses.
    reason = "lone surrogate" if "\udcff" in name else "unsafe path"
    assert_both_refuse(with_metadata(SKILL, regular(name)), tmp_path, reason)


def test_a_name_longer_than_file_systems_allow_is_refused_before_writing(tmp_path: Path) -> None:
    assert_both_refuse(with_metadata(SKILL, regular("skill/" + "\u00e9" * 128)), tmp_path, "over 255 bytes")
    extract(with_metadata(SKILL, regular("skill/" + "n" * 255)), tmp_path)  # the longest name allowed


def test_names_that_differ_otherwise_are_all_extracted(tmp_path: Path) -> None:
    members = [regular(f"skill/{name}") for name in ("caf\u00e9.md", "cafe.md", "\u65e5\u672c.md", "a.b.c", ".hidden")]
    extract(with_metadata(SKILL, *members), tmp_path)
    assert len(list(tmp_path.iterdir())) == 6


# --- links, sparse files, corrupt headers -------------------------------------------------------------

OTHER = {
    "hard-link-out-of-the-tree": (special("skill/h", tarfile.LNKTYPE, "/etc/passwd"), "is a link"),
    "hard-link-up": (special("skill/h", tarfile.LNKTYPE, "../../escape.txt"), "is a link"),
    "symlink-to-the-tree-itself": (special("skill/loop", tarfile.SYMTYPE, "."), "is a link"),
    "symlink-up": (special("skill/up", tarfile.SYMTYPE, "../.."), "is a link"),
}


@pytest.mark.parametrize(("member", "match"), OTHER.values(), ids=OTHER.keys())
def test_links_anywhere_are_refused(member, match: str, tmp_path: Path) -> None:
    assert_both_refuse(with_metadata(SKILL, member), tmp_path, match)


def test_a_sparse_metadata_member_is_refused_as_sparse(tmp_path: Path) -> None:
    info, data = metadata_member(digests(SKILL))
    info.type = tarfile.GNUTYPE_SPARSE
    assert_both_refuse(tar_gz((info, data), SKILL), tmp_path, "sparse file")


def pax_sparse_with_corrupt_map() -> bytes:
    """A pax 1.0 sparse member whose map (in its data) is not numbers: tarfile raises ValueError."""
    info = tarfile.TarInfo("skill/s.md")
    info.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "skill/s.md"}
    info.size = 512
    return tar_gz(metadata_member(digests(SKILL)), SKILL, (info, b"x" * 512))


def header_chain(kind: bytes, count: int) -> bytes:
    """``count`` pax global headers or GNU long names in a row: tarfile reads each one recursively."""
    head, skill = metadata_member(digests(SKILL)), SKILL
    blocks = [member.tobuf(tarfile.PAX_FORMAT) + data + bytes(-len(data) % 512) for member, data in (head, skill)]
    link = tarfile.TarInfo()
    header = (
        link._create_pax_generic_header({"comment": "c"}, tarfile.XGLTYPE, "utf-8")
        if kind == tarfile.XGLTYPE
        else link._create_gnu_long_header("skill/x", tarfile.GNUTYPE_LONGNAME, "utf-8", "strict")
    )
    return gzip.compress(blocks[0] + header * count + blocks[1] + bytes(1024), mtime=0)


@pytest.mark.parametrize(
    "data",
    [pax_sparse_with_corrupt_map(), header_chain(tarfile.XGLTYPE, 2000), header_chain(tarfile.GNUTYPE_LONGNAME, 2000)],
    ids=["pax-sparse-corrupt-map", "pax-global-header-chain", "gnu-long-name-chain"],
)
def test_headers_that_crash_tarfile_are_refused_as_corrupt(data: bytes, tmp_path: Path) -> None:
    assert_both_refuse(data, tmp_path, "corrupt archive")


# --- limits enforced while streaming ---------------------------------------------------------------------


def test_a_header_inflating_past_the_limit_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tarfile reads a pax header's whole data before the member exists: the stream stops at the limit."""
    monkeypatch.setattr(archive, "MAX_ARCHIVE_SIZE", 64 * 1024)
    padded = regular("skill/pad.md")
    padded[0].pax_headers = {"comment": "x" * 100_000}
    assert_both_refuse(with_metadata(SKILL, padded), tmp_path, "inflates to more than 65536 bytes")


def test_an_archive_inflating_to_exactly_the_limit_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = with_metadata(SKILL)
    monkeypatch.setattr(archive, "MAX_ARCHIVE_SIZE", len(gzip.decompress(data)))
    extract(data, tmp_path)


def test_too_many_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_FOLDERS", 3)
    assert_both_refuse(with_metadata(SKILL, regular("skill/a/b/c/d/e.md")), tmp_path, "more than 3 folders")
    extract(with_metadata(SKILL, regular("skill/a/b/c.md"), regular("skill/a/d/e.md")), tmp_path / "at-the-limit")


# --- what extraction writes ----------------------------------------------------------------------------


def test_setuid_setgid_and_world_writable_bits_are_never_installed(tmp_path: Path) -> None:
    modes = {"skill/scripts/run.sh": 0o6777, "skill/scripts/setuid": 0o4755, "skill/notes.md": 0o666, "skill/ro": 0o400}
    members = [regular(name) for name in modes]
    for info, _ in members:
        info.mode = modes[info.name]
    extract(with_metadata(SKILL, *members), tmp_path)
    found = {path.relative_to(tmp_path).as_posix(): path.stat().st_mode & 0o7777 for path in tmp_path.rglob("*")}
    assert found.pop("scripts") & 0o7000 == 0
    assert found == {"SKILL.md": 0o644, "scripts/run.sh": 0o755, "scripts/setuid": 0o755, "notes.md": 0o644,
                     "ro": 0o644}


def test_members_after_the_end_of_the_archive_are_never_extracted(tmp_path: Path) -> None:
    """The first zero block ends the tar; what follows (garbage, or a second tar) is ignored."""
    first = gzip.decompress(with_metadata(SKILL)).rstrip(b"\0")
    first += bytes(-len(first) % 512) + bytes(512)  # the last member's padding, then one zero block
    later = gzip.decompress(tar_gz(regular("skill/hidden.md"), regular("../escape.txt")))
    extract(gzip.compress(first + later + b"trailing garbage", mtime=0), tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == ["SKILL.md"]


# --- projects: a cloned repository's skills.lock and skill folders -------------------------------------------


def lock_outside(isolated, name: str, directory: Path) -> None:
    """Add a skills.lock entry, as a cloned repository may hold, for ``name`` installed at ``directory``."""
    lockfile = read_lockfile(isolated.lockfile)
    entry = LockedSkill(name=name, version="1.0.0", target="generic", sha256="0" * 64, registry="embedded",
                        path="x", directory=directory.as_posix(), capability="none", requirement=name)
    write_lockfile(lockfile.with_skill(entry))


def leftovers_of_another_tool(folder: Path) -> dict[str, bytes]:
    """Files whose names look like skillpm's leftovers, in a folder skillpm was never asked to change."""
    (folder / ".photos.7.old").mkdir(parents=True)
    (folder / ".photos.7.old" / "a.jpg").write_bytes(b"jpg")
    (folder / ".notes.42.old").write_bytes(b"notes")
    (folder / ".keep.1.x.new").write_bytes(b"new")
    return {path.name: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_install_and_remove_clean_up_only_the_folders_they_may_change(isolated, registry: Path, run_cli) -> None:
    """install, and sync, update or remove of one skill, recover only the folders of the skills they change."""
    outside = isolated.tmp / "outside"
    before = leftovers_of_another_tool(outside)
    lock_outside(isolated, "keep", outside / "keep")

    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry).exit_code == 0
    assert run_cli("update", KERNEL).exit_code == 0
    assert run_cli("remove", KERNEL).exit_code == 0

    assert {path.name: path.read_bytes() for path in outside.rglob("*") if path.is_file()} == before


def plant_hostile_archive(registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LockedSkill:
    """Publish ``zz-evil`` (sorted after every other skill) with a member outside the tree, past ``registry add``."""
    skill_md = regular("skill/SKILL.md", b"---\nname: zz-evil\ndescription: d\n---\n")
    members = (skill_md, regular("skill/../escape.txt"))
    path = tmp_path / "zz-evil-1.0.0-generic.tar.gz"
    path.write_bytes(tar_gz(metadata_member(digests(*members), name="zz-evil"), *members))
    with monkeypatch.context() as patched:
        patched.setattr(entries, "scan", archive.read_metadata)
        store.add(registry, [path])
    [variant] = open_registry(str(registry)).require_package("zz-evil").versions[0].variants
    return LockedSkill(name="zz-evil", version="1.0.0", target="generic", sha256=variant.sha256,
                       registry=registry.resolve().as_uri(), path=variant.path,
                       directory=".claude/skills/zz-evil", capability="none", requirement="zz-evil")


def test_sync_checks_every_archive_s_members_before_installing_any(
    isolated, registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli, snapshot
) -> None:
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry).exit_code == 0
    lockfile = read_lockfile(isolated.lockfile)
    write_lockfile(lockfile.with_skill(plant_hostile_archive(registry, tmp_path, monkeypatch)))
    (isolated.skills / KERNEL / "SKILL.md").write_text("changed by hand: sync would repair it")
    before = snapshot(isolated.tmp)

    with pytest.raises(ArchiveError, match="unsafe path"):
        installer.sync(isolated.lockfile, cache=ArtifactCache())

    after = snapshot(isolated.tmp)
    assert {path: data for path, data in after.items() if not path.startswith("cache/")} == {
        path: data for path, data in before.items() if not path.startswith("cache/")
    }
    assert not list(isolated.tmp.rglob("escape.txt"))


def run_skillpm(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real ``skillpm ARGS`` in ``project``, in a process limited to 1 GiB and 30 seconds."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    return subprocess.run([sys.executable, "-m", "skillpm", *args], cwd=project, env=dict(os.environ),
                          capture_output=True, text=True, timeout=30, preexec_fn=limit, check=False)


def test_a_fifo_in_a_skill_folder_is_never_opened(isolated, registry: Path, run_cli) -> None:
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry).exit_code == 0
    os.mkfifo(isolated.skills / KERNEL / "pipe")

    result = run_skillpm(isolated.project, "sync")  # a read of the fifo would wait for a writer forever

    assert result.returncode == 0, result.stderr
    assert f"installed {KERNEL}" in result.stdout and not (isolated.skills / KERNEL / "pipe").exists()


def test_a_huge_file_in_a_skill_folder_is_never_read(isolated, registry: Path, run_cli) -> None:
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry).exit_code == 0
    with (isolated.skills / KERNEL / "huge.bin").open("wb") as handle:
        handle.truncate(2 << 30)  # sparse: no disk space; reading it whole would take 2 GiB

    result = run_skillpm(isolated.project, "sync")

    assert result.returncode == 0, result.stderr
    assert not (isolated.skills / KERNEL / "huge.bin").exists()


def victim(folder: Path) -> dict[str, bytes]:
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text("not a skill: the user's own file that happens to have this name\n")
    (folder / "id_rsa").write_text("secret\n")
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def test_a_skill_folder_that_is_a_link_is_replaced_or_removed_as_a_link(isolated, registry: Path, run_cli) -> None:
    """A cloned repository may commit .claude/skills/<name> as a link to anywhere: it is never followed."""
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry).exit_code == 0
    target = isolated.home / "private"
    before = victim(target)
    shutil.rmtree(isolated.skills / KERNEL)
    (isolated.skills / KERNEL).symlink_to(target)

    refused = run_cli("sync")
    assert refused.exit_code == 1 and "does not look like a skill" in refused.exception.message
    assert run_cli("sync", "--force").exit_code == 0
    assert (isolated.skills / KERNEL).is_dir() and not (isolated.skills / KERNEL).is_symlink()
    (isolated.skills / KERNEL).rename(isolated.tmp / "installed")
    (isolated.skills / KERNEL).symlink_to(target)
    assert run_cli("remove", KERNEL, "--force").exit_code == 0
    assert not (isolated.skills / KERNEL).exists() and not (isolated.skills / KERNEL).is_symlink()

    assert {path.name: path.read_bytes() for path in target.iterdir()} == before


@pytest.mark.parametrize("command", [("sync",), ("remove", KERNEL)])
def test_a_link_inside_a_skill_folder_is_removed_not_followed(
    isolated, registry: Path, run_cli, command: tuple[str, ...]
) -> None:
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry).exit_code == 0
    target = isolated.home / "private"
    before = victim(target)
    (isolated.skills / KERNEL / "references" / "more").symlink_to(target)

    result = run_cli(*command)

    assert result.exit_code == 0, result.output
    assert not (isolated.skills / KERNEL / "references" / "more").is_symlink()
    assert {path.name: path.read_bytes() for path in target.iterdir()} == before


def test_dir_naming_a_file_is_one_error_and_changes_nothing(isolated, registry: Path, snapshot) -> None:
    (isolated.project / "notes.txt").write_text("mine\n")
    before = snapshot(isolated.project)

    for where in ("notes.txt", "notes.txt/sub"):
        result = run_skillpm(isolated.project, "install", KERNEL, "--arch", "9.0", "--registry", str(registry),
                             "--dir", where)
        assert result.returncode != 0 and "Traceback" not in result.stderr
        assert len([line for line in result.stderr.splitlines() if line.startswith("error: ")]) == 1

    assert snapshot(isolated.project) == before


def test_a_gzip_stream_of_many_members_is_one_archive(tmp_path: Path) -> None:
    """gzip members are read one after another, as gzip(1) reads them, and every check applies across them."""
    whole = gzip.decompress(with_metadata(SKILL, regular("skill/../escape.txt")))
    split = b"".join(gzip.compress(whole[start : start + 700], mtime=0) for start in range(0, len(whole), 700))
    assert_both_refuse(split, tmp_path, "unsafe path")
