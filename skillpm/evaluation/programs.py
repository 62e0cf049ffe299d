"""Running the programs checks need: nvcc on an answer's code, a test script beside it.

Each run gets a fresh temporary directory, a time limit (the whole process group is
killed when it runs over) and a minimal environment: PATH, locale, CUDA's variables and
a HOME inside the temporary directory; nothing else of the caller's environment, so an
API key never reaches the answer's code. This is not a sandbox: the answer's Python code
runs with the user's permissions. Evaluate answers from models you would let write files.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path, PurePosixPath
from typing import Mapping

from skillpm.evaluation.errors import EvalError

_KEPT_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "CUDA_HOME", "CUDA_PATH", "LD_LIBRARY_PATH", "SYSTEMROOT")
_DETAIL_CHARS = 600


def minimal_env(home: Path) -> dict[str, str]:
    """The environment a checked program gets: a few variables kept, HOME and TMPDIR in ``home``."""
    env = {name: os.environ[name] for name in _KEPT_ENV if name in os.environ}
    env.update(HOME=str(home), TMPDIR=str(home), PYTHONDONTWRITEBYTECODE="1", PYTHONNOUSERSITE="1")
    return env


def run_limited(command: list[str], *, cwd: Path, timeout_s: float) -> tuple[int | None, str]:
    """Run ``command`` in ``cwd`` with a minimal environment: ``(exit code or None on timeout, output)``."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=minimal_env(cwd),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return None, output.decode("utf-8", "replace")
    return process.returncode, output.decode("utf-8", "replace")


def _verdict(code: int | None, output: str, *, what: str, timeout_s: float) -> tuple[bool, str]:
    if code is None:
        return False, f"{what} ran over its {timeout_s:g} s time limit"
    if code == 0:
        return True, ""
    tail = " ".join(output.split())[-_DETAIL_CHARS:]
    return False, f"{what} exited with {code}: {tail}"


class LocalPrograms:
    """Runs nvcc and Python test scripts on this machine (see :class:`~.checks.Programs`)."""

    def __init__(self, *, nvcc: str | None = None, python: str | None = None) -> None:
        self.nvcc = nvcc or shutil.which("nvcc")
        self.python = python or sys.executable

    def require(self, kinds: Mapping[str, int]) -> None:
        """Fail before any request when the test set needs a program this machine lacks."""
        if kinds.get("nvcc_compile") and self.nvcc is None:
            raise EvalError(
                f"{kinds['nvcc_compile']} test(s) compile CUDA with nvcc, which is not on PATH",
                hint="install the CUDA toolkit, or put its bin/ directory on PATH",
            )

    @functools.lru_cache(maxsize=256)  # noqa: B019 - one instance per run; equal answers compile alike
    def compile_cuda(self, code: str, *, flags: tuple[str, ...], timeout_s: float) -> tuple[bool, str]:
        """``nvcc -c answer.cu`` with ``flags``; passes when it exits 0."""
        assert self.nvcc is not None, "require() first"
        with tempfile.TemporaryDirectory(prefix="skillpm-nvcc-") as scratch:
            folder = Path(scratch)
            (folder / "answer.cu").write_text(code, encoding="utf-8")
            command = [self.nvcc, "-c", "answer.cu", "-o", "answer.o", *flags]
            code_, output = run_limited(command, cwd=folder, timeout_s=timeout_s)
            return _verdict(code_, output, what="nvcc", timeout_s=timeout_s)

    def run_python_test(
        self, files: Mapping[str, str], *, script: str, script_bytes: bytes, timeout_s: float
    ) -> tuple[bool, str]:
        """Write ``files`` and the script into a fresh directory and run the script there."""
        with tempfile.TemporaryDirectory(prefix="skillpm-test-") as scratch:
            folder = Path(scratch)
            for name, text in files.items():
                (folder / name).write_text(text, encoding="utf-8")
            name = PurePosixPath(script).name
            (folder / name).write_bytes(script_bytes)
            code, output = run_limited([self.python, name], cwd=folder, timeout_s=timeout_s)
            return _verdict(code, output, what=name, timeout_s=timeout_s)
