"""Crash safety of registry writes: the real ``skillpm registry add``, ``rotate-key`` and ``init`` killed with
SIGKILL at each rename they make, then the next write.

A write stages its files, writes its journal (the rename that decides it), renames the files in (the
signed snapshot and its signature last), rewrites the pages and drops the journal
(``skillpm.registry.store.journal``). The kill is injected by ``strace`` at the N-th rename(2) of the
process, for every N the unkilled command makes (no hook in skillpm); strace must be installed and
allowed to trace, else these tests are skipped, saying why. After each kill:

- a first-time client reads the registry: the old index, the new one, or (between the two) a
  refusal whose hint says how to finish the write;
- the next write (the same command again, or ``registry build``, which needs no key) finishes the
  killed write when its journal was written, or drops it when not; the index is then exactly
  what an unkilled run makes, its snapshot signed, and nothing temporary is left in the registry.

The states an older skillpm's killed write left (documents the snapshot does not list, a
snapshot its signature does not match) and hand-made journals are built by hand below.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import build_source, signalling_at

from skillpm.atomic import _leftover  # builds what a killed writer leaves, as skillpm itself does
from skillpm.attest.keys import keygen, load_signing_key
from skillpm.pack import pack
from skillpm.registry import store

RENAMES = ("rename", "renameat", "renameat2")


def _strace_problem() -> str | None:
    strace = shutil.which("strace")
    if strace is None:
        return "strace is not installed: the kills are injected with 'strace -e inject=rename:signal=KILL'"
    probe = subprocess.run([strace, "-f", "-qq", "-o", os.devnull, "true"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        return f"strace cannot trace here ({probe.stderr.strip()[:200]})"
    return None


needs_strace = pytest.mark.skipif(_strace_problem() is not None, reason=str(_strace_problem()))


def skillpm(*args: str | Path, env: dict[str, str] | None = None, trace: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """The console script (under ``strace`` with ``trace``), without writing bytecode: every run renames alike."""
    script = str(Path(sys.executable).with_name("skillpm"))
    command = [*(trace or []), script, *map(str, args)]
    environment = {**os.environ, "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment, stdin=subprocess.DEVNULL)


def renames(args: tuple[str | Path, ...], env: dict[str, str], log: Path) -> tuple[str, int]:
    """The rename system call ``skillpm ARGS`` makes (``rename`` on x86-64) and how many times, run unkilled."""
    done = skillpm(*args, env=env, trace=["strace", "-f", "-qq", "-o", str(log), "-e", "trace=" + ",".join(RENAMES)])
    assert done.returncode == 0, done.stderr
    calls = Counter(line.split("(", 1)[0].split()[-1] for line in log.read_text().splitlines() if "(" in line)
    [(call, count)] = [(call, count) for call, count in calls.items() if call in RENAMES]
    return call, count


def killed_at(call: str, nth: int, args: tuple[str | Path, ...], env: dict[str, str]) -> None:
    """Run ``skillpm ARGS``, SIGKILLed by strace at its ``nth`` ``call``."""
    inject = ["strace", "-f", "-qq", "-o", os.devnull, "-e", f"trace={call}", "-e", f"inject={call}:signal=KILL:when={nth}"]
    done = skillpm(*args, env=env, trace=inject)
    assert done.returncode != 0, (nth, done.stdout, done.stderr)


def client(root: Path, tmp: Path, *requirements: str) -> subprocess.CompletedProcess[str]:
    """``skillpm resolve`` by a first-time client (its own empty cache and trust pins)."""
    fresh = tmp / "client"
    shutil.rmtree(fresh, ignore_errors=True)
    env = {"HOME": str(fresh), "SKILLPM_CACHE_DIR": str(fresh / "cache"), "XDG_DATA_HOME": str(fresh / "data"),
           "XDG_STATE_HOME": str(fresh / "state"), "XDG_CONFIG_HOME": str(fresh / "config")}
    return skillpm("resolve", *requirements, "--arch", "9.0", "--registry", root, env=env)


def index_state(root: Path) -> dict[str, bytes]:
    """The documents of the registry (not the snapshot, whose version and expiry differ run to run)."""
    found = {name: (root / name).read_bytes() for name in ("config.json", "search.json")}
    found.update({path.relative_to(root).as_posix(): path.read_bytes() for path in sorted((root / "index").rglob("*.json"))})
    return found


def temporaries(root: Path) -> list[str]:
    """What a write leaves only while it runs: its journal, the files it received, and temporary files or folders."""
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.name in (".skillpm-journal", ".skillpm-incoming") or path.name.endswith((".skillpm-tmp", ".tmp"))
    )


@pytest.fixture
def signed(tmp_path: Path) -> dict[str, object]:
    """A signed registry holding alpha 1.0.0, the archive of gamma 1.0.0, and the key's environment."""
    key = keygen(tmp_path / "keys" / "index").private_path
    signing = [load_signing_key(key)]
    root = tmp_path / "registry"
    store.init(root, name="signed", keys=signing)
    alpha = pack(build_source(tmp_path / "build", "alpha"), tmp_path / "dist-alpha")
    store.add(root, [built.path for built in alpha], keys=signing)
    archives = [built.path for built in pack(build_source(tmp_path / "build", "gamma"), tmp_path / "dist-gamma")]
    return {"root": root, "env": {store.INDEX_KEY_ENV: str(key)}, "key": key, "archives": archives}


@needs_strace
def test_a_registry_add_killed_at_each_rename_is_finished_by_the_next_write(tmp_path: Path, signed) -> None:
    original, env = signed["root"], signed["env"]
    reference = Path(shutil.copytree(original, tmp_path / "reference"))
    call, count = renames(("registry", "add", reference, *signed["archives"]), env, tmp_path / "strace.log")
    expected = index_state(reference)
    # the archive staged (from the registry's incoming folder), the journal, the archive moved in, gamma's
    # document, search.json, snapshot.json and .sig, pages
    assert count >= 7
    for nth in range(1, count + 1):
        work = tmp_path / "work"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(original, work)
        add = ("registry", "add", work, *signed["archives"])
        killed_at(call, nth, add, env)
        context = f"killed at rename {nth} of {count}"
        # each archive is first renamed into the journal's folder, then the journal: before it, nothing was decided
        decided = nth > len(signed["archives"]) + 1

        seen = client(work, tmp_path, "alpha")
        if seen.returncode != 0:  # between the first rename and the signature: the hint says how to finish it
            assert "'skillpm registry build " in seen.stderr and (work / ".skillpm-journal").is_dir(), (context, seen.stderr)

        again = nth % 2 == 1  # the same add again, or 'registry build', which needs no key
        done = skillpm(*add, env=env) if again else skillpm("registry", "build", work)
        assert done.returncode == 0, (context, done.stderr)
        if again:
            assert ("already published: gamma" if decided else "added gamma") in done.stdout, (context, done.stdout)
        assert temporaries(work) == [], context
        assert (client(work, tmp_path, "gamma").returncode == 0) == (decided or again), context
        assert client(work, tmp_path, "alpha").returncode == 0, context

        assert skillpm(*add, env=env).returncode == 0, context
        assert index_state(work) == expected, context
        assert client(work, tmp_path, "gamma").returncode == 0, context


@needs_strace
def test_a_key_retirement_killed_at_each_rename_is_finished_by_the_next_write(tmp_path: Path, signed) -> None:
    """rotate-key --retire writes config.json, the keys, the snapshot, and removes the retired key's file."""
    original = signed["root"]
    new = keygen(tmp_path / "keys" / "new").private_path
    old = load_signing_key(signed["key"])
    store.add_index_key(original, load_signing_key(new), keys=[old])
    retire = ("registry", "rotate-key", "--retire", old.fingerprint, "--key", new)
    reference = Path(shutil.copytree(original, tmp_path / "reference"))
    call, count = renames((*retire[:2], reference, *retire[2:]), {}, tmp_path / "strace.log")
    expected = index_state(reference)
    assert not (reference / "keys" / f"{old.fingerprint}.pub").exists()
    for nth in range(1, count + 1):
        work = tmp_path / "work"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(original, work)
        killed_at(call, nth, (*retire[:2], work, *retire[2:]), {})
        context = f"killed at rename {nth} of {count}"

        done = skillpm("registry", "build", work)
        assert done.returncode == 0, (context, done.stderr)
        assert temporaries(work) == [], context
        assert client(work, tmp_path, "alpha").returncode == 0, context
        if nth > 1:
            assert index_state(work) == expected, context
            assert sorted(path.name for path in (work / "keys").iterdir()) == sorted(
                path.name for path in (reference / "keys").iterdir()
            ), context
        else:
            assert index_state(work) == index_state(original), context


@needs_strace
def test_a_registry_init_killed_at_each_rename_leaves_a_registry_or_none(tmp_path: Path) -> None:
    key = keygen(tmp_path / "keys" / "index").private_path
    env = {store.INDEX_KEY_ENV: str(key)}
    call, count = renames(("registry", "init", tmp_path / "reference"), env, tmp_path / "strace.log")
    for nth in range(1, count + 1):
        work = tmp_path / f"work{nth}"
        killed_at(call, nth, ("registry", "init", work), env)
        context = f"killed at rename {nth} of {count}"

        again = skillpm("registry", "init", work, env=env)
        if nth > 1:  # decided: the second init finishes the first, and says a registry is there
            assert again.returncode == 1 and "already holds a registry" in again.stderr, (context, again.stderr)
        else:
            assert again.returncode == 0, (context, again.stderr)
        assert temporaries(work) == [], context
        assert client(work, tmp_path, "anything").stderr.startswith("error: no package named 'anything'"), context


@needs_strace
def test_a_registry_build_killed_while_writing_pages_leaves_nothing_after_the_next_write(tmp_path: Path, signed) -> None:
    """Page writes killed part-way left '.NAME.html.PID.HEX.tmp' in pages/ for good, which a static host then
    published; the next write removes what a kill leaves, and what older versions left, and no look-alike."""
    original = signed["root"]
    for page in (original / "pages").glob("*.html"):
        page.unlink()
    (original / "index.html").unlink()
    call, count = renames(("registry", "build", Path(shutil.copytree(original, tmp_path / "reference"))), {},
                          tmp_path / "strace.log")
    for nth in range(1, count + 1):
        work = tmp_path / "work"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(original, work)
        killed_at(call, nth, ("registry", "build", work), {})
        (work / "pages" / ".alpha.html.4242.0badcafe.tmp").write_text("an older skillpm's half page")
        (work / ".index.html.4242.0badcafe.tmp").write_text("an older skillpm's half page")
        (work / "pages" / ".alpha.html.4242.0badcafe.tmp.bak").write_text("mine")
        (work / "pages" / ".notes.4242.0badcafe.tmp").mkdir()

        assert skillpm("registry", "build", work).returncode == 0
        assert temporaries(work) == ["pages/.notes.4242.0badcafe.tmp"], f"killed at rename {nth} of {count}"
        assert (work / "pages" / ".alpha.html.4242.0badcafe.tmp.bak").read_text() == "mine"
        assert sorted(path.name for path in (work / "pages").glob("*.html")) == ["alpha.html"]


def _snapshot_files(root: Path) -> dict[str, bytes]:
    return {name: (root / name).read_bytes() for name in ("snapshot.json", "snapshot.json.sig")}


@pytest.mark.parametrize("left", ["documents-unsigned", "signature-stale"])
def test_an_index_an_older_skillpm_left_half_written_is_refused_with_what_to_run(
    tmp_path: Path, signed, left: str, snapshot
) -> None:
    """An older skillpm killed in 'registry add' left gamma's document and search.json unlisted by the snapshot,
    or a new snapshot under the old signature. Adding the same archive again said 'already published' and
    exited 0, and every client kept refusing the registry: now every write says so, and names the repair."""
    root, env = signed["root"], signed["env"]
    before = _snapshot_files(root)
    store.add(root, signed["archives"], keys=[load_signing_key(signed["key"])])
    if left == "documents-unsigned":
        (root / "snapshot.json").write_bytes(before["snapshot.json"])
    (root / "snapshot.json.sig").write_bytes(before["snapshot.json.sig"])
    state = snapshot(root)

    for args in (("registry", "add", root, *signed["archives"]), ("registry", "yank", root, "alpha==1.0.0")):
        refused = skillpm(*args, env=env)
        assert refused.returncode == 1, refused.stdout
        assert refused.stderr.startswith(f"error: the index of {root} is not what its signed snapshot lists")
        assert f"'skillpm registry rebuild {root}'" in refused.stderr and "Traceback" not in refused.stderr
        assert snapshot(root) == state

    assert skillpm("registry", "rebuild", root, env=env).returncode == 0
    assert client(root, tmp_path, "gamma").returncode == 0
    assert "already published: gamma" in skillpm("registry", "add", root, *signed["archives"], env=env).stdout


def test_temporary_files_killed_writes_left_are_removed_by_the_next_write(tmp_path: Path, signed) -> None:
    """Leftover folders of atomic writes a kill interrupted (as older versions left them beside each file):
    the next write removes those in the folders it writes, 'registry rebuild' all of them; a look-alike
    (no marker, or a file of that name) stays."""
    root, env = signed["root"], signed["env"]
    document = root / "index" / "al" / "ph" / "alpha.json"
    left = [_leftover(root / "search.json", "tmp"), _leftover(document, "tmp"), _leftover(root / "artifacts" / "alpha" / "x", "tmp")]
    for path in left:
        path.write_bytes(b"half written")
    lookalikes = [root / ".search.json.12345678.skillpm-tmp", document.parent / ".alpha.json.abcdefgh.skillpm-tmp" / "data"]
    lookalikes[0].write_bytes(b"mine")
    lookalikes[1].parent.mkdir()
    lookalikes[1].write_bytes(b"mine, no marker")

    assert skillpm("registry", "yank", root, "alpha==1.0.0", env=env).returncode == 0
    assert [path.parent.exists() for path in left] == [False, False, True]  # not in artifacts/, which it did not write
    assert skillpm("registry", "rebuild", root, env=env).returncode == 0
    assert not left[2].parent.exists()
    assert [path.read_bytes() for path in lookalikes] == [b"mine", b"mine, no marker"]


def _journal(root: Path, writes: list[tuple[str, bytes | None, bytes]], pages: object = None) -> Path:
    """A journal as a killed writer leaves it: each (path, bytes it replaces, new bytes) staged in order."""
    folder = root / ".skillpm-journal"
    (folder / "files").mkdir(parents=True)
    for index, (_, _, data) in enumerate(writes):
        (folder / "files" / str(index)).write_bytes(data)

    def digest(data: bytes | None) -> str | None:
        return None if data is None else hashlib.sha256(data).hexdigest()

    record = {
        "format-version": 1,
        "writes": [{"path": path, "before": digest(before), "after": digest(after)} for path, before, after in writes],
        "removes": [],
        "pages": pages,
    }
    (folder / "journal.json").write_text(json.dumps(record))
    return folder


def test_a_journal_whose_files_changed_since_is_refused_and_changes_nothing(tmp_path: Path, signed, snapshot) -> None:
    root = signed["root"]
    search = (root / "search.json").read_bytes()
    _journal(root, [("search.json", b"what it replaced\n", b"{}\n")])
    state = snapshot(root)

    refused = skillpm("registry", "build", root)

    assert refused.returncode == 1
    assert refused.stderr.startswith(f"error: a write to {root} was interrupted and cannot be finished: search.json changed since")
    assert f"remove {root / '.skillpm-journal'}, then regenerate and sign the index with 'skillpm registry rebuild" in refused.stderr
    assert snapshot(root) == state and (root / "search.json").read_bytes() == search


@pytest.mark.parametrize(
    ("relative", "made"),
    [
        ("config.json", True), ("snapshot.json.sig", True), ("keys/index.pub", True), ("index/1/a.json", True),
        ("index/ga/mm/gamma.json", True), ("artifacts/gamma/1.0.0+cu13/gamma-1.0.0+cu13-sm_90a.tar.gz", True),
        ("attestations/gamma/1.0.0/gamma-1.0.0-generic.tar.gz.bench-0123456789abcdef.sigstore.json", True),
        ("index/ga/mm/._gamma.json", True),  # what rebuild removes: any document file under index/
        ("../outside.txt", False), ("index/../../outside.txt", False), ("/etc/passwd", False), ("index", False),
        ("pages/gamma.html", False), (".git/config", False), ("index/./a.json", False), ("index//a.json", False),
        ("index\\..\\a.json", False), ("index/a\0.json", False), ("index/a/b/c/d/e.json", False), ("", False), (7, False),
    ],
)
def test_a_journal_names_only_plain_paths_of_the_registrys_own_files(tmp_path: Path, relative: object, made: bool) -> None:
    from skillpm.errors import RegistryError
    from skillpm.registry.store.journal import _target

    if made:
        assert _target(tmp_path, relative) == tmp_path.joinpath(*str(relative).split("/"))
    else:
        with pytest.raises(RegistryError, match="is not a path a registry write makes"):
            _target(tmp_path, relative)


def test_a_write_to_a_folder_that_holds_no_registry_recovers_nothing_in_it(tmp_path: Path, signed, snapshot) -> None:
    """'registry add ~' by mistake: refused before the lock and recovery, so nothing of the folder's is touched."""
    folder = tmp_path / "home-like"
    _journal(folder, [("search.json", None, b"{}\n")])
    _leftover(folder / "notes.md", "tmp").write_bytes(b"a leftover, but not in a registry")
    state = snapshot(folder)

    refused = skillpm("registry", "add", folder, *signed["archives"], env=signed["env"])

    assert refused.returncode == 1 and "is not a skillpm registry" in refused.stderr
    assert snapshot(folder) == state


@pytest.mark.parametrize(("step", "said"), [
    ("_put_in_place", "the registry write was decided: the next write to {root} finishes it "
                      "('skillpm registry build {root}', say)"),
    ("update_pages", "the registry write is in place, not all its pages: 'skillpm registry build {root}' writes them"),
])
def test_ctrl_c_once_a_registry_write_is_decided_says_what_finishes_it(tmp_path: Path, signed, step: str,
                                                                       said: str) -> None:
    """Ctrl-C after the journal is written said 'nothing was left half-written': the write is decided then, and
    readers are refused until a write finishes it (or, once its files are in, its pages are those of before).
    The one line now says so and what to run; that command then brings the registry to what an unkilled add
    makes."""
    root = signed["root"]
    args = ["registry", "add", str(root), *map(str, signed["archives"])]
    environment = {**os.environ, "NO_COLOR": "1", **signed["env"]}
    done = subprocess.run([sys.executable, "-c", signalling_at(step, "SIGINT"), *args], capture_output=True,
                          text=True, timeout=120, env=environment, stdin=subprocess.DEVNULL)
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines() == [f"error: interrupted; {said.format(root=root)}"], done.stderr
    assert skillpm("registry", "build", root, env=signed["env"]).returncode == 0
    assert not (root / ".skillpm-journal").exists() and temporaries(root) == []
    listed = skillpm("search", "gamma", "--registry", root, "--json")
    assert [entry["name"] for entry in json.loads(listed.stdout)] == ["gamma"], listed.stderr
