"""One HTTP request to a hostile server, with every limit it needs; the only module that opens sockets.

:class:`Transport` sends GET requests (to a registry) and POST requests with a JSON body (to a chat endpoint,
:mod:`skillpm.evaluation.client`) through one ``httpcore`` connection pool (kept-alive connections, proxies
from the environment as httpx takes them) and holds each one to these rules:

- **time**: every request has an overall :class:`Deadline` (connecting, TLS, headers and body together),
  enforced on each socket operation by a network backend, so a server that sends one byte a second is cut
  off when the deadline passes, not only when it goes quiet;
- **size**: the body is counted as it is decoded; at most ``limit`` + 1 bytes are
  ever held, whatever the server declares. Only one ``gzip`` or ``deflate``
  encoding is decoded (in bounded steps); stacked or other encodings are refused;
- **redirects**: a GET follows at most :data:`~skillpm.registry.redirects.MAX_REDIRECTS`, each
  where :func:`~skillpm.registry.redirects.redirect_target` allows (the same scheme, a URL
  :func:`~skillpm.registry.config.check_url` accepts, and from a URL off this machine and the user's
  network, judged once by its name and its reply's peer, never onto them, nor, once connected, to a peer
  there), and sends its caller's ``Authorization`` header only to the origin it was given for (a redirect
  elsewhere drops it); a POST follows none, so its caller's headers (an API key) go only to the URL it names.

Transport failures are raised as ``httpcore`` exceptions for the caller
(:mod:`skillpm.registry.http`, :mod:`skillpm.evaluation.client`) to retry or report;
a refused redirect or encoding is a :class:`~skillpm.errors.RegistryError`, never retried.
"""

from __future__ import annotations

import os
import ssl
import threading
import time
import urllib.request
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpcore

from skillpm.display import FIELD, clean
from skillpm.errors import IndexFormatError, RegistryError
from skillpm.registry.redirects import MAX_REDIRECTS, host_of, inward, off_network, origin, redirect_target

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_GZIP_BITS = 16 + zlib.MAX_WBITS
_ZLIB_BITS = zlib.MAX_WBITS
#: The longest one wait on a socket lasts before Python looks at pending signals again: a Ctrl-C
#: that lands just before the wait starts is otherwise seen only when the read timeout ends.
_WAIT_SLICE = 0.5

#: Opens a per-chunk callback for a body whose declared size (if any) is given.
Progress = Callable[[int | None], AbstractContextManager[Callable[[int], None]]]


def _ignore(_size: int) -> None:
    return None


@dataclass(frozen=True)
class Deadline:
    """A point in time (monotonic) after which a request, or a command's requests, must stop.

    ``seconds`` and ``setting`` say, in an error, how long it was and what sets it.
    """

    end: float
    seconds: float
    setting: str

    @classmethod
    def after(cls, seconds: float, setting: str) -> Deadline:
        return cls(time.monotonic() + seconds, seconds, setting)

    def remaining(self) -> float:
        return self.end - time.monotonic()


class DeadlinePassed(httpcore.ReadTimeout):
    """The request's deadline passed before a socket operation could start."""


class InwardPeer(Exception):
    """A connection that had to stay off this machine and the user's network reached ``address`` there."""

    def __init__(self, address: str) -> None:
        super().__init__(address)
        self.address = address


def failure_reason(error: Exception) -> str:
    """The innermost reason of a transport error, e.g. ``[Errno 111] Connection refused``, cleaned and bounded."""
    cause = error.__cause__ or error.__context__ or error
    return clean(str(cause) or type(cause).__name__, 120)


@dataclass(frozen=True)
class Reply:
    """A response: its status, headers (lower-case names; repeated ones joined by ``, ``), body, and the
    address it came from when its connection was direct (not through a proxy)."""

    status: int
    headers: Mapping[str, str]
    body: bytes = b""
    url: str = ""
    peer: str = ""


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose every read, write and TLS handshake ends by the current request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, backend: _DeadlineBackend) -> None:
        self._inner = inner
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """A read that ends by ``timeout`` (and the deadline), waiting in slices of :data:`_WAIT_SLICE`."""
        bounded = self._backend.bounded(timeout)
        end = None if bounded is None else time.monotonic() + bounded
        while True:
            wait = _WAIT_SLICE if end is None else min(_WAIT_SLICE, max(0.001, end - time.monotonic()))
            try:
                return self._inner.read(max_bytes, wait)
            except httpcore.ReadTimeout:
                if end is not None and time.monotonic() >= end:
                    raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._backend.bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, self._backend.bounded(timeout))
        return _DeadlineStream(inner, self._backend)

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's socket backend, with each operation's timeout cut to the calling thread's deadline."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()
        self._local = threading.local()

    @contextmanager
    def deadline(self, deadline: Deadline, outward: str | None = None) -> Iterator[None]:
        """The calling thread's requests end by ``deadline``; a connection to the host ``outward`` (made directly,
        not through a proxy) must reach no address of this machine or its network."""
        self._local.deadline, self._local.outward = deadline, outward
        try:
            yield
        finally:
            self._local.deadline = self._local.outward = None

    def bounded(self, timeout: float | None) -> float | None:
        deadline: Deadline | None = getattr(self._local, "deadline", None)
        if deadline is None:
            return timeout
        left = deadline.remaining()
        if left <= 0:
            raise DeadlinePassed(f"deadline of {deadline.seconds:g} s passed")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(  # type: ignore[no-untyped-def]
        self, host, port, timeout=None, local_address=None, socket_options=None
    ):
        stream = self._inner.connect_tcp(host, port, self.bounded(timeout), local_address, socket_options)
        if getattr(self._local, "outward", None) == host.lower().rstrip("."):
            from ipaddress import ip_address

            from skillpm.registry.addresses import internal_address

            peer = str(stream.get_extra_info("socket").getpeername()[0])
            if internal_address(ip_address(peer.split("%", 1)[0])):
                stream.close()
                raise InwardPeer(peer)
        return _DeadlineStream(stream, self)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):  # type: ignore[no-untyped-def]
        return _DeadlineStream(self._inner.connect_unix_socket(path, self.bounded(timeout), socket_options), self)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _Inflate:
    """One ``gzip`` or ``deflate`` layer, decoded a bounded number of bytes at a time."""

    def __init__(self, name: str, wbits: int) -> None:
        self.name = name
        self._stream = zlib.decompressobj(wbits)

    def feed(self, chunk: bytes, room: int) -> bytes:
        """What ``chunk`` decodes to, but no more than ``room`` + 1 bytes (more means too large)."""
        return self._stream.decompress(chunk, max(room, 0) + 1)

    def check_end(self) -> None:
        if not self._stream.eof or self._stream.unused_data:
            raise zlib.error("truncated, or data after the end")


def _decoder(url: str, header: str, method: str = "GET") -> _Inflate | None:
    """The decoder for a ``Content-Encoding`` header; RegistryError for stacked or unknown encodings."""
    codings = [token.strip().lower() for token in header.split(",")]
    codings = [coding for coding in codings if coding and coding != "identity"]
    if not codings:
        return None
    if len(codings) > 1:
        raise RegistryError(
            f"{method} {url}: refusing stacked Content-Encoding '{clean(header)}' from {host_of(url)}",
            hint="a server may compress a body once (gzip or deflate); tell the server's owner",
        )
    if codings[0] in ("gzip", "x-gzip"):
        return _Inflate("gzip", _GZIP_BITS)
    if codings[0] == "deflate":
        return _Inflate("deflate", _ZLIB_BITS)
    raise RegistryError(
        f"{method} {url}: refusing Content-Encoding '{clean(header)}' from {host_of(url)} (only gzip or deflate)",
        hint="tell the server's owner",
    )


def read_body(
    url: str, chunks: Iterator[bytes], headers: Mapping[str, str], limit: int, *, decode: bool,
    progress: Callable[[int], None], method: str = "GET", sink: Callable[[bytes], None] | None = None,
) -> bytes:
    """The body from ``chunks``, decoded when ``decode``; at most ``limit`` + 1 bytes (more means too large).

    With ``sink``, the bytes are handed to it as they arrive (the same at most ``limit`` + 1) and none is kept.
    """
    decoder = _decoder(url, headers.get("content-encoding", ""), method) if decode else None
    body = bytearray()
    write = sink or body.extend
    size = 0
    try:
        for chunk in chunks:
            progress(len(chunk))
            data = (decoder.feed(chunk, limit - size) if decoder else chunk)[: limit + 1 - size]
            write(data)
            size += len(data)
            if size > limit:
                return bytes(body)
        if decoder:
            decoder.check_end()
    except zlib.error:
        name = decoder.name if decoder else "encoded"
        raise RegistryError(
            f"{method} {url}: the body from {host_of(url)} is not valid {name} data", hint="tell the server's owner"
        ) from None
    return bytes(body)


def _peer(stream: httpcore.NetworkStream | None) -> str:
    """The address of the server at the other end of a direct connection; ``""`` once it is gone (reset)."""
    try:
        return str(stream.get_extra_info("server_addr")[0]) if stream else ""
    except OSError:
        return ""


def _ssl_context() -> ssl.SSLContext:
    """Certificates as httpx finds them: ``$SSL_CERT_FILE`` / ``$SSL_CERT_DIR``, else certifi's bundle."""
    import certifi

    cafile = os.environ.get("SSL_CERT_FILE") or None
    capath = os.environ.get("SSL_CERT_DIR") or None
    if cafile is None and capath is None:
        cafile = certifi.where()
    return ssl.create_default_context(cafile=cafile, capath=capath)


@dataclass
class Transport:
    """Requests under the rules above; ``idle`` is the longest wait for any one socket operation,
    ``connections`` the most open at once per pool."""

    idle: float
    user_agent: str
    connections: int = 32
    _backend: _DeadlineBackend = field(default_factory=_DeadlineBackend)
    _pools: dict[str, httpcore.ConnectionPool | httpcore.HTTPProxy] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()

    def get(
        self, url: str, *, deadline: Deadline, limit: int, decode: bool, headers: Mapping[str, str] | None = None,
        progress: Progress | None = None, sink: Callable[[bytes], None] | None = None,
    ) -> Reply:
        """GET ``url``, following safe redirects; the body only for a 200 (see :func:`read_body`), handed
        to ``sink`` instead of kept when one is given.

        ``progress(size)`` opens the per-chunk callback for a body of declared ``size``.
        """
        sent = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate" if decode else "identity"}
        sent.update(headers or {})
        previous, current, guarded = url, url, False  # guarded: redirected from off this machine and its network
        for hops in range(1, MAX_REDIRECTS + 2):
            outward = (urlsplit(current).hostname or "").rstrip(".") if guarded else None
            try:
                reply = self._once("GET", current, sent, deadline, limit, decode, progress, sink=sink, outward=outward)
            except InwardPeer as peer:  # its name resolved otherwise when connected than when checked
                raise inward(url, previous, current, f"which reached {peer.address} when connected, an address "
                             "of this machine or of a private network") from None
            location = reply.headers.get("location")
            if reply.status not in _REDIRECT_STATUSES or not location:
                return reply
            guarded = off_network(url, reply.peer) if hops == 1 else guarded  # once: a name may answer otherwise
            target = redirect_target(current, location, hops, url if guarded else None)
            if origin(target) != origin(current):
                sent.pop("Authorization", None)  # credentials go only to the host they were given for
            previous, current = current, target
        raise AssertionError("unreachable: redirect_target refuses the hop after the last")

    def post(
        self, url: str, content: bytes, *, deadline: Deadline, limit: int, headers: Mapping[str, str],
        error_limit: int = 4096,
    ) -> Reply:
        """POST the JSON ``content`` to ``url``, following no redirect; the body decoded (see :func:`read_body`).

        A reply other than 200 comes with at most ``error_limit`` bytes of its body, for an error message.
        """
        return self.send("POST", url, content, deadline=deadline, limit=limit, error_limit=error_limit,
                         headers={"Content-Type": "application/json", **headers})

    def send(
        self, method: str, url: str, content: bytes | None = None, *, deadline: Deadline, limit: int,
        headers: Mapping[str, str], error_limit: int = 4096,
    ) -> Reply:
        """Send one ``method`` request (POST, PUT, HEAD...) with ``content``, following no redirect.

        The body is decoded and read for a 200 (see :func:`read_body`); any other reply comes with
        at most ``error_limit`` bytes of its body, for an error message.
        """
        sent = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate", **headers}
        return self._once(method, url, sent, deadline, limit, True, None, content, error_limit)

    def _once(
        self, method: str, url: str, headers: Mapping[str, str], deadline: Deadline, limit: int, decode: bool,
        progress: Progress | None, content: bytes | None = None, error_limit: int = 0,
        sink: Callable[[bytes], None] | None = None, outward: str | None = None,
    ) -> Reply:
        if not url.isascii():  # httpcore raises TypeError for one; skillpm's URLs are in normal form (registry.urls)
            raise RegistryError(f"{clean(url, FIELD)} is not an ASCII URL; refused")
        timeouts = {"connect": min(10.0, self.idle), "read": self.idle, "write": self.idle, "pool": self.idle}
        with self._backend.deadline(deadline, outward):
            pool = self._pool(url)
            with pool.stream(
                method, url, headers=list(headers.items()), content=content, extensions={"timeout": timeouts}
            ) as response:
                peer = "" if isinstance(pool, httpcore.HTTPProxy) else _peer(response.extensions.get("network_stream"))
                received: dict[str, str] = {}
                for name, value in response.headers:
                    key = name.decode("latin-1").lower()
                    text = value.decode("latin-1")
                    received[key] = f"{received[key]}, {text}" if key in received else text
                if response.status != 200:
                    body = b""
                    if error_limit:
                        body = read_body(
                            url, response.iter_stream(), received, error_limit, decode=decode, progress=_ignore,
                            method=method,
                        )
                    return Reply(response.status, received, body[:error_limit], url, peer)
                if method == "HEAD":  # its Content-Length is the size of a body it does not carry
                    return Reply(200, received, b"", url, peer)
                declared = received.get("content-length", "")
                size = int(declared) if declared.isdigit() else None
                if decode and size is not None and size > limit:
                    raise IndexFormatError(f"{url} is larger than {limit} bytes ({size}); refused before reading it")
                with progress(size) if progress else nullcontext(_ignore) as on_chunk:
                    body = read_body(url, response.iter_stream(), received, limit, decode=decode, progress=on_chunk,
                                     method=method, sink=sink)
                return Reply(200, received, body, url, peer)

    def _pool(self, url: str) -> httpcore.ConnectionPool | httpcore.HTTPProxy:
        parts = urlsplit(url)
        proxy = None
        if parts.hostname and not urllib.request.proxy_bypass(parts.hostname):
            proxies = urllib.request.getproxies()
            proxy = proxies.get(parts.scheme) or proxies.get("all")
            if proxy and not proxy.startswith(("http://", "https://")):
                proxy = None  # a SOCKS proxy needs a package skillpm does not install
        key = f"{parts.scheme}|{proxy or ''}"
        with self._lock:
            if key not in self._pools:
                tls = _ssl_context() if parts.scheme == "https" or (proxy or "").startswith("https") else None
                common = {"ssl_context": tls, "max_connections": self.connections, "network_backend": self._backend}
                pool = httpcore.HTTPProxy(proxy_url=proxy, **common) if proxy else httpcore.ConnectionPool(**common)
                self._pools[key] = pool
            return self._pools[key]
