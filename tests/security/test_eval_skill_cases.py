"""Hostile skills for ``skillpm eval``: test cases and checks that hold the run, leak or lie.

A skill's author writes its ``skill_meta.json`` (its checks, their patterns and time limits,
the test scripts), and the model's answer is the endpoint's to choose; neither may hold
``eval`` for ever, read the user's API key, exhaust memory, or make a case pass whatever the
answer. Each case runs the real command line against a chat server on 127.0.0.1 that gives
one scripted answer.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import build_source, skill_md
from tests.security.conftest import Hostile, limit_memory
from tests.test_eval_client import ChatServer, completion

KEY = "sk-hostile-skill-0123456789abcdefghijklmnopqrstuvwxyz"
#: A pattern that backtracks catastrophically in ``re`` on a sentence ending in "!" (not in ``regex``).
REDOS_RE = r"^(\w+\s?)*$"
REDOS_ANSWER = "Layer normalization rescales each row of activations to zero mean and unit variance!"
#: A pattern that backtracks for ever in ``re`` and past any time limit in ``regex`` too.
REDOS_BOTH = r"^(a{1,30}){1,30}b"


@pytest.fixture
def answering() -> Iterator[Callable[[str], ChatServer]]:
    """``answering(text)``: a chat server on 127.0.0.1 answering every request with ``text``."""
    started: list[ChatServer] = []

    def start(text: str) -> ChatServer:
        server = ChatServer(lambda body: completion(text))
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def skill(hostile: Hostile, tests: list[dict], files: dict[str, str] | None = None) -> Path:
    """A one-variant skill source whose skill_meta.json holds ``tests`` (and ``files`` beside it)."""
    common = {"skill_meta.json": json.dumps({"metadata": {"version": "1.0"}, "tests": tests}), **(files or {})}
    variant = {"SKILL.md": skill_md("hostile", "Tests hostile checks. Use in tests.", "Answer.")}
    return build_source(hostile.work, "hostile", {"generic": variant}, common=common, tests=False)


def eval_args(source: Path, server: ChatServer, *extra: str) -> list[str]:
    return ["eval", str(source), "-m", "m", "--base-url", server.url, "--no-cache", "--json", *extra]


def arms(completed: subprocess.CompletedProcess[str]) -> tuple[int, int]:
    """With-skill and baseline passes of the one model of an ``eval --json`` run."""
    model = json.loads(completed.stdout)["models"][0]
    return model["with_skill"]["passed"], model["baseline"]["passed"]


def start_eval(hostile: Hostile, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``skillpm ARGS`` started in the background (to be signalled), under the suite's memory limit."""
    return subprocess.Popen(
        [sys.executable, "-m", "skillpm", *args],
        cwd=hostile.project,
        env=hostile.env(**(env or {})),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=limit_memory,
    )


def wait_for_requests(server: ChatServer, count: int = 1, *, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while len(server.requests) < count:
        assert time.monotonic() < deadline, "eval asked nothing"
        time.sleep(0.05)


def stopped_by_sigterm(process: subprocess.Popen[bytes], *, within: float) -> tuple[float, str]:
    """Send SIGTERM; the seconds ``process`` took to end (asserting it ended within ``within``) and its stderr."""
    start = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"skillpm went on for {within} s after SIGTERM")
    return time.monotonic() - start, stderr.decode("utf-8", "replace")


# ---------------------------------------------------------------- regex checks that backtrack


def test_a_backtracking_regex_check_fails_instead_of_holding_the_run(hostile, answering) -> None:
    """Threat: a skill's regex check backtracks catastrophically on an ordinary answer; eval never ended."""
    source = skill(hostile, [{"input": "Explain layer norm.", "expected": {"contains": []}, "validator": "regex", "validator_config": {"pattern": REDOS_RE}}])
    completed = hostile.ok(hostile.run(*eval_args(source, answering(REDOS_ANSWER))))
    assert arms(completed) == (0, 0)  # no match: the answer ends in "!"
    assert hostile.seconds < 15


def test_sigterm_stops_an_eval_whose_regex_check_backtracks(hostile, answering) -> None:
    """Threat: SIGTERM (and Ctrl-C) went unanswered while a worker held the GIL inside re.search."""
    tests = [{"input": "Say a.", "expected": {"contains": []}, "validator": "regex", "validator_config": {"pattern": REDOS_BOTH}}]
    server = answering("a" * 32 + "!")
    process = start_eval(hostile, eval_args(skill(hostile, tests), server, "--trials", "20", "--concurrency", "1"))
    wait_for_requests(server)
    time.sleep(1.0)  # inside the search by now
    seconds, stderr = stopped_by_sigterm(process, within=12)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "error: interrupted" in stderr and "Traceback" not in stderr
    assert seconds < 8  # at most one search's time limit (2 s, checked now and then) and unwinding
