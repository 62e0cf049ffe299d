"""Shared fixtures: skill sources on disk, built registries, an isolated user, and the CLI.

Everything here writes real files under ``tmp_path``. Every test (autouse
``_hermetic``) and every session fixture (``_hermetic_session``) has HOME, the
XDG folders and skillpm's cache in a temporary folder, so the suite never
touches the real ones. The ``isolated`` fixture also makes a fresh project (a
folder with ``.git``) the current directory.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator, Mapping

import pytest
from click.testing import CliRunner, Result
from hypothesis import settings

from skillpm.agents import HOMES

# No timing assertion in a unit test: hypothesis's per-example deadline (200 ms) failed property tests on a
# loaded machine (two helpers' full runs under a load average of 25), where no example is slow for a reason.
settings.register_profile("skillpm", deadline=None)
settings.load_profile("skillpm")

Files = Mapping[str, str | bytes]
#: The test cases of every source build_source writes (upskill's skill_meta.json), and their digest.
DEFAULT_TESTS = '{"metadata": {}, "tests": [{"input": "What is this skill for?", "expected": {"contains": ["skill"]}}]}'
DEFAULT_TEST_SET = "ccb65c2416791ad518269f87551b4ff7a9e6c15e590d478655285c6d25525963"

_ENV_CLEARED = (
    "SKILLPM_ARCH",
    "SKILLPM_REGISTRY",
    *(variable for variable in HOMES if variable != "XDG_CONFIG_HOME"),  # that one is set to a tmp folder
)


#: Free space a memory-backed folder needs before the tests put their temporary files there: a run writes 1.2 GB
#: in all, each test's folder removed when it passes (``tmp_path_retention_policy``), a failed one's kept.
MEMORY_TEMP_FREE = 4 << 30


def memory_temp_root(mounts: str = "/proc/self/mounts") -> str | None:
    """``/dev/shm`` when it is a tmpfs this user may write, with :data:`MEMORY_TEMP_FREE` to spare; else ``None``.

    Temporary files are most of what the suite writes and deletes (trees installed, copied, extracted, killed
    half-way and cleaned up). On a disk mounted with ``discard`` each unlink costs a trim: the crash-safety
    test took 59 s on this machine's ext4 /tmp and 16 s in tmpfs, the whole run 627 s and 544 s.
    """
    root = "/dev/shm"
    try:
        with open(mounts, encoding="utf-8") as table:
            kinds = {fields[1]: fields[2] for fields in map(str.split, table) if len(fields) > 2}
        free = os.statvfs(root)
    except OSError:
        return None
    if kinds.get(root) != "tmpfs" or not os.access(root, os.W_OK | os.X_OK):
        return None
    return root if free.f_bavail * free.f_frsize >= MEMORY_TEMP_FREE else None


def pytest_configure(config: pytest.Config) -> None:
    """Temporary files in memory (:func:`memory_temp_root`) unless TMPDIR or ``--basetemp`` says where: set
    before pytest picks its base folder and before xdist starts its workers, which inherit it, as do the
    programs the tests run."""
    if "TMPDIR" in os.environ or config.option.basetemp:
        return
    root = memory_temp_root()
    if root is not None:
        os.environ["TMPDIR"] = root
        tempfile.tempdir = None  # gettempdir() reads TMPDIR again


def signalling_at(function: str, signal_name: str) -> str:
    """Code for ``python -c CODE ARGS``: ``skillpm ARGS`` run through the console script's entry in that process,
    which sends itself the signal ``signal_name`` as the function ``function`` is first called (a profile hook,
    nothing changed in skillpm): a signal at a step no timing would hit reliably."""
    return f"""
import os, signal, sys
def send(frame, event, arg):
    if event == "call" and frame.f_code.co_name == {function!r}:
        sys.setprofile(None)
        os.kill(os.getpid(), signal.{signal_name})
sys.setprofile(send)
sys.argv = ["skillpm", *sys.argv[1:]]
from skillpm.console import main
main()
"""


#: The CUDA release whose nvcc behaviour the nvcc tests assume (what ptxas accepts per target, arch macros).
NVCC_RELEASE = (13, 0)


@contextlib.contextmanager
def http_served(handler: Callable[..., BaseHTTPRequestHandler]) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 whose requests ``handler`` answers, while the block runs: its URL, without a
    final slash. It stops with the block, each request's thread with the process."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@functools.cache
def nvcc_release() -> tuple[int, int] | None:
    """The (major, minor) release of the nvcc on PATH, from ``nvcc --version``; ``None`` without one."""
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        return None
    banner = subprocess.run([nvcc, "--version"], capture_output=True, text=True, timeout=60).stdout
    found = re.search(r"release (\d+)\.(\d+)", banner)
    return (int(found[1]), int(found[2])) if found else None


def nvcc_skip_reason() -> str | None:
    """Why the nvcc tests cannot run here, or ``None``: no nvcc, or another CUDA release than they assume."""
    release = nvcc_release()
    if release is None:
        return "nvcc is not on PATH"
    if release[0] != NVCC_RELEASE[0]:
        return f"nvcc {release[0]}.{release[1]} is here; these expectations were checked with CUDA {NVCC_RELEASE[0]}.x"
    return None


#: For tests whose expectations hold for the assumed CUDA release: skipped, with the reason, with another or none.
needs_nvcc = pytest.mark.skipif(nvcc_skip_reason() is not None, reason=nvcc_skip_reason() or "")


def skill_md(name: str, description: str, body: str = "") -> str:
    """A SKILL.md that satisfies the Agent Skills specification."""
    return f"---\nname: {name}\ndescription: {description}\n---\n\n# {name}\n\n{body or 'Follow these steps.'}\n"


def write_files(root: Path, files: Files) -> None:
    """Write ``files`` (posix relative path -> text or bytes) under ``root``; ``#!`` scripts executable."""
    for relative, content in files.items():
        path = root.joinpath(*relative.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        if content[:2] in ("#!", b"#!"):
            path.chmod(0o755)


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (posix relative path -> bytes); empty when absent."""
    if not root.exists():
        return {}
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


@pytest.fixture
def snapshot() -> Callable[[Path], dict[str, bytes]]:
    """``snapshot(root)``: every file under ``root`` with its bytes, to compare before and after."""
    return tree_bytes


@dataclass(frozen=True)
class Isolated:
    """The temporary world of one test: where the project, home and cache are."""

    tmp: Path
    project: Path
    home: Path
    cache: Path

    @property
    def lockfile(self) -> Path:
        return self.project / "skills.lock"

    @property
    def skills(self) -> Path:
        """The default install directory: the project's .agents/skills, which holds the one copy of each skill."""
        return self.project / ".agents" / "skills"

    @property
    def claude_skills(self) -> Path:
        """Claude Code's skills folder in the project: by default, a link to each skill's copy in :attr:`skills`."""
        return self.project / ".claude" / "skills"

    @property
    def user_lockfile(self) -> Path:
        """Where ``--global`` installs are recorded (platformdirs' user data dir, via XDG_DATA_HOME)."""
        return self.home / ".local" / "share" / "skillpm" / "skills.lock"


def _redirect_user_dirs(monkeypatch: pytest.MonkeyPatch, home: Path, cache: Path) -> None:
    """Point HOME, every XDG folder and skillpm's cache at ``home`` and ``cache`` (not created); clear skillpm's variables."""
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SKILLPM_CACHE_DIR", str(cache))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(home / ".run"))
    for name in _ENV_CLEARED:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session", autouse=True)
def _hermetic_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """No test, nor any session fixture, reads or writes the real HOME, XDG folders or skillpm cache."""
    base = tmp_path_factory.mktemp("session-user")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _redirect_user_dirs(monkeypatch, base / "home", base / "cache")
        yield base


@pytest.fixture(autouse=True)
def _hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets a HOME, XDG folders and skillpm cache of its own, under its ``tmp_path``.

    The folders are made only by what writes there (or by ``isolated``), so a test that
    lists its ``tmp_path`` sees what it made itself.
    """
    _redirect_user_dirs(monkeypatch, tmp_path / "home", tmp_path / "cache")


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Isolated:
    """The test's own user folders (see ``_hermetic``) and a fresh project with ``.git`` as the current directory."""
    home = tmp_path / "home"
    cache = tmp_path / "cache"
    project = tmp_path / "project"
    for folder in (home, cache, project / ".git"):
        folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(project)
    return Isolated(tmp=tmp_path, project=project, home=home, cache=cache)


def build_source(
    base: Path,
    name: str,
    variants: Mapping[str, Files] | None = None,
    *,
    version: str = "1.0.0",
    description: str | None = None,
    common: Files | None = None,
    keywords: tuple[str, ...] = (),
    tests: bool = True,
) -> Path:
    """Write a skill source under ``base`` and return its directory (named after the package).

    Each variant gets ``variants/<target>/SKILL.md`` (valid, naming the target) plus
    its files; ``common`` files go in the source's top folder, with ``DEFAULT_TESTS`` as
    skill_meta.json unless ``tests`` is false (its digest is the one the evidence in
    tests/assets/attest/ names). Sources of different versions of one package land in
    different folders.
    """
    variants = {"generic": {}} if variants is None else variants
    description = description or f"Helps with {name} tasks. Use when working on {name}."
    root = base / "sources" / f"{name}-{version}" / name
    root.mkdir(parents=True)
    lines = [
        "[package]",
        f'name = "{name}"',
        f'version = "{version}"',
        f'description = "{description}"',
        'license = "Apache-2.0"',
        "keywords = [" + ", ".join(f'"{word}"' for word in keywords) + "]",
        "",
    ]
    for target in variants:
        lines += [f"[variants.{target}]", ""]
    (root / "skillpm.toml").write_text("\n".join(lines), encoding="utf-8")
    write_files(root, {**({"skill_meta.json": DEFAULT_TESTS} if tests else {}), **(common or {})})
    for target, files in variants.items():
        overlay = {"SKILL.md": skill_md(name, description, f"Written for the {target} target."), **files}
        write_files(root / "variants" / target, overlay)
    return root


def publish_source(registry_root: Path, source: Path, dist: Path) -> list:
    """Pack ``source`` into ``dist`` and add its archives to the registry; returns the ``Added`` list."""
    from skillpm.pack import pack
    from skillpm.registry import store

    return store.add(registry_root, [archive.path for archive in pack(source, dist)])


@pytest.fixture
def make_source() -> Callable[..., Path]:
    """``make_source(tmp_path, name, variants={target: {relpath: text}}, version=..., common=...)``."""
    return build_source


@pytest.fixture
def publish(tmp_path: Path) -> Callable[[Path, Path], list]:
    """``publish(registry_root, source_dir)``: pack the source and add its archives to the registry."""
    return lambda registry_root, source: publish_source(registry_root, source, tmp_path / "dist" / source.parent.name)


KERNEL_VARIANTS = {
    "generic": {"references/notes.md": "Generic notes.\n"},
    "sm_80": {"references/ampere.md": "Ampere notes.\n"},
    "sm_90a": {"references/hopper.md": "Hopper notes.\n", "scripts/check.sh": "#!/bin/sh\necho ok\n"},
}


@pytest.fixture(scope="session")
def pristine_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once: ``kernel-helper`` 1.0.0 (generic, sm_80, sm_90a) and ``doc-writer`` 0.2.0 (generic)."""
    from skillpm.registry import store

    base = tmp_path_factory.mktemp("pristine")
    root = base / "registry"
    store.init(root, name="test-registry")
    kernel = build_source(base, "kernel-helper", KERNEL_VARIANTS, keywords=("cuda", "kernels"))
    publish_source(root, kernel, base / "dist" / "kernel")
    publish_source(root, build_source(base, "doc-writer", version="0.2.0"), base / "dist" / "doc")
    return root


@pytest.fixture
def registry(tmp_path: Path, pristine_registry: Path) -> Path:
    """A private copy of the pristine registry, at ``tmp_path / "registry"``, free to change."""
    return Path(shutil.copytree(pristine_registry, tmp_path / "registry"))


@pytest.fixture
def run_cli() -> Callable[..., Result]:
    """Run ``skillpm ARGS`` in this process with click's CliRunner (stdout and stderr apart)."""
    from skillpm.cli import cli

    def run(*args: str | os.PathLike[str], input: str | None = None) -> Result:
        return CliRunner().invoke(cli, [os.fspath(arg) for arg in args], input=input, catch_exceptions=True)

    return run


def _console_script() -> str:
    beside = Path(sys.executable).with_name("skillpm")
    return str(beside) if beside.exists() else shutil.which("skillpm") or "skillpm"


@pytest.fixture
def run_skillpm() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the installed ``skillpm`` console script in a subprocess, in the current directory and env."""

    def run(*args: str | os.PathLike[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [_console_script(), *(os.fspath(arg) for arg in args)],
            cwd=cwd or Path.cwd(),
            env={**os.environ, "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


@contextlib.contextmanager
def registry_serve(directory: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``skillpm registry serve DIRECTORY --port 0`` (the console script) and the first line it printed;
    stopped with Ctrl-C (killed after 10 s) when the block ends."""
    server = subprocess.Popen(
        [_console_script(), "registry", "serve", str(directory), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # even where this test's SIGINT is ignored
    )
    try:
        ready, _, _ = select.select([server.stdout], [], [], 30)  # a server that never says where it listens fails
        assert ready, "registry serve printed nothing in 30 s"
        yield server, server.stdout.readline()  # type: ignore[union-attr]
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
