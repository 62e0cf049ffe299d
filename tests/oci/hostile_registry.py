"""A hostile OCI registry on 127.0.0.1: serves whatever version indexes a test gives it, as skillpm lays them out.

The honest parts are built with skillpm's own layout functions, so that what a test changes
(a size the index claims, a bundle that is junk, two tags of one version) is the only lie.
Blobs a test names in ``endless`` are answered with a Content-Length of their claimed size
and a stream of zeros (stopped when the client goes away), so no test holds such a blob. Blobs
named in ``stalled`` are sent up to the given byte, then the rest once ``released`` is set (or
after a minute), as a slow registry sends them. ``requests`` logs what was asked.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from skillpm.index.model import VersionEntry
from skillpm.registry.oci import layout, tags

_CHUNK = b"\0" * (1 << 20)


class HostileRegistry:
    """An OCI registry serving ``put_version``'s versions; a context manager that stops it at the end."""

    def __init__(self, namespace: str = "skills") -> None:
        self.namespace = namespace
        self.blobs: dict[str, bytes] = {}
        self.endless: dict[str, int] = {}  # digest -> the Content-Length to claim
        self.manifests: dict[tuple[str, str], tuple[bytes, str]] = {}
        self.tags: dict[str, list[str]] = {}
        self.sent = 0  # bytes of endless blobs sent
        self.requests: list[str] = []  # each request's method and path, in the order they came
        self.stalled: dict[str, int] = {}  # digest -> the bytes sent before waiting for `released`
        self.released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self.url = f"oci://{self.host}/{namespace}"

    def __enter__(self) -> HostileRegistry:
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def put_version(self, name: str, entry: VersionEntry, files: Mapping[str, bytes], *, tag: str | None = None) -> None:
        """Serve ``entry`` of ``name`` under ``tag`` (the version's own by default); ``files`` by path, as a
        static registry holds them (an archive or bundle missing from ``files`` is served only if ``endless``)."""
        repository = f"{self.namespace}/{name}"
        manifests = {}
        for variant in entry.variants:
            for path, digest in [(variant.path, variant.sha256),
                                 *((item.path, item.sha256) for item in variant.attestations)]:
                if path in files:
                    self.blobs[f"sha256:{digest}"] = files[path]
            self._put_blob(layout.variant_config(name, entry.version, variant))
            manifest = layout.variant_manifest(name, entry.version, variant)
            self._put_manifest(repository, manifest, layout.MANIFEST_TYPE)
            manifests[variant.target] = manifest
        index = layout.version_index(name, entry, manifests)
        self._put_manifest(repository, index, layout.INDEX_TYPE, tag or tags.tag_for(entry.version))

    def _put_blob(self, data: bytes) -> None:
        self.blobs[layout.digest_of(data)] = data

    def _put_manifest(self, repository: str, body: bytes, media_type: str, tag: str | None = None) -> None:
        self.manifests[(repository, layout.digest_of(body))] = (body, media_type)
        if tag is not None:
            self.manifests[(repository, tag)] = (body, media_type)
            if tag not in self.tags.setdefault(repository, []):
                self.tags[repository].append(tag)


def _handler(registry: HostileRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            registry.requests.append(f"{self.command} {path}")
            if path in ("/v2/", "/v2"):
                return self._reply(200, b"{}")
            if path == "/v2/_catalog":
                return self._reply(200, json.dumps({"repositories": sorted(registry.tags)}).encode())
            found = re.fullmatch(r"/v2/(.+)/(manifests|blobs|tags|referrers)/(.+)", path)
            repository, kind, reference = found.groups() if found else ("", "", "")
            if kind == "tags" and repository in registry.tags:
                return self._reply(200, json.dumps({"name": repository, "tags": registry.tags[repository]}).encode())
            if kind == "manifests" and (repository, reference) in registry.manifests:
                body, media_type = registry.manifests[(repository, reference)]
                return self._reply(200, body, media_type)
            if kind == "blobs" and reference in registry.endless:
                return self._endless(registry.endless[reference])
            if kind == "blobs" and reference in registry.stalled and self.command == "GET":
                return self._stalled(registry.blobs[reference], registry.stalled[reference])
            if kind == "blobs" and reference in registry.blobs:
                return self._reply(200, registry.blobs[reference], "application/octet-stream")
            self._reply(404, b'{"errors":[{"code":"NOT_FOUND","message":"no such thing"}]}')

        do_HEAD = do_GET

        def _reply(self, status: int, body: bytes, media_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _endless(self, size: int) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            try:
                for _ in range(size // len(_CHUNK)):
                    self.wfile.write(_CHUNK)
                    registry.sent += len(_CHUNK)
            except OSError:
                return  # the client went away: what a bounded reader does

        def _stalled(self, body: bytes, first: int) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body[:first])
                self.wfile.flush()
                registry.released.wait(60)
                self.wfile.write(body[first:])
            except OSError:
                return

        def log_message(self, *args: object) -> None:
            return None

    return Handler
