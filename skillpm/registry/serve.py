"""Serving a registry directory over HTTP, read-only, for ``skillpm registry serve`` and tests.

:func:`make_server` serves a directory with ETag, Last-Modified and caching
headers (see :class:`StaticHandler`); nothing here reads from a network.
"""

from __future__ import annotations

import os
from email.utils import formatdate
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from skillpm.containment import vcs_component


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

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(404, "Not Found")

    def send_head(self):  # type: ignore[override]
        path = Path(self.translate_path(self.path))
        root = Path(self.directory).resolve()
        try:
            resolved = path.resolve()
            if resolved.is_dir() and (resolved / "index.html").is_file():  # as any static web server does
                resolved = (resolved / "index.html").resolve()
            if vcs_component(resolved.relative_to(root)):  # after links, the folder's index.html too
                raise ValueError("a version-control folder's file")  # .git/config may hold a remote's credentials
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
