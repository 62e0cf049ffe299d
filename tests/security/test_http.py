"""Hostile HTTP servers (issue 15, class 5): decoded-size bombs, slow servers, unsafe redirects, dead remotes.

Every case runs the real command line against a server on 127.0.0.1 written here
(:class:`RawServer`: one request per connection, raw sockets, so it can lie in ways
``http.server`` will not) that serves the test registry except for the scripted
paths. Each server stops in teardown; every loop in a handler is bounded by a stop
flag and a byte or time cap.
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import socket
import ssl
import threading
import time
import unicodedata
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

KERNEL = "kernel-helper"
ARTIFACT = f"{KERNEL}-1.0.0-sm_90a.tar.gz"
DOCUMENT = f"{KERNEL}.json"
GIB = 1024 * 1024 * 1024
QUICK = {"SKILLPM_HTTP_BACKOFF": "0.01"}

Handler = Callable[["RawServer", socket.socket, str], None]


class RawServer:
    """An HTTP/1.1 server on 127.0.0.1 (optionally TLS) that runs a scripted handler per path suffix.

    Paths without a script are served from ``root`` with a correct Content-Length.
    ``requests`` logs each request's path and headers (lower-case names).
    """

    def __init__(self, root: Path, script: dict[str, Handler], tls: ssl.SSLContext | None = None) -> None:
        self.root = root
        self.script = script
        self.tls = tls
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        try:
            connection.settimeout(10)
            if self.tls is not None:
                connection = self.tls.wrap_socket(connection, server_side=True)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                data = connection.recv(4096)
                if not data:
                    return
                head += data
            lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1].lstrip("/")
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
            self.requests.append((path, headers))
            handler = next((h for suffix, h in self.script.items() if path.split("?")[0].endswith(suffix)), None)
            (handler or serve_file)(self, connection, path)
        except OSError:
            pass  # the client hung up: expected when it refuses what it is sent
        finally:
            connection.close()

    def file(self, path: str) -> bytes:
        return (self.root / path.split("?")[0]).read_bytes()

    def hits(self, suffix: str) -> int:
        return sum(1 for path, _ in self.requests if path.split("?")[0].endswith(suffix))

    def stop(self) -> None:
        self.stopping.set()
        self._listener.close()
        self._accepting.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)


def send_head(connection: socket.socket, status: str, headers: dict[str, str]) -> None:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items()), "Connection: close", "", ""]
    connection.sendall("\r\n".join(lines).encode("latin-1"))


def serve_file(server: RawServer, connection: socket.socket, path: str) -> None:
    try:
        data = server.file(path)
    except OSError:
        send_head(connection, "404 Not Found", {"Content-Length": "0"})
        return
    send_head(connection, "200 OK", {"Content-Length": str(len(data))})
    connection.sendall(data)


def reply(status: str, body: bytes, **headers: str) -> Handler:
    """A handler that sends ``body`` with Content-Length and ``headers`` (``_`` in names become ``-``)."""

    def handle(server: RawServer, connection: socket.socket, path: str) -> None:
        send_head(connection, status, {"Content-Length": str(len(body)), **_names(headers)})
        connection.sendall(body)

    return handle


def _names(headers: dict[str, str]) -> dict[str, str]:
    return {name.replace("_", "-"): value for name, value in headers.items()}


def endless_chunks(chunk: bytes, cap: int = 2 * GIB, status: str = "200 OK") -> Handler:
    """A chunked body that never ends (until the client hangs up, the server stops, or ``cap`` bytes)."""

    def handle(server: RawServer, connection: socket.socket, path: str) -> None:
        send_head(connection, status, {"Transfer-Encoding": "chunked"})
        framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        sent = 0
        while not server.stopping.is_set() and sent < cap:
            connection.sendall(framed)
            sent += len(chunk)

    return handle


def trickle(head: bytes, body: bytes, every: float = 0.5, cap: float = 60.0) -> Handler:
    """Send ``head`` at once, then ``body`` one byte every ``every`` seconds (for at most ``cap`` seconds)."""

    def handle(server: RawServer, connection: socket.socket, path: str) -> None:
        connection.sendall(head)
        start = time.monotonic()
        for byte in body:
            if server.stopping.wait(every) or time.monotonic() - start > cap:
                return
            connection.sendall(bytes([byte]))

    return handle


def redirect(to: Callable[[str], str], status: str = "302 Found") -> Handler:
    def handle(server: RawServer, connection: socket.socket, path: str) -> None:
        send_head(connection, status, {"Location": to(path), "Content-Length": "0"})

    return handle


@pytest.fixture
def serve(registry: Path) -> Iterator[Callable[..., RawServer]]:
    """``serve(script, root=registry, tls=None)``: a RawServer over the test registry; all stopped after the case."""
    servers: list[RawServer] = []

    def start(script: dict[str, Handler] | None = None, *, root: Path = registry, tls=None) -> RawServer:
        server = RawServer(root, script or {}, tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    """1 GiB of zeros as gzip (about 4.5 MB), as zlib ``deflate``, and as gzip three times over (about 2 KB).

    Compressed at level 1: a third of level 9's time, and a bomb all the same (1 GiB from 4.5 MB)."""

    def compress(wbits: int) -> bytes:
        packer = zlib.compressobj(1, zlib.DEFLATED, wbits)
        block = bytes(1 << 20)
        return b"".join([*(packer.compress(block) for _ in range(GIB >> 20)), packer.flush()])

    def gzip(data: bytes) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)
        return packer.compress(data) + packer.flush()

    once = compress(31)
    return {"gzip": once, "deflate": compress(15), "gzip3": gzip(gzip(once))}


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def tls(tls_files: tuple[Path, Path]) -> tuple[ssl.SSLContext, dict[str, str]]:
    """A server-side TLS context, and the environment under which skillpm trusts its certificate."""
    cert, key = tls_files
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context, {"SSL_CERT_FILE": str(cert)}


def install(hostile, url: str, **env: str):
    return hostile.run("install", KERNEL, "--arch", "9.0", "--registry", url, env={**QUICK, **env})


def assert_unchanged(hostile, before) -> None:
    """Nothing outside skillpm's cache changed: no project file, no lockfile, nothing in HOME."""
    assert hostile.changed_outside(before, hostile.cache) == []


# --- 1. decoded size -----------------------------------------------------------------------------------


@pytest.mark.parametrize("document", ["config.json", DOCUMENT])
def test_a_stacked_gzip_bomb_document_is_refused(hostile, serve, bombs, document) -> None:
    """Threat: 'Content-Encoding: gzip, gzip, gzip', a few hundred bytes decoding to 1 GiB, exhausts memory."""
    server = serve({document: reply("200 OK", bombs["gzip3"], Content_Encoding="gzip, gzip, gzip")})
    before = hostile.state()
    hostile.refused(install(hostile, server.url), "stacked Content-Encoding", "127.0.0.1")
    assert_unchanged(hostile, before)


def test_a_stacked_encoding_in_repeated_headers_is_refused(hostile, serve, bombs) -> None:
    """Threat: the same stack split over several Content-Encoding header lines (and identity padding)."""

    def handle(server: RawServer, connection: socket.socket, path: str) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Encoding: identity\r\nContent-Encoding: gzip\r\n"
        connection.sendall(head + b"Content-Encoding: gzip\r\nConnection: close\r\n\r\n" + bombs["gzip3"])

    server = serve({DOCUMENT: handle})
    hostile.refused(install(hostile, server.url), "stacked Content-Encoding")


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_single_layer_bomb_document_is_cut_at_the_document_limit(hostile, serve, bombs, encoding) -> None:
    """Threat: one gzip or deflate layer of 1 MB that decodes to 1 GiB (decoded bytes must be what is counted)."""
    server = serve({DOCUMENT: reply("200 OK", bombs[encoding], Content_Encoding=encoding)})
    before = hostile.state()
    hostile.refused(install(hostile, server.url), "larger than", DOCUMENT)
    assert_unchanged(hostile, before)


@pytest.mark.parametrize("encoding", ["br", "compress", "zstd", "gzip;q=1"])
def test_an_encoding_skillpm_did_not_ask_for_is_refused(hostile, serve, encoding) -> None:
    """Threat: an encoding whose decoder has no size bound (or none at all) is used to smuggle a bomb."""
    server = serve({DOCUMENT: reply("200 OK", b"\x00" * 64, Content_Encoding=encoding)})
    hostile.refused(install(hostile, server.url), "Content-Encoding", "refusing")


def test_a_stacked_gzip_bomb_artifact_is_refused(hostile, serve, bombs) -> None:
    """Threat: the artifact served as a stacked gzip bomb; it is read as stored, at most its indexed size + 1."""
    server = serve({ARTIFACT: reply("200 OK", bombs["gzip3"], Content_Encoding="gzip, gzip, gzip")})
    before = hostile.state()
    hostile.refused(install(hostile, server.url), ARTIFACT)
    assert_unchanged(hostile, before)
    assert server.requests[-1][1].get("accept-encoding") == "identity"


@pytest.mark.parametrize("target", [DOCUMENT, ARTIFACT])
def test_an_endless_chunked_body_is_cut_off(hostile, serve, target) -> None:
    """Threat: a chunked body with no length that never ends fills memory (document and artifact)."""
    server = serve({target: endless_chunks(b" " * 65536)})
    before = hostile.state()
    hostile.refused(install(hostile, server.url), "larger than")
    assert_unchanged(hostile, before)


def test_a_content_length_that_lies_low_does_not_let_more_in(hostile, serve) -> None:
    """Threat: Content-Length says 40 bytes, then megabytes follow; only the 40 declared bytes are read."""

    def handle(server: RawServer, connection: socket.socket, path: str) -> None:
        send_head(connection, "200 OK", {"Content-Length": "40"})
        for _ in range(64):
            connection.sendall(b"[" * 65536)

    server = serve({DOCUMENT: handle})
    hostile.refused(install(hostile, server.url), "not valid JSON", DOCUMENT)


# --- 2. time ------------------------------------------------------------------------------------------


def test_slowloris_headers_end_at_the_request_deadline(hostile, serve) -> None:
    """Threat: a server that sends its headers one byte every half second holds the command forever."""
    endless_header = b"X-Padding: " + b"a" * 10_000 + b"\r\n\r\n"
    server = serve({"config.json": trickle(b"HTTP/1.1 200 OK\r\n", endless_header)})
    before = hostile.state()
    error = hostile.refused(install(hostile, server.url, SKILLPM_HTTP_TIMEOUT="2"), "timed out", "SKILLPM_HTTP_TIMEOUT")
    assert f"127.0.0.1:{server.port}" in error
    assert hostile.seconds < 15  # 2 s, retried once, plus start-up; unbounded before
    assert server.hits("config.json") == 2  # a timeout is retried once, not five times
    assert_unchanged(hostile, before)


def test_slowloris_body_ends_at_the_deadline_set_by_the_flag(hostile, serve) -> None:
    """Threat: headers at once, then the body one byte every half second (never idle long enough to time out)."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n"
    server = serve({ARTIFACT: trickle(head, b"x" * 100_000)})
    before = hostile.state()
    completed = hostile.run(
        "install", KERNEL, "--arch", "9.0", "--registry", server.url, "--timeout", "2", env=QUICK
    )
    hostile.refused(completed, "timed out", "no complete answer", "--timeout")
    assert hostile.seconds < 15
    assert_unchanged(hostile, before)


def test_a_command_gives_up_on_a_registry_when_its_deadline_runs_out(hostile, serve) -> None:
    """Threat: a server answering 503 with 'Retry-After' keeps a command retrying for minutes."""
    server = serve({"config.json": reply("503 Service Unavailable", b"busy", Retry_After="1")})
    env = {"SKILLPM_HTTP_RETRIES": "1000", "SKILLPM_HTTP_DEADLINE": "3"}
    error = hostile.refused(install(hostile, server.url, **env), "SKILLPM_HTTP_DEADLINE", "HTTP 503")
    assert "failed" in error and hostile.seconds < 15
    assert server.hits("config.json") <= 4


# --- 3. redirects -------------------------------------------------------------------------------------


def test_an_https_registry_may_not_redirect_to_http(hostile, serve, tls) -> None:
    """Threat: an https registry (or whoever controls it) downgrades the reads to plain http."""
    context, env = tls
    plain = serve()
    secure = serve({"config.json": redirect(lambda path: f"{plain.url}/{path}")}, tls=context)
    before = hostile.state()
    hostile.refused(install(hostile, secure.url, **env), "refusing a redirect from https:// to http://")
    assert plain.requests == []
    assert_unchanged(hostile, before)


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/config.json", "data:,{}"])
def test_a_redirect_to_another_scheme_is_refused(hostile, serve, tls, location) -> None:
    """Threat: a redirect into a local file or another protocol (cross-scheme), from https."""
    context, env = tls
    secure = serve({DOCUMENT: redirect(lambda path: location)}, tls=context)
    hostile.refused(install(hostile, secure.url, **env), "refusing a redirect")


@pytest.mark.parametrize("location", ["https://127.0.0.1:99999/x", "https://[::1/x", "https://127.0.0.1/\u00e9\u202e"])
def test_a_malformed_redirect_is_refused_in_one_line(hostile, serve, tls, location) -> None:
    """Threat: a Location no URL parser agrees on (bad port, broken IPv6, non-ASCII with a bidi override)."""
    context, env = tls

    def handle(server: RawServer, connection: socket.socket, path: str) -> None:
        connection.sendall(b"HTTP/1.1 302 Found\r\nLocation: " + location.encode() + b"\r\nConnection: close\r\n\r\n")

    secure = serve({"config.json": handle}, tls=context)
    error = hostile.refused(install(hostile, secure.url, **env), "refusing a redirect to a malformed URL")
    assert not [char for char in error if unicodedata.category(char) in ("Cc", "Cf")], error  # shown as escapes


def test_a_redirect_loop_stops_after_five(hostile, serve, tls) -> None:
    """Threat: a redirect loop (each hop a new URL) costs a request per hop, without end or up to 20."""
    context, env = tls
    hops = iter(range(1000))
    secure = serve({"config.json": redirect(lambda path: f"/config.json?hop={next(hops)}", "307 Temporary Redirect")},
                   tls=context)
    hostile.refused(install(hostile, secure.url, **env), "more than 5 redirects")
    assert secure.hits("config.json") == 6


def test_a_redirect_to_another_host_gets_no_credentials(hostile, serve, registry) -> None:
    """Threat: credentials follow a redirect to another host; skillpm sends none, and refuses URLs that carry them."""
    other = serve()
    first = serve({"": redirect(lambda path: f"http://localhost:{other.port}/{path}", "301 Moved Permanently")})
    hostile.ok(install(hostile, first.url))
    seen = [headers for _, headers in other.requests]
    assert seen and all(not {"authorization", "cookie", "proxy-authorization"} & set(h) for h in seen)
    assert all(not {"authorization", "cookie"} & set(h) for _, h in first.requests)

    leaky = serve({"": redirect(lambda path: f"http://user:secret@localhost:{other.port}/{path}")})
    hostile.refused(install(hostile, leaky.url), "user name or password")


# --- 4. refused connections ---------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_refused_connection_fails_at_once(hostile) -> None:
    """Threat (availability): nothing listens, yet the command retries five times with backoff before saying so."""
    port = _closed_port()
    completed = hostile.run("install", KERNEL, "--arch", "9.0", "--registry", f"http://127.0.0.1:{port}/")
    error = hostile.refused(completed, "failed 1 time;", "cannot connect", f"127.0.0.1:{port}")
    assert "times" not in error
    assert hostile.seconds < 10


# --- 5. one dead remote among several -----------------------------------------------------------------


def _configure(hostile, *remotes: tuple[str, str, int]) -> None:
    for name, url, priority in remotes:
        hostile.ok(hostile.run("registry", "add-remote", name, url, "--priority", str(priority)))


def test_a_dead_remote_blocks_only_what_it_could_have_served(hostile, serve) -> None:
    """Threats: one configured registry that refuses connections blocks every command (availability), or
    lets a lower-priority registry's package of the same name be installed in its place (dependency confusion).

    A dead registry after the one that serves a package is never asked; one before it stops
    ``install`` and ``info`` of that package with a hint; ``search`` lists what the others have.
    """
    live = serve()
    dead = f"http://127.0.0.1:{_closed_port()}"
    _configure(hostile, ("dead", dead, 1), ("live", live.url, 5))
    for args in (["install", KERNEL, "--arch", "9.0"], ["info", KERNEL], ["resolve", KERNEL, "--arch", "9.0"]):
        completed = hostile.ok(hostile.run(*args, env=QUICK))
        assert dead not in completed.stderr, completed.stderr
    assert live.url in (hostile.project / "skills.lock").read_text()

    hostile.ok(hostile.run("registry", "remove", "dead"))
    _configure(hostile, ("dead", dead, 10))  # now first: whatever it serves might shadow the live registry's
    before = hostile.state()
    for args in (["install", "doc-writer", "--arch", "9.0"], ["info", KERNEL]):
        completed = hostile.run(*args, env=QUICK)
        hostile.refused(completed, dead, "cannot connect")
        assert "comes first among the configured registries" in completed.stderr and "--registry" in completed.stderr
    assert hostile.changed_outside(before, hostile.cache, hostile.home) == []
    completed = hostile.ok(hostile.run("search", "kernel", env=QUICK))
    warnings = [line for line in completed.stderr.splitlines() if line.startswith("warning: skipping registry")]
    assert len(warnings) == 1 and dead in warnings[0] and "cannot connect" in warnings[0], completed.stderr
    assert KERNEL in completed.stdout
    hostile.ok(hostile.run("install", "doc-writer", "--arch", "9.0", "--registry", "live", env=QUICK))


def test_a_silent_remote_costs_one_deadline_and_a_pinned_package_takes_only_its_locked_bytes(hostile, serve) -> None:
    """Threat (availability): a remote that accepts connections and never answers.

    ``search`` asks it once (one retry), then skips it with a warning; ``install`` of a package
    it could have served stops after that one deadline, not after minutes. When the registry the
    lockfile pins a package to is down, ``sync`` takes the locked bytes from the artifact cache
    (pinned by sha256), and without them fails naming that registry: never another's package.
    """
    silent = serve({"": lambda server, connection, path: server.stopping.wait(60)})  # reads the request, never answers
    live = serve()
    _configure(hostile, ("live", live.url, 5))
    hostile.ok(hostile.run("install", KERNEL, "--arch", "9.0", env=QUICK))
    _configure(hostile, ("silent", silent.url, 10))
    slow = {**QUICK, "SKILLPM_HTTP_TIMEOUT": "1"}
    completed = hostile.ok(hostile.run("search", "doc", env=slow))
    assert hostile.seconds < 15 and "doc-writer" in completed.stdout
    assert silent.hits("search.json") + silent.hits("config.json") == 2  # one request retried once, then skipped
    hostile.refused(hostile.run("install", "doc-writer", "--arch", "9.0", env=slow), silent.url, "timed out")
    assert hostile.seconds < 15

    assert (hostile.project / "skills.lock").read_text().count(live.url) == 1
    live.stop()  # the pinned registry itself is now dead: its locked bytes are in the cache
    (hostile.project / ".claude" / "skills" / KERNEL / "SKILL.md").unlink()
    completed = hostile.ok(hostile.run("sync", env=slow))
    assert "installed from the artifact cache by the locked sha256" in completed.stderr
    assert hostile.seconds < 15  # the silent one, asked in turn, costs one deadline
    assert (hostile.project / ".claude" / "skills" / KERNEL / "SKILL.md").is_file()
    shutil.rmtree(hostile.cache / "artifacts")
    (hostile.project / ".claude" / "skills" / KERNEL / "SKILL.md").unlink()
    hostile.refused(hostile.run("sync", env=slow), "cannot connect", live.url, "not in the artifact cache either")


