"""Hostile chat endpoints for ``skillpm eval`` (issue 15, class 5): slow answers, endless answers, key leaks.

``skillpm eval`` POSTs each test case to an OpenAI-compatible server the user names; like
a registry, that server may be hostile or broken. Every case runs the real command line
against a :class:`~tests.security.test_http.RawServer` on 127.0.0.1 whose ``/chat/completions``
misbehaves, with an API key passed the way users pass it (``--api-key-env``), and checks:
one ``error:`` line naming the host, an end within the request deadline (``--timeout``)
times the attempts, no part of the key in any output, and no evidence file written.
"""

from __future__ import annotations

import json
import socket
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import build_source, skill_md
from tests.security.conftest import Hostile
from tests.security.test_http import Handler, RawServer, endless_chunks, send_head, trickle

KEY = "sk-hostile-test-0123456789abcdefghijklmnopqrstuvwxyz"
MIB = 1024 * 1024
#: The request deadline every case sets (seconds), and the attempts it allows.
TIMEOUT = "2"
ATTEMPTS = "2"
#: Requests one attempt makes: the skill's one case, asked with and without the skill.
ARMS = 2


def drain(connection: socket.socket) -> None:
    """Read the rest of the request (its JSON body), so closing the socket does not reset the reply."""
    connection.settimeout(0.2)
    try:
        while connection.recv(65536):
            pass
    except OSError:
        pass
    connection.settimeout(10)


def draining(handler: Handler) -> Handler:
    def handle(server: RawServer, connection: socket.socket, path: str) -> None:
        drain(connection)
        handler(server, connection, path)

    return handle


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[Callable[[Handler], RawServer]]:
    """``endpoint(handler)``: a server whose ``chat/completions`` runs ``handler``; stopped after the case."""
    servers: list[RawServer] = []

    def start(handler: Handler) -> RawServer:
        server = RawServer(tmp_path, {"chat/completions": draining(handler)})
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def evaluate(hostile: Hostile, server: RawServer) -> str:
    """Run ``skillpm eval`` of a one-case skill against ``server``; assert the refusal; return its error line."""
    meta = {"metadata": {"version": "1.0"}, "tests": [{"input": "Say hello.", "expected": {"contains": ["hello"]}}]}
    files = {
        "SKILL.md": skill_md("greeter", "Greets people. Use to greet.", "Say hello."),
        "skill_meta.json": json.dumps(meta),
    }
    source = build_source(hostile.work, "greeter", {"generic": files})
    before = hostile.state()
    completed = hostile.run(
        "eval", source, "-m", "m", "--base-url", f"{server.url}/v1", "--api-key-env", "EVAL_KEY",
        "--timeout", TIMEOUT, "--max-attempts", ATTEMPTS, env={"EVAL_KEY": KEY},
    )
    error = hostile.refused(completed, f"127.0.0.1:{server.port}")
    output = completed.stdout + completed.stderr
    assert KEY[:10] not in output and KEY[-10:] not in output, output
    assert hostile.changed_outside(before, hostile.home, hostile.cache) == []  # no evidence file
    return error


def test_a_chat_endpoint_trickling_its_headers_ends_at_the_request_deadline(hostile, endpoint) -> None:
    """Threat: the endpoint sends its headers one byte every half second, never idle long enough to time out."""
    server = endpoint(trickle(b"HTTP/1.1 200 OK\r\n", b"X-Padding: " + b"a" * 10_000 + b"\r\n\r\n"))
    error = evaluate(hostile, server)
    assert "timed out" in error and "no complete answer" in error and "--timeout" in error
    assert hostile.seconds < 15  # 2 attempts of 2 s and a backoff, plus start-up; unbounded before
    assert server.hits("chat/completions") == 2 * ARMS


def test_a_chat_endpoint_trickling_its_answer_ends_at_the_request_deadline(hostile, endpoint) -> None:
    """Threat: headers at once, then the JSON answer one byte every half second."""
    answer = json.dumps({"choices": [{"message": {"content": "hello " * 20_000}}]}).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(answer)}\r\n\r\n".encode()
    server = endpoint(trickle(head, answer))
    error = evaluate(hostile, server)
    assert "timed out" in error and "within 2 s" in error and "--timeout" in error
    assert hostile.seconds < 15


def test_an_endless_answer_is_refused_at_the_size_limit(hostile, endpoint) -> None:
    """Threat: a 200 whose chunked body never ends, sent as fast as the socket takes it (memory, then time)."""
    server = endpoint(endless_chunks(b'{"choices": [' + b" " * 65536, cap=256 * MIB))
    error = evaluate(hostile, server)
    assert "larger than 4 MiB" in error
    assert server.hits("chat/completions") <= ARMS  # refused, not asked again
    assert hostile.seconds < 15


def test_a_declared_oversized_answer_is_refused_before_reading(hostile, endpoint) -> None:
    """Threat: a Content-Length of 100 GiB (and a body that would follow it)."""

    def handle(server: RawServer, connection: socket.socket, path: str) -> None:
        send_head(connection, "200 OK", {"Content-Type": "application/json", "Content-Length": str(100 << 30)})
        connection.sendall(b"{" * 65536)

    error = evaluate(hostile, endpoint(handle))
    assert "larger than 4 MiB" in error


def test_a_compressed_answer_bomb_is_refused_by_its_decoded_size(hostile, endpoint) -> None:
    """Threat: 64 KiB of gzip that decodes to 64 MiB; the decoded bytes are what is counted."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(packer.compress(bytes(MIB)) for _ in range(64)) + packer.flush()

    def handle(server: RawServer, connection: socket.socket, path: str) -> None:
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip", "Content-Length": str(len(bomb))}
        send_head(connection, "200 OK", headers)
        connection.sendall(bomb)

    error = evaluate(hostile, endpoint(handle))
    assert "larger than 4 MiB" in error


def test_an_endless_error_body_is_cut_and_retried_within_the_attempts(hostile, endpoint) -> None:
    """Threat: a 503 whose body never ends; only a few KiB of it are read for the message."""
    server = endpoint(endless_chunks(b"overloaded " * 1000, cap=256 * MIB, status="503 Service Unavailable"))
    error = evaluate(hostile, server)
    assert "HTTP 503" in error and "gave up after 2 attempts" in error
    assert server.hits("chat/completions") <= 2 * ARMS
    assert hostile.seconds < 15


def test_an_error_echoing_the_key_never_shows_any_part_of_it(hostile, endpoint) -> None:
    """Threat: a 400 whose message repeats the bearer token where the message is cut for display."""
    words = "x" * 190 + " " + KEY + " " + KEY
    body = json.dumps({"error": {"message": words}}).encode()

    def handle(server: RawServer, connection: socket.socket, path: str) -> None:
        send_head(connection, "400 Bad Request", {"Content-Type": "application/json", "Content-Length": str(len(body))})
        connection.sendall(body)

    error = evaluate(hostile, endpoint(handle))
    assert "HTTP 400" in error
    assert KEY[:6] not in error


@pytest.mark.parametrize("echo", [KEY[:24] + "...", "key=" + KEY[5:30] + "&", "Bearer xx" + KEY[-20:]],
                         ids=["prefix", "middle", "glued-suffix"])
def test_an_error_echoing_part_of_the_key_never_shows_it(hostile, endpoint, echo: str) -> None:
    """Threat: the endpoint's 400 echoes the key cut to 24 characters (a review saw 'sk-proj-ABCDEFGHIJKLMNOP...'
    printed: only the whole key was redacted)."""
    body = json.dumps({"error": {"message": f"invalid key {echo} for this model"}}).encode()

    def handle(server: RawServer, connection: socket.socket, path: str) -> None:
        send_head(connection, "400 Bad Request", {"Content-Type": "application/json", "Content-Length": str(len(body))})
        connection.sendall(body)

    error = evaluate(hostile, endpoint(handle))
    assert "HTTP 400" in error and "***" in error, error
    assert not any(KEY[start:start + 8] in error for start in range(len(KEY) - 7)), error


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:1/v1?api-key=QUERYKEYSECRET", "http://127.0.0.1:1/v1#QUERYKEYSECRET",
                                      "ftp://user:QUERYKEYSECRET@127.0.0.1/v1", "http://[::1/v1?k=QUERYKEYSECRET",
                                      "https://token:QUERYKEYSECRET/v1"])
def test_a_base_url_is_never_quoted_with_what_may_be_a_key(hostile, base_url: str) -> None:
    """Threat: a key in --base-url's query (or user:password) printed in every error (a review: 'cannot connect to
    http://127.0.0.1:1/v1?api-key=...'); the query was also put before /chat/completions, so it never worked."""
    source = build_source(hostile.work, "greeter", {"generic": {"SKILL.md": skill_md("greeter", "Greets. Use to greet.",
                                                                                     "Say hello.")}})
    completed = hostile.run("eval", source, "-m", "m", "--base-url", base_url)
    hostile.refused(completed, "--base-url")
    assert completed.returncode == 2  # a usage error, as any bad option value
    assert "QUERYKEYSECRET" not in completed.stdout + completed.stderr

