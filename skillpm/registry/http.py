"""Registries over HTTP: reading one from any server of plain files, and serving one.

:class:`HttpRegistry` reads the same tree as :class:`~skillpm.registry.source.LocalRegistry`
through one ``httpx.Client`` (kept-alive connections, timeouts, a bounded number
of retries with exponential backoff and jitter). Index documents are cached under
``cache_root()/index/<registry>/`` with their ETag and Last-Modified and revalidated
with conditional requests; ``--offline`` reads only that cache. Artifacts are
streamed with a size limit; the caller checks their digest before caching them.
httpx is imported only when a request is made.

Failures, each raised as one :class:`~skillpm.errors.SkillpmError` naming the URL:

- ``RegistryError``: the server cannot be reached, times out, drops the connection,
  answers 429 or 5xx (each retried first), answers another error status, or
  (offline) the document or artifact is not cached;
- ``IndexFormatError``: a document is too large, not JSON, or of an unknown format
  (raised by the parsers in :mod:`skillpm.registry.source`);
- ``RegistryError`` from :mod:`skillpm.registry.trust`: a signed registry's snapshot
  or a document fails the index-integrity checks (checked before a document is cached).

:func:`make_server` serves a directory read-only with ETag, Last-Modified and
caching headers, for ``skillpm registry serve``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from skillpm.cache import cache_root, registry_key, write_cache_file
from skillpm.errors import IndexFormatError, RegistryError
from skillpm.registry import source
from skillpm.registry.config import check_url
from skillpm.registry.trust import IndexGuard
from skillpm.retry import RetryPolicy

if TYPE_CHECKING:
    import httpx

    from skillpm.index.model import PackageDocument, RegistryConfig, SearchEntry

TIMEOUT_ENV = "SKILLPM_HTTP_TIMEOUT"
RETRIES_ENV = "SKILLPM_HTTP_RETRIES"
BACKOFF_ENV = "SKILLPM_HTTP_BACKOFF"
_RETRY_STATUSES = frozenset({408, 429})  # and every 5xx
_MISSING_STATUSES = frozenset({404, 410})
_PROGRESS_MIN_BYTES = 512 * 1024
_OFFLINE_HINT = "run the command once without --offline (and without SKILLPM_OFFLINE=1) to fill the cache"


def _env_number(name: str, default: float) -> float:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise RegistryError(f"${name} must be a number of seconds or a count, got {text!r}") from None
    if value < 0:
        raise RegistryError(f"${name} must not be negative, got {text!r}")
    return value


def retry_policy_from_env() -> RetryPolicy:
    """5 attempts from a 0.5 s backoff, at most 30 s apart (Retry-After included), overridden by
    ``$SKILLPM_HTTP_RETRIES`` and ``$SKILLPM_HTTP_BACKOFF``."""
    attempts = max(1, int(_env_number(RETRIES_ENV, 5)))
    return RetryPolicy(attempts=attempts, backoff=_env_number(BACKOFF_ENV, 0.5), max_delay=30.0, max_retry_after=30.0)


@dataclass(frozen=True)
class _Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes = b""


class _IndexCache:
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
        body_path, meta_path = self._paths(relative)
        try:
            meta = json.loads(meta_path.read_bytes())
            if meta.get("missing"):
                return meta, b""
            body = body_path.read_bytes()
        except (OSError, ValueError, AttributeError):
            return None
        if not isinstance(meta, dict) or hashlib.sha256(body).hexdigest() != meta.get("sha256"):
            return None
        return meta, body

    def store(self, relative: str, reply: _Reply | None) -> None:
        """Remember ``reply`` (a 200) for ``relative``, or that the server has no such document."""
        body_path, meta_path = self._paths(relative)
        meta: dict[str, Any] = {"missing": True}
        try:
            if reply is not None:
                write_cache_file(body_path, reply.body)
                meta = {
                    "sha256": hashlib.sha256(reply.body).hexdigest(),
                    "etag": reply.headers.get("etag"),
                    "last-modified": reply.headers.get("last-modified"),
                }
            write_cache_file(meta_path, json.dumps(meta).encode())
        except OSError:
            pass  # the cache only saves requests; a read-only cache must not fail a command


def _validators(meta: Mapping[str, Any]) -> dict[str, str]:
    headers = {}
    if meta.get("etag"):
        headers["If-None-Match"] = meta["etag"]
    if meta.get("last-modified"):
        headers["If-Modified-Since"] = meta["last-modified"]
    return headers


class HttpRegistry:
    """A registry served over HTTP(S) as plain files (see docs/registries.md)."""

    def __init__(
        self,
        url: str,
        *,
        offline: bool | None = None,
        cache_dir: Path | None = None,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        progress: bool | None = None,
    ) -> None:
        check_url(url)
        self.base = url.rstrip("/") + "/"
        #: How the lockfile names this registry: its URL without the trailing slash.
        self.label = url.rstrip("/")
        self.offline = source.offline() if offline is None else offline
        self.timeout = _env_number(TIMEOUT_ENV, 30.0) if timeout is None else timeout
        self.retry = retry or retry_policy_from_env()
        self.progress = source.settings.progress if progress is None else progress
        self._index = _IndexCache((cache_dir or cache_root()) / "index" / registry_key(self.base))
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()
        self._config_lock = threading.Lock()
        self._config: RegistryConfig | None = None
        self._guard = IndexGuard(self.label, self._raw)

    def __repr__(self) -> str:
        return f"HttpRegistry({self.label!r})"

    def close(self) -> None:
        """Close the connections this registry keeps open."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def config(self) -> RegistryConfig:
        """Fetch (or revalidate) and check ``config.json`` (once)."""
        with self._config_lock:
            if self._config is None:
                self._config = source.read_config(self.label, self._document("config.json"))
        return self._config

    def package(self, name: str) -> PackageDocument | None:
        """The document of package ``name``, or ``None`` when the server has none (404)."""
        self.config()
        relative = source.package_path(name)
        return source.read_package(self.label, relative, name, self._document(relative))

    def require_package(self, name: str) -> PackageDocument:
        """The document of package ``name``; ResolutionError, suggesting near names, when absent."""
        return self.package(name) or source.not_found(self, name)

    def locate(self, name: str) -> tuple[HttpRegistry, PackageDocument]:
        return self, self.require_package(name)

    def search_entries(self) -> tuple[SearchEntry, ...]:
        """Every package in the registry's ``search.json``."""
        self.config()
        return source.read_search(self.label, self._document("search.json"))

    def artifact(self, relative: str, *, limit: int = source.MAX_ARTIFACT_SIZE) -> bytes:
        """The artifact's bytes as served, at most ``limit`` + 1 of them (more means too long).

        Streamed exactly as stored (no content decoding), with a progress bar on a
        terminal; the caller compares size and sha256 with the index.
        """
        url = self.base + relative
        if self.offline:
            raise RegistryError(f"offline: artifact {url} is not in the cache", hint=_OFFLINE_HINT)
        reply = self._get(relative, limit=limit, artifact=True)
        if reply.status != 200:
            raise RegistryError(
                f"{self.label}: artifact {relative} is missing (HTTP {reply.status} from {url})",
                hint="the registry is incomplete; tell its owner",
            )
        return reply.body

    # --- documents through the index cache ---------------------------------------------------------

    def _document(self, relative: str) -> object | None:
        """An index document, checked against the signed snapshot before it is parsed or cached."""
        data, fresh = self._fetch_document(relative)
        self._guard.check(relative, data)
        parsed = None if data is None else source.parse_json(self.label, relative, data)
        if fresh is not None:
            self._index.store(relative, fresh)
        return parsed

    def _raw(self, relative: str) -> bytes | None:
        """A file read like a document (snapshot, signature, key), unchecked: for the guard."""
        data, fresh = self._fetch_document(relative)
        if fresh is not None:
            self._index.store(relative, fresh)
        return data

    def _fetch_document(self, relative: str) -> tuple[bytes | None, _Reply | None]:
        """The document's bytes (``None``: not on the server), and the 200 reply to cache, if any."""
        url = self.base + relative
        cached = self._index.load(relative)
        if self.offline:
            if cached is None:
                raise RegistryError(f"offline: {url} is not in the index cache", hint=_OFFLINE_HINT)
            meta, body = cached
        else:
            validators = _validators(cached[0]) if cached else {}
            reply = self._get(relative, limit=source.MAX_DOCUMENT_SIZE, headers=validators)
            if reply.status == 304 and cached is not None:
                meta, body = cached
            elif reply.status in _MISSING_STATUSES:
                self._index.store(relative, None)
                return None, None
            elif reply.status == 200:
                return reply.body, reply
            else:
                raise RegistryError(f"GET {url}: unexpected HTTP {reply.status}", hint="check the registry URL")
        return (None if meta.get("missing") else body), None

    # --- the one place requests are made -----------------------------------------------------------

    def _http(self) -> httpx.Client:
        if self._client is None:
            import httpx

            from skillpm import __version__

            # A plain-http registry (this machine, or allowed by $SKILLPM_ALLOW_HTTP) never
            # makes a TLS connection: redirects are not followed, so loading the CA
            # bundle (a tenth of a second) would be wasted.
            tls = self.base.startswith("https://")
            self._client = httpx.Client(
                timeout=httpx.Timeout(self.timeout, connect=min(10.0, self.timeout)),
                limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
                follow_redirects=tls,
                verify=tls,
                headers={"User-Agent": f"skillpm/{__version__}"},
            )
        return self._client

    def _get(
        self, relative: str, *, limit: int, headers: Mapping[str, str] | None = None, artifact: bool = False
    ) -> _Reply:
        """GET ``relative``, retrying 408, 429, 5xx, timeouts and dropped connections.

        Documents longer than ``limit`` raise IndexFormatError; artifacts are cut at
        ``limit`` + 1 bytes for the caller to report.
        """
        import httpx

        url = self.base + relative
        with self._client_lock:
            client = self._http()
        request_headers = {**(headers or {}), **({"Accept-Encoding": "identity"} if artifact else {})}
        last = ""
        for attempt in range(1, self.retry.attempts + 1):
            retry_after = None
            try:
                with client.stream("GET", url, headers=request_headers) as response:
                    status = response.status_code
                    if status in _RETRY_STATUSES or status >= 500:
                        last = f"HTTP {status} {response.reason_phrase}".rstrip()
                        retry_after = response.headers.get("retry-after")
                    elif status in (200, 304) or status in _MISSING_STATUSES:
                        body = self._read_body(response, url, limit, artifact) if status == 200 else b""
                        return _Reply(status, response.headers, body)
                    else:
                        raise RegistryError(
                            f"GET {url}: HTTP {status} {response.reason_phrase}".rstrip(), hint=_status_hint(status)
                        )
            except httpx.TransportError as error:
                last = _describe(error, self.timeout)
            except (httpx.HTTPError, httpx.InvalidURL) as error:  # bad encoding, redirect loops: not transient
                raise RegistryError(f"GET {url}: {type(error).__name__}: {error}", hint=_status_hint(0)) from None
            if attempt < self.retry.attempts:
                time.sleep(self.retry.delay(attempt, retry_after))
        raise RegistryError(
            f"GET {url} failed {self.retry.attempts} times; last: {last}",
            hint="the server or the network is failing; try again later, or use --offline if the cache has it",
        )

    def _read_body(self, response: httpx.Response, url: str, limit: int, artifact: bool) -> bytes:
        declared = response.headers.get("content-length", "")
        size = int(declared) if declared.isdigit() else None
        if not artifact and size is not None and size > limit:
            raise IndexFormatError(f"{url} is larger than {limit} bytes ({size}); refused before reading it")
        chunks = response.iter_raw() if artifact else response.iter_bytes()
        body = bytearray()
        with self._progress_bar(url, size if artifact else None) as bar:
            for chunk in chunks:
                body += chunk
                bar.update(len(chunk))
                if len(body) > limit:
                    if artifact:
                        return bytes(body[: limit + 1])
                    raise IndexFormatError(f"{url} is larger than {limit} bytes; refused")
        return bytes(body)

    def _progress_bar(self, url: str, size: int | None):
        shown = (
            self.progress
            and size is not None
            and size >= _PROGRESS_MIN_BYTES
            and threading.current_thread() is threading.main_thread()
            and sys.stderr.isatty()
        )
        if not shown:
            return _NoProgress()
        import click

        from skillpm.display import clean

        name = clean(url.rsplit("/", 1)[-1], 60)  # a registry-chosen file name: no controls, bounded
        return click.progressbar(length=size, label=f"downloading {name}", file=sys.stderr, width=30)


class _NoProgress:
    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def update(self, steps: int) -> None:
        return None


def _status_hint(status: int) -> str:
    if 300 <= status < 400:
        return "skillpm follows redirects only from https:// registries; use the URL it redirects to"
    if status in (401, 403):
        return "the server refused access; skillpm sends no credentials, so the registry must be public"
    return "check the registry URL (--registry or 'skillpm registry list')"


def _describe(error: Exception, timeout: float) -> str:
    import httpx

    if isinstance(error, httpx.TimeoutException):
        return f"timed out (no data for {timeout:g} s; set {TIMEOUT_ENV} to wait longer)"
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect ({error})"
    if isinstance(error, httpx.RemoteProtocolError):
        return "the server closed the connection before the whole response arrived"
    return f"{type(error).__name__}: {error}"


# --- serving a registry ------------------------------------------------------------------------------


class StaticHandler(SimpleHTTPRequestHandler):
    """Serve a registry's files read-only: GET and HEAD, no listings, ETag and caching headers.

    A folder with an ``index.html`` is answered with it, as static web servers do
    (the benchmarks serve a PEP 503 simple index this way).

    Artifacts (under ``artifacts/``) are immutable and may be cached for a year;
    every other document must be revalidated (``Cache-Control: no-cache``), which
    the ETag makes a cheap 304.
    """

    extensions_map: ClassVar[dict[str, str]] = {
        ".json": "application/json",
        ".gz": "application/gzip",
        ".html": "text/html",
        ".whl": "application/octet-stream",
        "": "application/octet-stream",
    }
    server_version = "skillpm-registry"
    protocol_version = "HTTP/1.1"
    quiet = True

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(404, "Not Found")

    def send_head(self):  # type: ignore[override]
        path = Path(self.translate_path(self.path))
        root = Path(self.directory).resolve()
        try:
            resolved = path.resolve()
            resolved.relative_to(root)
            stat = resolved.stat()
        except (OSError, ValueError):
            self.send_error(404, "Not Found")
            return None
        if resolved.is_dir() and (resolved / "index.html").is_file():  # as any static web server does
            resolved = resolved / "index.html"
            stat = resolved.stat()
        if not resolved.is_file():
            self.send_error(404, "Not Found")
            return None
        etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
        immutable = resolved.relative_to(root).parts[:1] == ("artifacts",)
        caching = "public, max-age=31536000, immutable" if immutable else "no-cache"
        if etag in [tag.strip() for tag in self.headers.get("If-None-Match", "").split(",")]:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Cache-Control", caching)
            self.end_headers()
            return None
        handle = resolved.open("rb")
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(resolved)))
        self.send_header("Content-Length", str(stat.st_size))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", formatdate(stat.st_mtime, usegmt=True))
        self.send_header("Cache-Control", caching)
        self.end_headers()
        return handle

    def log_message(self, format: str, *args: Any) -> None:
        if not self.quiet:
            super().log_message(format, *args)


def make_server(
    directory: Path, *, bind: str = "127.0.0.1", port: int = 0, handler: type[StaticHandler] = StaticHandler
) -> ThreadingHTTPServer:
    """A threading HTTP server for ``directory`` on ``bind``:``port`` (0: any free port); not yet serving."""
    import functools
    import socket

    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in bind else socket.AF_INET
        daemon_threads = True

    return Server((bind, port), functools.partial(handler, directory=str(directory)))


def server_url(server: ThreadingHTTPServer) -> str:
    """The ``http://host:port`` a server made by :func:`make_server` answers on."""
    host, port = server.server_address[:2]
    host = f"[{host}]" if ":" in str(host) else host
    return f"http://{host}:{port}"
