"""The chat completions client against a real HTTP server on 127.0.0.1 that answers from a script.

:class:`ChatServer` (also used by test_eval_run.py) speaks ``POST /v1/chat/completions``;
each test scripts its answers: slow, failing, rate-limited, malformed, unauthorized.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

import pytest

from skillpm.evaluation.client import ChatClient, Completion, endpoint_host, read_api_key
from skillpm.evaluation.errors import EndpointError

KEY = "sk-test-very-secret-0123456789"


@dataclass
class Reply:
    """One scripted answer: status, body (a dict is sent as JSON), headers, and a delay before it."""

    status: int = 200
    body: dict[str, Any] | bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def completion(text: str, *, prompt_tokens: int = 11, completion_tokens: int = 7) -> Reply:
    return Reply(
        body={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
        }
    )


class ChatServer:
    """``POST /v1/chat/completions`` on 127.0.0.1: first the scripted replies in order, then ``default(body)``."""

    def __init__(self, default: Callable[[dict[str, Any]], Reply]) -> None:
        self.default = default
        self.script: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str | None] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.requests.append(body)
                    server.authorizations.append(self.headers.get("Authorization"))
                    reply = server.script.pop(0) if server.script else None
                if self.path != "/v1/chat/completions":
                    reply = Reply(404, {"error": {"message": f"no route {self.path}"}})
                reply = reply or server.default(body)
                time.sleep(reply.delay_s)
                data = json.dumps(reply.body).encode() if isinstance(reply.body, dict) else reply.body
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def chat_server() -> Iterator[Callable[..., ChatServer]]:
    """``chat_server(default=..., script=[...])``: a started server, stopped after the test."""
    started: list[ChatServer] = []

    def start(default: Callable[[dict[str, Any]], Reply] = lambda body: completion("hello"), script=()) -> ChatServer:
        server = ChatServer(default)
        server.script.extend(script)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def client_for(url: str, sleeps: list[float] | None = None, **options: Any) -> ChatClient:
    """A client that records its backoff sleeps instead of sleeping."""
    recorded = sleeps if sleeps is not None else []
    return ChatClient(url, sleep=recorded.append, **{"timeout_s": 2.0, **options})


def test_a_plain_answer_is_read_with_its_usage(chat_server):
    server = chat_server(default=lambda body: completion("the answer", prompt_tokens=3, completion_tokens=4))
    with client_for(server.url) as client:
        answer = client.complete(BODY)
    assert (answer.text, answer.prompt_tokens, answer.completion_tokens) == ("the answer", 3, 4)
    assert answer.latency_s >= 0
    assert server.requests == [BODY]
    assert server.authorizations == [None]


def test_the_key_is_sent_as_a_bearer_token(chat_server):
    server = chat_server()
    with client_for(server.url, api_key=KEY, api_key_env="EVAL_KEY") as client:
        client.complete(BODY)
    assert server.authorizations == [f"Bearer {KEY}"]


@pytest.mark.parametrize(
    "failure",
    [
        Reply(500, {"error": {"message": "boom"}}),
        Reply(502, b"bad gateway"),
        Reply(503, b""),
        Reply(429, {"error": {"message": "slow down"}}),
        Reply(200, b"{not json"),
        Reply(200, {"object": "chat.completion"}),  # no choices
        Reply(200, {"choices": []}),
        Reply(200, {"choices": [{"message": {"content": 42}}]}),
        Reply(200, [1, 2]),
    ],
    ids=["500", "502", "503", "429", "malformed-json", "no-choices", "empty-choices", "content-not-text", "a-list"],
)
def test_a_transient_failure_is_retried_with_backoff(chat_server, failure):
    if isinstance(failure.body, list):
        failure.body = json.dumps(failure.body).encode()
    server = chat_server(script=[failure, failure])
    sleeps: list[float] = []
    with client_for(server.url, sleeps, backoff_s=1.0) as client:
        assert client.complete(BODY).text == "hello"
    assert len(server.requests) == 3
    # exponential backoff with jitter: attempt n waits between half and all of 2**(n-1) seconds
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0


def test_retry_after_is_honoured(chat_server):
    server = chat_server(script=[Reply(429, {"error": {"message": "rate"}}, headers={"Retry-After": "7"})])
    sleeps: list[float] = []
    with client_for(server.url, sleeps) as client:
        client.complete(BODY)
    assert sleeps == [7.0]


def test_retry_after_as_an_http_date(chat_server):
    from email.utils import formatdate

    later = formatdate(time.time() + 30, usegmt=True)
    server = chat_server(script=[Reply(503, b"", headers={"Retry-After": later})])
    sleeps: list[float] = []
    with client_for(server.url, sleeps) as client:
        client.complete(BODY)
    assert 25 <= sleeps[0] <= 31


def test_a_slow_answer_times_out_and_is_asked_again(chat_server):
    """The late answer is never read: the client gave up on it, backed off once and asked again."""
    server = chat_server(script=[Reply(delay_s=1.5, body=completion("late").body)])
    sleeps: list[float] = []
    with client_for(server.url, sleeps, timeout_s=0.3) as client:
        assert client.complete(BODY).text == "hello"
    assert len(server.requests) == 2
    assert len(sleeps) == 1


def test_attempts_are_bounded(chat_server):
    server = chat_server(default=lambda body: Reply(500, {"error": {"message": "down"}}))
    with client_for(server.url, max_attempts=3) as client, pytest.raises(EndpointError) as caught:
        client.complete(BODY)
    assert len(server.requests) == 3
    assert "HTTP 500" in caught.value.message and "3 attempts" in caught.value.message
    assert server.url in caught.value.message


def test_malformed_answers_that_persist_are_an_error(chat_server):
    server = chat_server(default=lambda body: Reply(200, b"<html>oops</html>"))
    with client_for(server.url, max_attempts=2) as client, pytest.raises(EndpointError, match="malformed answer"):
        client.complete(BODY)


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_fails_at_once_naming_the_variable_not_the_key(chat_server, status):
    server = chat_server(default=lambda body: Reply(status, {"error": {"message": f"bad key {KEY}"}}))
    with client_for(server.url, api_key=KEY, api_key_env="EVAL_KEY") as client, pytest.raises(EndpointError) as caught:
        client.complete(BODY)
    assert len(server.requests) == 1
    text = f"{caught.value.message} {caught.value.hint}"
    assert "$EVAL_KEY" in text and f"HTTP {status}" in text
    assert KEY not in text


def test_a_missing_key_says_how_to_give_one(chat_server):
    server = chat_server(default=lambda body: Reply(401, {"error": {"message": "no key"}}))
    with client_for(server.url) as client, pytest.raises(EndpointError) as caught:
        client.complete(BODY)
    assert "needs an API key" in caught.value.message and "--api-key-env" in caught.value.hint


def test_other_client_errors_fail_at_once_with_the_servers_words_and_no_key(chat_server):
    server = chat_server(default=lambda body: Reply(400, {"error": {"message": f"model 'x' not found (key {KEY})"}}))
    with client_for(server.url, api_key=KEY) as client, pytest.raises(EndpointError) as caught:
        client.complete(BODY)
    assert len(server.requests) == 1
    assert "HTTP 400" in caught.value.message and "model 'x' not found" in caught.value.message
    assert KEY not in caught.value.message


def test_a_wrong_path_is_a_404_with_a_hint(chat_server):
    server = chat_server()
    with client_for(server.url.removesuffix("/v1")) as client, pytest.raises(EndpointError) as caught:
        client.complete(BODY)
    assert "HTTP 404" in caught.value.message and "/v1" in caught.value.hint


def test_connection_refused_names_the_url_at_once():
    url = closed_port_url()
    sleeps: list[float] = []
    with client_for(url, sleeps) as client, pytest.raises(EndpointError) as caught:
        client.complete(BODY)
    assert url in caught.value.message and "connection refused" in caught.value.message
    assert sleeps == []


def test_concurrent_requests_share_one_client(chat_server):
    from concurrent.futures import ThreadPoolExecutor

    server = chat_server(default=lambda body: completion(body["messages"][-1]["content"].upper(), prompt_tokens=1))
    with client_for(server.url, connections=4) as client, ThreadPoolExecutor(4) as pool:
        bodies = [{"model": "m", "messages": [{"role": "user", "content": f"q{i}"}]} for i in range(12)]
        answers = list(pool.map(client.complete, bodies))
    assert [a.text for a in answers] == [f"Q{i}" for i in range(12)]


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://localhost:8080/v1", "localhost:8080"),
        ("https://user:pw@api.example.com/v1", "api.example.com"),
        ("http://127.0.0.1:11434/v1/", "127.0.0.1:11434"),
    ],
)
def test_endpoint_host_keeps_only_the_host(url, host):
    assert endpoint_host(url) == host


@pytest.mark.parametrize("url", ["localhost:8080/v1", "ftp://x/v1", "http://"])
def test_a_bad_base_url_is_an_error(url):
    with pytest.raises(EndpointError, match="base-url"):
        ChatClient(url)


def test_credentials_in_the_url_are_never_sent_in_it():
    with ChatClient("https://user:pw@api.example.com/v1") as client:
        assert client.url == "https://api.example.com/v1/chat/completions"


def test_read_api_key(monkeypatch):
    monkeypatch.setenv("EVAL_KEY", KEY)
    assert read_api_key("EVAL_KEY") == KEY
    monkeypatch.delenv("EVAL_KEY")
    with pytest.raises(EndpointError, match=r"\$EVAL_KEY is not set"):
        read_api_key("EVAL_KEY")


def test_completion_round_trips_and_refuses_junk():
    answer = Completion("x", 1, 2, 0.5)
    assert Completion.from_json(answer.to_json()) == answer
    for junk in (None, {}, {"text": 1, "prompt_tokens": 1, "completion_tokens": 1, "latency_s": 0}, [1]):
        assert Completion.from_json(junk) is None
