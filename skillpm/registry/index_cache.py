"""The HTTP index cache: each index document of a registry as last fetched, with the validators to revalidate it.

The cache is not trusted (a shared CI cache, a restored cache key): an entry is used
only when its body still has the sha256 its ``.meta`` records, a validator is sent
only when it is a short printable ASCII string (anything else is as if there were
none), and :mod:`skillpm.registry.http` checks what it reads here against the signed
snapshot like anything a server sends.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillpm.cache import write_cache_file
from skillpm.jsonfile import read_json
from skillpm.reading import MAX_DOCUMENT_SIZE, read_at_most

if TYPE_CHECKING:
    from skillpm.registry.transport import Reply

#: The longest ETag or Last-Modified kept and sent back (an ETag is a short quoted token; a date is 29 characters).
MAX_VALIDATOR = 256


def validator(value: object) -> str | None:
    """``value`` if it may go back to a server as a header: a printable ASCII string of at most MAX_VALIDATOR."""
    if isinstance(value, str) and 0 < len(value) <= MAX_VALIDATOR and value.isascii() and value.isprintable():
        return value
    return None


def validators(meta: Mapping[str, Any]) -> dict[str, str]:
    """The conditional-request headers for a cached entry's ``meta``: its usable ETag and Last-Modified."""
    headers = {}
    for name, header in (("etag", "If-None-Match"), ("last-modified", "If-Modified-Since")):
        value = validator(meta.get(name))
        if value is not None:
            headers[header] = value
    return headers


class IndexCache:
    """Index documents of one registry as fetched, each with its validators, under ``root``.

    ``<relative>`` holds the body and ``<relative>.meta`` its ETag, Last-Modified
    and sha256 (an entry whose body no longer matches is ignored), or marks the
    document as absent on the server.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _paths(self, relative: str) -> tuple[Path, Path]:
        body = self.root.joinpath(*relative.split("/"))
        return body, body.with_name(body.name + ".meta")

    def load(self, relative: str) -> tuple[dict[str, Any], bytes] | None:
        """The entry's meta and body (``b""`` when it says the server has none), or ``None``."""
        body_path, meta_path = self._paths(relative)
        try:
            meta = read_json(meta_path, MAX_DOCUMENT_SIZE)
            if meta.get("missing"):
                return meta, b""
            body = read_at_most(body_path, MAX_DOCUMENT_SIZE)
        except (OSError, ValueError, AttributeError):
            return None
        if not isinstance(meta, dict) or hashlib.sha256(body).hexdigest() != meta.get("sha256"):
            return None
        return meta, body

    def store(self, relative: str, reply: Reply) -> None:
        """Remember ``reply`` for ``relative``: a 200's body and usable validators, else that the server has none."""
        body_path, meta_path = self._paths(relative)
        meta: dict[str, Any] = {"missing": True}
        if reply.status == 200:  # write_cache_file never fails a command: a cache only saves requests
            write_cache_file(body_path, reply.body)
            meta = {
                "sha256": hashlib.sha256(reply.body).hexdigest(),
                "etag": validator(reply.headers.get("etag")),
                "last-modified": validator(reply.headers.get("last-modified")),
            }
        write_cache_file(meta_path, json.dumps(meta).encode())

    def drop(self, relative: str) -> None:
        """Forget the entry of ``relative`` (its ``.meta`` first: a body without one is never used)."""
        for path in reversed(self._paths(relative)):
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass  # the cache only saves requests: a read-only cache must not fail a command
