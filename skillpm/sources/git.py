"""Fetch one commit of a git repository with the system ``git``, into a folder without ``.git``.

A shallow fetch of exactly the ref asked for (``--depth 1``), into a repository
made with no templates (so no hooks) and checked out into a separate work tree:
the tree that is packed never holds a ``.git``. Git runs with hooks off
(``core.hooksPath=/dev/null``), the checkout without the user's configuration (so no filter
driver of theirs runs on the repository's files), no prompt for credentials
(``GIT_TERMINAL_PROMPT=0``, ssh in batch mode), only the URL's own transport
allowed (``protocol.file.allow`` only for ``git+file://``), the ref and URL after
``--`` (never read as options), under a deadline (``$SKILLPM_GIT_TIMEOUT``,
default 300 seconds for the whole fetch and checkout) after which its whole process group is
killed; of what git prints only the last few kilobytes are kept. Links in
the checkout are left as git made them; validation refuses any that leads out of
a skill's folder or into ``.git``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

from skillpm.errors import SourceError
from skillpm.registry.settings import offline
from skillpm.sources.spec import GIT_SCHEMES, SourceSpec, check_ref

if TYPE_CHECKING:
    from skillpm.sources.packed import PackedSource

GIT_TIMEOUT_ENV = "SKILLPM_GIT_TIMEOUT"
DEFAULT_GIT_TIMEOUT = 300.0
_COMMIT_RE = re.compile(r"[0-9a-f]{40}")
_MAX_MESSAGE = 400
_MAX_OUTPUT = 8192
#: The user's git variables kept (how to reach a server); every other GIT_* variable is dropped, so
#: none (GIT_DIR, GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT...) can point git elsewhere or add configuration.
_KEPT = frozenset({"GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT", "GIT_SSL_CAINFO", "GIT_SSL_CAPATH",
                   "GIT_PROXY_COMMAND", "GIT_CONFIG_GLOBAL"})


def git_timeout() -> float:
    """Seconds one git command may take: ``$SKILLPM_GIT_TIMEOUT`` (a positive finite number) or 300."""
    text = os.environ.get(GIT_TIMEOUT_ENV, "")
    try:
        value = float(text) if text else DEFAULT_GIT_TIMEOUT
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise SourceError(f"${GIT_TIMEOUT_ENV} is {text[:40]!r}, not a positive number of seconds")
    return value


def _environment() -> dict[str, str]:
    """The user's environment, with every way git could stop to ask for something turned off."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_") or key in _KEPT}
    env.update(GIT_TERMINAL_PROMPT="0", GCM_INTERACTIVE="never", GIT_ASKPASS="true", SSH_ASKPASS="true",
               GIT_CONFIG_NOSYSTEM="1", LC_ALL="C")
    if "GIT_SSH" not in env:  # the user's own ssh program keeps its own options
        env["GIT_SSH_COMMAND"] = env.get("GIT_SSH_COMMAND", "ssh") + " -o BatchMode=yes"
    return env


def _config(scheme: str) -> list[str]:
    """``-c`` options: no hooks, no transport but ``scheme``'s, no submodules or LFS smudging."""
    if scheme not in GIT_SCHEMES:
        raise SourceError(f"git transport {scheme!r} is not supported")
    return [
        "-c", "core.hooksPath=/dev/null", "-c", "protocol.allow=never", "-c", f"protocol.{scheme}.allow=always",
        "-c", "core.symlinks=true", "-c", "core.fsmonitor=false", "-c", "submodule.recurse=false",
        "-c", "fetch.recurseSubmodules=false", "-c", "filter.lfs.smudge=", "-c", "filter.lfs.process=",
        "-c", "filter.lfs.required=false", "-c", "advice.detachedHead=false",
    ]


def _drain(stream: IO[bytes], into: list[bytes]) -> None:
    """Read ``stream`` to its end, keeping only its last :data:`_MAX_OUTPUT` bytes (a server may talk forever)."""
    tail = b""
    for chunk in iter(lambda: stream.read(65536), b""):
        tail = (tail + chunk)[-_MAX_OUTPUT:]
    into.append(tail)


def _run(args: list[str], *, cwd: Path, what: str, deadline: float, own_config: bool = True) -> str:
    """Run ``git ARGS`` until the monotonic ``deadline``; its stdout, or SourceError with git's last words
    (sanitised) naming ``what``. Of its output only the last few kilobytes are kept. Without ``own_config``
    git reads none of the user's configuration (``GIT_CONFIG_GLOBAL=/dev/null``): what only a fetch needs
    (credentials, proxies, ``insteadOf``) and nothing a repository's files could set to work."""
    git = shutil.which("git")
    if git is None:
        raise SourceError("git is not installed; it is needed for git sources", hint="install git, or use a folder")
    env = _environment()
    if not own_config:
        env["GIT_CONFIG_GLOBAL"] = os.devnull
    process = subprocess.Popen(
        [git, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, start_new_session=True,
    )
    out: list[bytes] = []
    err: list[bytes] = []
    readers = [threading.Thread(target=_drain, args=pair, daemon=True)
               for pair in ((process.stdout, out), (process.stderr, err))]
    for reader in readers:
        reader.start()
    try:
        process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        _kill(process)
        raise SourceError(
            f"{what} did not finish within ${GIT_TIMEOUT_ENV} ({git_timeout():g} seconds for the whole fetch); stopped",
            hint=f"check the URL and the network, or raise ${GIT_TIMEOUT_ENV}",
        ) from None
    except BaseException:
        _kill(process)
        raise
    for reader in readers:
        reader.join()
    if process.returncode != 0:
        from skillpm.display import clean

        lines = [line for line in b"".join(err).decode("utf-8", "replace").splitlines() if line.strip()]
        reason = clean(lines[-1] if lines else f"exit status {process.returncode}")[:_MAX_MESSAGE]
        raise SourceError(f"{what} failed: {reason}")
    return b"".join(out).decode("ascii", "replace").strip()


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill git and everything it started (ssh, remote helpers: its process group), and reap it."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:  # Windows: no process groups here; git itself
            process.kill()
    except ProcessLookupError:
        pass
    process.wait()


def fetch_commit(spec: SourceSpec, into: Path) -> str:
    """Fetch ``spec``'s ref (its remote HEAD when none) and check it out into ``into``/tree; the commit.

    ``into`` must be an empty folder; the repository goes to ``into``/git, outside the tree.
    """
    scheme = spec.url.split("://", 1)[0]
    if scheme != "file" and offline():
        raise SourceError(
            f"offline: {spec.describe()} would be fetched over the network",
            hint="run without --offline (and $SKILLPM_OFFLINE); only git+file:// sources work offline",
        )
    ref = check_ref(spec.ref) if spec.ref else "HEAD"
    deadline = time.monotonic() + git_timeout()
    repository, tree = into / "git", into / "tree"
    tree.mkdir()
    _run(["init", "--quiet", "--bare", "--template=", str(repository)], cwd=into, what="git init", deadline=deadline)
    config = _config(scheme)
    shown = spec.describe()
    _run([*config, f"--git-dir={repository}", "fetch", "--quiet", "--depth=1", "--no-tags", "--", spec.url, ref],
         cwd=into, what=f"git fetch of {shown}", deadline=deadline)
    commit = _run([f"--git-dir={repository}", "rev-parse", "--verify", "--end-of-options", "FETCH_HEAD^{commit}"],
                  cwd=into, what="git rev-parse", deadline=deadline)
    if not _COMMIT_RE.fullmatch(commit):
        raise SourceError(f"git fetch of {shown} gave {commit[:80]!r}, not a commit (sha256 repositories are not supported)")
    # The user's configuration stays out of the checkout: a repository's .gitattributes names filter drivers
    # (filter=crypt) that the user's ~/.gitconfig may define for other repositories, and they would run here.
    _run([*config, f"--git-dir={repository}", f"--work-tree={tree}", "checkout", "--quiet", "--force",
          commit, "--", "."], cwd=into, what=f"git checkout of {shown}", deadline=deadline, own_config=False)
    return commit


def open_git(spec: SourceSpec) -> PackedSource:
    """The git source ``spec``: its ref fetched and checked out in a temporary folder, pinned to the commit.

    A commit-pinned spec (what skills.lock records) fetches that commit, wherever tags have moved since.
    """
    from skillpm.sources.packed import PackedSource

    work = tempfile.TemporaryDirectory(prefix="skillpm-git-")
    commit = fetch_commit(spec, Path(work.name))
    if spec.is_pinned and commit != spec.ref:
        raise SourceError(f"git fetch of {spec.describe()} gave commit {commit}, not the one asked for")
    root = Path(work.name) / "tree"
    if spec.subdirectory:
        root = _subdirectory(root, spec)
    return PackedSource(spec, root, resolved=commit, keep=work)


def _subdirectory(tree: Path, spec: SourceSpec) -> Path:
    """``tree``/subdirectory, reached without following a link (a checkout's links are the repository's)."""
    folder = tree
    for part in spec.subdirectory.split("/"):  # type: ignore[union-attr]  # checked by the caller
        folder = folder / part
        if folder.is_symlink() or not folder.is_dir():
            raise SourceError(f"{spec.describe()} has no folder {spec.subdirectory!r} (or it is a link)")
    return folder
