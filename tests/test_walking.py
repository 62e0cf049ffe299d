"""skillpm.walking: os.walk without recursion, and how deep a tree nests, on real folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skillpm.walking import deeper_than, walk


def _tree(root: Path) -> Path:
    for folder in ("a/b/c", "a/d", "e"):
        (root / folder).mkdir(parents=True)
    for file in ("top.txt", "a/one.txt", "a/b/c/two.txt", "e/three.txt"):
        (root / file).write_text("x")
    (root / "a" / "to-e").symlink_to(root / "e", target_is_directory=True)  # listed, never entered
    (root / "a" / "to-file").symlink_to(root / "top.txt")
    (root / "dangling").symlink_to(root / "nowhere")
    return root


def _sorted(walked) -> list[tuple[str, list[str], list[str]]]:
    return sorted((folder, sorted(folders), sorted(files)) for folder, folders, files in walked)


def test_walk_yields_what_os_walk_yields(tmp_path: Path) -> None:
    root = _tree(tmp_path / "t")
    assert _sorted(walk(root)) == _sorted(os.walk(root))
    assert [folder for folder, _, _ in walk(root)][0] == str(root)  # top-down


def test_walk_enters_only_the_folders_left_in_the_list(tmp_path: Path) -> None:
    root = _tree(tmp_path / "t")
    seen = []
    for folder, folders, _ in walk(root):
        seen.append(os.path.relpath(folder, root))
        folders[:] = sorted(name for name in folders if name != "b")
    assert seen == [".", "a", "a/d", "e"]


def nest(top: Path, levels: int, name: str = "d", file: str | None = None) -> None:
    """Folders ``name`` nested ``levels`` deep in ``top`` (and ``file`` in the last), made one level at a time
    through descriptors: pathlib's and os's makedirs recurse once per level, and a path may be too long to name."""
    descriptor = os.open(top, os.O_RDONLY)
    try:
        for _ in range(levels):
            os.mkdir(name, dir_fd=descriptor)
            child = os.open(name, os.O_RDONLY, dir_fd=descriptor)
            os.close(descriptor)
            descriptor = child
        if file:
            os.close(os.open(file, os.O_WRONLY | os.O_CREAT, dir_fd=descriptor))
    finally:
        os.close(descriptor)


def unnest(top: Path, levels: int, name: str = "d", file: str | None = None) -> None:
    """Remove what :func:`nest` made, deepest first (pytest's clean-up of old runs recurses once per level)."""
    descriptors = [os.open(top, os.O_RDONLY)]
    for _ in range(levels):
        descriptors.append(os.open(name, os.O_RDONLY, dir_fd=descriptors[-1]))
    if file:
        os.unlink(file, dir_fd=descriptors[-1])
    os.close(descriptors.pop())
    while descriptors:
        parent = descriptors.pop()
        os.rmdir(name, dir_fd=parent)
        os.close(parent)


def test_walk_goes_deeper_than_python_recurses(tmp_path: Path) -> None:
    nest(tmp_path, 1200, file="f")
    try:
        assert sum(len(files) for _, _, files in walk(tmp_path)) == 1
    finally:
        unnest(tmp_path, 1200, file="f")


@pytest.mark.parametrize(("levels", "deeper"), [(2, True), (3, False), (0, True)])
def test_deeper_than_counts_the_folder_levels_below_the_top(tmp_path: Path, levels: int, deeper: bool) -> None:
    assert deeper_than(_tree(tmp_path / "t"), levels) is deeper  # a/b/c: 3 levels


def test_deeper_than_enters_no_link_and_sees_a_path_too_long_to_read(tmp_path: Path) -> None:
    (tmp_path / "elsewhere" / "x" / "y" / "z").mkdir(parents=True)
    root = tmp_path / "t"
    root.mkdir()
    (root / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert deeper_than(root, 0) is False
    nest(root, 30, "n" * 200)  # 6,000 characters below the top: deeper than a path can name
    try:
        assert deeper_than(root, 256) is True
    finally:
        unnest(root, 30, "n" * 200)
