"""Whether folders that give one skill name are copies (skillpm.validation.skillnames.install_alike)."""

from __future__ import annotations

import os
from pathlib import Path

from sources_helpers import plain_skill

from skillpm.portable import MAX_TOTAL_SIZE
from skillpm.validation.skillnames import install_alike


def copies(tmp_path: Path) -> tuple[Path, Path]:
    first = plain_skill(tmp_path / "a", "x")
    (first / "scripts").mkdir()
    (first / "scripts" / "run.sh").write_text("echo hi\n")
    second = plain_skill(tmp_path / "b", "x")
    (second / "scripts").mkdir()
    (second / "scripts" / "run.sh").write_text("echo hi\n")
    return first, second


def test_folders_of_the_same_files_are_copies(tmp_path: Path) -> None:
    assert install_alike(copies(tmp_path))


def test_a_byte_a_file_or_a_hidden_file_more_makes_them_different(tmp_path: Path) -> None:
    first, second = copies(tmp_path)
    (second / "scripts" / "run.sh").write_text("echo HI\n")  # the same size: the bytes are compared
    assert not install_alike((first, second))
    (second / "scripts" / "run.sh").write_text("echo hi\n")
    (second / ".notes").write_text("x")  # left out at install, but the answer errs towards refusing a choice
    assert not install_alike((first, second))


def test_a_link_an_unreadable_folder_or_one_over_the_limits_is_never_a_copy(tmp_path: Path) -> None:
    """Two folders skillpm cannot read are not 'alike' (a hostile review: None == None chose the first); nor is
    one whose files exceed an archive's limits, told from sizes before a byte is hashed (the review's two
    folders of 80 MiB and 2,971 variants were hashed for hours)."""
    first, second = copies(tmp_path)
    os.symlink("scripts/run.sh", first / "linked")
    os.symlink("scripts/run.sh", second / "linked")
    assert not install_alike((first, second))
    assert not install_alike((tmp_path / "missing", tmp_path / "missing-too"))
    first, second = copies(tmp_path / "big")
    for folder in (first, second):
        with open(folder / "big.bin", "wb") as file:
            file.truncate(MAX_TOTAL_SIZE + 1)  # sparse: nothing is written, and nothing may be read
    assert not install_alike((first, second))
