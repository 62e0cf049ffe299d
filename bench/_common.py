"""Shared helpers for the benchmark scripts: timing commands and printing ratios."""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence

REPO = Path(__file__).resolve().parent.parent


def skillpm_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m skillpm``."""
    script = Path(sys.executable).with_name("skillpm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "skillpm"]


def run_once(
    argv: Sequence[str], *, env: Mapping[str, str | None] | None = None, cwd: Path | None = None
) -> tuple[float, float]:
    """Run ``argv`` once: its wall time and its CPU time (the child's user + system), in seconds.

    ``env`` sets variables on top of this process's environment (``None`` removes one).
    A failing run stops the benchmark, showing its stderr.
    """
    environment = {name: value for name, value in {**os.environ, **(env or {})}.items() if value is not None}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"{' '.join(argv)} failed:\n{done.stderr.decode(errors='replace')}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def instructions_once(
    argv: Sequence[str], *, env: Mapping[str, str | None] | None = None, cwd: Path | None = None
) -> int:
    """The instructions ``argv`` executes, as valgrind's callgrind counts them: the same from run to
    run (within 0.1%), where times on a shared machine vary by a tenth. Needs valgrind on PATH."""
    environment = {name: value for name, value in {**os.environ, **(env or {})}.items() if value is not None}
    tool = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    done = subprocess.run([*tool, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment, cwd=cwd)
    counted = [line for line in done.stderr.decode(errors="replace").splitlines() if "Collected :" in line]
    if done.returncode or not counted:
        sys.exit(f"valgrind {' '.join(argv)} failed:\n{done.stderr.decode(errors='replace')[-2000:]}")
    return int(counted[-1].split()[-1])


def time_command(
    argv: Sequence[str], *, runs: int, env: dict[str, str] | None = None, cpu: bool = False
) -> float:
    """Median seconds of running ``argv`` ``runs`` times (after one warm-up).

    Wall time by default; with ``cpu``, the child's user + system CPU time, which
    other load on the machine disturbs far less.
    """
    samples = [run_once(argv, env=env)[cpu] for _ in range(runs + 1)]
    return statistics.median(samples[1:])


def time_call(function: Callable[[], object], *, runs: int) -> float:
    """Median wall time in seconds of calling ``function`` ``runs`` times."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def report(name: str, value: float, target: str, ok: bool) -> bool:
    """Print one line: the measured figure, the target, and whether it is met."""
    print(f"{name:<72} {value:8.3f}   target {target:<10} {'ok' if ok else 'MISSED'}")
    return ok


def require(tool: str) -> str:
    found = shutil.which(tool) or str(Path(sys.executable).with_name(tool))
    if not Path(found).exists():
        sys.exit(f"{tool} is not installed: pip install -e '.[test]'")
    return found
