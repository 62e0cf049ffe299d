"""An index whose few kilobytes make a command do work without bound (hostile review r4, F1, F1b, F6).

Each case writes a package document by hand into a directory registry (or serves it over HTTP from
:class:`tests.security.test_http.RawServer`, whose request log counts what was read) and runs the
real command line: the document is refused in one line, or each archive is read once, whatever
the document repeats.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from skillpm.index.model import shard_path
from tests.conftest import build_source
from tests.security.conftest import Hostile
from tests.security.test_http import RawServer

NAME = "demo"
EVAL = "https://skillpm.dev/attestations/eval/v1"
#: The limits docs/index-format.md states (skillpm.index.limits).
MAX_ATTESTATIONS, MAX_VARIANTS = 64, 10_000


def registry_of(hostile: Hostile) -> Path:
    """A directory registry holding 'demo' 1.0.0 (generic), made through the CLI."""
    source = build_source(hostile.work, NAME)
    registry, dist = hostile.work / "registry", hostile.work / "dist"
    hostile.ok(hostile.run("registry", "init", registry))
    hostile.ok(hostile.run("pack", source, "-o", dist))
    hostile.ok(hostile.run("registry", "add", registry, *sorted(dist.iterdir())))
    return registry


def rewrite(registry: Path, change) -> None:  # type: ignore[no-untyped-def]
    """Apply ``change`` to demo's package document."""
    path = registry / "index" / shard_path(NAME)
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def bundle(registry: Path, number: int) -> dict[str, str]:
    """A (never verifying) bundle file in the registry, and its index entry."""
    data = json.dumps({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "n": number}).encode()
    relative = f"attestations/b{number}.sigstore.json"
    (registry / relative).parent.mkdir(parents=True, exist_ok=True)
    (registry / relative).write_bytes(data)
    return {"path": relative, "sha256": hashlib.sha256(data).hexdigest(), "predicate-type": EVAL}


def with_targets(document: dict, targets: list[str]) -> None:
    """Give demo 1.0.0 one variant per target, each a copy of its generic variant (so one archive for all)."""
    (generic,) = document["versions"][0]["variants"]
    document["versions"][0]["variants"] = [{**generic, "target": target} for target in targets]


def targets(count: int) -> list[str]:
    return ["generic", *(f"sm_{major}{minor}" for major in range(1, 100) for minor in range(10))][:count]


@pytest.mark.parametrize("shape", ["one-variant-twice", "two-variants", "too-many"])
def test_a_document_repeating_a_bundle_or_listing_too_many_is_refused(hostile: Hostile, shape: str) -> None:
    """F1: one 4 MB bundle listed 300 times on a variant was fetched, hashed and parsed 300 times by
    info, verify and install (18-24 s; 16 MiB of JSON lists 98,000). A bundle vouches for one variant,
    so one listed twice anywhere in a document, or more than 64 on a variant, is refused before any is read."""
    registry = registry_of(hostile)

    def change(document: dict) -> None:
        if shape == "one-variant-twice":
            document["versions"][0]["variants"][0]["attestations"] = [bundle(registry, 0)] * 2
        elif shape == "two-variants":
            with_targets(document, ["generic", "sm_80"])
            for variant in document["versions"][0]["variants"]:
                variant["attestations"] = [bundle(registry, 0)]
        else:
            listed = [bundle(registry, number) for number in range(MAX_ATTESTATIONS + 1)]
            document["versions"][0]["variants"][0]["attestations"] = listed

    rewrite(registry, change)
    said = "listed twice" if shape != "too-many" else f"more than the {MAX_ATTESTATIONS} attestations"
    for command in (["info", NAME], ["verify", NAME], ["install", NAME, "--agent", "claude-code"]):
        hostile.refused(hostile.run(*command, "--registry", registry), said)


def test_a_package_document_listing_too_many_variants_is_refused(hostile: Hostile) -> None:
    """F6: 140,000 variants in a 16 MB document made 'info --json' peak at 817 MB; a package lists at
    most 10,000 variants, over all its versions."""
    registry = registry_of(hostile)

    def change(document: dict) -> None:
        first = document["versions"][0]
        per_version = len(targets(1000))
        versions = -(-(MAX_VARIANTS + 1) // per_version)
        document["versions"] = [{**first, "version": f"1.0.{number}",
                                 "variants": [{**first["variants"][0], "target": target} for target in targets(1000)]}
                                for number in range(versions)]

    rewrite(registry, change)
    hostile.refused(hostile.run("info", NAME, "--json", "--registry", registry),
                    f"more than the {MAX_VARIANTS} a package may list")


def test_an_archive_many_variants_name_is_read_once(hostile: Hostile) -> None:
    """F1b: 100 variants with eval evidence naming one 80 MB archive made 'info' read it 100 times (8 GB);
    'verify' over HTTP downloaded it once per variant. Variants naming one archive are verified together,
    and it is read once (counted here in the server's request log)."""
    registry = registry_of(hostile)
    rewrite(registry, lambda document: with_targets(document, targets(20)))
    rewrite(registry, lambda document: [variant.update(attestations=[bundle(registry, number)])
                                        for number, variant in enumerate(document["versions"][0]["variants"])])
    server = RawServer(registry, {})
    try:
        completed = hostile.run("verify", f"{NAME}==1.0.0", "--json", "--registry", server.url)
        assert completed.returncode == 1, completed.stderr  # the bundles verify nothing
        assert len(json.loads(completed.stdout)["variants"]) == 20
        assert server.hits(".tar.gz") == 1
    finally:
        server.stop()
