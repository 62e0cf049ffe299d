"""Running the programs checks need: nvcc (and cuobjdump) on an answer's code, a test script beside it.

Each run gets a fresh temporary directory, a time limit and a bound on its output (the
whole process group is killed when it runs over either, when it ends, and when the run
stops: :meth:`LocalPrograms.stop`) and a minimal environment: PATH, locale, CUDA's variables and
a HOME inside the temporary directory; nothing else of the caller's environment, so an
API key never reaches the answer's code. On Linux skillpm also makes itself undumpable
before it starts the first program, so that they (and any process of the user's) cannot
read the key out of its ``/proc/<pid>/environ`` or memory. This is not a sandbox: the
answer's Python code runs with the user's permissions. Evaluate answers from models you
would let write files.
"""

from __future__ import annotations

import functools
import os
import selectors
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path, PurePosixPath
from typing import Any, Mapping

from skillpm.evaluation.checks import Compiled
from skillpm.evaluation.errors import EvalError
from skillpm.records import Record

_KEPT_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "CUDA_HOME", "CUDA_PATH", "LD_LIBRARY_PATH", "SYSTEMROOT")
_DETAIL_CHARS = 600
#: Bytes of output (stdout and stderr) a program may print before it is killed: nvcc's log and
#: cuobjdump's SASS listing are read whole, a test script's only for its last lines.
MAX_OUTPUT = 16 << 20
#: The longest time limit a check may give a program, whatever its configuration says (an hour).
MAX_TIMEOUT_S = 3600.0
_PR_SET_DUMPABLE = 4


def minimal_env(home: Path) -> dict[str, str]:
    """The environment a checked program gets: a few variables kept, HOME and TMPDIR in ``home``."""
    env = {name: os.environ[name] for name in _KEPT_ENV if name in os.environ}
    env.update(HOME=str(home), TMPDIR=str(home), PYTHONDONTWRITEBYTECODE="1", PYTHONNOUSERSITE="1")
    return env


@functools.cache
def _undumpable() -> None:
    """On Linux, ``prctl(PR_SET_DUMPABLE, 0)``: /proc/<pid>/environ, mem and ptrace of this process
    become root's alone (a process with CAP_SYS_PTRACE still reads them); elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise EvalError(
            f"cannot keep the programs checks run from reading skillpm's environment: prctl failed "
            f"({os.strerror(ctypes.get_errno())})",
            hint="run eval where prctl(PR_SET_DUMPABLE) is allowed",
        )


class Running:
    """The process groups of the programs started and not yet reaped; :meth:`stop` kills them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._groups: set[int] = set()
        self._stopped = False

    def start(self, command: list[str], **options: Any) -> subprocess.Popen[bytes]:
        """``Popen(command, **options)`` in a session of its own, remembered until :meth:`reaped`."""
        with self._lock:
            if self._stopped:
                raise EvalError("the evaluation is stopping: no program is started")
            process = subprocess.Popen(command, start_new_session=True, **options)
            self._groups.add(process.pid)
        return process

    def reaped(self, process: subprocess.Popen[bytes]) -> None:
        """Forget ``process`` (before it is reaped: its group's id is never another's while it is known)."""
        with self._lock:
            self._groups.discard(process.pid)

    def stop(self) -> None:
        """Kill every remembered process group, and start no more programs."""
        with self._lock:
            self._stopped = True
            for group in self._groups:
                _kill_group(group)


def _kill_group(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # gone already


class Ran(Record):
    """What a program did: its exit code (None when it was cut off), its output, and why it was cut off."""

    code: int | None
    output: str
    cut: str = ""  # "": it ended itself; else why it was killed


def run_limited(command: list[str], *, cwd: Path, timeout_s: float, running: Running | None = None) -> Ran:
    """Run ``command`` in ``cwd`` with a minimal environment, its stderr in its stdout.

    Its process group is killed when it runs past ``timeout_s`` (at most :data:`MAX_TIMEOUT_S`)
    or prints more than :data:`MAX_OUTPUT` bytes; at most that much is kept.
    """
    _undumpable()
    limit = min(timeout_s, MAX_TIMEOUT_S)
    process = (running or Running()).start(
        command, cwd=cwd, env=minimal_env(cwd), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        output, cut = _drain(process, time.monotonic() + limit)
        if cut == "time":
            cut = f"ran over its {limit:g} s time limit"
        elif cut:
            cut = f"printed more than {MAX_OUTPUT // (1 << 20)} MiB"
    finally:
        _kill_group(process.pid)  # cut off, or what it left running; its id is still its own, unreaped
        if running is not None:
            running.reaped(process)  # before the wait that reaps it
        process.wait()
        assert process.stdout is not None
        process.stdout.close()
    return Ran(None if cut else process.returncode, output.decode("utf-8", "replace"), cut)


def _drain(process: subprocess.Popen[bytes], deadline: float) -> tuple[bytes, str]:
    """Read the program's output until it ends: ``(output, "")``, or ``(output, "time" or "output")``
    when it is still running at ``deadline`` or has printed more than :data:`MAX_OUTPUT`."""
    assert process.stdout is not None
    descriptor = process.stdout.fileno()
    output = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(descriptor, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return bytes(output), "time"
            if not selector.select(min(remaining, 1.0)):
                continue
            chunk = os.read(descriptor, 1 << 16)
            if not chunk:
                break
            output += chunk
            if len(output) > MAX_OUTPUT:
                return bytes(output[-MAX_OUTPUT:]), "output"
    while not _exited(process.pid):  # its output is closed, and it may still run
        if time.monotonic() >= deadline:
            return bytes(output), "time"
        time.sleep(0.01)
    return bytes(output), ""


def _exited(pid: int) -> bool:
    """Whether ``pid`` has ended, leaving it unreaped (so its process group's id stays its own)."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def find_cuobjdump() -> str | None:
    """A cuobjdump that can disassemble: on PATH, else in NVIDIA's ``nvidia-cuda-cuobjdump`` wheel.

    ``cuobjdump -sass`` runs nvdisasm (wheel ``nvidia-cuda-nvdisasm``), which must be beside it or on PATH.
    Wheels are looked for only where this Python installs packages, never in the current
    directory (``sys.path`` may hold it, and a cloned project could plant a ``nvidia/`` there).
    """
    candidates = [shutil.which("cuobjdump")]
    for folder in _site_folders():
        candidates += sorted(str(path) for path in folder.glob("nvidia/cu*/bin/cuobjdump"))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            beside = Path(candidate).with_name("nvdisasm")
            if shutil.which("nvdisasm") or (beside.is_file() and os.access(beside, os.X_OK)):
                return candidate
    return None


def _site_folders() -> list[Path]:
    """The folders this Python installs packages into (the user's too, when it reads them)."""
    paths = sysconfig.get_paths()
    folders = [paths["purelib"], paths["platlib"]]
    if site.ENABLE_USER_SITE:
        folders.append(site.getusersitepackages())
    return [Path(folder) for folder in dict.fromkeys(folders)]


def _verdict(ran: Ran, *, what: str) -> tuple[bool, str]:
    if ran.cut:
        return False, f"{what} {ran.cut}"
    if ran.code == 0:
        return True, ""
    tail = " ".join(ran.output[-4 * _DETAIL_CHARS:].split())[-_DETAIL_CHARS:]
    return False, f"{what} exited with {ran.code}: {tail}"


class LocalPrograms:
    """Runs nvcc and Python test scripts on this machine (see :class:`~.checks.Programs`)."""

    def __init__(self, *, nvcc: str | None = None, cuobjdump: str | None = None, python: str | None = None) -> None:
        self.nvcc = nvcc or shutil.which("nvcc")
        self.cuobjdump = cuobjdump or find_cuobjdump()
        self.python = python or sys.executable
        self.running = Running()

    def stop(self) -> None:
        """Kill the programs still running (their whole process groups), and start no more."""
        self.running.stop()

    def require(self, kinds: Mapping[str, int]) -> None:
        """Fail before any request when the test set needs a program this machine lacks."""
        compiling = kinds.get("nvcc_compile", 0) + kinds.get("cuda_kernel", 0)
        if compiling and self.nvcc is None:
            raise EvalError(
                f"{compiling} test(s) compile CUDA with nvcc, which is not on PATH",
                hint="install the CUDA toolkit, or put its bin/ directory on PATH",
            )
        if kinds.get("cuda_kernel") and self.cuobjdump is None:
            raise EvalError(
                f"{kinds['cuda_kernel']} test(s) read SASS with cuobjdump and nvdisasm, which are not installed",
                hint="pip install nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm (or put the CUDA toolkit's bin/ on PATH)",
            )

    @functools.lru_cache(maxsize=256)  # noqa: B019 - one instance per run; equal answers compile alike
    def compile_cuda(
        self, code: str, *, flags: tuple[str, ...], timeout_s: float, disassemble: bool = False
    ) -> Compiled:
        """``nvcc -c answer.cu`` with ``flags``; passes when it exits 0. With ``disassemble``,
        ptxas reports each kernel's resources (``-Xptxas -v``) and ``cuobjdump -sass`` lists the
        object's SASS; ``timeout_s`` bounds each of the two programs."""
        assert self.nvcc is not None, "require() first"
        with tempfile.TemporaryDirectory(prefix="skillpm-nvcc-") as scratch:
            folder = Path(scratch)
            (folder / "answer.cu").write_text(code, encoding="utf-8")
            verbose = ("-Xptxas", "-v") if disassemble else ()
            command = [self.nvcc, "-c", "answer.cu", "-o", "answer.o", *flags, *verbose]
            compiled = run_limited(command, cwd=folder, timeout_s=timeout_s, running=self.running)
            passed, detail = _verdict(compiled, what="nvcc")
            if not passed or not disassemble:
                return Compiled(passed, detail)
            assert self.cuobjdump is not None, "require() first"
            listed = run_limited([self.cuobjdump, "-sass", "answer.o"], cwd=folder, timeout_s=timeout_s, running=self.running)
            passed, detail = _verdict(listed, what="cuobjdump")
            return Compiled(passed, detail, ptxas_log=compiled.output, sass=listed.output if passed else "")

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
            ran = run_limited([self.python, name], cwd=folder, timeout_s=timeout_s, running=self.running)
            return _verdict(ran, what=name)
