"""The hostile-input suite's harness: the real ``skillpm`` in a subprocess, bounded in time and memory.

Every case in ``tests/security/`` builds something hostile (a cloned project, a registry, a
server on 127.0.0.1, a policy file, a lockfile), runs the real command line through
:meth:`Hostile.run`, and checks what a user would see and what changed on disk:

* the process runs under a :data:`MEMORY` address-space limit and is killed after
  :data:`TIMEOUT` seconds (the case then fails; it never hangs the suite);
* :meth:`Hostile.refused` asserts a non-zero exit with exactly one ``error:`` line, no
  traceback and a short stderr;
* :meth:`Hostile.changed_outside` lists every file changed outside the folders the command
  may write, so "nothing written outside the intended root" is one assertion.

The test's HOME, XDG folders and cache are the ones ``tests/conftest.py`` puts in its
temporary folder; :attr:`Hostile.project` is a fresh project with ``.git``.
"""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import pytest

from conftest import http_served

#: Seconds a case's command may run; the issue's bound for every hostile case.
TIMEOUT = 30
#: The address-space limit every command runs under (the bomb cases must stay inside it).
MEMORY = 1024 * 1024 * 1024


def limit_memory() -> None:
    """In the child: the address-space limit every hostile command runs under."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def tree_state(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every entry under ``root`` (links not followed): its type, and a file's size and modification time.

    A folder's own times change when an allowed folder is created inside it, so only its presence counts.
    """
    state: dict[str, tuple[int, int, int]] = {}
    for folder, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            kind = stat.S_IFMT(info.st_mode)
            fingerprint = (kind, 0, 0) if stat.S_ISDIR(kind) else (kind, info.st_size, info.st_mtime_ns)
            state[os.path.relpath(path, root)] = fingerprint
    return state


@dataclass
class Hostile:
    """One case's world under ``root``: a project with ``.git``, the user's home and cache, and ``work``.

    ``work`` is where a case puts hostile inputs (registries, archives, policy files).
    """

    root: Path
    seconds: float = field(default=0.0)

    @property
    def project(self) -> Path:
        return self.root / "project"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def work(self) -> Path:
        return self.root / "work"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment every command runs in: the test's (hermetic) one, plus ``extra``."""
        return {
            **os.environ,
            "NO_COLOR": "1",
            "LC_ALL": "C.UTF-8",
            "MALLOC_ARENA_MAX": "2",  # glibc reserves 64 MB of address space per thread arena otherwise
            **extra,
        }

    def run(
        self, *args: str | os.PathLike[str], cwd: Path | None = None, env: dict[str, str] | None = None,
        input: bytes | None = None, code: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``skillpm ARGS`` in a subprocess (in the project by default), within TIMEOUT and MEMORY; with ``code``,
        ``python -c CODE ARGS``: a script that runs skillpm in its own process to observe it."""
        start = time.monotonic()
        program = ["-m", "skillpm"] if code is None else ["-c", code]
        completed = subprocess.run(
            [sys.executable, *program, *(os.fsdecode(arg) if isinstance(arg, bytes) else os.fspath(arg) for arg in args)],
            cwd=cwd or self.project,
            env=self.env(**(env or {})),
            input=input,
            capture_output=True,
            timeout=TIMEOUT,
            preexec_fn=limit_memory,
        )
        self.seconds = time.monotonic() - start
        return subprocess.CompletedProcess(
            completed.args,
            completed.returncode,
            completed.stdout.decode("utf-8", "replace"),
            completed.stderr.decode("utf-8", "replace"),
        )

    def refused(self, completed: subprocess.CompletedProcess[str], *contains: str) -> str:
        """Assert a clean refusal: non-zero exit, one ``error:`` line holding each of ``contains``, no traceback."""
        output = completed.stdout + completed.stderr
        assert "Traceback" not in output, output[-3000:]
        assert completed.returncode != 0, output[-3000:]
        errors = [line for line in completed.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, completed.stderr[-3000:]
        for text in contains:
            assert text in errors[0], errors[0]
        assert len(completed.stderr) < 4_000, completed.stderr[:4000]
        return errors[0]

    def ok(self, completed: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
        """Assert exit 0 without a traceback."""
        assert completed.returncode == 0, (completed.stdout + completed.stderr)[-3000:]
        assert "Traceback" not in completed.stderr
        return completed

    def state(self) -> dict[str, tuple[int, int, int]]:
        """Every entry under ``root``, to compare before and after a command."""
        return tree_state(self.root)

    def changed_outside(
        self, before: dict[str, tuple[int, int, int]], *allowed: Path
    ) -> list[str]:
        """Entries under ``root`` changed since ``before`` that lie outside every folder of ``allowed``.

        The records of what HTTP registries were when read online (``skillpm.registry.seen``, in the
        user's data folder) are always allowed, with the folders made to hold them: any online read
        of a registry writes one, even a read the command then refuses.
        """
        after = self.state()
        seen = os.path.relpath(self.home / ".local" / "share" / "skillpm" / "index-seen", self.root)
        tops = [os.path.relpath(path, self.root) for path in allowed] + [seen]

        def outside(relative: str) -> bool:
            holds_seen = seen.startswith(relative + os.sep) and relative not in before
            return not holds_seen and not any(relative == top or relative.startswith(top + os.sep) for top in tops)

        return sorted(
            relative
            for relative in set(before) | set(after)
            if outside(relative) and before.get(relative) != after.get(relative)
        )


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Hostile:
    """A fresh world for one hostile case; the current directory is its project."""
    world = Hostile(tmp_path)
    for folder in (world.project / ".git", world.work, world.home, world.cache):
        folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(world.project)
    return world


class QuietFiles(SimpleHTTPRequestHandler):
    """A folder's files over HTTP, with no request log on the test's output."""

    def log_message(self, *args: object) -> None:
        return None


@contextmanager
def serving(root: Path, handler: type[SimpleHTTPRequestHandler] = QuietFiles) -> Iterator[str]:
    """``root`` served over HTTP on 127.0.0.1 by ``handler`` while the block runs: its URL, without a final slash."""
    with http_served(partial(handler, directory=str(root))) as url:
        yield url
