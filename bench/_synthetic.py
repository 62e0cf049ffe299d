"""Generated package documents for the benchmarks that need a large index (resolve, pages)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from skillpm.index.model import PackageDocument, Variant, VersionEntry  # noqa: E402

TARGETS = ("generic", "sm_80", "sm_90", "sm_100f")


def documents(packages: int, versions: int) -> list[PackageDocument]:
    """``packages`` generated package documents (``pkg-00000``...) of ``versions`` versions x 4 variants each."""
    found = []
    for number in range(packages):
        name = f"pkg-{number:05d}"
        entries = tuple(
            VersionEntry(
                f"1.{minor}.0",
                f"Generated package {number}: helps with task {number % 97} on NVIDIA GPUs. Use when asked to.",
                tuple(
                    Variant(target, f"{number * 97 + minor:064x}", 10_000 + number, f"artifacts/{name}/1.{minor}.0/{name}-1.{minor}.0-{target}.tar.gz")
                    for target in TARGETS
                ),
                "Apache-2.0",
                ("cuda", f"topic-{number % 50}"),
            )
            for minor in range(versions)
        )
        found.append(PackageDocument(name, entries))
    return found
