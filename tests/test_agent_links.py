"""Every agent, one copy: install, list, sync and remove through the CLI, with real links in a tmp project and HOME."""

from __future__ import annotations

import errno
import json
import os
import tomllib
from pathlib import Path

import pytest

from skillpm import agents

SKILL = "doc-writer"


def install(run_cli, registry: Path, *options: str):
    result = run_cli("install", SKILL, "--arch", "9.0", "--registry", registry, *options)
    assert result.exit_code == 0, result.output
    return result


def entries(lockfile: Path) -> list[dict]:
    return tomllib.loads(lockfile.read_text())["skill"]


def sees_the_skill(folder: Path) -> bool:
    return (folder / SKILL / "SKILL.md").is_file()


def test_the_default_is_one_copy_in_agents_skills_linked_from_claude_code(isolated, registry, run_cli) -> None:
    install(run_cli, registry)
    copy, link = isolated.project / ".agents/skills" / SKILL, isolated.project / ".claude/skills" / SKILL
    assert copy.is_dir() and not copy.is_symlink()
    assert os.readlink(link) == f"../../.agents/skills/{SKILL}"  # relative: the project may move
    [entry] = entries(isolated.lockfile)
    assert (entry["directory"], entry["agents"], entry["links"]) == (
        f".agents/skills/{SKILL}", ["claude-code"], [f".claude/skills/{SKILL}"])


def test_without_agent_the_detected_agents_get_the_skill(isolated, registry, run_cli) -> None:
    for folder in (".claude", ".cursor", ".config/goose"):
        (isolated.home / folder).mkdir(parents=True)
    install(run_cli, registry)
    [entry] = entries(isolated.lockfile)
    assert entry["agents"] == ["claude-code", "cursor", "goose"]
    assert entry["links"] == [f".claude/skills/{SKILL}", f".goose/skills/{SKILL}"]  # cursor reads .agents/skills
    assert all(sees_the_skill(isolated.project / folder) for folder in (".claude/skills", ".goose/skills"))


def test_agent_repeats_and_all_links_every_folder_to_the_one_copy(isolated, registry, run_cli) -> None:
    install(run_cli, registry, "--agent", "windsurf", "--agent", "codex")
    assert sorted(entries(isolated.lockfile)[0]["agents"]) == ["codex", "windsurf"]
    install(run_cli, registry, "--agent", "all")
    [entry] = entries(isolated.lockfile)
    folders = {agents.skills_dir(name, project_root=isolated.project, user=False) for name in agents.AGENTS}
    assert len(entry["links"]) == len(folders) - 1 and set(entry["agents"]) == set(agents.AGENTS)
    assert all(sees_the_skill(folder) for folder in folders)
    assert all((folder / SKILL).is_symlink() for folder in folders - {isolated.project / ".agents/skills"})
    assert f"+{len(agents.AGENTS) - 3} more" in run_cli("list", "--arch", "9.0").stdout  # the table stays readable


def test_global_links_from_each_user_folder_wherever_the_environment_puts_it(
    isolated, registry, run_cli, monkeypatch
) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(isolated.tmp / "claude-config"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(isolated.tmp / "xdg"))
    install(run_cli, registry, "--global", "--agent", "claude-code", "--agent", "goose", "--agent", "codex")
    copy = isolated.home / ".agents/skills" / SKILL
    assert copy.is_dir() and not copy.is_symlink()  # codex reads ~/.agents/skills itself
    for link in (isolated.tmp / "claude-config/skills" / SKILL, isolated.tmp / "xdg/goose/skills" / SKILL):
        assert os.readlink(link) == str(copy)
    assert not (isolated.project / ".agents").exists()
    listed = json.loads(run_cli("list", "--global", "--json", "--arch", "9.0").stdout)
    assert [row["agents"] for row in listed] == [["claude-code", "codex", "goose"]]


def test_copy_puts_a_real_copy_in_each_folder(isolated, registry, run_cli) -> None:
    install(run_cli, registry, "--copy", "--agent", "claude-code", "--agent", "windsurf")
    found = {entry["directory"]: entry["agents"] for entry in entries(isolated.lockfile)}
    assert found == {f".claude/skills/{SKILL}": ["claude-code"], f".windsurf/skills/{SKILL}": ["windsurf"]}
    for folder in (".claude/skills", ".windsurf/skills"):
        assert sees_the_skill(isolated.project / folder) and not (isolated.project / folder / SKILL).is_symlink()
    assert not (isolated.project / ".agents").exists()


def test_where_links_fail_a_copy_is_made_with_one_note(isolated, registry, run_cli, monkeypatch) -> None:
    def refused(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "symlink", refused)
    result = install(run_cli, registry, "--agent", "claude-code", "--agent", "windsurf")
    notes = [line for line in result.stderr.splitlines() if "link" in line]
    assert len(notes) == 1 and "copied" in notes[0], result.stderr
    for folder in (".agents/skills", ".claude/skills", ".windsurf/skills"):
        assert sees_the_skill(isolated.project / folder) and not (isolated.project / folder / SKILL).is_symlink()
    assert all(entry.get("links", []) == [] for entry in entries(isolated.lockfile))


def test_list_shows_which_agents_see_each_skill(isolated, registry, run_cli) -> None:
    install(run_cli, registry, "--agent", "claude-code", "--agent", "windsurf")
    (isolated.project / ".windsurf/skills" / SKILL).unlink()
    [row] = json.loads(run_cli("list", "--json", "--arch", "9.0").stdout)
    assert (row["agents"], row["missing_links"]) == (["claude-code", "windsurf"], [f".windsurf/skills/{SKILL}"])
    text = run_cli("list", "--arch", "9.0")
    assert "claude-code, windsurf" in text.stdout and "skillpm sync" in text.stderr


def test_sync_makes_the_links_again(isolated, registry, run_cli) -> None:
    install(run_cli, registry, "--agent", "claude-code", "--agent", "windsurf")
    (isolated.project / ".claude/skills" / SKILL).unlink()
    synced = run_cli("sync")
    assert synced.exit_code == 0 and synced.stdout.startswith(f"installed {SKILL} ")
    assert " for claude-code -> " in synced.stdout  # the agent whose link it made again
    assert (isolated.project / ".claude/skills" / SKILL).is_symlink()
    assert run_cli("sync").stdout.startswith(f"already up to date: {SKILL} ")


def test_installing_for_another_agent_says_it_installed_it_for_that_agent(isolated, registry, run_cli) -> None:
    """A skill already installed, installed for another agent (a link, or for an agent that reads .agents/skills
    only skills.lock), says it was installed for that agent; "already up to date" only when nothing was written."""
    [first] = json.loads(install(run_cli, registry, "--agent", "claude-code", "--json").stdout)
    assert (first["changed"], first["agents_added"]) == (True, ["claude-code"])
    shown, directory = f"{SKILL} {first['version']} ({first['target']})", first["directory"]

    linked = install(run_cli, registry, "--agent", "windsurf")
    assert linked.stdout == f"installed {shown} for windsurf -> {directory} (for claude-code, windsurf)\n"
    [row] = json.loads(install(run_cli, registry, "--agent", "cursor", "--json").stdout)  # no link: skills.lock
    assert (row["changed"], row["agents_added"], row["agents"]) == (
        False, ["cursor"], ["claude-code", "cursor", "windsurf"])
    assert entries(isolated.lockfile)[0]["agents"] == ["claude-code", "cursor", "windsurf"]

    again = install(run_cli, registry, "--agent", "cursor")
    assert again.stdout == f"already up to date: {shown} -> {directory} (for claude-code, cursor, windsurf)\n"
    [row] = json.loads(install(run_cli, registry, "--agent", "windsurf", "--json").stdout)
    assert (row["changed"], row["agents_added"]) == (False, [])


def test_a_second_install_for_other_agents_keeps_the_first_ones(isolated, registry, run_cli) -> None:
    install(run_cli, registry, "--agent", "claude-code")
    install(run_cli, registry, "--agent", "windsurf")
    [entry] = entries(isolated.lockfile)
    assert (entry["agents"], len(entry["links"])) == (["claude-code", "windsurf"], 2)


def test_remove_takes_its_links_and_leaves_what_it_did_not_make(isolated, registry, run_cli) -> None:
    install(run_cli, registry, "--agent", "claude-code", "--agent", "windsurf", "--agent", "goose")
    mine = isolated.project / ".windsurf/skills" / SKILL
    mine.unlink()
    mine.mkdir()  # the user's own folder now
    (mine / "notes.md").write_text("mine", encoding="utf-8")
    elsewhere = isolated.tmp / "elsewhere"
    elsewhere.mkdir()
    relinked = isolated.project / ".goose/skills" / SKILL
    relinked.unlink()
    relinked.symlink_to(elsewhere)

    result = run_cli("remove", SKILL)

    assert result.exit_code == 0, result.output
    assert not os.path.lexists(isolated.project / ".claude/skills" / SKILL)
    assert not os.path.lexists(isolated.project / ".agents/skills" / SKILL)
    assert (mine / "notes.md").read_text() == "mine" and relinked.is_symlink() and elsewhere.is_dir()
    assert str(mine) in result.stderr and str(relinked) in result.stderr
    assert tomllib.loads(isolated.lockfile.read_text())["skill"] == []


@pytest.mark.parametrize("alias", ["copilot", "github-copilot"])
def test_an_agent_that_reads_agents_skills_needs_no_link(isolated, registry, run_cli, alias) -> None:
    install(run_cli, registry, "--agent", alias)
    [entry] = entries(isolated.lockfile)
    assert (entry["agents"], entry.get("links")) == (["github-copilot"], None)
    assert not (isolated.project / ".claude").exists()


def test_update_keeps_the_agents_and_links(isolated, registry, run_cli) -> None:
    install(run_cli, registry, "--agent", "claude-code", "--agent", "windsurf")
    before = entries(isolated.lockfile)
    assert run_cli("update", "--arch", "9.0").exit_code == 0
    assert entries(isolated.lockfile) == before
    assert sees_the_skill(isolated.project / ".windsurf/skills")


def test_a_copy_from_before_links_is_named_not_replaced(isolated, registry, run_cli) -> None:
    """A project installed by an older skillpm holds a real copy in .claude/skills: linking there stops with a hint."""
    install(run_cli, registry, "--copy", "--agent", "claude-code")
    before = entries(isolated.lockfile)
    result = run_cli("install", SKILL, "--arch", "9.0", "--registry", registry)
    assert result.exit_code == 1 and "that skills.lock records" in result.exception.message
    assert f"skillpm remove {SKILL}" in result.exception.hint
    assert entries(isolated.lockfile) == before and not (isolated.project / ".agents").exists()
