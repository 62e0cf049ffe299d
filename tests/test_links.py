"""skillpm.links on real folders and real symbolic links."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from skillpm import links
from skillpm.errors import InstallError


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / ".agents" / "skills" / "demo").mkdir(parents=True)
    return root


def test_a_project_link_is_relative_and_leads_to_the_copy(project: Path) -> None:
    directory, link = project / ".agents/skills/demo", project / ".claude/skills/demo"
    assert links.needs_making(link, directory, root=project, allow_outside=False)
    assert links.make(link, directory, relative=True)
    assert os.readlink(link) == "../../.agents/skills/demo"
    assert link.resolve() == directory.resolve() and links.is_ours(link, directory)
    assert not links.needs_making(link, directory, root=project, allow_outside=False)  # already there
    assert sorted(p.name for p in link.parent.iterdir()) == ["demo"]  # no temporary left


def test_a_relative_link_is_computed_after_links_on_the_way(project: Path) -> None:
    """.claude is itself a link to config/claude: the link's text must work from where it really is."""
    (project / "config" / "claude").mkdir(parents=True)
    (project / ".claude").symlink_to("config/claude")
    directory, link = project / ".agents/skills/demo", project / ".claude/skills/demo"
    assert links.make(link, directory, relative=True)
    assert link.resolve() == directory.resolve()


@pytest.mark.parametrize("kind", ["link elsewhere", "folder", "file"])
def test_what_skillpm_did_not_make_is_refused_and_kept(project: Path, tmp_path: Path, kind: str) -> None:
    directory, link = project / ".agents/skills/demo", project / ".claude/skills/demo"
    link.parent.mkdir(parents=True)
    if kind == "link elsewhere":
        (tmp_path / "outside").mkdir()
        link.symlink_to(tmp_path / "outside")
    elif kind == "folder":
        link.mkdir()
    else:
        link.write_text("mine", encoding="utf-8")
    with pytest.raises(InstallError, match="skillpm did not make"):
        links.needs_making(link, directory, root=project, allow_outside=False)
    assert not links.remove(link, directory)
    assert os.path.lexists(link) and (link.is_symlink() or kind != "link elsewhere")


@pytest.mark.parametrize("blocker", [".claude", ".claude/skills"])
def test_a_file_where_the_folder_should_be_is_refused_before_anything_is_written(project: Path, blocker: str) -> None:
    (project / blocker).parent.mkdir(parents=True, exist_ok=True)
    (project / blocker).write_text("not a folder", encoding="utf-8")
    with pytest.raises(InstallError, match="is not a folder"):
        links.needs_making(project / ".claude/skills/demo", project / ".agents/skills/demo", root=project,
                           allow_outside=False)


def test_a_folder_linked_out_of_the_project_is_refused(project: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (project / ".claude").mkdir()
    (project / ".claude" / "skills").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InstallError, match="outside the project"):
        links.needs_making(project / ".claude/skills/demo", project / ".agents/skills/demo", root=project,
                           allow_outside=False)


def test_where_links_are_not_supported_make_says_so_and_leaves_nothing(project: Path, monkeypatch) -> None:
    def no_links(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "symlink", no_links)
    link = project / ".claude/skills/demo"
    assert not links.make(link, project / ".agents/skills/demo", relative=True)
    assert list(link.parent.iterdir()) == []


def test_remove_takes_away_only_its_own_link(project: Path) -> None:
    directory, link = project / ".agents/skills/demo", project / ".claude/skills/demo"
    links.make(link, directory, relative=True)
    assert links.remove(link, directory) and not os.path.lexists(link)
    assert directory.is_dir() and links.remove(link, directory)  # absent is fine
