"""The README's set-up commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _shell_blocks() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S)]


def test_ci_runs_the_readme_test_command() -> None:
    install_and_run, test_command = _shell_blocks()[:2]
    assert "skillpm install kernel-builder-cuda" in install_and_run
    assert "pytest" in test_command
    ci_lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci_lines


def test_the_readme_s_first_command_leaves_the_checkout_clean(tmp_path: Path, run_skillpm) -> None:
    """Run inside a checkout, `skillpm install kernel-builder-cuda` writes only what .gitignore covers."""
    import shutil
    import subprocess

    checkout = tmp_path / "checkout"
    checkout.mkdir()
    shutil.copy(REPO / ".gitignore", checkout / ".gitignore")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    for command in (["init", "-q"], ["add", ".gitignore"], ["commit", "-q", "-m", "ignore"]):
        subprocess.run([*git, *command], cwd=checkout, check=True, timeout=60)
    installed = run_skillpm("install", "kernel-builder-cuda", cwd=checkout)
    assert installed.returncode == 0, installed.stderr
    assert (checkout / ".claude" / "skills" / "kernel-builder-cuda" / "SKILL.md").is_file()  # a link to .agents/skills
    status = subprocess.run(["git", "status", "--porcelain"], cwd=checkout, capture_output=True, text=True, timeout=60)
    assert status.stdout == ""
