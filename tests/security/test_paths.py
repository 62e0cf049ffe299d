"""Class 1: writes through links, into places that run code, and lockfile entries that poison skills.lock.

A cloned project controls its skills folders (which may be links), its skills.lock, and what
``--dir`` or ``--agent`` lead to. Each case builds such a project, publishes a package named
``hooks`` (whose tree would become ``.git/hooks``), runs the real command, and checks the one-line
refusal and that nothing changed outside the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tomllib
from pathlib import Path

import pytest
from conftest import build_source, publish_source
from test_archive import SKILL, digests, metadata_member
from test_hostile_corpus import NAME, World, archive, registry_with

HOOK = "#!/bin/sh\necho owned > owned.txt\n"


@pytest.fixture
def hooks_registry(registry: Path, tmp_path: Path) -> Path:
    """The test registry plus a package ``hooks`` whose tree holds an executable ``pre-commit``."""
    source = build_source(tmp_path / "sources-hooks", "hooks", {"generic": {"pre-commit": HOOK}})
    publish_source(registry, source, tmp_path / "dist-hooks")
    return registry


def locked_hooks(hostile, registry: Path, directory: str = ".claude/skills/hooks") -> None:
    """Give the project a skills.lock entry for ``hooks`` at ``directory``, as a cloned project may hold.

    The entry is made by a real install into a scratch project (a copy, no links), then moved.
    """
    scratch = hostile.work / "scratch"
    (scratch / ".git").mkdir(parents=True)
    hostile.ok(hostile.run("install", "hooks", "--registry", registry, "--copy", "--agent", "claude-code", cwd=scratch))
    text = (scratch / "skills.lock").read_text().replace('".claude/skills/hooks"', f'"{directory}"')
    (hostile.project / "skills.lock").write_text(text)


def refused_and_untouched(hostile, before, completed, *phrases: str) -> None:
    """One error line; nothing changed but the cache and skillpm's own data folder (which ``--global`` locks)."""
    hostile.refused(completed, *phrases)
    assert hostile.changed_outside(before, hostile.cache, hostile.home / ".local") == []


@pytest.mark.parametrize("vcs", [".git", ".hg", ".svn", ".Git"])
def test_sync_through_a_skills_folder_linked_into_a_vcs_folder_is_refused(hostile, hooks_registry, vcs) -> None:
    """.claude/skills -> ../.git plus an entry named hooks would make sync write .git/hooks (run by git)."""
    locked_hooks(hostile, hooks_registry)
    (hostile.project / vcs).mkdir(exist_ok=True)
    (hostile.project / ".claude").mkdir()
    (hostile.project / ".claude" / "skills").symlink_to(Path("..") / vcs)
    before = hostile.state()

    refused_and_untouched(hostile, before, hostile.run("sync"), "version-control folder")


def test_flags_that_allow_outside_never_allow_a_vcs_folder(hostile, hooks_registry) -> None:
    """--allow-outside and --force say the user accepts folders outside the project, not .git."""
    locked_hooks(hostile, hooks_registry)
    (hostile.project / ".claude").mkdir()
    (hostile.project / ".claude" / "skills").symlink_to("../.git")
    before = hostile.state()

    refused_and_untouched(hostile, before, hostile.run("sync", "--allow-outside", "--force"), "version-control")


def test_a_linked_intermediate_folder_into_git_is_refused(hostile, hooks_registry) -> None:
    """.claude -> .git: every skills folder under it lies in .git after links."""
    locked_hooks(hostile, hooks_registry)
    (hostile.project / ".claude").symlink_to(".git")
    before = hostile.state()

    refused_and_untouched(hostile, before, hostile.run("sync", "--allow-outside"), "after links inside")


def test_a_lockfile_directory_spelled_into_another_vcs_folder_is_refused(hostile, hooks_registry) -> None:
    """directory = ".hg/hooks" (or .svn, .GIT): the reader refused only '.git' before."""
    locked_hooks(hostile, hooks_registry, directory=".hg/hooks")
    (hostile.project / ".hg").mkdir()
    before = hostile.state()

    refused_and_untouched(hostile, before, hostile.run("sync", "--allow-outside"), "version-control")


def test_install_with_an_agent_folder_linked_into_git_is_refused(hostile, hooks_registry) -> None:
    """--agent codex installs into .agents/skills, which a cloned project made a link to .git."""
    (hostile.project / ".agents").mkdir()
    (hostile.project / ".agents" / "skills").symlink_to("../.git")
    before = hostile.state()

    completed = hostile.run("install", "hooks", "--agent", "codex", "--registry", hooks_registry)

    refused_and_untouched(hostile, before, completed, "version-control")


@pytest.mark.parametrize("spelling", [".git", "vendor-link", ".GIT/../.git"])
def test_install_dir_into_git_is_refused(hostile, hooks_registry, spelling) -> None:
    """--dir names a folder on purpose, which never makes .git one (as spelled, or through a link)."""
    (hostile.project / "vendor-link").symlink_to(".git")
    before = hostile.state()

    completed = hostile.run("install", "hooks", "--dir", spelling, "--registry", hooks_registry)

    refused_and_untouched(hostile, before, completed, "version-control")


@pytest.mark.parametrize("save", [False, True])
def test_install_dir_into_another_repository_s_git_makes_no_folder_there(hostile, hooks_registry, save: bool) -> None:
    """The lock used to make the folder (.git/hooks/x, its lockfile's, or with --save a skills folder), parents
    included, before the version-control check refused with 'nothing was changed'."""
    other = hostile.root / "other"
    (other / ".git").mkdir(parents=True)
    target = other / ".git" / "hooks" / "pre-commit.d"
    before, touched = hostile.state(), (other / ".git").stat().st_mtime_ns

    completed = hostile.run("install", "hooks", "--dir", target, *(["--save"] if save else []), "--registry", hooks_registry)

    refused_and_untouched(hostile, before, completed, "version-control")
    assert os.listdir(other / ".git") == []
    assert (other / ".git").stat().st_mtime_ns == touched  # not even made and removed again


def test_a_user_data_folder_inside_git_is_never_made(hostile, hooks_registry) -> None:
    """--global records in the user's data folder, which its lock made before the version-control check refused."""
    dotfiles = hostile.home / "dotfiles"
    (dotfiles / ".git").mkdir(parents=True)
    touched = (dotfiles / ".git").stat().st_mtime_ns

    completed = hostile.run(
        "install", "hooks", "--global", "--registry", hooks_registry, env={"XDG_DATA_HOME": str(dotfiles / ".git" / "share")}
    )

    hostile.refused(completed, "version-control")
    assert os.listdir(dotfiles / ".git") == []
    assert (dotfiles / ".git").stat().st_mtime_ns == touched  # not even made and removed again


def test_global_skills_folder_linked_into_a_repository_is_refused(hostile, hooks_registry) -> None:
    """--global: ~/.claude/skills a link into a dotfiles repository's .git."""
    dotfiles = hostile.home / "dotfiles" / ".git"
    dotfiles.mkdir(parents=True)
    (hostile.home / ".claude").mkdir()
    (hostile.home / ".claude" / "skills").symlink_to(dotfiles)
    before = hostile.state()

    completed = hostile.run("install", "hooks", "--global", "--registry", hooks_registry)

    refused_and_untouched(hostile, before, completed, "version-control")


@pytest.mark.parametrize("command", [("remove", "hooks", "--force", "--allow-outside"), ("update", "--allow-outside")])
def test_remove_and_update_never_touch_the_real_git_hooks(hostile, hooks_registry, command) -> None:
    """remove --force would delete .git/hooks (the user's hooks), update would replace it."""
    locked_hooks(hostile, hooks_registry)
    (hostile.project / ".git" / "hooks").mkdir()
    (hostile.project / ".git" / "hooks" / "pre-push").write_text("#!/bin/sh\nmake test\n")
    (hostile.project / ".claude").mkdir()
    (hostile.project / ".claude" / "skills").symlink_to("../.git")
    before = hostile.state()

    refused_and_untouched(hostile, before, hostile.run(*command), "version-control")
    assert (hostile.project / ".git" / "hooks" / "pre-push").read_text() == "#!/bin/sh\nmake test\n"


def test_a_skill_folder_linked_into_git_is_replaced_as_a_link(hostile, hooks_registry) -> None:
    """.claude/skills/hooks -> ../../.git/hooks: never followed; with --force the link itself is replaced."""
    locked_hooks(hostile, hooks_registry)
    hooks = hostile.project / ".git" / "hooks"
    hooks.mkdir()
    (hooks / "pre-push").write_text("mine\n")
    (hostile.project / ".claude" / "skills").mkdir(parents=True)
    (hostile.project / ".claude" / "skills" / "hooks").symlink_to("../../.git/hooks")
    before = hostile.state()

    hostile.refused(hostile.run("sync"), "does not look like a skill")
    hostile.ok(hostile.run("sync", "--force"))

    assert hostile.changed_outside(before, hostile.cache, hostile.project / ".claude") == []
    assert sorted(os.listdir(hooks)) == ["pre-push"]
    installed = hostile.project / ".claude" / "skills" / "hooks"
    assert installed.is_dir() and not installed.is_symlink() and (installed / "pre-commit").is_file()


@pytest.mark.parametrize(
    ("field", "value", "phrase"),
    [
        ("version", " 1.0.0", "not a PEP 440 version"),
        ("version", "1.0.0 ", "not a PEP 440 version"),
        ("version", "1.0.0\n", "control character"),
        ("target", "sm_9x", "unknown GPU target"),
        ("target", "SM_90", "unknown GPU target"),
        ("capability", "h100", "neither 'none'"),
        ("sha256", "A" * 64, "64 lowercase hex"),
        ("sha256", "a" * 64 + "\n", "control character"),
        ("path", "../../../etc/passwd", "not relative to its registry"),
        ("registry", " embedded", "surrounding spaces"),
        ("requirement", "other-package", "another package"),
        ("directory", ".claude/skills/.GIT/hooks", "version-control"),
        ("directory", ".claude/./skills/hooks", "not written plainly"),  # one folder spelt otherwise (hostile review)
        # 2,000 combining marks in one name: no file system holds it, and folding it for comparison took
        # 15 ms an entry, quadratic in the run (hostile review)
        ("directory", ".claude/a" + "\u0300" * 2000 + "/hooks", "over 255 bytes"),
    ],
)
def test_a_malformed_lockfile_entry_is_refused_before_anything_is_written(
    hostile, hooks_registry, field, value, phrase
) -> None:
    """A cloned skills.lock's every field has a grammar; one that breaks it stops the command at once."""
    locked_hooks(hostile, hooks_registry)
    lockfile = hostile.project / "skills.lock"
    head, entry = lockfile.read_text().split("[[skill]]\n")
    lines = [f"{field} = {json.dumps(value)}" if line.startswith(f"{field} = ") else line for line in entry.splitlines()]
    lockfile.write_text(head + "[[skill]]\n" + "\n".join(lines) + "\n")
    assert tomllib.loads(lockfile.read_text())["skill"][0][field] == value
    before = hostile.state()

    refused_and_untouched(hostile, before, hostile.run("sync"), "entry 1", phrase)



def test_two_lockfile_entries_for_one_folder_are_refused_before_anything_is_written(hostile, hooks_registry) -> None:
    """A cloned skills.lock lists one skill twice, its folder spelt in two cases (one folder on macOS and Windows):
    sync wrote both into it, the last one winning, and every later sync rewrote it (found in a hostile review)."""
    locked_hooks(hostile, hooks_registry)
    lockfile = hostile.project / "skills.lock"
    head, entry = lockfile.read_text().split("[[skill]]\n")
    lockfile.write_text(head + "[[skill]]\n" + entry + "\n[[skill]]\n" + entry.replace(".claude/", ".Claude/"))
    before = hostile.state()
    refused_and_untouched(hostile, before, hostile.run("sync"), "two entries install into one folder")


@pytest.mark.parametrize("version", ["1.0.0\n", " 1.0.0", "1.0.0 "])
def test_a_registry_version_with_whitespace_never_reaches_skills_lock(hostile, version: str) -> None:
    """packaging reads '1.0.0\\n' as a version; recorded, it poisoned skills.lock for every later command."""
    world = World(hostile.root)
    data = archive(metadata=metadata_member(digests(SKILL), version=version))
    variant = {"target": "generic", "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
               "path": f"artifacts/{NAME}/1.0.0/{NAME}-1.0.0-generic.tar.gz", "yanked": False, "attestations": []}
    document = {"format-version": 1, "name": NAME,
                "versions": [{"version": version, "description": "d", "variants": [variant]}]}
    root = registry_with(world, data, document=json.dumps(document).encode())
    before = hostile.state()

    refused_and_untouched(hostile, before, hostile.run("install", NAME, "--registry", root), "version")
    assert not (hostile.project / "skills.lock").exists()


def test_a_loop_of_links_where_skills_go_is_one_line(hostile, registry: Path) -> None:
    """A cloned project's .agents/skills is a link to itself: Path.resolve() raises RuntimeError on Python 3.11
    and 3.12 (found in a hostile review: a traceback from sync, update, install and remove)."""
    hostile.ok(hostile.run("install", "doc-writer", "--arch", "9.0", "--registry", registry))
    skills = hostile.project / ".agents" / "skills"
    shutil.rmtree(skills)
    skills.symlink_to("skills")
    before = hostile.state()
    for args in (["sync"], ["remove", "doc-writer"]):
        hostile.refused(hostile.run(*args), "leads into a loop of links")
        assert hostile.changed_outside(before, hostile.cache) == []


def test_a_skill_folder_that_is_a_fifo_is_replaced_without_opening_it(hostile, registry: Path) -> None:
    """sync --force put a fifo aside and removal opened it, waiting for a writer forever; every later command hung
    in recovery (found in a hostile review). A fifo is unlinked, never opened."""
    hostile.ok(hostile.run("install", "doc-writer", "--arch", "9.0", "--registry", registry))
    folder = hostile.project / ".agents" / "skills" / "doc-writer"
    shutil.rmtree(folder)
    os.mkfifo(folder)
    hostile.ok(hostile.run("sync", "--force"))
    assert (folder / "SKILL.md").is_file()
    assert not [entry for entry in folder.parent.iterdir() if "skillpm" in entry.name]
    hostile.ok(hostile.run("remove", "doc-writer"))
