"""The containment rule (skillpm.containment): which paths skillpm may write, as pure functions."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from skillpm.containment import check_writable, is_vcs_name, outside_problem, vcs_component, vcs_problem
from skillpm.errors import InstallError


@pytest.mark.parametrize(
    "name", [".git", ".GIT", ".Git", ".hg", ".HG", ".svn", ".bzr", "_darcs", ".jj", ".git.", ".git ", ".git::$INDEX_ALLOCATION",
             "GIT~1", "git~12", "hg~1"],
)
def test_vcs_names_in_every_spelling_a_file_system_may_read(name: str) -> None:
    assert is_vcs_name(name)


@pytest.mark.parametrize("name", [".gitignore", ".github", "git", ".gitmodules", "hooks", ".hgignore", "svn", "a.git", "git~x"])
def test_ordinary_names_are_not_vcs_folders(name: str) -> None:
    assert not is_vcs_name(name)


def test_vcs_component_names_the_first_one() -> None:
    assert vcs_component(PurePosixPath("/p/.claude/.Hg/x/.git")) == ".Hg"
    assert vcs_component(PurePosixPath("/p/.claude/skills")) is None


def test_vcs_problem_looks_at_the_path_as_given_and_as_resolved() -> None:
    assert "after links" in vcs_problem(Path("/p/.claude/skills"), Path("/p/.git"))
    assert "inside the version-control folder '.svn'" in vcs_problem(Path("/p/.svn/skills"), Path("/q/skills"))
    assert vcs_problem(Path("/p/.claude/skills"), Path("/p/vendor/skills")) is None


def test_outside_problem_compares_resolved_paths() -> None:
    assert outside_problem(Path("/p/vendor/skills"), Path("/p")) is None
    assert outside_problem(Path("/p"), Path("/p")) is None
    assert "outside the project /p" in outside_problem(Path("/home/u/.ssh"), Path("/p"))
    assert outside_problem(Path("/pp/skills"), Path("/p")) is not None  # a prefix of the name is not a parent


def test_check_writable_allow_outside_never_allows_a_vcs_folder(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "skills").symlink_to(".git")
    with pytest.raises(InstallError) as caught:
        check_writable(tmp_path / "skills", root=tmp_path, allow_outside=True)
    assert "version-control" in caught.value.message and ".git" in caught.value.hint
    elsewhere = tmp_path / "elsewhere"
    (tmp_path / "out").symlink_to(elsewhere)
    check_writable(tmp_path / "out", root=tmp_path / "project", allow_outside=True)
    with pytest.raises(InstallError, match="outside the project"):
        check_writable(tmp_path / "out", root=tmp_path / "project", allow_outside=False)
