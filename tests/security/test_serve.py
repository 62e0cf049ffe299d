"""``registry serve`` against hostile clients: slow or idle connections, many of them, clients that go away
mid-answer, and web pages that reach a registry on 127.0.0.1 through a DNS name of theirs ("DNS rebinding").

Found by a hostile review: 1,026 idle connections held the server (every file descriptor taken, the accept
loop spinning the CPU, no request answered) until the client let go; a request half sent was waited for
forever; each download a client reset printed a 25-line traceback on the operator's terminal; and any
``Host`` was answered.
"""

from __future__ import annotations

import select
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from conftest import registry_serve
from skillpm.registry.serve import StaticHandler, make_server, server_url


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``skillpm registry serve`` of a folder holding one 4 MiB artifact, and the URL it printed."""
    root = tmp_path / "registry"
    (root / "artifacts").mkdir(parents=True)
    (root / "artifacts" / "big.tar.gz").write_bytes(b"\0" * (4 << 20))
    (root / "config.json").write_text("{}")
    with registry_serve(root) as (server, line):
        yield server, line.split(" at ", 1)[1].split()[0].rstrip("/")


def _request(url: str, path: str, host: str) -> bytes:
    """The status line the server answers ``GET path`` with, naming ``host``."""
    _, _, address = url.partition("://")
    name, port = address.rsplit(":", 1)
    with socket.create_connection((name, int(port)), timeout=10) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        return connection.makefile("rb").readline()


def test_on_loopback_only_requests_naming_this_machine_are_answered(served) -> None:
    _server, url = served
    port = url.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}"):
        assert b" 200 " in _request(url, "/config.json", host), host
    for host in (f"attacker.example:{port}", "attacker.example", f"127.0.0.1:{int(port) + 1}", "127.0.0.1"):
        assert b" 421 " in _request(url, "/config.json", host), host


def test_a_client_going_away_mid_download_is_no_traceback(served) -> None:
    server, url = served
    _, _, address = url.partition("://")
    name, port = address.rsplit(":", 1)
    for _ in range(3):
        with socket.create_connection((name, int(port)), timeout=10) as connection:
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")  # close = reset
            connection.sendall(f"GET /artifacts/big.tar.gz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            connection.recv(1024)
    assert b" 200 " in _request(url, "/config.json", f"127.0.0.1:{port}")  # still serving
    server.send_signal(signal.SIGINT)
    server.wait(timeout=10)
    stderr = server.stderr.read()  # type: ignore[union-attr]
    assert "Traceback" not in stderr and "Exception" not in stderr, stderr


def _serving(tmp_path: Path, **options: object) -> tuple[str, threading.Thread, object]:
    (tmp_path / "config.json").write_text("{}")
    server = make_server(tmp_path, **options)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server_url(server), thread, server


def test_a_connection_idle_or_sending_slowly_is_closed(tmp_path: Path) -> None:
    assert 0 < StaticHandler.timeout <= 60
    quick = type("Quick", (StaticHandler,), {"timeout": 0.5})
    url, _thread, server = _serving(tmp_path, handler=quick)
    try:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(b"GET /config.json HTTP/1.1\r\nHost: 127")  # never finished
            started = time.monotonic()
            assert connection.recv(1024) == b""  # closed by the server, not by this test's 10 s
            assert time.monotonic() - started < 9
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        server.server_close()  # type: ignore[attr-defined]


def test_connections_past_the_limit_are_closed_at_once_and_the_server_recovers(tmp_path: Path) -> None:
    url, _thread, server = _serving(tmp_path, max_connections=4)
    port = int(url.rsplit(":", 1)[1])
    try:
        idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(4)]
        time.sleep(0.2)  # the server has taken all four
        with socket.create_connection(("127.0.0.1", port), timeout=10) as extra:
            extra.sendall(f"GET /config.json HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            try:
                answer = extra.recv(1024)
            except ConnectionResetError:
                answer = b""
            assert answer == b""  # closed, never queued
        for connection in idle:
            connection.close()
        time.sleep(0.2)
        assert b" 200 " in _request(url, "/config.json", f"127.0.0.1:{port}")
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        server.server_close()  # type: ignore[attr-defined]


def test_a_request_head_dripping_in_is_closed_at_the_deadline(tmp_path: Path) -> None:
    """A byte every 0.3 s never lets a per-read timeout of 1 s fire: the head as a whole has the deadline
    (found by a second-pass review: a byte every 29 s held a connection for ever)."""
    quick = type("Quick", (StaticHandler,), {"timeout": 1.0})
    url, _thread, server = _serving(tmp_path, handler=quick)
    try:
        port = int(url.rsplit(":", 1)[1])
        head = f"GET /config.json HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Drip: {'x' * 40}\r\n\r\n".encode()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            started = time.monotonic()
            answered = b""
            for byte in head:
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    break
                ready, _, _ = select.select([connection], [], [], 0.3)
                if ready:
                    answered = connection.recv(1024)
                    break
            assert not answered.startswith(b"HTTP/1.1 200"), answered
            assert time.monotonic() - started < 5
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        server.server_close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("bind", ["127.0.0.2", "localhost"])
def test_every_loopback_address_checks_the_host(tmp_path: Path, bind: str) -> None:
    """127.0.0.0/8 is all this machine's (a second-pass review: --bind 127.0.0.2 answered any Host)."""
    url, _thread, server = _serving(tmp_path, bind=bind)
    try:
        address, port = server.server_address[:2]  # type: ignore[attr-defined]
        assert b" 421 " in _request(url, "/config.json", f"attacker.example:{port}")
        assert b" 200 " in _request(url, "/config.json", f"{address}:{port}")
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        server.server_close()  # type: ignore[attr-defined]


def test_served_for_others_every_name_is_answered(tmp_path: Path) -> None:
    """On 0.0.0.0 the server is for other machines, which reach it by names it cannot know."""
    url, _thread, server = _serving(tmp_path, bind="0.0.0.0")
    try:
        port = server.server_address[1]  # type: ignore[attr-defined]
        assert b" 200 " in _request(f"http://127.0.0.1:{port}", "/config.json", f"build-box.lan:{port}")
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        server.server_close()  # type: ignore[attr-defined]


def test_ctrl_c_while_a_request_s_thread_starts_stops_the_server(tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C landing while the server waited for a new request's thread to start: the slot was given back
    there and by the thread, the second time a ValueError that took the KeyboardInterrupt's place, and the
    server went on serving after Ctrl-C (seen 1 run in 50 on a loaded machine)."""
    (tmp_path / "config.json").write_text("{}")
    server = make_server(tmp_path, max_connections=2)
    start = threading.Thread.start
    interrupted: list[threading.Thread] = []

    def start_then_interrupted(thread: threading.Thread) -> None:
        start(thread)
        if interrupted or not thread.name.startswith("skillpm-serve"):  # any other thread starts as it does
            return
        interrupted.append(thread)
        thread.join(10)  # the request is served, and its slot given back, before the Ctrl-C lands
        raise KeyboardInterrupt

    client, served = socket.socketpair()
    try:
        client.sendall(b"GET /config.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        monkeypatch.setattr(threading.Thread, "start", start_then_interrupted)
        with pytest.raises(KeyboardInterrupt):
            server.process_request(served, ("127.0.0.1", 1))  # type: ignore[attr-defined]
        monkeypatch.undo()
        assert not interrupted[0].is_alive()
        slots = server.slots  # type: ignore[attr-defined]
        assert slots.acquire(blocking=False) and slots.acquire(blocking=False)  # both slots free, none lost
        assert not slots.acquire(blocking=False)
    finally:
        client.close()
        server.server_close()  # type: ignore[attr-defined]


def test_a_private_key_or_hidden_file_left_in_the_registry_is_not_served(tmp_path: Path) -> None:
    """An index key kept beside the registry it signs ('keys/index' next to 'keys/index.pub'), a key in
    another armour, a write's journal or a '.env': 'registry serve --bind 0.0.0.0' handed each to anyone."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    root = tmp_path / "registry"
    (root / "keys").mkdir(parents=True)
    (root / ".well-known" / "skills").mkdir(parents=True)
    key = ed25519.Ed25519PrivateKey.generate()
    pem = serialization.Encoding.PEM
    (root / "keys" / "index").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                            serialization.BestAvailableEncryption(b"pass")))
    (root / "keys" / "plain.txt").write_bytes(b"a note\n" + key.private_bytes(
        pem, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()))
    (root / "keys" / "ec.pem").write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    (root / "keys" / "index.pub").write_bytes(key.public_key().public_bytes(
        pem, serialization.PublicFormat.SubjectPublicKeyInfo))
    (root / ".env").write_text("TOKEN=secret\n")
    (root / ".skillpm-journal").mkdir()
    (root / ".skillpm-journal" / "config.json").write_text("{}")
    (root / ".well-known" / "skills" / "index.json").write_text('{"skills": []}')
    (root / "config.json").write_text("{}")
    with registry_serve(root) as (_server, line):
        url = line.split(" at ", 1)[1].split()[0].rstrip("/")
        host = url.partition("://")[2]
        for path in ("/keys/index", "/keys/plain.txt", "/keys/ec.pem", "/.env", "/.skillpm-journal/config.json",
                     "/keys/../.env"):
            assert b" 404 " in _request(url, path, host), path
        for path in ("/keys/index.pub", "/config.json", "/.well-known/skills/index.json"):
            assert b" 200 " in _request(url, path, host), path


@pytest.mark.parametrize("head, key", [
    (b"-----BEGIN PRIVATE KEY-----\nMC4C", True),
    (b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n", True),
    (b"-----BEGIN RSA PRIVATE KEY-----\n", True),
    (b"Bag Attributes\n  friendlyName: x\n  -----BEGIN EC PRIVATE KEY-----\n", True),
    (b"-----BEGIN OPENSSH PRIVATE KEY-----\n", True),
    (b"-----BEGIN PUBLIC KEY-----\nMCow", False),
    (b"# how to make a key: openssl genpkey, which prints PRIVATE KEY-----\n", False),
    (b'{"name": "x"}', False),
])
def test_a_private_key_is_known_by_its_armour(head: bytes, key: bool) -> None:
    from skillpm.registry.serve import is_private_key

    assert is_private_key(head) is key
