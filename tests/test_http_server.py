"""A real HTTP server on 127.0.0.1 that serves a registry and injects faults; tests of the static handler.

``FaultServer`` is ``skillpm registry serve``'s handler with a script: each
request whose path ends with a scripted suffix takes the next fault from that
suffix's list (``always`` faults never run out). Every request is logged with its
headers and the status sent, so tests can count retries and 304s. The other
``test_http_*`` modules import the ``served`` fixture from here.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from skillpm.registry.serve import StaticHandler, make_server, server_url

BIG = 16 * 1024 * 1024 + 1
SLOW = 1.0  # seconds a slow or stalled response waits: longer than the tests' read timeout
TEST_TIMEOUT = "0.4"


@dataclass
class Script:
    """What the server does next, and what it has seen."""

    faults: dict[str, list[str]] = field(default_factory=dict)
    always: dict[str, str] = field(default_factory=dict)
    log: list[list] = field(default_factory=list)  # [path, status sent (0 until sent), request headers]
    lock: threading.Lock = field(default_factory=threading.Lock)
    authorization: str | None = None  # when set, requests without this Authorization header get 401
    arrived: threading.Event = field(default_factory=threading.Event)  # a "held" request came
    release: threading.Event = field(default_factory=threading.Event)  # ... and may be answered now

    def next_fault(self, path: str) -> str | None:
        with self.lock:
            for suffix, queue in self.faults.items():
                if path.endswith(suffix) and queue:
                    return queue.pop(0)
            return next((fault for suffix, fault in self.always.items() if path.endswith(suffix)), None)

    def requests(self, suffix: str, *, since: int = 0) -> list[list]:
        """The logged requests (from number ``since`` on) for paths ending with ``suffix``: (path, status, headers)."""
        with self.lock:
            return [entry for entry in self.log[since:] if entry[0].endswith(suffix)]


class FaultHandler(StaticHandler):
    """The static handler, doing what the server's script says first."""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].lstrip("/")
        self._entry = [path, 0, {key.lower(): value for key, value in self.headers.items()}]
        with self.server.script.lock:
            self.server.script.log.append(self._entry)
        fault = self.server.script.next_fault(path)
        if fault is not None and fault.startswith("redirect_"):
            return getattr(self, f"fault_{fault}")(path)
        wanted = self.server.script.authorization
        if wanted is not None and self.headers.get("Authorization") != wanted:
            return self._send(401, b"log in first", {"WWW-Authenticate": 'Bearer realm="skills"'})
        if fault is None or fault == "ok":
            return super().do_GET()
        return getattr(self, f"fault_{fault}")(path)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if hasattr(self, "_entry"):
            self._entry[1] = int(code)  # logged on arrival, so a slow reply is counted at once

    def _file(self, path: str) -> bytes:
        return Path(self.directory, path).read_bytes()

    def _head(self, status: int, length: int | None, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()

    def _send(self, status: int, body: bytes, extra: dict[str, str] | None = None) -> None:
        self._head(status, len(body), extra)
        self.wfile.write(body)

    def fault_500(self, path: str) -> None:
        self._send(500, b"boom")

    def fault_503(self, path: str) -> None:
        self._send(503, b"busy", {"Retry-After": "0"})

    def fault_429(self, path: str) -> None:
        self._send(429, b"slow down", {"Retry-After": "0"})

    def fault_429_wait(self, path: str) -> None:
        self._send(429, b"slow down", {"Retry-After": "1"})

    def fault_404(self, path: str) -> None:
        self._send(404, b"no such file")

    def fault_slow(self, path: str) -> None:
        time.sleep(SLOW)
        self.close_connection = True
        super().do_GET()

    def fault_held(self, path: str) -> None:
        """Answer once the test lets go (at most 30 s later), saying it came."""
        self.server.script.arrived.set()
        self.server.script.release.wait(30)
        super().do_GET()

    def fault_stall(self, path: str) -> None:
        data = self._file(path)
        self._head(200, len(data))
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        time.sleep(SLOW)
        self.close_connection = True

    def fault_truncate(self, path: str) -> None:
        data = self._file(path)
        self._head(200, len(data))
        self.wfile.write(data[: len(data) // 2])
        self.close_connection = True

    def fault_corrupt(self, path: str) -> None:
        data = bytearray(self._file(path))
        data[len(data) // 2] ^= 0xFF
        self._send(200, bytes(data))

    def fault_longer(self, path: str) -> None:
        self._send(200, self._file(path) + b"extra bytes")

    def fault_malformed(self, path: str) -> None:
        self._send(200, b'{"format-version": 1, "name": ')

    def fault_huge(self, path: str) -> None:
        self._head(200, BIG, {"Content-Type": "application/json"})
        self.close_connection = True

    def fault_huge_unsized(self, path: str) -> None:
        self._head(200, None, {"Connection": "close"})
        self.close_connection = True
        try:
            for _ in range(BIG // 65536 + 1):
                self.wfile.write(b" " * 65536)
        except OSError:
            pass  # the client hung up once it had seen enough

    def fault_badgzip(self, path: str) -> None:
        self._send(200, b"this is not gzip", {"Content-Encoding": "gzip"})

    def fault_format2(self, path: str) -> None:
        data = json.loads(self._file(path))
        data["format-version"] = 2
        self._send(200, json.dumps(data).encode())

    def fault_redirect_localhost(self, path: str) -> None:
        """Redirect to the same server under another host name (another origin)."""
        port = self.server.server_address[1]
        self._send(302, b"", {"Location": f"http://localhost:{port}/{path}"})

    def fault_vanish(self, path: str) -> None:
        data = self._file(path)
        self._head(200, len(data))
        self.wfile.write(data[: len(data) // 3])
        self.wfile.flush()
        self.close_connection = True
        threading.Thread(target=self.server.stop).start()


class Served:
    """A running FaultServer over one directory."""

    def __init__(self, directory: Path) -> None:
        self.script = Script()
        self.server = make_server(directory, handler=FaultHandler)
        self.server.script = self.script
        self.server.stop = self.stop
        self.server.handle_error = lambda request, address: None  # clients hanging up are expected
        self.url = server_url(self.server)
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        self._stopped = False

    def stop(self) -> None:
        """Stop serving and close the listening socket (idempotent)."""
        if not self._stopped:
            self._stopped = True
            self.server.shutdown()
            self.server.server_close()

    def fail(self, suffix: str, *faults: str) -> None:
        """The next requests for ``suffix`` get ``faults``, one each."""
        with self.script.lock:
            self.script.faults.setdefault(suffix, []).extend(faults)

    def always(self, suffix: str, fault: str) -> None:
        with self.script.lock:
            self.script.always[suffix] = fault


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries without the real backoff, so fault tests take milliseconds."""
    monkeypatch.setenv("SKILLPM_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("SKILLPM_HTTP_RETRIES", "4")


@pytest.fixture
def served(registry: Path, fast_retries) -> Iterator[Served]:
    """The test registry (a private copy) behind a FaultServer on 127.0.0.1."""
    server = Served(registry)
    yield server
    server.stop()


# --- the static handler of 'skillpm registry serve' ---------------------------------------------------


def test_files_come_with_length_etag_type_and_caching(served: Served, registry: Path) -> None:
    response = httpx.get(f"{served.url}/config.json")
    assert response.status_code == 200
    assert response.content == (registry / "config.json").read_bytes()
    assert response.headers["content-length"] == str(len(response.content))
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["etag"].startswith('"') and response.headers["last-modified"]
    again = httpx.get(f"{served.url}/config.json", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_artifacts_are_immutable_and_gzip(served: Served, registry: Path) -> None:
    artifact = next((registry / "artifacts").rglob("*.tar.gz")).relative_to(registry).as_posix()
    response = httpx.get(f"{served.url}/{artifact}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/gzip"
    assert "immutable" in response.headers["cache-control"]


@pytest.mark.parametrize(
    "path", ["artifacts/", "index/", "pages/", "missing.json", "../registry/config.json", "%2e%2e/etc/passwd"]
)
def test_no_listings_and_nothing_outside(served: Served, path: str) -> None:
    assert httpx.get(f"{served.url}/{path}").status_code == 404


def test_a_folder_s_index_html_linked_out_of_the_registry_is_not_served(served: Served, registry: Path,
                                                                        tmp_path: Path) -> None:
    """The folder's index.html was served without checking where it leads (unlike every other file)."""
    secret = tmp_path / "secret.html"
    secret.write_text("private\n")
    folder = registry / "pages" / "linked"
    folder.mkdir(parents=True)
    (folder / "index.html").symlink_to(secret)
    assert httpx.get(f"{served.url}/pages/linked/").status_code == 404
    (folder / "index.html").unlink()
    (folder / "index.html").write_text("own\n")
    assert httpx.get(f"{served.url}/pages/linked/").text == "own\n"


def test_a_version_control_folder_of_the_registry_is_not_served(served: Served, registry: Path) -> None:
    """A registry kept in git (as one published on a static host is): its .git/config may name a remote with
    credentials, and 'registry serve --bind 0.0.0.0' would hand it to anyone who asks."""
    (registry / ".git").mkdir()
    (registry / ".git" / "config").write_text('[remote "origin"]\n\turl = https://user:token@host/r.git\n')
    for path in (".git/config", ".GIT/config", "pages/../.git/config"):
        assert httpx.get(f"{served.url}/{path}").status_code == 404
    assert httpx.get(f"{served.url}/config.json").status_code == 200


def test_the_root_answers_with_the_home_page_not_a_listing(served: Served, registry: Path) -> None:
    response = httpx.get(f"{served.url}/")
    assert response.status_code == 200 and response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.content == (registry / "index.html").read_bytes()


def test_read_only(served: Served) -> None:
    assert httpx.put(f"{served.url}/config.json", content=b"{}").status_code == 501
    assert httpx.post(f"{served.url}/config.json", content=b"{}").status_code == 501
