"""A cloned repository of skills whose links lead to what the user keeps beside them.

The user clones someone else's skills and runs validate, init, pack and publish on them. A committed
link may lead to a hidden file the user fills in (``notes.md -> .env``), into a version-control
folder (``config.md -> .hg/hgrc``), or make a whole skill folder the user's own
(``skills/notes -> ~/.claude/skills/private-notes``); links into nested folders may multiply the walk;
a file git ignores may hold the key the README told the user to put there.
"""

from __future__ import annotations

from pathlib import Path

SKILL_MD = "---\nname: {name}\ndescription: A skill.\n---\n\n{body}\n"


def plain_skill(folder: Path, body: str = "Body.") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(SKILL_MD.format(name=folder.name, body=body))
    return folder


def test_a_skill_folder_that_is_a_link_is_refused_by_every_command(hostile) -> None:
    """``skills/notes -> ~/.claude/skills/private-notes``: named directly (or by the shell's ``skills/*``), it is
    refused; init writes nothing into the user's own folder, and pack, publish and install take nothing from it."""
    private = hostile.home / ".claude" / "skills" / "private-notes"
    plain_skill(private, "ssh prod, password hunter2")
    (private / "SKILL.md").write_text("---\nname: private-notes\ndescription: My notes: servers, tokens\n---\n\nhunter2\n")
    repo = hostile.work / "repo"
    plain_skill(repo / "skills" / "good")
    notes = repo / "skills" / "notes"
    notes.symlink_to(private, target_is_directory=True)
    before = hostile.state()
    registry = hostile.work / "registry"
    hostile.ok(hostile.run("registry", "init", registry))

    validated = hostile.run("validate", *sorted((repo / "skills").iterdir()))
    assert validated.returncode == 1 and "repo/skills/good: valid" in validated.stdout
    assert f"is a link to {private}" in validated.stdout
    for args in (["init", "--from", notes], ["init", notes], ["pack", notes, "-o", hostile.work / "dist"],
                 ["publish", notes, "--registry", registry], ["install", notes]):
        hostile.refused(hostile.run(*args), f"{notes} is a link to {private}")
    assert hostile.changed_outside(before, registry, hostile.cache, hostile.project) == []
    assert sorted(path.name for path in private.iterdir()) == ["SKILL.md"]
    assert not list(registry.rglob("*.tar.gz"))
    assert "is a link" not in hostile.run("validate", private).stdout  # named as itself, it is the user's to check
