"""Where the user's OCI credentials may go: only to the registry they were given for.

A cloned project's ``skills.lock``, a configured remote or a ``--registry`` can name any
``oci://`` host, and that host can ask for credentials (a ``Basic`` challenge, or a ``Bearer``
token service on its own host). ``$SKILLPM_OCI_USERNAME`` / ``$SKILLPM_OCI_PASSWORD`` go only to
the host ``$SKILLPM_OCI_HOST`` names; without it they go nowhere, and a warning says how to scope
them. The server here stands for an attacker's registry on 127.0.0.1 and records every
``Authorization`` header it is sent. Nor does an https registry's upload location lead
``publish`` to plain http, where the credentials and the archive would travel in clear text.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

SECRET = "ghp_TOKEN_FOR_GHCR_ONLY"
CI_LOGIN = {"SKILLPM_OCI_USERNAME": "ci-bot", "SKILLPM_OCI_PASSWORD": SECRET}
NAME = "kernel-builder-cuda"


class _Collector(BaseHTTPRequestHandler):
    """A registry that asks for credentials on every repository path, as ``challenge`` says."""

    protocol_version = "HTTP/1.1"
    challenge = "basic"
    authorizations: list[str] = []

    def do_GET(self) -> None:
        authorization = self.headers.get("Authorization")
        if authorization:
            type(self).authorizations.append(authorization)
        host = self.headers.get("Host", "")
        if self.path.startswith("/token"):
            return self._reply(401, b"{}")
        if self.path in ("/v2/", "/v2") or authorization:
            return self._reply(404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"no"}]}')
        asked = 'Basic realm="r"' if self.challenge == "basic" else f'Bearer realm="http://{host}/token",service="s"'
        self._reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"login"}]}', asked)

    def _reply(self, status: int, body: bytes, challenge: str | None = None) -> None:
        self.send_response(status)
        if challenge:
            self.send_header("WWW-Authenticate", challenge)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture(params=["basic", "bearer"])
def collector(request: pytest.FixtureRequest) -> Iterator[str]:
    """The attacker's registry (``host:port``), asking with a Basic or a Bearer challenge."""
    handler = type("Collector", (_Collector,), {"challenge": request.param, "authorizations": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    server.handler = handler  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()


def _cloned_lockfile(hostile, host: str) -> None:
    """A cloned project whose skills.lock pins a skill to the attacker's registry."""
    (hostile.project / "skills.lock").write_text(f'''version = 1

[[skill]]
name = "{NAME}"
version = "0.2.0a1"
target = "generic"
sha256 = "{'ab' * 32}"
registry = "oci://{host}/skills"
path = "artifacts/{NAME}/0.2.0a1/{NAME}-0.2.0a1-generic.tar.gz"
directory = ".agents/skills/{NAME}"
capability = "none"
requirement = "{NAME}"
agents = ["claude-code"]
''')


@pytest.mark.parametrize("command", ["sync", "install"])
def test_environment_credentials_go_to_no_registry_but_the_one_they_are_scoped_to(
    hostile, collector, command: str
) -> None:
    host = f"127.0.0.1:{collector.server_address[1]}"
    args = ["sync"] if command == "sync" else ["install", NAME, "--registry", f"oci://{host}/skills"]
    _cloned_lockfile(hostile, host)
    docker = {"DOCKER_CONFIG": str(hostile.work / "no-docker")}
    unscoped = hostile.run(*args, env={**docker, **CI_LOGIN})
    hostile.refused(unscoped, "needs credentials")
    assert "SKILLPM_OCI_HOST" in unscoped.stderr and "are ignored" in unscoped.stderr
    elsewhere = hostile.run(*args, env={**docker, **CI_LOGIN, "SKILLPM_OCI_HOST": "ghcr.io"})
    hostile.refused(elsewhere, "needs credentials")
    assert "are ignored" not in elsewhere.stderr
    assert collector.handler.authorizations == []
    assert SECRET not in unscoped.stderr + elsewhere.stderr
    hostile.run(*args, env={**docker, **CI_LOGIN, "SKILLPM_OCI_HOST": host})  # the control: scoped to it, it gets them
    assert collector.handler.authorizations


class _BothOnOnePort(ThreadingHTTPServer):
    """One port that speaks TLS, and records (then drops) any request that arrives in plain HTTP."""

    daemon_threads = True
    tls: ssl.SSLContext
    cleartext: list[bytes]

    def finish_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        if request.recv(1, socket.MSG_PEEK) != b"\x16":  # not a TLS ClientHello
            self.cleartext.append(request.recv(65536))
            return
        super().finish_request(self.tls.wrap_socket(request, server_side=True), client_address)


class _DowngradingUploads(BaseHTTPRequestHandler):
    """An https registry with nothing in it whose blob uploads continue at http:// on its own host and port."""

    protocol_version = "HTTP/1.1"

    def _any(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        port = self.server.server_address[1]
        if self.command == "POST" and "/blobs/uploads/" in self.path:
            return self._reply(202, {"Location": f"http://127.0.0.1:{port}/v2/skills/demo/blobs/uploads/u1"})
        self._reply(404 if self.path != "/v2/" else 200)

    do_GET = do_HEAD = do_POST = do_PUT = _any

    def _reply(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


def test_an_upload_location_that_drops_to_plain_http_is_refused(hostile) -> None:
    """publish to an https registry never sends the archive or the credentials in clear text (hostile review)."""
    from tls_helpers import self_signed

    cert, key = self_signed(hostile.work, "registry")
    server = _BothOnOnePort(("127.0.0.1", 0), _DowngradingUploads)
    server.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.tls.load_cert_chain(cert, key)
    server.cleartext = []
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    host = f"127.0.0.1:{server.server_address[1]}"
    try:
        hostile.ok(hostile.run("init", hostile.work / "demo"))
        published = hostile.run("publish", hostile.work / "demo", "--registry", f"oci://{host}/skills",
                                env={"SSL_CERT_FILE": str(cert), "DOCKER_CONFIG": str(hostile.work / "no-docker"),
                                     **CI_LOGIN, "SKILLPM_OCI_HOST": host})
    finally:
        server.shutdown()
        server.server_close()
    hostile.refused(published, "upload location on another origin", f"http://{host}/")
    assert server.cleartext == []
