"""Registries over HTTP: reading one from any server of plain files.

:class:`HttpRegistry` reads the same tree as :class:`~skillpm.registry.directory.LocalRegistry`
through one :class:`~skillpm.registry.transport.Transport` (kept-alive connections,
an overall deadline per request, decoded sizes counted, only safe redirects) with a
bounded number of retries, exponential backoff and jitter. Index documents are cached
under ``cache_root()/index/<registry>/`` (:mod:`skillpm.registry.index_cache`). Others
may write that cache (a shared CI cache), so it is no authority: what decides trust
(``config.json``, the signed snapshot, its signature, index keys) is always fetched
whole; package documents and ``search.json`` are revalidated with conditional
requests, and one the cache gave that fails the snapshot check is fetched whole once
more. ``--offline`` reads only that cache, refuses to pin a signed registry's key from
it, and takes a registry as unsigned only if it was read so online
(:mod:`skillpm.registry.seen`). Artifacts are streamed as stored with a size limit; the
caller checks their digest before caching them. httpcore is imported only when a request
is made.

Failures, each raised as one :class:`~skillpm.errors.SkillpmError` naming the URL:

- ``RegistryUnreachable``: the server refuses the connection or cannot be found (not
  retried), times out (retried once), drops the connection or answers 408, 429 or 5xx
  (each retried), or the command's time for requests (``$SKILLPM_HTTP_DEADLINE``) ran out;
- ``RegistryUnreachable`` also (offline) when the document or artifact is not cached, a
  signed registry has no key pinned yet, or an unsigned one was never read so online: it
  was not asked, so a sync may take the locked bytes from elsewhere;
- ``RegistryError``: another error status, or a refused redirect or content encoding;
- ``IndexFormatError``: a document is too large, not JSON, or of an unknown format
  (raised by the parsers in :mod:`skillpm.registry.documents`);
- ``RegistryError`` from :mod:`skillpm.registry.trust`: a signed registry's snapshot
  or a document fails the index-integrity checks (checked before a document is cached);
  offline, the error names the index cache, whose copy failed them.

Serving a registry (``skillpm registry serve``) is :mod:`skillpm.registry.serve`.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from skillpm.cache import cache_root, registry_key
from skillpm.errors import IndexFormatError, RegistryError, RegistryUnreachable, SkillpmError
from skillpm.index.listing import Listing, listed
from skillpm.index.snapshot import INDEX_KEY
from skillpm.reading import MAX_ARTIFACT_SIZE, MAX_DOCUMENT_SIZE, artifact_limit
from skillpm.registry import documents
from skillpm.registry.config import check_url
from skillpm.registry.index_cache import IndexCache, validators
from skillpm.registry.urls import UrlProblem, registry_base, shown_url
from skillpm.stderr import stderr_is_terminal
from skillpm.display import clean
from skillpm.registry.redirects import host_of
from skillpm.registry.transport import Deadline, Progress, Reply, Transport, failure_reason
from skillpm.registry.settings import DEADLINE_ENV, OFFLINE_HINT, TIMEOUT_ENV, command_deadline, request_timeout
from skillpm.registry.settings import offline as offline_by_default
from skillpm.registry.settings import retry_policy_from_env, settings
from skillpm.registry.pins import TrustRecordError
from skillpm.registry.seen import sighting
from skillpm.registry.trust import IndexGuard
from skillpm.retry import RetryPolicy

if TYPE_CHECKING:
    from skillpm.index.model import PackageDocument, RegistryConfig, SearchEntry

_RETRY_STATUSES = frozenset({408, 429})  # and every 5xx
_MISSING_STATUSES = frozenset({404, 410})
_PROGRESS_MIN_BYTES = 512 * 1024
_DOWN_HINT = "the server or the network is failing; try again later, or use --offline if the cache has it"


class HttpRegistry:
    """A registry served over HTTP(S) as plain files (see docs/registries.md)."""

    def __init__(
        self,
        url: str,
        *,
        offline: bool | None = None,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        progress: bool | None = None,
    ) -> None:
        check_url(url)
        try:
            url = registry_base(url)
        except UrlProblem as problem:
            raise RegistryError(f"registry URL {shown_url(url)!r} {problem}") from None
        self.base = url + "/"
        #: How the lockfile names, and the index key pin and caches know, this registry: its URL in normal
        #: form (:func:`skillpm.registry.urls.canonical_url`), without a slash at the end.
        self.label = url
        self.offline = offline_by_default() if offline is None else offline
        #: Seconds one request may take in all: ``timeout``, else --timeout, else $SKILLPM_HTTP_TIMEOUT.
        self.timeout = timeout or request_timeout()
        self.retry = retry or retry_policy_from_env()
        #: When every request of the command must be done by, retries and waits included.
        self._budget = command_deadline()
        self.progress = settings.progress if progress is None else progress
        self._index = IndexCache(cache_root() / "index" / registry_key(self.base))
        self._client: Transport | None = None
        self._client_lock = threading.Lock()
        self._config_lock = threading.Lock()
        self._config: RegistryConfig | None = None
        self._guard = IndexGuard(self.label, self._raw, seen=sighting(self.label, offline=self.offline))
        self._authorization: str | None = None
        self._authorization_read = False

    def __repr__(self) -> str:
        return f"HttpRegistry({self.label!r})"

    @property
    def index_guard(self) -> IndexGuard:
        """The signed-index checks of this registry."""
        return self._guard

    def close(self) -> None:
        """Close the connections this registry keeps open."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def config(self) -> RegistryConfig:
        """Fetch (or revalidate) and check ``config.json`` (once)."""
        with self._config_lock:
            if self._config is None:
                self._config = documents.read_config(self.label, self._document("config.json"))
        return self._config

    def package(self, name: str) -> PackageDocument | None:
        """The document of package ``name``, or ``None`` when the server has none (404)."""
        self.config()
        relative = documents.package_path(name)
        return documents.read_package(self.label, relative, name, self._document(relative))

    def require_package(self, name: str) -> PackageDocument:
        """The document of package ``name``; ResolutionError, suggesting near names, when absent."""
        return self.package(name) or documents.not_found(self, name)

    def listing(self, name: str) -> Listing | None:
        """:meth:`package` as a listing (every entry at hand)."""
        return listed(self.package(name))

    def locate(self, name: str) -> tuple[HttpRegistry, Listing]:
        return self, Listing.of(self.require_package(name))

    def search_entries(self) -> tuple[SearchEntry, ...]:
        """Every package in the registry's ``search.json``."""
        self.config()
        return documents.read_search(self.label, self._document("search.json"))

    def artifact(self, relative: str, *, limit: int = MAX_ARTIFACT_SIZE) -> bytes:
        """The artifact's bytes as served, at most ``limit`` + 1 of them (more means too long).

        Streamed exactly as stored (no content decoding), with a progress bar on a
        terminal; the caller compares size and sha256 with the index.
        """
        url = self.base + relative
        if self.offline:
            raise RegistryUnreachable(f"offline: artifact {url} is not in the cache", hint=OFFLINE_HINT)
        reply = self._get(relative, limit=artifact_limit(limit), artifact=True)
        if reply.status != 200:
            raise RegistryError(
                f"{self.label}: artifact {relative} is missing (HTTP {reply.status} from {url})",
                hint="the registry is incomplete; tell its owner",
            )
        return reply.body

    # --- documents through the index cache ---------------------------------------------------------

    def _document(self, relative: str) -> object | None:
        """An index document, checked against the signed snapshot before it is parsed or cached.

        ``config.json`` is fetched whole (it says whether, and with which key, the registry is
        signed); the others are revalidated, and one the cache gave that fails the check is
        fetched whole once more: the cache is no authority.
        """
        data, reply = self._fetch_document(relative, whole=relative == "config.json")
        if reply is None:
            data, reply = self._checked_from_cache(relative, data)
        else:
            self._guard.check(relative, data)
        parsed = None if data is None else documents.parse_json(self.label, relative, data)
        if reply is not None:
            self._index.store(relative, reply)
        return parsed

    def _checked_from_cache(self, relative: str, data: bytes | None) -> tuple[bytes | None, Reply | None]:
        """``data``, the index cache's copy of ``relative``, if it passes the checks; else the server's, fetched whole.

        Offline, a failure names the cache (its bytes failed, not the registry's).
        """
        try:
            self._guard.check(relative, data)
            return data, None
        except (RegistryUnreachable, TrustRecordError):
            raise
        except (RegistryError, IndexFormatError) as error:
            if self.offline:
                raise self._stale(error) from None
        self._index.drop(relative)
        data, reply = self._fetch_document(relative, whole=True)
        self._guard.check(relative, data)
        return data, reply

    def _stale(self, error: SkillpmError) -> RegistryError:
        reason = error.message.removeprefix(f"{self.label}: ")
        return RegistryError(
            f"offline: refusing the index cache of {self.label}: {reason}",
            hint=f"the cached copy is stale or was altered; run the command once without --offline to fetch the "
            f"registry's own, or delete {self._index.root}",
        )

    def _raw(self, relative: str) -> bytes | None:
        """A file the guard reads unchecked (snapshot, signature, key, config): online always fetched whole.

        Offline it comes from the cache, but for ``keys/index.pub``, which the guard reads
        only to pin a registry's key on first use: a key is pinned from the registry itself.
        """
        if self.offline and relative == INDEX_KEY:
            raise RegistryUnreachable(
                f"offline: {self.label} is a signed registry whose index key is not pinned yet; "
                "skillpm pins it from the registry itself, never from the cache",
                hint=f"run the command once without --offline, or pin the key the owner gave you: "
                f"'skillpm registry trust {self.label} --index-key KEY.pub'",
            )
        data, reply = self._fetch_document(relative, whole=True)
        if reply is not None:
            self._index.store(relative, reply)
        return data

    def _fetch_document(self, relative: str, *, whole: bool = False) -> tuple[bytes | None, Reply | None]:
        """The document's bytes (``None``: not on the server) and the server's reply to cache.

        The reply is ``None`` when the bytes came from the index cache: offline, or on a 304.
        ``whole``: online, asked without validators, so the server's bytes whatever the cache holds.
        """
        url = self.base + relative
        if self.offline:
            cached = self._index.load(relative)
            if cached is None:
                raise RegistryUnreachable(f"offline: {url} is not in the index cache", hint=OFFLINE_HINT)
        else:
            cached = None if whole else self._index.load(relative)
            reply = self._get(relative, limit=MAX_DOCUMENT_SIZE, headers=validators(cached[0]) if cached else {})
            if reply.status in _MISSING_STATUSES:
                return None, reply
            if reply.status == 200:
                return reply.body, reply
            if reply.status != 304 or cached is None:
                raise RegistryError(f"GET {url}: unexpected HTTP {reply.status}", hint="check the registry URL")
        meta, body = cached
        return (None if meta.get("missing") else body), None

    # --- the one place requests are made -----------------------------------------------------------

    def _transport(self) -> Transport:
        with self._client_lock:
            if self._client is None:
                from skillpm import __version__

                self._client = Transport(idle=self.timeout, user_agent=f"skillpm/{__version__}")
            return self._client

    def _get(
        self, relative: str, *, limit: int, headers: Mapping[str, str] | None = None, artifact: bool = False
    ) -> Reply:
        """GET ``relative``: 408, 429, 5xx and dropped connections retried, a timeout once, a refusal never.

        Documents longer than ``limit`` (decoded) raise IndexFormatError; artifacts
        are read as stored and cut at ``limit`` + 1 bytes for the caller to report.
        Every attempt ends by ``$SKILLPM_HTTP_TIMEOUT``, and all of them (waits included)
        by the command's ``$SKILLPM_HTTP_DEADLINE``.
        """
        import httpcore

        url = self.base + relative
        transport = self._transport()
        headers = {**(headers or {}), **self._credentials()}
        last, timeouts, attempt = "", 0, 0
        while True:
            attempt += 1
            retry_after = None
            request = min(Deadline.after(self.timeout, TIMEOUT_ENV), self._budget, key=lambda d: d.end)
            try:
                reply = transport.get(
                    url, deadline=request, limit=limit, decode=not artifact, headers=headers,
                    progress=self._progress(url),
                )
            except httpcore.TimeoutException:
                timeouts += 1
                last = _timed_out(url, request, self.timeout)
            except httpcore.ConnectError as error:
                raise RegistryUnreachable(
                    f"GET {url} failed {_times(attempt)}; last: cannot connect ({failure_reason(error)})", hint=_DOWN_HINT
                ) from None
            except (httpcore.NetworkError, httpcore.RemoteProtocolError):
                last = f"{host_of(url)} closed the connection before the whole response arrived, or sent a malformed one"
            except httpcore.ProxyError as error:
                raise RegistryUnreachable(f"GET {url}: the proxy failed ({failure_reason(error)})", hint=_DOWN_HINT) from None
            except (httpcore.UnsupportedProtocol, httpcore.LocalProtocolError) as error:
                raise RegistryError(f"GET {url}: {failure_reason(error)}", hint=_status_hint(0)) from None
            else:
                if reply.status not in _RETRY_STATUSES and reply.status < 500:
                    return self._accepted(url, reply, None if artifact else limit)
                last = f"HTTP {reply.status} from {host_of(reply.url)}"
                retry_after = reply.headers.get("retry-after")
            wait = self.retry.delay(attempt, retry_after)
            out_of_time = wait >= self._budget.remaining()
            if attempt >= self.retry.attempts or timeouts > 1 or out_of_time:
                break
            time.sleep(wait)
        spent = f"; out of time ({DEADLINE_ENV}={self._budget.seconds:g} s for the command)" if out_of_time else ""
        raise RegistryUnreachable(f"GET {url} failed {_times(attempt)}; last: {last}{spent}", hint=_DOWN_HINT)

    def _credentials(self) -> dict[str, str]:
        """The ``Authorization`` header this registry's credentials give (read once), or nothing."""
        if not self._authorization_read:
            from skillpm.registry.credentials import authorization

            self._authorization = authorization(self.label)
            self._authorization_read = True
        return {"Authorization": self._authorization} if self._authorization else {}

    def _accepted(self, url: str, reply: Reply, limit: int | None) -> Reply:
        """The reply as :meth:`_get` returns it; a document over ``limit`` bytes or an error status raises."""
        if limit is not None and len(reply.body) > limit:
            raise IndexFormatError(f"{url} is larger than {limit} bytes (decoded); refused")
        if reply.status in (200, 304) or reply.status in _MISSING_STATUSES:
            return reply
        if reply.status in (401, 403) and host_of(reply.url) != host_of(url):
            raise RegistryError(
                f"GET {url}: redirected to {host_of(reply.url)}, which wants credentials (HTTP {reply.status}); "
                "skillpm sends a registry's credentials only to the registry itself",
                hint="ask the registry's owner to serve the file without a redirect to another host",
            )
        if reply.status in (401, 403):
            state = "refused the credentials skillpm sent" if self._authorization else "needs credentials"
            raise RegistryError(f"GET {url}: HTTP {reply.status} from {host_of(reply.url)}: registry {self.label} {state}",
                                hint=_login_hint(self.label))
        raise RegistryError(
            f"GET {url}: HTTP {reply.status} from {host_of(reply.url)}", hint=_status_hint(reply.status)
        )

    def _progress(self, url: str) -> Progress:
        """A progress bar on stderr for a large body, only on a terminal and in the main thread."""

        @contextmanager
        def opened(size: int | None) -> Iterator[Callable[[int], None]]:
            shown = (
                self.progress
                and size is not None
                and size >= _PROGRESS_MIN_BYTES
                and threading.current_thread() is threading.main_thread()
                and stderr_is_terminal()
            )
            if not shown:
                yield lambda _steps: None
                return
            import click

            name = clean(url.rsplit("/", 1)[-1], 60)  # a registry-chosen file name: no controls, bounded
            with click.progressbar(length=size, label=f"downloading {name}", file=sys.stderr, width=30) as bar:
                yield bar.update

        return opened


def _times(count: int) -> str:
    return f"{count} time" if count == 1 else f"{count} times"


def _timed_out(url: str, deadline: Deadline, idle: float) -> str:
    setting = "--timeout or " + TIMEOUT_ENV if deadline.setting == TIMEOUT_ENV else DEADLINE_ENV
    host = host_of(url)
    if deadline.remaining() > 0:
        return f"timed out: no data from {host} for {idle:g} s (set {setting} to wait longer)"
    return f"timed out: no complete answer from {host} within {deadline.seconds:g} s (set {setting} to wait longer)"


def _login_hint(label: str) -> str:
    from skillpm.registry.credentials import configured_name, token_variable

    name = configured_name(label)
    if name is None:
        return ("add it with 'skillpm registry add-remote NAME URL', then 'skillpm registry login NAME' "
                "(or put its host in ~/.netrc)")
    return f"run 'skillpm registry login {name}', or set {token_variable(name)}"


def _status_hint(status: int) -> str:
    if 300 <= status < 400:
        return "the redirect has no Location; use the URL the registry is served from"
    return "check the registry URL (--registry or 'skillpm registry list')"
