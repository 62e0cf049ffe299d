"""Links from agents' folders to the one copy: a cloned project's own links are never followed.

A cloned project controls what already lies in its agents' folders and what its
skills.lock says skillpm linked. Each case runs the real command in a subprocess and
checks the one-line refusal (or what was left alone) and that nothing outside the
project changed.
"""

from __future__ import annotations

import os
from pathlib import Path

SKILL = "doc-writer"


def victim(hostile) -> Path:
    """A folder outside the project that a hostile link leads to, with a file to keep."""
    folder = hostile.work / "victim"
    folder.mkdir()
    (folder / "keep.txt").write_text("keep\n", encoding="utf-8")
    return folder


def test_a_link_in_an_agent_folder_that_leads_outside_is_not_followed(hostile, registry) -> None:
    """.claude/skills/doc-writer -> /elsewhere: the install refuses instead of writing through it or replacing it."""
    target = victim(hostile)
    link = hostile.project / ".claude" / "skills" / SKILL
    link.parent.mkdir(parents=True)
    link.symlink_to(target)
    before = hostile.state()

    completed = hostile.run("install", SKILL, "--arch", "9.0", "--registry", registry, "--agent", "claude-code")

    hostile.refused(completed, "skillpm did not make")
    assert hostile.changed_outside(before, hostile.cache) == []
    assert os.readlink(link) == str(target)


def test_an_agent_folder_linked_outside_the_project_is_refused(hostile, registry) -> None:
    """.windsurf/skills -> /elsewhere: the link to the copy would be written outside the project."""
    target = victim(hostile)
    (hostile.project / ".windsurf").mkdir()
    (hostile.project / ".windsurf" / "skills").symlink_to(target)
    before = hostile.state()

    completed = hostile.run("install", SKILL, "--arch", "9.0", "--registry", registry, "--agent", "windsurf")

    hostile.refused(completed, "outside the project")
    assert hostile.changed_outside(before, hostile.cache) == []


def test_an_agent_folder_linked_into_git_is_refused_even_when_outside_is_allowed(hostile, registry) -> None:
    (hostile.project / ".windsurf").mkdir()
    (hostile.project / ".windsurf" / "skills").symlink_to("../.git")
    before = hostile.state()

    completed = hostile.run(
        "install", SKILL, "--arch", "9.0", "--registry", registry, "--agent", "windsurf", "--allow-outside"
    )

    hostile.refused(completed, "version-control")
    assert hostile.changed_outside(before, hostile.cache) == []


def test_remove_leaves_a_recorded_link_that_now_leads_elsewhere(hostile, registry) -> None:
    """After the install, the project swaps skillpm's link for one to a folder outside: remove must not touch it."""
    hostile.ok(hostile.run("install", SKILL, "--arch", "9.0", "--registry", registry))
    target = victim(hostile)
    link = hostile.project / ".claude" / "skills" / SKILL
    link.unlink()
    link.symlink_to(target)
    before = hostile.state()

    completed = hostile.ok(hostile.run("remove", SKILL))

    assert str(link) in completed.stderr
    assert os.readlink(link) == str(target) and (target / "keep.txt").read_text() == "keep\n"
    assert hostile.changed_outside(before, hostile.project / ".agents", hostile.project / "skills.lock") == []


def test_a_cloned_lockfile_whose_link_lies_in_a_folder_linked_into_git_is_refused(hostile, registry) -> None:
    """links = ["vendor/doc-writer"], vendor -> .git: sync would make .git/doc-writer."""
    scratch = hostile.work / "scratch"
    (scratch / ".git").mkdir(parents=True)
    hostile.ok(hostile.run("install", SKILL, "--arch", "9.0", "--registry", registry, cwd=scratch))
    text = (scratch / "skills.lock").read_text().replace(f'".claude/skills/{SKILL}"', f'"vendor/{SKILL}"')
    (hostile.project / "skills.lock").write_text(text)
    (hostile.project / "vendor").symlink_to(".git")
    before = hostile.state()

    completed = hostile.run("sync", "--allow-outside")

    hostile.refused(completed, "version-control")
    assert hostile.changed_outside(before, hostile.cache) == []


def test_remove_cleans_no_folder_a_cloned_lockfile_s_links_lead_out_to(hostile, registry) -> None:
    """links = ["/elsewhere/doc-writer"] or ["gl/doc-writer"] with gl -> .git/hooks, where folders are shaped like
    skillpm's leftovers (found in a hostile review: remove's recovery deleted them, then refused 'nothing was
    changed'). Every link's folder is checked before recovery touches it."""
    scratch = hostile.work / "scratch"
    (scratch / ".git").mkdir(parents=True)
    hostile.ok(hostile.run("install", SKILL, "--arch", "9.0", "--registry", registry, cwd=scratch))
    outside = hostile.work / "outside"
    hooks = hostile.project / ".git" / "hooks"
    (hostile.project / "gl").symlink_to(hooks, target_is_directory=True)
    for folder, link in ((outside, str(outside / SKILL)), (hooks, f"gl/{SKILL}")):
        leftover = folder / ".notes.0123abcd.skillpm-old"
        (leftover / ".skillpm-leftover").mkdir(parents=True)
        (leftover / "tree").mkdir()
        (leftover / "tree" / "important.txt").write_text("user data\n")
        (folder / ".other.deadbeef.skillpm-new").mkdir()
        lock = (scratch / "skills.lock").read_text().replace(f'".claude/skills/{SKILL}"', f'"{link}"')
        (hostile.project / "skills.lock").write_text(lock)
        before = hostile.state()
        hostile.refused(hostile.run("remove", SKILL), "nothing was changed")
        assert hostile.changed_outside(before, hostile.cache) == []
        assert (leftover / "tree" / "important.txt").read_text() == "user data\n"
        assert (folder / ".other.deadbeef.skillpm-new").is_dir()
