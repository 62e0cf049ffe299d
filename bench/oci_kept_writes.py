"""Keep 10,000 OCI version indexes for --offline, as an online walk of a package of 10,000 versions does.

Each index a command reads from an OCI registry is kept under ``<cache>/oci/`` (skillpm.registry.oci.kept).
Targets: no write is synced to disk (a cache only saves requests), the folder is listed for killed
writes' leftovers once, and the last tenth of the writes (into a folder of 9,000 indexes and more)
take at most twice as long as the first (no per-write scan of the folder). Times vary with the disk
and the machine's load; the counts do not.
Usage: python bench/oci_kept_writes.py [--indexes N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from _common import report

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from skillpm.registry.oci.kept import KeptReads  # noqa: E402

#: About the size of a version index of two variants with attestations.
INDEX = b'{"schemaVersion": 2, "manifests": []}' + b" " * 2000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indexes", type=int, default=10_000)
    args = parser.parse_args()
    synced, listed = [], []
    real_fsync, real_listdir = os.fsync, os.listdir

    def fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    def listdir(path: str | os.PathLike[str] = ".") -> list[str]:
        listed.append(Path(path))
        return real_listdir(path)

    os.fsync, os.listdir = fsync, listdir
    with tempfile.TemporaryDirectory() as tmp:
        kept = KeptReads(Path(tmp) / "oci" / "registry")
        os.environ["SKILLPM_CACHE_DIR"] = tmp
        laps, tenth = [], max(args.indexes // 10, 1)
        start = lap = time.perf_counter()
        cpu = time.process_time()
        for number in range(args.indexes):
            kept.keep_index("skills/demo", f"1.0.{number}", INDEX)
            if (number + 1) % tenth == 0:
                laps.append(time.perf_counter() - lap)
                lap = time.perf_counter()
        total, cpu = time.perf_counter() - start, time.process_time() - cpu
        folder = kept.root / "skills+demo" / "indexes"
        listings = sum(1 for path in listed if path == folder)
    first, last = laps[0] / tenth * 1000, laps[-1] / tenth * 1000
    print(f"kept {args.indexes} indexes in {total:.1f} s ({cpu:.1f} s CPU); a write of the first tenth "
          f"{first:.2f} ms, of the last {last:.2f} ms")
    ok = report("fsyncs while keeping the indexes", len(synced), "0", not synced)
    ok &= report("listings of the indexes folder", listings, "1", listings == 1)
    ok &= report("a write of the last tenth / a write of the first", last / first, "< 2", last < 2 * first)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
