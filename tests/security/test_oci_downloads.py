"""Downloads a registry's index sizes: never more than an archive or a bundle can be, whatever it claims.

An OCI registry (or a static one over HTTP) says a variant's archive is 8 GiB, or lists a dozen
"attestations" of 240 MiB each, and serves that many bytes. ``registry pull``, ``verify``,
``attest`` and ``registry push`` refuse an archive over the archive limit before reading a byte
of it (as ``install`` does), and read a bundle only up to the bundle limit; each command runs
under tests/security's 1 GiB address-space limit, where reading what was claimed is a MemoryError.
"""

from __future__ import annotations

from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import pytest

from skillpm.index.model import Attestation, VersionEntry, archive_name, shard_path
from skillpm.registry.directory import LocalRegistry

from conftest import build_source, publish_source
from oci.hostile_registry import HostileRegistry
from tests.security.conftest import serving
from test_publish import make_evidence, write_json, write_key

NAME = "layer-norm"
GIB = 1024 * 1024 * 1024
HUGE = 8 * GIB
FAKE = "ee" * 32  # the digest of an archive no one can hold
ARCHIVE_LIMIT = "over the 84934656-byte limit of an archive"


def _published(work: Path) -> tuple[Path, VersionEntry, dict[str, bytes]]:
    """A static registry with layer-norm 1.0.0 (generic): its root, version entry and files by path."""
    from skillpm.registry import store

    root = work / "static"
    store.init(root)
    publish_source(root, build_source(work, NAME), work / "dist")
    entry = LocalRegistry(root, root.as_uri()).require_package(NAME).versions[0]
    return root, entry, {variant.path: (root / variant.path).read_bytes() for variant in entry.variants}


def _claiming_gigabytes(entry: VersionEntry) -> VersionEntry:
    return entry._replace(variants=(entry.variants[0]._replace(size=HUGE, sha256=FAKE),))


def test_an_oci_archive_an_index_says_is_gigabytes_is_refused_before_it_is_read(hostile) -> None:
    _root, entry, files = _published(hostile.work)
    evidence = write_json(hostile.work / "eval.json", make_evidence("eval", target="generic", sha256=FAKE))
    key = write_key(hostile.work / "keys" / "me")
    with HostileRegistry() as registry:
        registry.put_version(NAME, _claiming_gigabytes(entry), files)
        registry.endless[f"sha256:{FAKE}"] = HUGE
        for args in (
            ("registry", "pull", registry.url, hostile.work / "mirror", NAME),
            ("verify", NAME, "--registry", registry.url),
            ("attest", f"{NAME}==1.0.0", "--target", "generic", "--evidence", evidence, "--sign", f"key:{key}",
             "--registry", registry.url),
        ):
            hostile.refused(hostile.run(*args), ARCHIVE_LIMIT)
        assert registry.sent == 0
    assert not (hostile.work / "mirror").exists()


class _Static(SimpleHTTPRequestHandler):
    """A static registry's folder over HTTP, except that every archive is 8 GiB of zeros."""

    def do_GET(self) -> None:
        if not self.path.startswith("/artifacts/"):
            return super().do_GET()
        self.send_response(200)
        self.send_header("Content-Length", str(HUGE))
        self.end_headers()
        try:
            for _ in range(HUGE >> 20):
                self.wfile.write(b"\0" * (1 << 20))
        except OSError:
            return

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def static_claiming_gigabytes(hostile) -> Iterator[str]:
    """The URL of a static registry over HTTP whose index says layer-norm's archive is 8 GiB."""
    import json

    root, _entry, _files = _published(hostile.work)
    document = root / "index" / shard_path(NAME)
    data = json.loads(document.read_text())
    data["versions"][0]["variants"][0].update(size=HUGE, sha256=FAKE)
    document.write_text(json.dumps(data))
    with serving(root, _Static) as url:
        yield f"{url}/"


def test_a_static_archive_an_index_says_is_gigabytes_is_refused_before_it_is_read(
    hostile, static_claiming_gigabytes: str
) -> None:
    hostile.refused(hostile.run("verify", NAME, "--registry", static_claiming_gigabytes), ARCHIVE_LIMIT)
    with HostileRegistry() as registry:
        pushed = hostile.run("registry", "push", static_claiming_gigabytes, registry.url, NAME)
    hostile.refused(pushed, ARCHIVE_LIMIT)


def _zeros_digest(size: int) -> str:
    import hashlib

    digest = hashlib.sha256()
    for _ in range(size >> 20):
        digest.update(b"\0" * (1 << 20))
    return digest.hexdigest()


def test_pull_reads_no_bundle_past_the_bundle_limit(hostile) -> None:
    """An 'attestation' naming a 240 MiB blob was read whole, and kept, before (a dozen naming one blob, as
    the review had it, are now refused before any is read: no document lists a bundle twice)."""
    _root, entry, files = _published(hostile.work)
    prefix = f"attestations/{NAME}/1.0.0/{archive_name(NAME, '1.0.0', 'generic')}."
    blob = _zeros_digest(240 * 1024 * 1024)  # a blob that matches its digest: it was kept, before
    listed = (Attestation(f"{prefix}eval-{0:016x}.sigstore.json", blob, "https://skillpm.dev/attestations/eval/v1"),)
    with HostileRegistry() as registry:
        registry.put_version(NAME, entry._replace(variants=(entry.variants[0]._replace(attestations=listed),)), files)
        registry.endless[f"sha256:{blob}"] = 240 * 1024 * 1024
        pulled = hostile.run("registry", "pull", registry.url, hostile.work / "mirror", NAME)
    hostile.refused(pulled, "larger than 4194304 bytes")
    assert not (hostile.work / "mirror").exists()
