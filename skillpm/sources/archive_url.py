"""An archive URL (``https://.../skills.tar.gz`` or ``.zip``) as a source, pinned by its sha256.

The download goes through the static-HTTP backend's hardened transport (redirects,
deadlines, retries, credentials only to their own host, ``--offline``), bounded by
:data:`~skillpm.archive.MAX_ARCHIVE_SIZE`; with a pin (``--sha256`` or ``#sha256=``) the
bytes must have that digest, and come from the cache when it holds them. The archive is
then unpacked under every check of :mod:`skillpm.sources.unpack`.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from skillpm.archive import MAX_ARCHIVE_SIZE
from skillpm.cache import ArtifactCache
from skillpm.errors import SourceError
from skillpm.sources.packed import PackedSource
from skillpm.sources.spec import SourceSpec
from skillpm.sources.unpack import unpack

if TYPE_CHECKING:
    from skillpm.registry.http import HttpRegistry


def fetch(server: HttpRegistry, relative: str, *, limit: int) -> bytes:
    """GET ``relative`` under ``server`` through its hardened transport; at most ``limit`` bytes, else SourceError."""
    data = server.artifact(relative, limit=limit)
    if len(data) > limit:
        raise SourceError(f"{server.label}/{relative} is larger than {limit} bytes; refused, nothing was installed")
    return data


def open_archive(spec: SourceSpec, cache: ArtifactCache | None = None) -> PackedSource:
    """The archive ``spec`` names, downloaded (or taken from the cache by its pin), checked and unpacked."""
    cache = cache or ArtifactCache()
    data = cache.get(spec.sha256, limit=MAX_ARCHIVE_SIZE) if spec.sha256 else None
    if data is None:
        from skillpm.registry.http import HttpRegistry

        base, _, name = spec.url.rpartition("/")
        server = HttpRegistry(base)
        try:
            data = fetch(server, name, limit=MAX_ARCHIVE_SIZE)
        finally:
            server.close()
    digest = hashlib.sha256(data).hexdigest()
    if spec.sha256 is not None and digest != spec.sha256:
        raise SourceError(
            f"sha256 mismatch for {spec.url}: expected {spec.sha256[:16]}..., the download is {digest[:16]}... "
            f"({len(data)} bytes); nothing was installed",
            hint="the server now serves other bytes; if you trust them, install again with the new --sha256",
        )
    cache.put(digest, data)
    work = tempfile.TemporaryDirectory(prefix="skillpm-archive-")
    root = unpack(data, Path(work.name))
    if spec.subdirectory:
        root = root.joinpath(*spec.subdirectory.split("/"))
        if not root.is_dir():
            raise SourceError(f"{spec.describe()} has no folder {spec.subdirectory!r}")
    return PackedSource(spec, root, resolved=digest, keep=work)
