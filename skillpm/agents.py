"""Where each coding agent reads skills from, what moves it, and how to tell the agent is installed.

The table transcribes the agent table of the ``skills`` CLI (vercel-labs/skills,
``src/agents.ts``) at commit 007a533297755fc506d18c15e5667b997e4387eb, the newest
version found (79 agents and its ``universal`` pseudo-agent; the release v1.3.9,
82dd76bd, 2026-02-14, had 39). Names are the CLI's; :data:`ALIASES` keeps the
names it has since changed (and skillpm's own ``copilot``) working. One row
departs from that commit: Codex's user folder is ``~/.agents/skills``, as Codex's
own documentation and later releases of the CLI (1.7.4) have it, where that commit
still has ``$CODEX_HOME/skills`` (Codex reads it too, as a legacy place).

A folder is written as a spec: ``~/x`` (the home folder), ``$VAR/x`` (the folder
an environment variable names, else its default in :data:`HOMES`: ``$CODEX_HOME``
is ``~/.codex`` unless set), ``./x`` (the project root, where the CLI uses its
working directory) or ``/x``. An environment value that is empty or not an
absolute path counts as unset, as the XDG specification says of
``$XDG_CONFIG_HOME``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Sequence

from skillpm.errors import InstallError
from skillpm.records import Record

#: The environment variables that move agents' folders, and the folder each names when unset.
HOMES: dict[str, str | None] = {
    "XDG_CONFIG_HOME": "~/.config",
    "CLAUDE_CONFIG_DIR": "~/.claude",
    "CODEX_HOME": "~/.codex",
    "CODEWHALE_HOME": "~/.codewhale",
    "VIBE_HOME": "~/.vibe",
    "HERMES_HOME": "~/.hermes",
    "AUTOHAND_HOME": "~/.autohand",
    "GROK_HOME": "~/.grok",
    "SARVAM_HOME": "~/.sarvam",
    "APPDATA": None,
    "FLATPAK_XDG_CONFIG_HOME": None,
}

#: The folder, in a project or the home folder, that agents following the Agent Skills convention read:
#: it holds the one real copy of each skill.
CANONICAL = ".agents/skills"
DEFAULT_AGENT = "claude-code"


class Agent(Record):
    """One agent: its skills folder in a project, its user folder, and the paths that show it is installed."""

    name: str
    display: str
    project: str  # relative to the project root
    user: tuple[str, ...]  # specs: the first whose parent folder exists, else the first; () when it has none
    detect: tuple[str, ...]  # specs: any that exists means the agent is installed


def _agent(name: str, display: str, project: str, user: str | tuple[str, ...], *detect: str) -> Agent:
    return Agent(name, display, project, (user,) if isinstance(user, str) else user, detect)


_TABLE = (
    _agent("aider-desk", "AiderDesk", ".aider-desk/skills", "~/.aider-desk/skills", "~/.aider-desk"),
    _agent("amp", "Amp", ".agents/skills", "$XDG_CONFIG_HOME/agents/skills", "$XDG_CONFIG_HOME/amp"),
    _agent("antigravity", "Antigravity", ".agents/skills", "~/.gemini/antigravity/skills", "~/.gemini/antigravity"),
    _agent("antigravity-cli", "Antigravity CLI", ".agents/skills", "~/.gemini/antigravity-cli/skills",
           "~/.gemini/antigravity-cli"),
    _agent("astrbot", "AstrBot", "data/skills", "~/.astrbot/data/skills", "./data/skills", "~/.astrbot"),
    _agent("autohand-code", "Autohand Code CLI", ".autohand/skills", "$AUTOHAND_HOME/skills", "$AUTOHAND_HOME"),
    _agent("augment", "Augment", ".augment/skills", "~/.augment/skills", "~/.augment"),
    _agent("bob", "IBM Bob", ".bob/skills", "~/.bob/skills", "~/.bob"),
    _agent("claude-code", "Claude Code", ".claude/skills", "$CLAUDE_CONFIG_DIR/skills", "$CLAUDE_CONFIG_DIR"),
    _agent("openclaw", "OpenClaw", "skills", ("~/.openclaw/skills", "~/.clawdbot/skills", "~/.moltbot/skills"),
           "~/.openclaw", "~/.clawdbot", "~/.moltbot"),
    _agent("cline", "Cline", ".agents/skills", "~/.agents/skills", "~/.cline"),
    _agent("codearts-agent", "CodeArts Agent", ".codeartsdoer/skills", "~/.codeartsdoer/skills", "~/.codeartsdoer"),
    _agent("codebuddy", "CodeBuddy", ".codebuddy/skills", "~/.codebuddy/skills", "./.codebuddy", "~/.codebuddy"),
    _agent("codemaker", "Codemaker", ".codemaker/skills", "~/.codemaker/skills", "~/.codemaker"),
    _agent("codestudio", "Code Studio", ".codestudio/skills", "~/.codestudio/skills", "~/.codestudio"),
    _agent("codewhale", "CodeWhale", ".codewhale/skills", "$CODEWHALE_HOME/skills", "$CODEWHALE_HOME"),
    _agent("codex", "Codex", ".agents/skills", "~/.agents/skills", "$CODEX_HOME", "/etc/codex"),  # see the docstring
    _agent("command-code", "Command Code", ".commandcode/skills", "~/.commandcode/skills", "~/.commandcode"),
    _agent("continue", "Continue", ".continue/skills", "~/.continue/skills", "./.continue", "~/.continue"),
    _agent("cortex", "Cortex Code", ".cortex/skills", "~/.snowflake/cortex/skills", "~/.snowflake/cortex"),
    _agent("crush", "Crush", ".crush/skills", "~/.config/crush/skills", "~/.config/crush"),
    _agent("cursor", "Cursor", ".agents/skills", "~/.cursor/skills", "~/.cursor"),
    _agent("deepagents", "Deep Agents", ".agents/skills", "~/.deepagents/agent/skills", "~/.deepagents"),
    _agent("devin", "Devin for Terminal", ".devin/skills", "$XDG_CONFIG_HOME/devin/skills", "$XDG_CONFIG_HOME/devin"),
    _agent("dexto", "Dexto", ".agents/skills", "~/.agents/skills", "~/.dexto"),
    _agent("droid", "Droid", ".agents/skills", "~/.factory/skills", "~/.factory"),
    # The CLI detects Eve by an `agent` folder and a package.json that depends on "eve";
    # skillpm does not read package.json to guess, so Eve is used only when named.
    _agent("eve", "Eve", "agent/skills", ()),
    _agent("firebender", "Firebender", ".agents/skills", "~/.firebender/skills", "~/.firebender"),
    _agent("forgecode", "ForgeCode", ".forge/skills", "~/.forge/skills", "~/.forge"),
    _agent("fx", "fx", ".fx/skills", "~/.fx/skills", "~/.fx"),
    _agent("gemini-cli", "Gemini CLI", ".agents/skills", "~/.gemini/skills", "~/.gemini"),
    _agent("github-copilot", "GitHub Copilot", ".agents/skills", "~/.copilot/skills", "~/.copilot"),
    _agent("goose", "Goose", ".goose/skills", "$XDG_CONFIG_HOME/goose/skills", "$XDG_CONFIG_HOME/goose"),
    _agent("grok", "Grok Build", ".grok/skills", "$GROK_HOME/skills", "$GROK_HOME"),
    _agent("hermes-agent", "Hermes Agent", ".hermes/skills", "$HERMES_HOME/skills", "$HERMES_HOME"),
    _agent("inference-sh", "inference.sh", ".inferencesh/skills", "~/.inferencesh/skills", "~/.inferencesh"),
    _agent("jazz", "Jazz", ".jazz/skills", "~/.jazz/skills", "~/.jazz", "./.jazz"),
    _agent("junie", "Junie", ".junie/skills", "~/.junie/skills", "~/.junie"),
    _agent("iflow-cli", "iFlow CLI", ".iflow/skills", "~/.iflow/skills", "~/.iflow"),
    _agent("kilo", "Kilo Code", ".agents/skills", "~/.kilo/skills", "~/.kilo", "~/.kilocode"),
    _agent("kimchi", "Kimchi", ".kimchi/skills", "~/.config/kimchi/harness/skills", "~/.config/kimchi"),
    _agent("kimi-code-cli", "Kimi Code CLI", ".agents/skills", "~/.agents/skills", "~/.kimi-code", "~/.kimi"),
    _agent("kiro-cli", "Kiro CLI", ".kiro/skills", "~/.kiro/skills", "~/.kiro"),
    _agent("kode", "Kode", ".kode/skills", "~/.kode/skills", "~/.kode"),
    _agent("lingma", "Lingma", ".lingma/skills", "~/.lingma/skills", "~/.lingma"),
    _agent("loaf", "Loaf", ".agents/skills", "~/.agents/skills", "~/.loaf"),
    _agent("mcpjam", "MCPJam", ".mcpjam/skills", "~/.mcpjam/skills", "~/.mcpjam"),
    _agent("minimax-code", "MiniMax Code", ".minimax/skills", "~/.minimax/skills", "~/.minimax",
           "/Applications/MiniMax Code.app"),
    _agent("mistral-vibe", "Mistral Vibe", ".vibe/skills", "$VIBE_HOME/skills", "$VIBE_HOME"),
    _agent("moxby", "Moxby", ".moxby/skills", "~/.moxby/skills", "~/.moxby"),
    _agent("mux", "Mux", ".mux/skills", "~/.mux/skills", "~/.mux"),
    _agent("opencode", "OpenCode", ".agents/skills", "$XDG_CONFIG_HOME/opencode/skills", "$XDG_CONFIG_HOME/opencode"),
    _agent("openhands", "OpenHands", ".openhands/skills", "~/.openhands/skills", "~/.openhands"),
    _agent("ona", "Ona", ".ona/skills", "~/.ona/skills", "~/.ona"),
    _agent("pi", "Pi", ".pi/skills", "~/.pi/agent/skills", "~/.pi/agent"),
    _agent("posit-assistant", "Posit Assistant", ".posit/assistant/skills", "~/.posit/assistant/skills",
           "~/.posit/assistant", "~/.positai"),
    _agent("qoder", "Qoder", ".qoder/skills", "~/.qoder/skills", "~/.qoder"),
    _agent("qoder-cn", "Qoder CN", ".qoder/skills", "~/.qoder-cn/skills", "~/.qoder-cn"),
    _agent("qwen-code", "Qwen Code", ".qwen/skills", "~/.qwen/skills", "~/.qwen"),
    _agent("replit", "Replit", ".agents/skills", "$XDG_CONFIG_HOME/agents/skills", "./.replit"),
    _agent("reasonix", "Reasonix", ".reasonix/skills", "~/.reasonix/skills", "~/.reasonix"),
    _agent("rovodev", "Rovo Dev", ".rovodev/skills", "~/.rovodev/skills", "~/.rovodev"),
    _agent("roo", "Roo Code", ".roo/skills", "~/.roo/skills", "~/.roo"),
    _agent("sarvam-code", "Sarvam Code", ".agents/skills", "~/.agents/skills", "$SARVAM_HOME"),
    _agent("tabnine-cli", "Tabnine CLI", ".tabnine/agent/skills", "~/.tabnine/agent/skills", "~/.tabnine"),
    _agent("terramind", "Terramind", ".terramind/skills", "~/.terramind/skills", "~/.terramind"),
    _agent("tinycloud", "Tinycloud", ".tinycloud/skills", "~/.tinycloud/skills", "~/.tinycloud"),
    _agent("trae", "Trae", ".trae/skills", "~/.trae/skills", "~/.trae"),
    _agent("trae-cn", "Trae CN", ".trae/skills", "~/.trae-cn/skills", "~/.trae-cn"),
    _agent("warp", "Warp", ".agents/skills", "~/.agents/skills", "~/.warp"),
    _agent("windsurf", "Windsurf", ".windsurf/skills", "~/.codeium/windsurf/skills", "~/.codeium/windsurf"),
    _agent("zed", "Zed", ".agents/skills", "~/.agents/skills",
           "$XDG_CONFIG_HOME/zed", "$APPDATA/Zed", "$FLATPAK_XDG_CONFIG_HOME/zed"),
    _agent("zcode", "ZCode", ".zcode/skills", "~/.zcode/skills", "~/.zcode", "/Applications/ZCode.app"),
    _agent("zencoder", "Zencoder", ".zencoder/skills", "~/.zencoder/skills", "~/.zencoder"),
    _agent("zenflow", "Zenflow", ".zencoder/skills", "~/.zencoder/skills", "~/.zencoder"),
    _agent("neovate", "Neovate", ".neovate/skills", "~/.neovate/skills", "~/.neovate"),
    _agent("pochi", "Pochi", ".pochi/skills", "~/.pochi/skills", "~/.pochi"),
    _agent("promptscript", "PromptScript", ".agents/skills", (), "./.promptscript", "./promptscript.yaml"),
    _agent("adal", "AdaL", ".adal/skills", "~/.adal/skills", "~/.adal"),
    # The CLI's name for "the shared folders only"; never detected.
    _agent("universal", "Universal", ".agents/skills", "$XDG_CONFIG_HOME/agents/skills"),
)

AGENTS: dict[str, Agent] = {agent.name: agent for agent in _TABLE}
#: Every folder of a project that some agent reads skills from (many share one), ``.agents/skills`` first.
PROJECT_FOLDERS: tuple[str, ...] = tuple(dict.fromkeys([CANONICAL, *(agent.project for agent in _TABLE)]))
AGENT_NAMES: tuple[str, ...] = tuple(AGENTS)

#: Names the ``skills`` CLI or skillpm used before, and the agent each means now.
ALIASES: dict[str, str] = {
    "copilot": "github-copilot",
    "kimi-cli": "kimi-code-cli",
    "clawdbot": "openclaw",
    "moltbot": "openclaw",
}

#: Every name an agent may be given by: for skillpm.toml's ``agents`` and ``--agent``.
AgentName = Literal[(*AGENT_NAMES, *ALIASES)]  # type: ignore[valid-type]


def lookup(name: str) -> Agent:
    """The agent called ``name`` (or an alias of it); InstallError when there is none."""
    found = AGENTS.get(ALIASES.get(name, name))
    if found is None:
        raise InstallError(f"unknown agent {name[:80]!r}", hint="'skillpm install --help' lists the agents")
    return found


def home_of(variable: str) -> Path | None:
    """The folder ``$variable`` names when it is an absolute path, else its default in :data:`HOMES`."""
    value = os.environ.get(variable, "").strip()
    if value and os.path.isabs(os.path.expanduser(value)):
        return Path(os.path.expanduser(value))
    default = HOMES[variable]
    return Path(default).expanduser() if default else None


def expand(spec: str, *, project_root: Path) -> Path | None:
    """The path a folder spec names (module docstring); ``None`` for ``$VAR/...`` with no value and no default."""
    head, _, tail = spec.partition("/")
    if head == "~":
        base: Path | None = Path.home()
    elif head.startswith("$"):
        base = home_of(head[1:])
    elif head == ".":
        base = project_root
    else:
        return Path(spec)
    return base.joinpath(tail) if base is not None and tail else base


def skills_dir(agent: str, *, project_root: Path, user: bool) -> Path:
    """The folder ``agent`` reads skills from: the project's, or the user's with ``user``."""
    found = lookup(agent)
    if not user:
        return project_root / found.project
    candidates = [path for path in (expand(spec, project_root=project_root) for spec in found.user) if path]
    if not candidates:
        raise InstallError(
            f"{found.name} has no user-level skills folder", hint="install into a project, without --global"
        )
    return next((path for path in candidates if path.parent.is_dir()), candidates[0])


def detected(project_root: Path) -> tuple[str, ...]:
    """The agents whose config folders (or other signs, :attr:`Agent.detect`) exist here, in table order."""
    return tuple(
        agent.name
        for agent in _TABLE
        if any(path is not None and path.exists() for path in (expand(spec, project_root=project_root) for spec in agent.detect))
    )


ALL = "all"


def choose(requested: Sequence[str], *, project_root: Path, user: bool) -> tuple[str, ...]:
    """The agents to install for: ``requested`` (names, aliases or ``all``), else those :func:`detected`, else Claude Code.

    ``all`` with ``user`` leaves out the agents without a user folder (``eve``, ``promptscript``).
    """
    if ALL in requested:
        return tuple(agent.name for agent in _TABLE if agent.user or not user)
    names = [lookup(name).name for name in requested] or list(detected(project_root)) or [DEFAULT_AGENT]
    return tuple(dict.fromkeys(names))


class Placement(Record):
    """A skills folder and the chosen agents that read it."""

    folder: Path
    agents: tuple[str, ...]


def placements(chosen: Sequence[str], *, project_root: Path, user: bool) -> list[Placement]:
    """Each distinct folder the ``chosen`` agents read, the canonical one (:data:`CANONICAL`) first.

    The canonical folder is always there, read by none of ``chosen`` perhaps: it holds the
    one copy of each skill, to which the other folders link.
    """
    readers: dict[Path, list[str]] = {(Path.home() if user else project_root) / CANONICAL: []}
    for name in chosen:
        readers.setdefault(skills_dir(name, project_root=project_root, user=user), []).append(name)
    return [Placement(folder, tuple(names)) for folder, names in readers.items()]
