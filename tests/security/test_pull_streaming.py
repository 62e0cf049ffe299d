"""``registry pull`` streams what it pulls into files in the registry's folder: its memory is that of one
item, whatever the number pulled, and a pull killed half-way leaves nothing the next write keeps.

A hostile (or just large) OCI registry lists many versions, each an archive as large as skillpm
accepts. ``pull`` once held every archive and bundle in memory before its one journalled write, so
its memory grew with everything pulled. Each item is now streamed into a file of the registry's
incoming folder (its digest checked as it arrives) and the journal renames the files in.

Pulling well over the 1 GiB limit tests/security runs commands under would take a minute of
packing and downloading, so the case pulls a few hundred MiB and measures instead: the peak
resident memory of the ``pull`` process (``os.wait4``'s rusage of that one child) must stay within
a small margin of that of a pull of one version, far below the total pulled. The command still
runs under the suite's address-space limit and time bound.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from skillpm.archive import build_archive
from skillpm.index.model import VersionEntry
from skillpm.registry.directory import LocalRegistry

from oci.hostile_registry import HostileRegistry
from security.conftest import TIMEOUT, limit_memory

NAME = "big-skill"
MIB = 1024 * 1024
VERSIONS = 12
FILES = 2  # random files of FILE_SIZE in each archive: incompressible, so each archive is about 24 MiB
FILE_SIZE = 12 * MIB
PULLED = VERSIONS * FILES * FILE_SIZE
#: How much more a pull of every version may hold at its peak than a pull of the first one.
MARGIN = PULLED // 4


def _archive(work: Path, version: str, size: int = FILE_SIZE) -> tuple[VersionEntry, dict[str, bytes]]:
    """One version of NAME, its archive holding FILES random files of ``size``: its index entry and files by path."""
    from skillpm.archive import sha256_bytes
    from skillpm.registry.store.entries import variant_of, version_entry

    folder = work / version
    folder.mkdir(parents=True)
    files = {}
    for number in range(FILES):
        (folder / f"blob-{number}.bin").write_bytes(os.urandom(size))
        files[f"references/blob-{number}.bin"] = folder / f"blob-{number}.bin"
    files["SKILL.md"] = folder / "SKILL.md"
    files["SKILL.md"].write_text(f"---\nname: {NAME}\ndescription: Large. Use when testing.\n---\nBig.\n")
    fields = {"name": NAME, "version": version, "target": "generic", "description": "Large. Use when testing.",
              "license": None, "authors": (), "keywords": (), "agents": ()}
    data, metadata = build_archive(fields, files)
    variant = variant_of(metadata, sha256_bytes(data), len(data), None)
    return version_entry(metadata, (variant,)), {variant.path: data}


#: Runs ``skillpm ARGV[2:]`` under the suite's address-space limit, and writes its peak RSS in KiB to ARGV[1].
#: The command is forked from this small process: a child forked from pytest (which holds the served
#: archives) counts pytest's pages as its own until it execs, and keeps that peak in its rusage.
_MEASURE = """
import resource, subprocess, sys
from pathlib import Path
from security.conftest import limit_memory
code = subprocess.call([sys.executable, "-m", "skillpm", *sys.argv[2:]], preexec_fn=limit_memory)
Path(sys.argv[1]).write_text(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def _peak_rss(hostile, *args: str | os.PathLike[str]) -> int:
    """The peak resident memory, in bytes, of ``skillpm ARGS`` run under the suite's limits; it must succeed."""
    report = hostile.work / "peak-rss"
    tests = Path(__file__).parents[1]
    env = hostile.env(PYTHONPATH=os.pathsep.join([str(tests), os.environ.get("PYTHONPATH", "")]))
    completed = subprocess.run([sys.executable, "-c", _MEASURE, report, *args], env=env, capture_output=True,
                               text=True, timeout=TIMEOUT * 4)
    hostile.ok(completed)
    return int(report.read_text()) * 1024


def test_pull_memory_stays_that_of_one_item_whatever_the_number_pulled(hostile) -> None:
    versions = [f"1.0.{number}" for number in range(VERSIONS)]
    with ThreadPoolExecutor(2) as pool:  # zlib compresses outside the GIL
        built = list(pool.map(lambda version: _archive(hostile.work / "sources", version), versions))
    with HostileRegistry() as registry:
        for entry, files in built:
            registry.put_version(NAME, entry, files)
        tags = registry.tags[f"{registry.namespace}/{NAME}"]
        registry.tags[f"{registry.namespace}/{NAME}"] = tags[:1]  # the first version only
        one = _peak_rss(hostile, "registry", "pull", registry.url, hostile.work / "one", NAME)
        registry.tags[f"{registry.namespace}/{NAME}"] = tags
        every = _peak_rss(hostile, "registry", "pull", registry.url, hostile.work / "mirror", NAME)
    document = LocalRegistry(hostile.work / "mirror", (hostile.work / "mirror").as_uri()).require_package(NAME)
    assert [entry.version for entry in document.versions] == versions
    assert sum(variant.size for entry in document.versions for variant in entry.variants) > PULLED
    print(f"peak RSS: one version {one / MIB:.0f} MiB, all {VERSIONS} ({PULLED // MIB} MiB) {every / MIB:.0f} MiB")
    assert every < one + MARGIN, (one // MIB, every // MIB)


#: Runs ``skillpm ARGV[2:]`` in this process, and writes at its exit the bytes the process read (``rchar`` of
#: /proc/self/io: every read(2) of a file or pipe, none from a socket) to ARGV[1].
_READS = """
import atexit, runpy, sys
from pathlib import Path
def rchar():
    lines = Path("/proc/self/io").read_text().splitlines()
    return next(int(line.split()[1]) for line in lines if line.startswith("rchar:"))
report = sys.argv[1]
atexit.register(lambda: Path(report).write_text(str(rchar())))
sys.argv = ["skillpm", *sys.argv[2:]]
runpy.run_module("skillpm", run_name="__main__", alter_sys=True)
"""


def _bytes_read(hostile, *args: str | os.PathLike[str]) -> int:
    """The bytes ``skillpm ARGS`` read from files (and pipes) in all, run under the suite's limits; it must succeed."""
    report = hostile.work / "bytes-read"
    completed = subprocess.run([sys.executable, "-c", _READS, report, *args], cwd=hostile.project,
                               env=hostile.env(), capture_output=True, text=True, timeout=TIMEOUT * 2,
                               preexec_fn=limit_memory)
    hostile.ok(completed)
    return int(report.read_text())


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="counts the bytes read in /proc/self/io (Linux)")
def test_pull_reads_each_archive_from_disk_once(hostile) -> None:
    """Received, an archive is read back once: its scan, digest and every check of ``pull`` and ``add`` from one pass.

    A pull of a small archive and one of a large one run alike but for the archive's bytes, so the difference
    in what they read is the large archive's reads: 2.0 times its size before (pull scanned it, then add
    scanned and hashed it again), once now.
    """
    small, small_files = _archive(hostile.work / "sources", "1.0.0", size=1024)
    large, large_files = _archive(hostile.work / "sources", "1.0.1", size=8 * MIB)
    with HostileRegistry() as registry:
        registry.put_version(NAME, small, small_files)
        registry.put_version(NAME, large, large_files)
        repository = f"{registry.namespace}/{NAME}"
        first, second = registry.tags[repository]
        registry.tags[repository] = [first]
        baseline = _bytes_read(hostile, "registry", "pull", registry.url, hostile.work / "small", NAME)
        registry.tags[repository] = [second]
        read = _bytes_read(hostile, "registry", "pull", registry.url, hostile.work / "large", NAME)
    grown = large.variants[0].size - small.variants[0].size
    times = (read - baseline) / grown
    print(f"the large archive ({grown // MIB} MiB more) was read {times:.2f} times")
    assert times < 1.25, times
    assert (hostile.work / "large" / large.variants[0].path).stat().st_size == large.variants[0].size


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="counts the bytes read in /proc/self/io (Linux)")
def test_add_reads_each_archive_it_is_given_once(hostile) -> None:
    """``registry add`` copies an archive into the registry's folder as it scans and hashes it: the difference
    in what an add of a large archive and one of a small archive read is the large archive's size once (2.0
    times before: it copied the archive, then scanned and hashed the copy)."""
    sizes = {}
    for version, size in (("1.0.0", 1024), ("1.0.1", 8 * MIB)):
        entry, files = _archive(hostile.work / "sources", version, size=size)
        (data,) = files.values()
        (hostile.work / f"{version}.tar.gz").write_bytes(data)
        sizes[version] = entry.variants[0].size
        hostile.ok(hostile.run("registry", "init", hostile.work / version))
    baseline = _bytes_read(hostile, "registry", "add", hostile.work / "1.0.0", hostile.work / "1.0.0.tar.gz")
    read = _bytes_read(hostile, "registry", "add", hostile.work / "1.0.1", hostile.work / "1.0.1.tar.gz")
    times = (read - baseline) / (sizes["1.0.1"] - sizes["1.0.0"])
    print(f"the large archive was read {times:.2f} times")
    assert times < 1.25, times
    document = LocalRegistry(hostile.work / "1.0.1", (hostile.work / "1.0.1").as_uri()).require_package(NAME)
    published = hostile.work / "1.0.1" / document.versions[0].variants[0].path
    assert published.read_bytes() == (hostile.work / "1.0.1.tar.gz").read_bytes()


def _received(mirror: Path) -> list[Path]:
    """The files pulls are receiving (or killed pulls left) in ``mirror``'s incoming folder."""
    return sorted((mirror / ".skillpm-incoming").glob("*/*"))


def _pull_stalled(hostile, registry: HostileRegistry, mirror: Path) -> subprocess.Popen[bytes]:
    """A ``registry pull`` of NAME into ``mirror``, once it is receiving the stalled archive (half of it in a file)."""
    process = subprocess.Popen([sys.executable, "-m", "skillpm", "registry", "pull", registry.url, mirror, NAME],
                               env=hostile.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               preexec_fn=limit_memory)
    for _ in range(TIMEOUT * 20):  # bounded: a pull that never writes its file fails the case
        if process.poll() is not None:
            raise AssertionError(process.communicate())
        if any(path.stat().st_size >= MIB for path in _received(mirror)):
            return process
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"no file of the pull appeared in {mirror} in {TIMEOUT} s")


def test_a_pull_killed_half_way_leaves_the_mirror_readable_and_the_next_write_removes_its_files(hostile) -> None:
    """A live pull's files stay while another write runs; a killed pull's are removed by the next write."""
    mirror = hostile.work / "mirror"
    first, files = _archive(hostile.work / "sources", "1.0.0", size=16 * 1024)
    second, more = _archive(hostile.work / "sources", "1.0.1", size=2 * MIB)
    with HostileRegistry() as registry:
        try:
            registry.put_version(NAME, first, files)
            hostile.ok(hostile.run("registry", "pull", registry.url, mirror, NAME))
            registry.put_version(NAME, second, more)
            registry.stalled[f"sha256:{second.variants[0].sha256}"] = 3 * MIB // 2

            live = _pull_stalled(hostile, registry, mirror)
            hostile.ok(hostile.run("registry", "build", mirror))  # another write, while the pull receives
            assert _received(mirror), "a write removed the files of a pull that is still running"
            registry.released.set()
            out, err = live.communicate(timeout=TIMEOUT)
            assert live.returncode == 0, err.decode()[-3000:]
            assert _received(mirror) == [] and not (mirror / ".skillpm-incoming").exists()

            registry.released.clear()
            killed = _pull_stalled(hostile, registry, mirror)  # every version again: 1.0.1's archive stalls
            killed.kill()
            killed.communicate(timeout=TIMEOUT)
            assert _received(mirror), "the killed pull's files are left until the next write"
            listed = hostile.ok(hostile.run("info", NAME, "--registry", mirror))
            assert "1.0.1" in listed.stdout, listed.stdout
            hostile.ok(hostile.run("registry", "build", mirror))
            assert not (mirror / ".skillpm-incoming").exists()
        finally:
            registry.released.set()


def test_an_incoming_folder_that_is_a_link_is_neither_entered_nor_written_through(hostile) -> None:
    """A cloned registry's ``.skillpm-incoming -> ~/folder``, holding what looks like a killed writer's folder."""
    mirror = hostile.work / "mirror"
    hostile.ok(hostile.run("registry", "init", mirror))
    victim = hostile.work / "victim"
    (victim / "0123456789abcdef").mkdir(parents=True)
    (victim / "0123456789abcdef" / "0").write_text("mine")
    (mirror / ".skillpm-incoming").symlink_to(victim, target_is_directory=True)
    _entry, files = _archive(hostile.work / "sources", "1.0.0", size=1024)
    (archive,) = files.values()
    (hostile.work / "big-skill.tar.gz").write_bytes(archive)
    before = hostile.state()
    hostile.refused(hostile.run("registry", "add", mirror, hostile.work / "big-skill.tar.gz"), "is a link")
    hostile.ok(hostile.run("registry", "build", mirror))  # its recovery does not enter the link either
    assert hostile.changed_outside(before, mirror) == []  # the victim folder above all
    assert (victim / "0123456789abcdef" / "0").read_text() == "mine"
    assert LocalRegistry(mirror, mirror.as_uri()).search_entries() == ()
