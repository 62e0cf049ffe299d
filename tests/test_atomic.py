"""Durability: after each rename that publishes a result, skillpm syncs the directory it renamed in."""

from __future__ import annotations

import errno
import os
import sys
import time
from pathlib import Path

import pytest

from skillpm.atomic import atomic_write, fsync_directory, replace_dir, staging_dir

on_linux = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc/self/fd")


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The paths os.fsync is called on, in order (the real fsync still runs)."""
    paths: list[Path] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        paths.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    return paths


def test_fsync_directory_works_on_a_real_directory(tmp_path: Path) -> None:
    fsync_directory(tmp_path)  # on every platform: no error, whether or not it can sync


@on_linux
def test_fsync_directory_syncs_that_directory(tmp_path: Path, synced: list[Path]) -> None:
    fsync_directory(tmp_path)

    assert synced == [tmp_path.resolve()]
    assert not any(Path(f"/proc/self/fd/{fd}").resolve() == tmp_path.resolve() for fd in os.listdir("/proc/self/fd"))


@pytest.mark.skipif(sys.platform == "win32", reason="directories cannot be opened on Windows")
def test_fsync_directory_tolerates_a_file_system_that_cannot_sync_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(fd: int) -> None:
        raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))

    monkeypatch.setattr(os, "fsync", refuse)
    fsync_directory(tmp_path)


def test_fsync_directory_is_a_no_op_without_o_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "O_DIRECTORY", raising=False)
    monkeypatch.setattr(os, "fsync", lambda fd: pytest.fail("fsync called"))
    fsync_directory(tmp_path)


@on_linux
def test_atomic_write_syncs_the_file_then_its_directory(tmp_path: Path, synced: list[Path]) -> None:
    target = tmp_path / "sub" / "file.txt"

    atomic_write(target, b"content")

    assert target.read_bytes() == b"content"
    [temporary, folder] = synced
    assert temporary.parent.parent == target.parent.resolve() and temporary.parent.name.startswith(".file.txt.")
    assert folder == target.parent.resolve()


@on_linux
def test_an_atomic_write_that_need_not_be_durable_syncs_nothing_and_leaves_nothing(tmp_path: Path, synced: list[Path]) -> None:
    target = tmp_path / "pages" / "alpha.html"
    target.parent.mkdir()
    target.write_bytes(b"old")

    atomic_write(target, b"new", durable=False)

    assert target.read_bytes() == b"new"
    assert synced == []
    assert sorted(path.name for path in target.parent.iterdir()) == ["alpha.html"]


@on_linux
@pytest.mark.parametrize("existing", [False, True], ids=["new", "replacing"])
def test_replace_dir_syncs_the_parent_once(tmp_path: Path, synced: list[Path], existing: bool) -> None:
    final = tmp_path / "skills" / "alpha"
    if existing:
        final.mkdir(parents=True)
        (final / "old.md").write_text("old\n")
    staged = staging_dir(final)
    (staged / "new.md").write_text("new\n")

    replace_dir(staged, final)

    assert sorted(path.name for path in final.iterdir()) == ["new.md"]
    assert synced == [final.parent.resolve()]


@on_linux
def test_install_and_remove_sync_each_folder_before_going_on(
    isolated, registry: Path, run_cli, synced: list[Path]
) -> None:
    project, skills = isolated.project.resolve(), isolated.skills.resolve()

    assert run_cli("install", "doc-writer", "--registry", registry).exit_code == 0
    [lockfile_temporary] = [path for path in synced if path.parent.name.startswith(".skills.lock.")]
    # the lockfile is written and its folder synced, then the tree renamed in and its folder synced
    assert synced.index(lockfile_temporary) < synced.index(project) < synced.index(skills)

    synced.clear()
    assert run_cli("remove", "doc-writer").exit_code == 0
    [lockfile_temporary] = [path for path in synced if path.parent.name.startswith(".skills.lock.")]
    # the tree is renamed aside durably before the lockfile that no longer names it
    assert synced.index(skills) < synced.index(lockfile_temporary) < synced.index(project)


def test_recovery_removes_a_leftover_folder_in_every_state_a_kill_can_leave(tmp_path: Path) -> None:
    """Made: empty (killed before the marker), marked, marked with a partial tree; removed: tree gone, marker gone."""
    from skillpm.atomic import MARKER, _leftover, recover_folder

    final = tmp_path / "skills" / "alpha"
    for step in range(5):
        staged = _leftover(final, "new")
        if step == 0:
            os.rmdir(staged.parent / MARKER)
        if step in (2, 3):
            staged.mkdir()
            (staged / "half.md").write_text("half\n")
        if step == 3:  # discard had begun removing the tree
            (staged / "half.md").unlink()
        if step == 4:  # discard had removed the tree and the marker
            os.rmdir(staged.parent / MARKER)
    mine = tmp_path / "skills" / ".alpha.abcdefgh.skillpm-new"
    (mine / "tree").mkdir(parents=True)
    (mine / "tree" / "notes.md").write_text("a look-alike without a marker\n")

    recover_folder(tmp_path / "skills", restore=())

    assert sorted(os.listdir(tmp_path / "skills")) == [mine.name]
    assert (mine / "tree" / "notes.md").read_text() == "a look-alike without a marker\n"


def test_a_leftover_folder_is_private_and_named_anew_when_its_name_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As tempfile.mkdtemp makes one: mode 0700 and a random name, tried again while the name is taken."""
    from skillpm.atomic import _leftover, _leftover_name

    draws = iter([b"\x00" * 4, b"\x00" * 4, b"\x01\x02\x03\x04"])
    monkeypatch.setattr(os, "urandom", lambda size: next(draws))
    final = tmp_path / "skills" / "alpha"
    first, second = _leftover(final, "tmp"), _leftover(final, "tmp")
    assert (first.parent.name, second.parent.name) == (".alpha.00000000.skillpm-tmp", ".alpha.01020304.skillpm-tmp")
    assert all(_leftover_name().fullmatch(path.parent.name) for path in (first, second))
    assert (first.parent.stat().st_mode & 0o777) == 0o700


def test_a_leftover_folder_is_refused_when_every_name_tried_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from skillpm.atomic import _leftover

    monkeypatch.setattr(os, "urandom", lambda size: b"\x00" * size)
    (tmp_path / ".alpha.00000000.skillpm-tmp").mkdir()
    with pytest.raises(FileExistsError):
        _leftover(tmp_path / "alpha", "tmp")


WRITER = """
import os, sys
folder = sys.argv[1]
print("writing", flush=True)
index = 0
while True:  # until killed
    try:
        os.makedirs(folder, exist_ok=True)  # a folder inside the tree, which the test makes again and again
        open(os.path.join(folder, str(index)), "w").close()
    except OSError:
        pass
    index += 1
"""


def test_a_tree_another_program_writes_in_while_it_is_removed_is_named(tmp_path: Path) -> None:
    """shutil.rmtree said only 'Directory not empty: references', a name inside the tree; the error names the tree."""
    import subprocess

    from skillpm.atomic import remove_path
    from skillpm.errors import InstallError

    tree = tmp_path / "alpha"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tree / "references")], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "writing\n"
        for _ in range(200):  # until the writer adds a file between the listing and the removal of its folder
            time.sleep(0.01)
            try:
                remove_path(tree)
            except InstallError as raised:
                error = raised
                break
        else:
            pytest.fail("the writer never got a file in while the tree was removed")
    finally:
        writer.kill()
        writer.wait()
    assert error.message.startswith(f"cannot remove {tree}: ")
    assert "another program" in (error.hint or "")
