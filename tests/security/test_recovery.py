"""Class 2: crash recovery deletes only what skillpm itself left, never a user's look-alike.

Recovery runs in the folder of every skill directory a command changes, and ``--dir ~ --save``
(recorded in the project's skills.lock) makes that the user's home, full of files of any name. Each case fills it with names that look like
skillpm's temporary files, staging and aside trees (old and new forms, forged markers, a marker
that is a link), runs the real command (or kills it part-way with SIGKILL), and checks that
every look-alike is as it was and that what skillpm left is cleaned up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import build_source, publish_source

from security.test_locking import big_and_small, start, stop_while_staging  # noqa: F401 (a fixture)

from skillpm.atomic import MARKER, _leftover

NAME = "doc-writer"


def lookalikes(folder: Path) -> dict[str, bytes]:
    """Files and folders in ``folder`` whose names look like skillpm's leftovers; their bytes by path."""
    made = {
        ".zshrc.2.old": b"export PATH\n",
        f".{NAME}.7.old/notes.md": b"mine\n",
        f".{NAME}.123.abcdefgh.new": b"mine\n",
        f".{NAME}.k2j4h5mq.skillpm-old/tree/notes.md": b"no marker\n",
        f".{NAME}.k2j4h5mq.skillpm-new/{MARKER}": b"a marker that is a file\n",
        f".{NAME}.k2j4h5mq.skillpm-new/tree/notes.md": b"mine\n",
        f".{NAME}.x8f3ab2c.skillpm-old/{MARKER}/.keep": b"",
        f".{NAME}.x8f3ab2c.skillpm-old/tree/notes.md": b"a marker that is not empty\n",
        f".{NAME}.photoset.skillpm-old/photos/a.jpg": b"an entry skillpm never makes\n",
        ".skills.lock.1.abcdefgh.tmp": b"mine\n",
        ".skills.lock.abcdefgh.skillpm-tmp/data": b"no marker\n",
        "real-marker/.keep": b"",
        f".{NAME}.linkedmk.skillpm-tmp/data": b"a marker that is a link\n",
    }
    for relative, content in made.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (folder / f".{NAME}.photoset.skillpm-old" / MARKER).mkdir()
    (folder / f".{NAME}.linkedmk.skillpm-tmp" / MARKER).symlink_to(folder / "real-marker")
    (folder / "real-marker" / ".keep").unlink()
    return of_lookalikes(folder)


LOOKALIKE_TOPS = {
    ".zshrc.2.old", f".{NAME}.7.old", f".{NAME}.123.abcdefgh.new", f".{NAME}.k2j4h5mq.skillpm-old",
    f".{NAME}.k2j4h5mq.skillpm-new", f".{NAME}.x8f3ab2c.skillpm-old", ".skills.lock.1.abcdefgh.tmp",
    ".skills.lock.abcdefgh.skillpm-tmp", "real-marker", f".{NAME}.linkedmk.skillpm-tmp", f".{NAME}.photoset.skillpm-old",
}


def of_lookalikes(folder: Path) -> dict[str, bytes]:
    """The look-alikes :func:`lookalikes` made, as they are now."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() if path.is_file() else b"<link or folder>"
        for top in LOOKALIKE_TOPS
        for path in [folder / top, *(folder / top).rglob("*")]
        if path.exists() or path.is_symlink()
    }


def skillpm_leftovers(folder: Path) -> list[str]:
    """Leftover folders in ``folder`` other than the look-alikes."""
    return sorted(name for name in os.listdir(folder) if ".skillpm-" in name and name not in LOOKALIKE_TOPS)


@pytest.mark.parametrize(
    "command", [("sync", "--allow-outside"), ("update", "--allow-outside"), ("remove", NAME, "--allow-outside"),
                ("install", NAME)],
)
def test_recovery_in_the_users_home_keeps_every_lookalike(hostile, registry: Path, command) -> None:
    """After 'install --dir ~ --save', every later command recovers in ~: it must not delete ~/.zshrc.2.old."""
    hostile.ok(hostile.run("install", NAME, "--dir", hostile.home, "--save", "--registry", registry))
    in_home, in_project = lookalikes(hostile.home), lookalikes(hostile.project)
    if command[0] == "install":
        command = (*command, "--dir", str(hostile.home), "--save", "--registry", str(registry))
    before = hostile.state()

    hostile.ok(hostile.run(*command))

    assert of_lookalikes(hostile.home) == in_home
    assert of_lookalikes(hostile.project) == in_project
    allowed = (hostile.cache, hostile.home / NAME, hostile.project / "skills.lock")
    assert hostile.changed_outside(before, *allowed) == []


def test_a_kill_between_the_two_renames_restores_only_skillpms_own_aside_tree(hostile, registry: Path) -> None:
    """The aside tree skillpm marked is renamed back; a look-alike '.doc-writer.7.old' is left alone."""
    hostile.ok(hostile.run("install", NAME, "--dir", hostile.home, "--save", "--registry", registry))
    installed = hostile.home / NAME
    expected = {path.relative_to(installed): path.read_bytes() for path in installed.rglob("*") if path.is_file()}
    made = lookalikes(hostile.home)
    installed.rename(_leftover(installed, "old"))  # what a kill between the two renames of a swap leaves

    hostile.ok(hostile.run("sync", "--allow-outside"))

    assert {path.relative_to(installed): path.read_bytes() for path in installed.rglob("*") if path.is_file()} == expected
    assert of_lookalikes(hostile.home) == made
    assert skillpm_leftovers(hostile.home) == []


@pytest.fixture
def big_registry(registry: Path, tmp_path: Path) -> Path:
    """The test registry plus ``big-skill``: 600 files, so that extracting it takes a while."""
    files = {f"references/part{i // 100}/note{i}.md": f"note {i}\n" * 20 for i in range(600)}
    publish_source(registry, build_source(tmp_path / "big", "big-skill", {"generic": files}), tmp_path / "dist-big")
    return registry


def test_a_killed_install_into_home_is_recovered_without_touching_lookalikes(hostile, big_registry: Path) -> None:
    """SIGKILL while the tree is being extracted into ~; the next install cleans up only its own leftovers."""
    made = lookalikes(hostile.home)
    command = [sys.executable, "-m", "skillpm", "install", "big-skill", "--dir", str(hostile.home),
               "--registry", str(big_registry)]
    process = subprocess.Popen(command, cwd=hostile.project, env=hostile.env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not any(name.startswith(".big-skill.") for name in os.listdir(hostile.home)) and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.0005)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    left = [name for name in os.listdir(hostile.home) if name.startswith(".big-skill.")]
    assert left, "the kill came after the install finished"

    hostile.ok(hostile.run("install", "big-skill", "--dir", hostile.home, "--registry", big_registry))

    assert (hostile.home / "big-skill" / "SKILL.md").is_file()
    assert skillpm_leftovers(hostile.home) == []
    assert of_lookalikes(hostile.home) == made


@pytest.mark.parametrize(
    ("killed", "then", "folder"),
    [
        (("install", "big"), ("sync",), ".agents/skills"),  # the project's first install into its default folder
        (("install", "big", "--copy", "--agent", "windsurf"), ("remove", "small"), ".windsurf/skills"),  # a new agent's
    ],
)
def test_a_killed_first_install_into_a_default_folder_is_cleaned_up_by_the_next_run(
    hostile, big_and_small: Path, killed, then, folder: str
) -> None:
    """No entry of skills.lock names the folder yet (its one skill is in vendor/): 'sync', 'update', 'install'
    and 'remove' used to clean only the folders of the entries they change, and left the half-built tree."""
    source = ["--registry", str(big_and_small)]
    hostile.ok(hostile.run("install", "small", "--dir", "vendor", *source))
    process = start(hostile, [*killed, *source], hostile.project, hostile.work / "killed.err")
    stop_while_staging(process, hostile.project / folder)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert skillpm_leftovers(hostile.project / folder)

    hostile.ok(hostile.run(*then))

    assert skillpm_leftovers(hostile.project / folder) == []

# --- a registry's journal (skillpm.registry.store.journal) is read as hostile ----------------------------------


def _hostile_journal(root: Path, outside: Path, case: str) -> None:
    """What a registry's folder may hold in place of the journal a killed write leaves."""
    import hashlib
    import json

    secret = outside / "secret.txt"
    secret.write_bytes(b"the user's secret\n")
    digest = hashlib.sha256(secret.read_bytes()).hexdigest()
    journal = root / ".skillpm-journal"
    writes = [{"path": "search.json", "before": None, "after": digest}]
    if case == "journal-is-a-link":
        (outside / "journal" / "files").mkdir(parents=True)
        journal.symlink_to(outside / "journal")
        journal = outside / "journal"
    elif case == "staged-folder-linked-out":  # its file, the user's, would be moved into the registry
        journal.mkdir()
        (outside / "staged").mkdir()
        (journal / "files").symlink_to(outside / "staged", target_is_directory=True)
        secret.rename(outside / "staged" / "0")
        secret = outside / "staged" / "0"
    else:
        (journal / "files").mkdir(parents=True)
    if case == "staged-file-is-a-link":
        (journal / "files" / "0").symlink_to(secret)
        writes[0]["before"] = hashlib.sha256((root / "search.json").read_bytes()).hexdigest()
    elif case != "staged-folder-linked-out":
        (journal / "files" / "0").write_bytes(secret.read_bytes())
    if case == "path-out-of-the-registry":
        writes[0]["path"] = "../outside/planted.txt"
    if case == "folder-linked-out":
        (root / "index" / "ev").symlink_to(outside, target_is_directory=True)
        writes[0]["path"] = "index/ev/il/evil.json"
    if case == "folder-linked-into-git":  # a cloned registry's attestations/ -> .git/hooks: a hook written
        (root / ".git" / "hooks").mkdir(parents=True)
        (root / "attestations").symlink_to(root / ".git" / "hooks", target_is_directory=True)
        writes[0]["path"] = "attestations/pre-commit"
    if case == "one-file-twice":  # each would hash a file of up to an archive's size again
        writes.append(dict(writes[0]))
    record = {"format-version": 1, "writes": writes, "removes": [], "pages": None}
    text = json.dumps(record) if case != "not-json" else "[" * 100_000
    (journal / "journal.json").write_text(text)


@pytest.mark.parametrize(
    ("case", "said"),
    [
        ("path-out-of-the-registry", "'../outside/planted.txt' is not a path a registry write makes"),
        ("folder-linked-out", "index/ev/il/evil.json is reached through a link"),
        ("folder-linked-into-git", "attestations/pre-commit is reached through a link"),
        ("staged-folder-linked-out", ".skillpm-journal/files is not a folder skillpm made"),
        ("one-file-twice", "or one file twice"),
        ("staged-file-is-a-link", "the file staged for search.json is not the one it names"),
        ("journal-is-a-link", ".skillpm-journal is not a folder skillpm made"),
        ("not-json", "its journal cannot be read"),
    ],
)
def test_a_registry_journal_that_skillpm_did_not_write_is_refused_and_changes_nothing(hostile, case: str, said: str) -> None:
    """A registry's folder (cloned, copied from elsewhere) holds a journal that would move a file out of
    the registry, through a link, or copy a file of the user's into it: the next write finishes none of it."""
    from skillpm.registry import store

    root = hostile.work / "registry"
    store.init(root, name="cloned")
    outside = hostile.work / "outside"
    outside.mkdir()
    _hostile_journal(root, outside, case)
    before = hostile.state()

    refused = hostile.run("registry", "build", root)

    error = hostile.refused(refused, "was interrupted and cannot be finished", said)
    assert error.endswith("nothing was changed")
    assert f"hint: remove {root / '.skillpm-journal'}, then regenerate" in refused.stderr
    assert hostile.changed_outside(before) == []
    assert not (root / ".git" / "hooks" / "pre-commit").exists()  # (second-pass hostile review: it ran on commit)
    if case == "staged-folder-linked-out":
        assert (outside / "staged" / "0").read_bytes() == b"the user's secret\n"  # it was moved into the registry
