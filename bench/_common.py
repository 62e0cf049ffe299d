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
from typing import Callable, Sequence

REPO = Path(__file__).resolve().parent.parent


def skillpm_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m skillpm``."""
    script = Path(sys.executable).with_name("skillpm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "skillpm"]


def time_command(
    argv: Sequence[str], *, runs: int, env: dict[str, str] | None = None, cpu: bool = False
) -> float:
    """Median seconds of running ``argv`` ``runs`` times (after one warm-up).

    Wall time by default; with ``cpu``, the child's user + system CPU time, which
    other load on the machine disturbs far less.
    """
    environment = {**os.environ, **(env or {})}
    samples = []
    for index in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=environment)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if index:
            samples.append(used if cpu else wall)
    return statistics.median(samples)


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
