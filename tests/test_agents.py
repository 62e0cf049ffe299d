"""The agent table: transcribed from the skills CLI, consistent where agents share a folder, moved by env vars.

Every test resolves real folders under the test's own HOME (tests/conftest.py).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from skillpm import agents
from skillpm.agents import AGENTS, HOMES, Agent, detected, skills_dir
from skillpm.errors import InstallError
from skillpm.manifest import manifest_errors

# --- the transcription ----------------------------------------------------------------------------


def test_the_table_holds_every_agent_of_the_skills_cli() -> None:
    """79 agents and the CLI's ``universal``, spot-checked where skillpm's old table had gone stale."""
    assert len(AGENTS) == 80
    expected = {
        "codex": (".agents/skills", ("~/.agents/skills",)),
        "github-copilot": (".agents/skills", ("~/.copilot/skills",)),
        "kilo": (".agents/skills", ("~/.kilo/skills",)),
        "claude-code": (".claude/skills", ("$CLAUDE_CONFIG_DIR/skills",)),
        "cursor": (".agents/skills", ("~/.cursor/skills",)),
        "openclaw": ("skills", ("~/.openclaw/skills", "~/.clawdbot/skills", "~/.moltbot/skills")),
        "eve": ("agent/skills", ()),
    }
    assert {name: (AGENTS[name].project, AGENTS[name].user) for name in expected} == expected


@pytest.mark.parametrize(("alias", "agent"), [("copilot", "github-copilot"), ("kimi-cli", "kimi-code-cli"),
                                              ("moltbot", "openclaw")])
def test_renamed_agents_keep_their_old_names(alias: str, agent: str, tmp_path: Path) -> None:
    for user in (False, True):
        assert skills_dir(alias, project_root=tmp_path, user=user) == skills_dir(agent, project_root=tmp_path, user=user)


def test_an_unknown_agent_and_a_missing_user_folder_are_errors(tmp_path: Path) -> None:
    with pytest.raises(InstallError, match="unknown agent 'nope'"):
        skills_dir("nope", project_root=tmp_path, user=False)
    with pytest.raises(InstallError, match="eve has no user-level skills folder"):
        skills_dir("eve", project_root=tmp_path, user=True)


def test_the_user_guide_names_every_agent_and_alias() -> None:
    guide = (Path(__file__).parents[1] / "docs" / "user-guide.md").read_text(encoding="utf-8")
    assert [name for name in (*AGENTS, *agents.ALIASES) if f"`{name}`" not in guide] == []


def test_skillpm_toml_accepts_every_agent_name_and_alias_and_nothing_else() -> None:
    def manifest(*names: str) -> dict[str, object]:
        package = {"name": "x", "version": "1.0", "description": "d", "agents": list(names)}
        return {"package": package, "variants": {"generic": {}}}

    assert manifest_errors(manifest(*AGENTS, *agents.ALIASES)) == []
    assert [where for where, _ in manifest_errors(manifest("copilot", "nope"))] == ["package.agents.1"]


# --- shared folders -------------------------------------------------------------------------------


def _folders(names, project: Path, user: bool) -> dict[str, Path | None]:
    def folder(name: str) -> Path | None:
        try:
            return skills_dir(name, project_root=project, user=user)
        except InstallError:
            return None

    return {name: folder(name) for name in names}


def _disagreements(names, project: Path, moved: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Agents that share a folder with every variable unset but part when the variables of ``moved`` are set."""
    problems = []
    for user in (False, True):
        before = _folders(names, project, user)
        with monkeypatch.context() as patch:
            for variable, value in moved.items():
                patch.setenv(variable, value)
            after = _folders(names, project, user)
        sharing: dict[Path, list[str]] = defaultdict(list)
        for name, folder in before.items():
            if folder is not None:
                sharing[folder].append(name)
        for folder, group in sharing.items():
            if len({after[name] for name in group}) > 1:
                problems.append(f"{folder}: " + ", ".join(f"{name} -> {after[name]}" for name in group))
    return problems


@pytest.fixture
def unmoved(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Every variable of HOMES unset; returns values that move each to its own folder."""
    for variable in HOMES:
        monkeypatch.delenv(variable, raising=False)
    return {variable: str(tmp_path / "moved" / variable) for variable in HOMES}


def test_agents_that_share_a_folder_agree_where_it_moves(unmoved, tmp_path: Path, monkeypatch) -> None:
    """Several agents read ~/.agents/skills, or $XDG_CONFIG_HOME/agents/skills: each spells it the same way.

    Were one of them written as ``~/.config/agents/skills``, an install for it would
    land elsewhere than its neighbours' once $XDG_CONFIG_HOME is set.
    """
    assert _disagreements(AGENTS, tmp_path / "project", unmoved, monkeypatch) == []
    readers = [name for name, agent in AGENTS.items() if agent.project == agents.CANONICAL]
    assert {"codex", "cursor", "gemini-cli", "github-copilot", "opencode", "amp", "kilo", "universal"} <= set(readers)


def test_the_shared_folder_check_finds_a_disagreement(unmoved, tmp_path: Path, monkeypatch) -> None:
    """The skills CLI's kimi-cli of v1.1 read ~/.config/agents/skills, which amp reads as $XDG_CONFIG_HOME/..."""
    monkeypatch.setitem(AGENTS, "old-kimi", Agent("old-kimi", "", ".agents/skills", ("~/.config/agents/skills",), ()))
    [problem] = _disagreements(["amp", "old-kimi"], tmp_path / "project", unmoved, monkeypatch)
    assert "old-kimi" in problem and "amp" in problem


def test_no_agent_folder_lies_inside_another() -> None:
    """A skill folder in one agent's folder must not show up as a stray folder in another's."""
    folders = {Path(agent.project) for agent in AGENTS.values()}
    nested = [(inner, outer) for inner in folders for outer in folders if inner != outer and inner.is_relative_to(outer)]
    assert nested == []


# --- folders moved by the environment -------------------------------------------------------------


@pytest.mark.parametrize(
    ("agent", "variable", "tail"),
    [
        ("claude-code", "CLAUDE_CONFIG_DIR", "skills"),
        ("opencode", "XDG_CONFIG_HOME", "opencode/skills"),
        ("amp", "XDG_CONFIG_HOME", "agents/skills"),
        ("goose", "XDG_CONFIG_HOME", "goose/skills"),
        ("mistral-vibe", "VIBE_HOME", "skills"),
        ("hermes-agent", "HERMES_HOME", "skills"),
        ("grok", "GROK_HOME", "skills"),
        ("autohand-code", "AUTOHAND_HOME", "skills"),
        ("codewhale", "CODEWHALE_HOME", "skills"),
    ],
)
def test_an_environment_variable_moves_the_user_folder(agent, variable, tail, unmoved, tmp_path, monkeypatch) -> None:
    home = Path.home()
    default = skills_dir(agent, project_root=tmp_path, user=True)
    assert default == Path(HOMES[variable].replace("~", str(home), 1), tail)
    monkeypatch.setenv(variable, str(tmp_path / "elsewhere"))
    assert skills_dir(agent, project_root=tmp_path, user=True) == tmp_path / "elsewhere" / tail
    for ignored in ("", "   ", "relative/dir"):
        monkeypatch.setenv(variable, ignored)
        assert skills_dir(agent, project_root=tmp_path, user=True) == default


def test_folders_the_skills_cli_does_not_move_stay_put(unmoved, tmp_path: Path, monkeypatch) -> None:
    """Crush reads ~/.config/crush/skills, Warp ~/.agents/skills, whatever $XDG_CONFIG_HOME says (as the CLI has it)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert skills_dir("crush", project_root=tmp_path, user=True) == Path.home() / ".config/crush/skills"
    assert skills_dir("warp", project_root=tmp_path, user=True) == Path.home() / ".agents/skills"


def test_openclaw_uses_the_folder_of_whichever_name_is_installed(tmp_path: Path) -> None:
    assert skills_dir("openclaw", project_root=tmp_path, user=True) == Path.home() / ".openclaw/skills"
    (Path.home() / ".clawdbot").mkdir(parents=True)
    assert skills_dir("openclaw", project_root=tmp_path, user=True) == Path.home() / ".clawdbot/skills"


# --- detection ------------------------------------------------------------------------------------


def test_detection_finds_the_agents_whose_config_folders_exist(unmoved, tmp_path: Path, monkeypatch) -> None:
    project = tmp_path / "project"
    project.mkdir()
    assert detected(project) == ()
    for folder in (".cursor", ".codex", ".config/goose"):
        (Path.home() / folder).mkdir(parents=True)
    (project / ".replit").write_text("", encoding="utf-8")
    assert detected(project) == ("codex", "cursor", "goose", "replit")
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))  # codex now lives elsewhere
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    (tmp_path / "xdg" / "zed").mkdir(parents=True)
    assert detected(project) == ("cursor", "replit", "zed")


def test_global_install_for_codex_is_the_one_copy_in_agents_skills(isolated, registry: Path, run_cli, monkeypatch) -> None:
    """End to end: Codex reads ~/.agents/skills; $CODEX_HOME only says where Codex is (for detection)."""
    codex_home = isolated.tmp / "codex-home"
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    result = run_cli("install", "doc-writer", "--registry", registry, "--global", "--agent", "codex", "--arch", "9.0")
    assert result.exit_code == 0, result.output
    assert not codex_home.exists()
    listed = json.loads(run_cli("list", "--global", "--json", "--arch", "9.0").stdout)
    assert [(Path(row["directory"]), row["agents"]) for row in listed] == [
        (isolated.home / ".agents/skills/doc-writer", ["codex"])]
    assert (isolated.home / ".agents/skills/doc-writer/SKILL.md").is_file()


# --- which agents, which folders ------------------------------------------------------------------


def test_choose_takes_the_named_agents_else_the_detected_ones_else_claude_code(unmoved, tmp_path: Path) -> None:
    project = tmp_path / "project"
    assert agents.choose([], project_root=project, user=False) == ("claude-code",)
    (Path.home() / ".cursor").mkdir(parents=True)
    assert agents.choose([], project_root=project, user=False) == ("cursor",)
    assert agents.choose(["copilot", "github-copilot", "codex"], project_root=project, user=False) == (
        "github-copilot", "codex")
    assert len(agents.choose(["all"], project_root=project, user=False)) == len(AGENTS)
    every_user = agents.choose(["codex", "all"], project_root=project, user=True)
    assert {"eve", "promptscript"}.isdisjoint(every_user) and len(every_user) == len(AGENTS) - 2


def test_placements_put_the_one_copy_in_agents_skills_and_group_agents_by_folder(tmp_path: Path) -> None:
    chosen = ["claude-code", "codex", "windsurf", "cursor", "zencoder", "zenflow"]
    found = agents.placements(chosen, project_root=tmp_path, user=False)
    assert [(p.folder.relative_to(tmp_path).as_posix(), p.agents) for p in found] == [
        (".agents/skills", ("codex", "cursor")),
        (".claude/skills", ("claude-code",)),
        (".windsurf/skills", ("windsurf",)),
        (".zencoder/skills", ("zencoder", "zenflow")),
    ]
    assert agents.placements(["codex", "windsurf", "warp"], project_root=tmp_path, user=True) == [
        (Path.home() / ".agents/skills", ("codex", "warp")), (Path.home() / ".codeium/windsurf/skills", ("windsurf",))]
    assert agents.placements(["windsurf"], project_root=tmp_path, user=False)[0] == (tmp_path / ".agents/skills", ())
