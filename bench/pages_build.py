"""Build the web pages of a generated registry of 10,000 packages x 5 versions x 4 variants.

Targets (issue 19): the pages build in under a minute, and no package page reaches 100 KB.
The baseline, measured in the same run, is writing the index itself: every package document
and search.json, each written atomically as ``registry add`` writes them; the ratio of the two
says how much the pages add to a publish of the whole registry.
Usage: python bench/pages_build.py [--packages N] [--versions N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from _common import report
from _synthetic import TARGETS, documents

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from skillpm.atomic import atomic_write  # noqa: E402
from skillpm.index.model import PackageDocument, RegistryConfig, SearchEntry, search_document, shard_path  # noqa: E402
from skillpm.pages.writer import write_pages  # noqa: E402

def write_index(root: Path, found: list[PackageDocument]) -> None:
    """The baseline: write config.json, every package document and search.json, as ``registry add`` does."""
    atomic_write(root / "config.json", json.dumps(RegistryConfig("bench").to_json()).encode())
    entries = []
    for document in found:
        atomic_write(root / "index" / shard_path(document.name), (json.dumps(document.to_json(), indent=2) + "\n").encode())
        latest = document.versions[-1]
        entries.append(SearchEntry(document.name, latest.version, latest.description, latest.keywords, TARGETS))
    atomic_write(root / "search.json", (json.dumps(search_document(entries), indent=2) + "\n").encode())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=5)
    args = parser.parse_args()
    found = documents(args.packages, args.versions)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "registry"
        start = time.perf_counter()
        write_index(root, found)
        index = time.perf_counter() - start
        start = time.perf_counter()
        written = write_pages(root)
        pages = time.perf_counter() - start
        sizes = [path.stat().st_size for path in (root / "pages").glob("*.html")]
        home = (root / "index.html").stat().st_size
    print(f"registry: {args.packages} packages x {args.versions} versions x {len(TARGETS)} variants")
    print(f"writing the index: {index:.1f} s; writing the pages: {pages:.1f} s ({len(written)} files); "
          f"ratio {pages / index:.2f}")
    print(f"package pages: largest {max(sizes) / 1000:.1f} kB, mean {sum(sizes) / len(sizes) / 1000:.1f} kB; "
          f"home page {home / 1000:.0f} kB")
    ok = report("pages build time (s)", pages, "< 60", pages < 60)
    ok &= report("largest package page (kB)", max(sizes) / 1000, "< 100", max(sizes) < 100_000)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
