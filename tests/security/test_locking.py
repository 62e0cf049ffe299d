"""Class 8: lost updates when concurrent writers of one project (or registry) take different locks.

The lock used to be a file in the cache folder, so processes with different ``SKILLPM_CACHE_DIR``
(two terminals, a CI job and a user, a container) each took their own lock and overwrote each
other's skills.lock. Each case starts real processes together, each with its own cache, and checks
that every one's change is recorded and no file was added to the project for the lock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from conftest import build_source, publish_source

NAMES = [f"pkg-{letter}" for letter in "abcdefgh"]


@pytest.fixture
def eight_packages(registry: Path, tmp_path: Path) -> Path:
    """The test registry plus eight small packages."""
    for name in NAMES:
        source = build_source(tmp_path / "eight", name, {"generic": {"notes.md": f"{name}\n"}})
        publish_source(registry, source, tmp_path / "dist-eight" / name)
    return registry


def run_together(
    hostile, argvs: list[list[str]], cwds: list[Path], *, all_succeed: bool = True
) -> list[subprocess.CompletedProcess[str]]:
    """Start every command at once, each with a cache of its own; wait for all (each must succeed, by default)."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "skillpm", *argv], cwd=cwd,
            env=hostile.env(SKILLPM_CACHE_DIR=str(hostile.root / f"cache-{index}")),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for index, (argv, cwd) in enumerate(zip(argvs, cwds))
    ]
    results = []
    for argv, process in zip(argvs, processes):
        stdout, stderr = process.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(argv, process.returncode, stdout, stderr))
    for result in results:
        assert "Traceback" not in result.stderr, (result.args, result.stderr)
        assert result.returncode == 0 or not all_succeed, (result.args, result.stderr)
    return results


def recorded(project: Path) -> list[str]:
    return sorted(entry["name"] for entry in tomllib.loads((project / "skills.lock").read_text())["skill"])


def test_eight_installs_with_eight_caches_are_all_recorded(hostile, eight_packages: Path) -> None:
    """Eight 'install' processes into one project, each with its own cache: all eight in skills.lock."""
    argvs = [["install", name, "--registry", str(eight_packages)] for name in NAMES]

    run_together(hostile, argvs, [hostile.project] * len(argvs))

    assert recorded(hostile.project) == NAMES
    for name in NAMES:
        assert (hostile.project / ".claude" / "skills" / name / "notes.md").read_text() == f"{name}\n"
    assert sorted(os.listdir(hostile.project)) == [".agents", ".claude", ".git", "skills.lock"]  # no lock file left here
    for folder in (".agents", ".claude"):
        assert sorted(os.listdir(hostile.project / folder / "skills")) == NAMES  # no leftover folder or link


def test_writers_reaching_the_project_through_a_link_share_its_lock(hostile, eight_packages: Path) -> None:
    """Half the processes work in the project through a linked path, and every one has its own cache."""
    link = hostile.root / "project-link"
    link.symlink_to(hostile.project)
    argvs = [["install", name, "--registry", str(eight_packages)] for name in NAMES[:4]]
    argvs += [["install", name, "--registry", str(eight_packages), "--dir", "vendor"] for name in NAMES[4:]]

    run_together(hostile, argvs, [hostile.project, link] * 4)

    assert recorded(hostile.project) == NAMES


def test_concurrent_removes_and_installs_with_their_own_caches(hostile, eight_packages: Path) -> None:
    """Four skills removed while four others are installed, all with their own caches."""
    hostile.ok(hostile.run("install", *NAMES[:4], "--registry", eight_packages))
    argvs = [["remove", name] for name in NAMES[:4]]
    argvs += [["install", name, "--registry", str(eight_packages)] for name in NAMES[4:]]

    run_together(hostile, argvs, [hostile.project] * len(argvs))

    assert recorded(hostile.project) == NAMES[4:]
    for folder in (".agents", ".claude"):
        assert sorted(os.listdir(hostile.project / folder / "skills")) == NAMES[4:]


def test_concurrent_registry_adds_with_their_own_caches_are_all_published(hostile, registry: Path) -> None:
    """Four 'registry add' processes into one registry: the registry's own folder is locked, not a cache file."""
    from skillpm.pack import pack

    archives = []
    for name in NAMES[:4]:
        source = build_source(hostile.work, name, {"generic": {"notes.md": f"{name}\n"}})
        archives += [str(built.path) for built in pack(source, hostile.work / "dist" / name)]
    argvs = [["registry", "add", str(registry), archive] for archive in archives]

    run_together(hostile, argvs, [hostile.work] * len(argvs))

    search = json.loads((registry / "search.json").read_text())
    assert set(NAMES[:4]) <= {package["name"] for package in search["packages"]}


def test_concurrent_inits_of_one_folder_make_one_skeleton(hostile) -> None:
    """Eight 'skillpm init' of one folder at once each checked that it held no skillpm.toml, then wrote, so
    several said 'created' and the folder could hold one's SKILL.md beside another's skillpm.toml (found in a
    hostile review): the folder is locked while it is checked and written."""
    folder = hostile.work / "new-skill"
    argvs = [["init", str(folder), "--name", "new-skill", "--description", f"Version {n}. Use when testing."]
             for n in range(8)]
    results = run_together(hostile, argvs, [hostile.work] * 8, all_succeed=False)
    made = [result for result in results if result.returncode == 0]
    assert len(made) == 1, [result.stderr for result in results]
    for result in results:
        if result.returncode != 0:
            hostile.refused(result, "already exists")
    description = (folder / "skillpm.toml").read_text().split('description = "')[1].split('"')[0]
    assert description in (folder / "SKILL.md").read_text()


# --- runs with different lockfiles that write one skills folder ------------------------------------

WAITING = "waiting for another skillpm run"


@pytest.fixture
def big_and_small(registry: Path, tmp_path: Path) -> Path:
    """The test registry plus ``big`` (1,500 files: a tree that takes a while to build) and ``small``."""
    notes = {f"references/note{index}.md": f"note {index}\n" for index in range(1500)}
    for name, files in (("big", notes), ("small", {"notes.md": "small\n"})):
        source = build_source(tmp_path / "sources-shared", name, {"generic": files})
        publish_source(registry, source, tmp_path / "dist-shared" / name)
    return registry


def start(hostile, argv: list[str], cwd: Path, stderr: Path, **popen) -> subprocess.Popen[bytes]:
    with stderr.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "skillpm", *argv], cwd=cwd, env=hostile.env(), stdout=subprocess.DEVNULL,
            stderr=sink, **popen,
        )


def stop_while_staging(process: subprocess.Popen[bytes], folder: Path, files: int = 200) -> None:
    """SIGSTOP ``process`` (as Ctrl-Z does) once the tree it builds in ``folder`` holds ``files`` notes; the test
    fails if it never does."""
    deadline = time.monotonic() + 60
    while built(folder) < files:
        assert process.poll() is None and time.monotonic() < deadline, "it never built a tree"
        time.sleep(0.0005)
    os.kill(process.pid, signal.SIGSTOP)


def built(folder: Path) -> int:
    """How many notes the staging trees in ``folder`` hold."""
    try:
        return sum(len(os.listdir(path)) for path in folder.glob(".*.skillpm-new/tree/references"))
    except FileNotFoundError:
        return 0


def wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def sharing(hostile, scenario: str) -> tuple[tuple[list[str], Path], tuple[list[str], Path], Path]:
    """Two installs with different lockfiles into one skills folder: each one's command and folder, and that folder."""
    if scenario == "home-project-and-global":  # no .git above the home folder: it is the project
        first, second = (["install", "big"], hostile.home), (["install", "--global", "small"], hostile.work)
        return first, second, hostile.home / ".agents" / "skills"
    shared = hostile.root / "shared"
    projects = [hostile.root / "one", hostile.root / "two"]
    for project in projects:
        (project / ".git").mkdir(parents=True)
    first, second = (["install", name, "--dir", str(shared), "--save"] for name in ("big", "small"))
    return (first, projects[0]), (second, projects[1]), shared


@pytest.mark.parametrize("scenario", ["home-project-and-global", "two-projects-one-dir"])
def test_runs_with_their_own_lockfiles_wait_for_each_other_in_a_shared_skills_folder(
    hostile, big_and_small: Path, scenario: str
) -> None:
    """The second run's clean-up used to remove the tree the first was building, which then went in
    with files missing, recorded, with 'installed' and exit 0: it now waits for the first."""
    (first, first_cwd), (second, second_cwd), folder = sharing(hostile, scenario)
    source = ["--registry", str(big_and_small)]
    one = start(hostile, [*first, *source], first_cwd, hostile.work / "one.err")
    try:
        stop_while_staging(one, folder)
        two = start(hostile, [*second, *source], second_cwd, hostile.work / "two.err")
        wait_for(lambda: two.poll() is not None or WAITING in (hostile.work / "two.err").read_text())
        print("DEBUG", two.poll(), os.listdir(folder), (hostile.work / "two.err").read_text())
    finally:
        os.kill(one.pid, signal.SIGCONT)
    assert one.wait(timeout=60) == 0, (hostile.work / "one.err").read_text()
    assert two.wait(timeout=60) == 0, (hostile.work / "two.err").read_text()

    assert len(list((folder / "big" / "references").iterdir())) == 1500
    assert (folder / "small" / "notes.md").read_text() == "small\n"
    assert sorted(name for name in os.listdir(folder) if name.startswith(".")) == []


def test_a_run_that_waits_says_for_whom_and_ctrl_c_ends_the_wait(hostile, big_and_small: Path) -> None:
    """Another run stopped with Ctrl-Z holds the project: 'remove' used to wait forever without a word."""
    source = ["--registry", str(big_and_small)]
    hostile.ok(hostile.run("install", "small", *source))
    one = start(hostile, ["install", "big", *source], hostile.project, hostile.work / "one.err")
    try:
        stop_while_staging(one, hostile.project / ".agents" / "skills")
        waiting = start(
            hostile, ["remove", "small"], hostile.project, hostile.work / "two.err",
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
        )
        wait_for(lambda: WAITING in (hostile.work / "two.err").read_text())
        waiting.send_signal(signal.SIGINT)
        assert waiting.wait(timeout=30) == 130
    finally:
        os.kill(one.pid, signal.SIGCONT)
    assert one.wait(timeout=60) == 0

    lines = [line for line in (hostile.work / "two.err").read_text().splitlines() if line]  # click ends '^C' with one
    assert lines == [f"{WAITING} (pid {one.pid}) on {hostile.project}...", lines[1]], lines
    assert lines[1].startswith("error: interrupted")
    assert "small" in recorded(hostile.project)  # nothing was removed


def test_a_tree_something_else_took_files_from_while_it_was_built_is_never_swapped_in(
    hostile, big_and_small: Path
) -> None:
    """Defence in depth, for a writer that takes no lock (another program): the staged tree must be the archive's."""
    folder = hostile.project / ".agents" / "skills"
    one = start(hostile, ["install", "big", "--registry", str(big_and_small)], hostile.project, hostile.work / "one.err")
    try:
        stop_while_staging(one, folder)
        [notes] = folder.glob(".big.*.skillpm-new/tree/references")
        # the note changed first, so one written whole: a tmpfs lists the newest first, the one being written
        min(notes.iterdir(), key=lambda note: note.stat().st_ctime_ns).unlink()
    finally:
        os.kill(one.pid, signal.SIGCONT)
    assert one.wait(timeout=60) == 1
    errors = [line for line in (hostile.work / "one.err").read_text().splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "went missing or changed" in errors[0] and str(folder / "big") in errors[0], errors
    assert os.listdir(hostile.project) == [".git"]  # no lockfile, and the skills folders its locks made are gone

def test_concurrent_registry_inits_of_one_folder_make_one_registry_and_refuse_the_others(hostile) -> None:
    """Four 'registry init' of one new folder at once, each with its own name and index key: they all said
    'created', and the folder could hold config.json, snapshot.json, its signature and keys/index.pub of
    different runs, which every client refused. One wins; the others are refused, and clients read it."""
    from skillpm.attest.keys import keygen

    keys = [keygen(hostile.work / "keys" / f"k{index}") for index in range(4)]
    for round in range(8):
        root = hostile.work / f"registry-{round}"
        argvs = [["registry", "init", str(root), "--name", f"run-{index}", "--key", str(key.private_path)]
                 for index, key in enumerate(keys)]

        results = run_together(hostile, argvs, [hostile.work] * len(argvs), all_succeed=False)

        [winner] = [index for index, result in enumerate(results) if result.returncode == 0]
        for index, result in enumerate(results):
            if index != winner:
                hostile.refused(result, f"{root} already holds a registry")
        config = json.loads((root / "config.json").read_text())
        assert (config["name"], config["index-keys"]) == (f"run-{winner}", [keys[winner].fingerprint])
        assert (root / "keys" / "index.pub").read_bytes() == keys[winner].public_path.read_bytes()
        hostile.ok(hostile.run("search", "anything", "--registry", root,
                               env={"SKILLPM_CACHE_DIR": str(hostile.root / f"client-{round}")}))
