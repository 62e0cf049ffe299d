"""Class 9: archives and skill trees carrying version-control files, which the tool then runs.

``.git/config`` may set ``core.fsmonitor`` (a program git runs on ``git status``), ``.hg/hgrc``
hooks, and a ``.git`` *file* (``gitdir: ...``) points git at another repository. Served by a
registry, added to one, packed or validated: each is refused (or reported) with one line.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from test_archive import SKILL, regular
from test_hostile_corpus import NAME, World, archive, registry_with

FSMONITOR = b"[core]\n\tfsmonitor = touch /tmp/owned\n"

MEMBERS = [
    "skill/.git/config",
    "skill/.GIT/config",
    "skill/references/.git/config",
    "skill/.git",  # a file: gitdir: pointer
    "skill/.hg/hgrc",
    "skill/deep/er/.Hg/hgrc",
    "skill/.svn/entries",
    "skill/git~1/config",  # the NTFS short name of .git
]


@pytest.mark.parametrize("member", MEMBERS)
def test_install_refuses_an_archive_with_vcs_files(hostile, member: str) -> None:
    """A registry serves an archive whose tree holds a version-control folder or file."""
    world = World(hostile.root)
    data = b"gitdir: ../../../.git\n" if member.endswith(".git") else FSMONITOR
    root = registry_with(world, archive(regular(member, data)))
    before = hostile.state()

    completed = hostile.run("install", NAME, "--registry", root, "--arch", "9.0")

    hostile.refused(completed, "version-control")
    assert hostile.changed_outside(before, hostile.cache) == []
    assert not (hostile.project / ".claude").exists()


def test_registry_add_refuses_an_archive_with_git_config(hostile) -> None:
    """A registry never publishes what every client would refuse."""
    world = World(hostile.root)
    root = registry_with(world)
    hostile_archive = hostile.work / f"{NAME}-1.0.1-generic.tar.gz"
    hostile_archive.write_bytes(archive(regular("skill/.git/config", FSMONITOR), metadata=None))
    before = hostile.state()

    completed = hostile.run("registry", "add", root, hostile_archive)

    hostile.refused(completed, "version-control")
    assert hostile.changed_outside(before, hostile.cache) == []


def skill_source(hostile, extra: str, content: bytes) -> Path:
    """A valid skill source whose generic variant also holds ``extra``."""
    from conftest import build_source

    source = build_source(hostile.work, "vcs-skill", {"generic": {}})
    path = source / "variants" / "generic" / extra
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return source


@pytest.mark.parametrize("extra", ["GIT~1/config", "scripts/git~2/config", "_darcs/prefs/defaults"])
def test_pack_refuses_a_tree_with_vcs_folders(hostile, extra: str) -> None:
    """pack builds nothing from a tree holding a name a file system reads as a version-control folder.

    (Hidden names such as ``.git`` are never part of a source's tree: see the next case.)
    """
    source = skill_source(hostile, extra, FSMONITOR)
    out = hostile.work / "dist"
    before = hostile.state()

    completed = hostile.run("pack", source, "-o", out)

    hostile.refused(completed, "version-control")
    assert hostile.changed_outside(before, hostile.cache) == []


def test_pack_leaves_a_sources_own_git_folder_out(hostile) -> None:
    """A skill source that is a repository packs without its .git (hidden names are skipped)."""
    source = skill_source(hostile, ".git/config", FSMONITOR)
    (source / ".git").mkdir()
    (source / ".git" / "config").write_bytes(FSMONITOR)
    out = hostile.work / "dist"

    hostile.ok(hostile.run("pack", source, "-o", out))

    [built] = out.iterdir()
    with tarfile.open(built) as tar:
        assert not [name for name in tar.getnames() if ".git" in name.casefold()]


def test_validate_reports_vcs_folders(hostile) -> None:
    """validate reports the same rule as a finding, naming the folder."""
    source = skill_source(hostile, "Git~1/config", FSMONITOR)

    completed = hostile.run("validate", source)

    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "tree.unsafe-name" in completed.stdout and "version-control" in completed.stdout
