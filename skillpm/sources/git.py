"""Fetch one commit of a git repository with the system ``git``, into a folder without ``.git``.

A shallow fetch of exactly the ref asked for (``--depth 1``; a name that is both a branch and a tag is
refused, and a forge page's ``/tree/REF/PATH`` split where the remote has that ref), into a repository
made with no templates (so no hooks) and checked out into a separate work tree:
the tree that is packed never holds a ``.git``. Git runs with hooks off
(``core.hooksPath=/dev/null``), the checkout without the user's configuration (so no filter
driver of theirs runs on the repository's files), no prompt for credentials
(``GIT_TERMINAL_PROMPT=0``, ssh in batch mode), only the URL's own transport
allowed (``protocol.file.allow`` only for ``git+file://``), the ref and URL after
``--`` (never read as options), under a deadline (``$SKILLPM_GIT_TIMEOUT``,
default 300 seconds for the whole fetch and checkout) after which its whole process group is
killed; of what git prints only the last few kilobytes are kept. Before the checkout, its listing
is held to :data:`MAX_CHECKOUT_FILES` files, :data:`MAX_CHECKOUT_SIZE` bytes and
:data:`MAX_CHECKOUT_DEPTH` folder levels, and only ``#subdirectory=`` is checked out when given. The checkout
writes every file's bytes as the commit holds them: the repository's ``.gitattributes`` (line endings, ``ident``,
encodings, filters) are overridden. Links in
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
#: Seconds without a byte after which git gives a server up (HTTP), or ssh its connection: what bounds a git
#: that outlives a killed skillpm, whose own deadline then no longer runs.
STALLED_SECONDS = 60
_COMMIT_RE = re.compile(r"[0-9a-f]{40}")
_MAX_MESSAGE = 400
_MAX_OUTPUT = 8192
#: The most a git source's checkout may hold (files, bytes, folder levels), checked before it is written. Real
#: repositories of skills measured: 28,583 files, 257 MB, 18 levels at most.
MAX_CHECKOUT_FILES = 100_000
MAX_CHECKOUT_SIZE = 1 << 30
MAX_CHECKOUT_DEPTH = 64
#: The most of ``git ls-tree``'s listing read (its lines name every file of the checkout).
MAX_LISTING = 64 << 20
#: ``$GIT_DIR/info/attributes``, which outranks every ``.gitattributes`` of the repository's: the checkout writes each
#: blob's bytes as they are, as an archive of the commit holds them. A repository's own attributes could otherwise
#: grow the checkout past :data:`MAX_CHECKOUT_SIZE`, which counts blob sizes (``ident``, ``eol=crlf`` and
#: ``working-tree-encoding=UTF-32`` write a file many times its blob's size), or name filter drivers.
_RAW_CHECKOUT = "* -text -crlf -eol -ident -filter -working-tree-encoding\n"
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
    """The user's environment without skillpm's secrets, with every way git could stop to ask for something off."""
    from skillpm.childenv import without_secrets

    env = {key: value for key, value in without_secrets().items() if not key.startswith("GIT_") or key in _KEPT}
    env.update(GIT_TERMINAL_PROMPT="0", GCM_INTERACTIVE="never", GIT_ASKPASS="true", SSH_ASKPASS="true",
               GIT_CONFIG_NOSYSTEM="1", LC_ALL="C")
    if "GIT_SSH" not in env:  # the user's own ssh program keeps its own options
        alive = f"-o ServerAliveInterval={STALLED_SECONDS // 4} -o ServerAliveCountMax=4"
        env["GIT_SSH_COMMAND"] = env.get("GIT_SSH_COMMAND", "ssh") + f" -o BatchMode=yes {alive}"
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
        # A server that stops sending is given up by git itself, also when skillpm was killed (git outlives it).
        "-c", "http.lowSpeedLimit=1", "-c", f"http.lowSpeedTime={STALLED_SECONDS}",
    ]


def _drain(stream: IO[bytes], into: list[bytes], head: int = 0) -> None:
    """Read ``stream`` to its end (a server may talk forever), keeping its first ``head`` bytes and one more
    (so that more shows), or with ``head`` 0 only its last :data:`_MAX_OUTPUT` bytes."""
    kept, size = [], 0
    for chunk in iter(lambda: stream.read(65536), b""):
        if not head:
            kept = [(b"".join(kept) + chunk)[-_MAX_OUTPUT:]]
        elif size <= head:
            kept.append(chunk[: head + 1 - size])
            size += len(kept[-1])
    into.append(b"".join(kept))


def _run(args: list[str], *, cwd: Path, what: str, deadline: float, own_config: bool = True) -> str:
    """Run ``git ARGS`` until the monotonic ``deadline``; the last few kilobytes of its stdout, or SourceError
    with git's last words (sanitised) naming ``what``. Without ``own_config`` git reads none of the user's
    configuration (``GIT_CONFIG_GLOBAL=/dev/null``): what only a fetch needs (credentials, proxies,
    ``insteadOf``) and nothing a repository's files could set to work."""
    return _git(args, cwd=cwd, what=what, deadline=deadline, own_config=own_config).decode("ascii", "replace").strip()


def _git(args: list[str], *, cwd: Path, what: str, deadline: float, own_config: bool = True, head: int = 0) -> bytes:
    """:func:`_run`'s work: git's stdout as bytes, its first ``head`` bytes and one more when ``head`` is given."""
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
    readers = [threading.Thread(target=_drain, args=(process.stdout, out, head), daemon=True),
               threading.Thread(target=_drain, args=(process.stderr, err), daemon=True)]
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
    return b"".join(out)


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


def fetch_commit(spec: SourceSpec, into: Path) -> tuple[SourceSpec, str]:
    """Fetch ``spec``'s ref (its remote HEAD when none) and check it out into ``into``/tree; the spec with its
    ref settled (:func:`_settle_ref`) and the commit.

    ``into`` must be an empty folder; the repository goes to ``into``/git, outside the tree.
    """
    scheme = spec.url.split("://", 1)[0]
    if scheme != "file" and offline():
        raise SourceError(
            f"offline: {spec.describe()} would be fetched over the network",
            hint="run without --offline (and $SKILLPM_OFFLINE); only git+file:// sources work offline",
        )
    deadline = time.monotonic() + git_timeout()
    repository, tree = into / "git", into / "tree"
    tree.mkdir()
    _run(["init", "--quiet", "--bare", "--template=", str(repository)], cwd=into, what="git init", deadline=deadline)
    (repository / "info").mkdir(exist_ok=True)
    (repository / "info" / "attributes").write_text(_RAW_CHECKOUT, encoding="ascii")
    config = _config(scheme)
    spec, ref = _settle_ref(spec, config, into, deadline)
    shown = spec.describe()
    _run([*config, f"--git-dir={repository}", "fetch", "--quiet", "--depth=1", "--no-tags", "--", spec.url, ref],
         cwd=into, what=f"git fetch of {shown}", deadline=deadline)
    commit = _run([f"--git-dir={repository}", "rev-parse", "--verify", "--end-of-options", "FETCH_HEAD^{commit}"],
                  cwd=into, what="git rev-parse", deadline=deadline)
    if not _COMMIT_RE.fullmatch(commit):
        raise SourceError(f"git fetch of {shown} gave {commit[:80]!r}, not a commit (sha256 repositories are not supported)")
    paths = [spec.subdirectory] if spec.subdirectory else ["."]  # only the folder asked for is checked out
    _check_tree(_git(["--literal-pathspecs", f"--git-dir={repository}", "ls-tree", "-r", "-l", "-z", "--full-tree",
                      commit, "--", *paths], cwd=into, what="git ls-tree", deadline=deadline, head=MAX_LISTING),
                shown, spec.subdirectory)
    # The user's configuration stays out of the checkout: a repository's .gitattributes names filter drivers
    # (filter=crypt) that the user's ~/.gitconfig may define for other repositories, and they would run here.
    _run([*config, "--literal-pathspecs", f"--git-dir={repository}", f"--work-tree={tree}", "checkout", "--quiet",
          "--force", commit, "--", *paths], cwd=into, what=f"git checkout of {shown}", deadline=deadline,
         own_config=False)
    return spec, commit


def _settle_ref(spec: SourceSpec, config: list[str], into: Path, deadline: float) -> tuple[SourceSpec, str]:
    """``spec`` with a forge page's ``REF/PATH`` split where the remote has a branch or tag, and the ref to fetch:
    the full name of the branch or tag a short name is (``refs/heads/X``), else the ref as given (``HEAD``, a
    commit, a ``refs/`` name, a name the remote has neither of). SourceError when a name is both a branch and a
    tag (git would take the tag: a contributor's tag ``v1`` over the branch ``v1``), or a page's ``REF/PATH``
    splits at more than one (tag ``feature`` and branch ``feature/pdf``) or at none."""
    if spec.tree is not None:
        segments = spec.tree.split("/")
        names = ["/".join(segments[:end]) for end in range(1, len(segments) + 1)]
    elif spec.ref and not _COMMIT_RE.fullmatch(spec.ref) and not spec.ref.startswith("refs/"):
        names = [check_ref(spec.ref)]
    else:
        return spec, check_ref(spec.ref) if spec.ref else "HEAD"
    shown = spec.describe() if spec.tree is None else f"{spec.url}/tree/{spec.tree}"
    patterns = [f"refs/{kind}/{name}" for name in names for kind in ("heads", "tags")]
    listing = _git([*config, "ls-remote", "--", spec.url, *patterns], cwd=into, what=f"git fetch of {shown}",
                   deadline=deadline, head=MAX_LISTING)
    found = {line.partition(b"\t")[2].decode("utf-8", "replace") for line in listing.splitlines()}
    matches = []
    for name in names:
        full = [pattern for pattern in (f"refs/heads/{name}", f"refs/tags/{name}") if pattern in found]
        if len(full) == 2:
            raise SourceError(f"{shown}: {name!r} is both a branch and a tag of the repository; refused",
                              hint=f"name one: @refs/heads/{name} or @refs/tags/{name}, or the commit")
        matches += [(name, full[0])] if full else []
    if spec.tree is None:
        return spec, matches[0][1] if matches else names[0]
    if len(matches) != 1:
        which = f"several refs ({', '.join(name for name, _ in matches)})" if matches else "no branch or tag"
        raise SourceError(f"{shown} starts with {which} of the repository; refused",
                          hint="use git+URL@REF#subdirectory=PATH (the commit for REF, if the page showed one)")
    name, full = matches[0]
    folder = spec.tree[len(name) + 1:] or None
    return spec._replace(ref=name, subdirectory=folder, tree=None), full


def _check_tree(listing: bytes, shown: str, subdirectory: str | None) -> None:
    """Refuse a checkout (``git ls-tree -r -l -z`` of it) of more files, bytes or folder levels than
    :data:`MAX_CHECKOUT_FILES`, :data:`MAX_CHECKOUT_SIZE`, :data:`MAX_CHECKOUT_DEPTH`: a small repository
    can name one compressible blob many times, or nest folders a thousand deep, and the checkout is written
    to disk before anything else is looked at."""
    hint = "name the folder of the skill with #subdirectory=PATH" if not subdirectory else None
    entries = [entry for entry in listing.split(b"\0") if entry]
    if len(listing) > MAX_LISTING or len(entries) > MAX_CHECKOUT_FILES:
        raise SourceError(f"{shown} holds more than {MAX_CHECKOUT_FILES:,} files; refused", hint=hint)
    if subdirectory and not entries:
        raise SourceError(f"{shown} has no folder {subdirectory!r}")
    size, deepest = 0, 0
    for entry in entries:
        meta, _, path = entry.partition(b"\t")
        blob_size = meta.split()[-1] if meta else b"-"
        size += int(blob_size) if blob_size.isdigit() else 0
        deepest = max(deepest, path.count(b"/") + 1)
    if size > MAX_CHECKOUT_SIZE:
        raise SourceError(f"{shown} holds {size / (1 << 20):,.0f} MiB of files, more than "
                          f"{MAX_CHECKOUT_SIZE >> 20:,} MiB; refused", hint=hint)
    if deepest > MAX_CHECKOUT_DEPTH:
        raise SourceError(f"{shown} holds a file {deepest} folders deep, more than {MAX_CHECKOUT_DEPTH}; refused",
                          hint=hint)


def open_git(spec: SourceSpec) -> PackedSource:
    """The git source ``spec``: its ref fetched and checked out in a temporary folder, pinned to the commit.

    A commit-pinned spec (what skills.lock records) fetches that commit, wherever tags have moved since.
    """
    from skillpm.sources.packed import PackedSource

    work = tempfile.TemporaryDirectory(prefix="skillpm-git-")
    spec, commit = fetch_commit(spec, Path(work.name))
    if spec.is_pinned and commit != spec.ref:
        raise SourceError(f"git fetch of {spec.describe()} gave commit {commit}, not the one asked for")
    root = Path(work.name) / "tree"
    if spec.subdirectory:
        root = _subdirectory(root, spec)
    return PackedSource(spec, root, resolved=commit, keep=work)


def _subdirectory(tree: Path, spec: SourceSpec) -> Path:
    """``tree``/subdirectory, reached without following a link (a checkout's links are the repository's)."""
    from skillpm.containment import real_folder

    folder = real_folder(tree, spec.subdirectory)  # type: ignore[arg-type]  # checked by the caller
    if folder is None:
        raise SourceError(f"{spec.describe()} has no folder {spec.subdirectory!r} (or it is a link)")
    return folder
