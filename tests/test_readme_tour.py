"""The README's tour, run as written: every command line of its code blocks after the set-up ones.

Each line runs through ``sh`` in a fresh project (``~``, globs and ``&&`` as a user's shell
sees them), with the console script on PATH and the user's folders in tmp. The only
substitutions are the README's placeholders: ``MODEL`` and ``URL`` name a scripted chat server
on 127.0.0.1, and ``path/to/kernel-skill`` the repository's kernel-builder-cuda. Without a GPU,
``bench`` must refuse in one ``error:`` line saying so, as the README's sentence above it says.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import test_eval_client
from test_eval_client import Reply, completion

chat_server = test_eval_client.chat_server  # the fixture, shared

REPO = Path(__file__).resolve().parent.parent
SETUP_BLOCKS = 2  # "Set-up": installing skillpm and running the tests, which CI runs (test_readme.py)
ANSWER = "a phrase a good answer holds"  # what the skeleton's example case expects


def tour_lines() -> list[str]:
    """The command lines of the README's tour: continuations joined, comments dropped."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)[SETUP_BLOCKS:]
    lines = []
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command:
                lines.append(command)
    return lines


def knows_the_skill(body: dict) -> Reply:
    """Answers as the skeleton's example case expects only when the skill is in the system prompt."""
    with_skill = any(message["role"] == "system" for message in body["messages"])
    return completion(f"Here is {ANSWER}." if with_skill else "I do not know.")


def test_the_tour_covers_the_publishing_lines() -> None:
    commands = [line.split()[1] for line in tour_lines()]
    for command in ("install", "init", "validate", "pack", "eval", "publish", "verify", "bench", "keygen"):
        assert command in commands, command


def test_the_readme_tour_runs_as_written(isolated, chat_server) -> None:
    server = chat_server(default=knows_the_skill)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1"}
    substitutions = {"MODEL": "tour-model", "URL": server.url,
                     "path/to/kernel-skill": str(REPO / "skills" / "kernel-builder-cuda")}
    for line in tour_lines():
        command = line
        for placeholder, value in substitutions.items():
            command = re.sub(rf"(?<![\w/-]){re.escape(placeholder)}(?![\w/-])", value, command)
        if line.startswith("skillpm bench") and shutil.which("nvidia-smi") is not None:
            continue  # a GPU machine: the refusal below is what a machine without one must show
        done = subprocess.run(["sh", "-c", command], cwd=isolated.project, env=env, capture_output=True,
                              text=True, timeout=300)
        assert "Traceback" not in done.stderr, (line, done.stderr)
        if line.startswith("skillpm bench"):
            errors = [text for text in done.stderr.splitlines() if text.startswith("error: ")]
            assert done.returncode == 1 and len(errors) == 1 and "GPU" in errors[0], (line, done.stderr)
            continue
        assert done.returncode == 0, (line, done.stdout, done.stderr)
    assert server.requests, "eval asked the chat server nothing"
    assert list(isolated.project.glob("eval-my-skill-0.1.0-generic.json"))
    assert (isolated.project / ".claude" / "skills" / "my-skill" / "SKILL.md").is_file()
    assert (isolated.project / "agent-skills" / "my-skill" / "SKILL.md").is_file()


@pytest.mark.parametrize("placeholder", ["MODEL", "URL", "path/to/kernel-skill"])
def test_every_placeholder_the_test_fills_is_in_the_tour(placeholder: str) -> None:
    """A renamed placeholder would leave the tour test running a line nobody can type."""
    assert any(placeholder in line for line in tour_lines())
