"""Serving a registry directory over HTTP, read-only, for ``skillpm registry serve`` and tests.

:func:`make_server` serves a directory with ETag, Last-Modified and caching
headers (see :class:`StaticHandler`); nothing here reads from a network.
A client cannot hold the server: each request's head (its request line and
headers, and the wait for them on a kept-alive connection) must arrive within
:attr:`StaticHandler.timeout` seconds in all, however slowly it drips, or the
connection is closed; at most ``max_connections`` are served at once (one more
is closed on arrival); and a client that goes away mid-answer is no traceback
on the operator's terminal. Served on a loopback address, only requests naming
this machine (``Host: 127.0.0.1:PORT``, ``localhost:PORT``, ``[::1]:PORT``, the
address served) are answered, so a web page cannot read the registry through a
DNS name it points at 127.0.0.1 ("DNS rebinding"); served on any other address
(``--bind 0.0.0.0``), it answers every name, as a server for others must.
Hidden files (a name starting with ``.``, but for ``.well-known``: a write's
journal and temporary files, ``.env``) and private keys (PEM or OpenSSH, by
their first 4 KiB) are never served: a key left in the folder stays there.
"""

from __future__ import annotations

import os
from email.utils import formatdate
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from skillpm.containment import vcs_component

_KEY_SNIFF = 4096  # bytes of a file looked at for a private key's PEM armour


def is_private_key(head: bytes) -> bool:
    """Whether ``head`` (a file's first bytes) holds a private key's PEM armour: PKCS#8, encrypted or
    not, PKCS#1, SEC 1 or OpenSSH (``-----BEGIN ... PRIVATE KEY-----``), wherever in it it starts, as
    OpenSSL's PEM reader finds it after any text."""
    return any(b"PRIVATE KEY-----" in line for line in head.splitlines() if line.lstrip().startswith(b"-----BEGIN "))


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
        ".html": "text/html; charset=utf-8",
        ".css": "text/css; charset=utf-8",  # the registry's web pages (browsers refuse a stylesheet
        ".js": "text/javascript; charset=utf-8",  # or script served as anything else)
        ".whl": "application/octet-stream",
        "": "application/octet-stream",
    }
    server_version = "skillpm-registry"
    protocol_version = "HTTP/1.1"
    quiet = True
    timeout = 30.0  # seconds for a request's head to arrive, idle wait included, and for each write

    def handle_one_request(self) -> None:
        import socket
        import threading

        def give_up() -> None:  # the head is late: end the reads, which ends this connection
            try:
                self.connection.shutdown(socket.SHUT_RD)
            except OSError:
                pass

        self._late = threading.Timer(self.timeout, give_up)
        self._late.daemon = True
        self._late.start()
        try:
            super().handle_one_request()
        finally:
            self._late.cancel()

    def parse_request(self) -> bool:
        self._late.cancel()  # the head is in: the answer's writes have the socket's own timeout
        if not super().parse_request():
            return False
        hosts: frozenset[str] | None = getattr(self.server, "hosts", None)
        host = self.headers.get("Host")
        if hosts is not None and host is not None and host.strip().lower() not in hosts:
            self.send_error(421, "Misdirected Request", "this server answers only requests for this machine")
            return False
        return True

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(404, "Not Found")

    def send_head(self):  # type: ignore[override]
        path = Path(self.translate_path(self.path))
        root = Path(self.directory).resolve()
        try:
            resolved = path.resolve()
            if resolved.is_dir() and (resolved / "index.html").is_file():  # as any static web server does
                resolved = (resolved / "index.html").resolve()
            relative = resolved.relative_to(root)
            if vcs_component(relative):  # after links, the folder's index.html too
                raise ValueError("a version-control folder's file")  # .git/config may hold a remote's credentials
            if any(part.startswith(".") and part != ".well-known" for part in relative.parts):
                raise ValueError("a hidden file")
            stat = resolved.stat()
        except (OSError, ValueError, RuntimeError):  # RuntimeError: a loop of links (Python 3.11, 3.12)
            self.send_error(404, "Not Found")
            return None
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
        if is_private_key(handle.read(_KEY_SNIFF)):
            handle.close()
            self.send_error(404, "Not Found")
            return None
        handle.seek(0)
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
    directory: Path, *, bind: str = "127.0.0.1", port: int = 0, handler: type[StaticHandler] = StaticHandler,
    max_connections: int = 64,
) -> ThreadingHTTPServer:
    """A threading HTTP server for ``directory`` on ``bind``:``port`` (0: any free port), serving at most
    ``max_connections`` at once; not yet serving."""
    import functools
    import socket
    import threading

    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in bind else socket.AF_INET
        daemon_threads = True
        slots = threading.BoundedSemaphore(max_connections)
        #: The Host headers answered (None: any): on loopback, this machine's names at the port served.
        hosts: frozenset[str] | None = None

        def process_request(self, request, client_address):  # type: ignore[no-untyped-def]
            if not self.slots.acquire(blocking=False):  # full: close it now, never queue a thread per socket
                self.shutdown_request(request)
                return
            thread = threading.Thread(target=self.process_request_thread, args=(request, client_address), daemon=True,
                                      name=f"skillpm-serve {client_address[0]}")
            try:
                thread.start()
            except RuntimeError:  # no thread to be had: the slot is given back (the caller closes the request)
                self.slots.release()
                raise
            # Anything else (Ctrl-C while start() waits for the thread) leaves the slot to the thread, which
            # gives it back when it ends: giving it back here too raised ValueError in place of the Ctrl-C,
            # and the server went on serving.

        def process_request_thread(self, request, client_address):  # type: ignore[no-untyped-def]
            try:
                super().process_request_thread(request, client_address)
            finally:
                self.slots.release()

        def handle_error(self, request, client_address):  # type: ignore[no-untyped-def]
            import sys

            from skillpm.display import clean
            from skillpm.stderr import to_stderr

            error = sys.exc_info()[1]
            if not isinstance(error, (ConnectionError, TimeoutError)):  # a client that went away: nothing to say
                to_stderr(f"warning: a request from {client_address[0]} failed: {clean(repr(error), 200)}")

    server = Server((bind, port), functools.partial(handler, directory=str(directory)))
    address, served = server.server_address[:2]
    if _is_loopback(address):
        names = ("127.0.0.1", "localhost", "[::1]", f"[{address}]" if ":" in address else address)
        server.hosts = frozenset([f"{host}:{served}" for host in names] + (list(names) if served == 80 else []))
    return server


def _is_loopback(address: str) -> bool:
    """Whether the bound ``address`` is this machine's alone (127.0.0.0/8, ::1, ::ffff:127.x.y.z)."""
    import ipaddress

    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(parsed, "ipv4_mapped", None)
    return (mapped or parsed).is_loopback


def server_url(server: ThreadingHTTPServer) -> str:
    """The ``http://host:port`` a server made by :func:`make_server` answers on."""
    host, port = server.server_address[:2]
    host = f"[{host}]" if ":" in str(host) else host
    return f"http://{host}:{port}"
