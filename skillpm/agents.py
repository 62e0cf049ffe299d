"""Where each coding agent reads skills from (pure data and path logic).

Sources: each agent's documentation, the Agent Skills client guide
(https://agentskills.io/client-implementation/adding-skills-support) and the
agent table of the `skills` CLI (vercel-labs/skills, src/agents.ts).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, NamedTuple, get_args

from skillpm.errors import InstallError

AgentName = Literal[
    "claude-code",
    "codex",
    "cursor",
    "gemini-cli",
    "copilot",
    "opencode",
    "windsurf",
    "goose",
    "amp",
    "roo",
    "kilo",
]
AGENT_NAMES: tuple[str, ...] = get_args(AgentName)
DEFAULT_AGENT = "claude-code"


class AgentDirs(NamedTuple):
    """An agent's skills directory inside a project, and the user's (``~`` and env vars expanded)."""

    project: str
    user: str
    user_env: str | None = None  # an env var that, when set, replaces the user dir's base


_DIRS: dict[str, AgentDirs] = {
    "claude-code": AgentDirs(".claude/skills", "~/.claude/skills", "CLAUDE_CONFIG_DIR"),
    "codex": AgentDirs(".agents/skills", "~/.codex/skills", "CODEX_HOME"),
    "cursor": AgentDirs(".cursor/skills", "~/.cursor/skills"),
    "gemini-cli": AgentDirs(".agents/skills", "~/.gemini/skills"),
    "copilot": AgentDirs(".agents/skills", "~/.copilot/skills"),
    "opencode": AgentDirs(".agents/skills", "~/.config/opencode/skills", "XDG_CONFIG_HOME"),
    "windsurf": AgentDirs(".windsurf/skills", "~/.codeium/windsurf/skills"),
    "goose": AgentDirs(".goose/skills", "~/.config/goose/skills", "XDG_CONFIG_HOME"),
    "amp": AgentDirs(".agents/skills", "~/.config/agents/skills", "XDG_CONFIG_HOME"),
    "roo": AgentDirs(".roo/skills", "~/.roo/skills"),
    "kilo": AgentDirs(".kilocode/skills", "~/.kilocode/skills"),
}


def skills_dir(agent: str, *, project_root: Path, user: bool) -> Path:
    """The directory ``agent`` reads skills from: the project's, or the user's with ``user``."""
    if agent not in _DIRS:
        raise InstallError(
            f"unknown agent {agent!r}", hint=f"choose one of: {', '.join(AGENT_NAMES)}"
        )
    dirs = _DIRS[agent]
    if not user:
        return project_root / dirs.project
    base_override = os.environ.get(dirs.user_env) if dirs.user_env else None
    if base_override:
        # CLAUDE_CONFIG_DIR and CODEX_HOME replace ~/.claude and ~/.codex;
        # XDG_CONFIG_HOME replaces ~/.config.
        tail = Path(dirs.user).parts[2:] if dirs.user.startswith("~/.config/") else ("skills",)
        return Path(base_override).expanduser().joinpath(*tail)
    return Path(dirs.user).expanduser()
