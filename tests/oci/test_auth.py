"""Container-style registry auth: challenges parsed, the bearer token flow, and where credentials may go."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from skillpm.errors import RegistryError
from skillpm.registry.oci.auth import (
    Authenticator,
    Credentials,
    find_credentials,
    may_send_credentials,
    parse_challenge,
    scoped_host,
)
from skillpm.registry.oci.client import OciClient
from skillpm.registry.oci.reference import parse_location
from skillpm.registry.transport import Deadline, Transport


def test_challenges_are_parsed_as_docker_sends_them() -> None:
    scheme, params = parse_challenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push"'
    )
    assert scheme == "bearer"
    assert params == {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                      "scope": "repository:a/b:pull,push"}
    assert parse_challenge('Basic realm="Registry Realm"') == ("basic", {"realm": "Registry Realm"})


@pytest.mark.parametrize(
    "token_url, registry, allowed",
    [
        ("https://auth.docker.io/token", "registry-1.docker.io", True),
        ("https://ghcr.io/token", "ghcr.io", True),
        ("https://ghcr.io:443/token", "ghcr.io", True),
        ("https://evil.example/token", "ghcr.io", False),
        ("https://ghcr.io.evil.example/token", "ghcr.io", False),
        ("https://evil.io/token", "ghcr.io", False),
        ("https://evil.co.uk/token", "reg.example.co.uk", False),
        ("https://auth.example.co.uk/token", "reg.example.co.uk", True),
        ("https://127.0.0.2/token", "127.0.0.1:5000", False),
        # the port and the scheme are part of the origin (found by a hostile review: any port was taken)
        ("https://127.0.0.1:9/token", "127.0.0.1:5000", False),
        ("https://127.0.0.1:5000/token", "127.0.0.1:5000", True),
        ("http://127.0.0.1:5000/token", "127.0.0.1:5000", False),
        ("https://ghcr.io:8443/token", "ghcr.io", False),
        ("http://ghcr.io/token", "ghcr.io", False),
        ("https://auth.docker.io:8443/token", "registry-1.docker.io", False),
        ("https://gitlab.example.com/jwt/auth", "gitlab.example.com:5050", True),  # GitLab's own registry port
    ],
)
def test_credentials_go_only_to_the_registry_or_its_own_domain(token_url: str, registry: str, allowed: bool) -> None:
    assert may_send_credentials(token_url, registry) is allowed


def test_a_plain_http_registry_s_own_origin_may_have_them() -> None:
    assert may_send_credentials("http://127.0.0.1:5000/token", "127.0.0.1:5000", "http")
    assert not may_send_credentials("http://127.0.0.1:5001/token", "127.0.0.1:5000", "http")


@pytest.mark.parametrize(
    "value, host",
    [("ghcr.io", "ghcr.io"), ("GHCR.io", "ghcr.io"), (" ghcr.io ", "ghcr.io"), ("127.0.0.1:5000", "127.0.0.1:5000"),
     ("[::1]:5000", "[::1]:5000"), ("", None), ("ghcr.io/owner", None), ("https://ghcr.io", None),
     ("user@ghcr.io", None), ("ghcr.io:99999", None), ("ghcr\x1b.io", None)],
)
def test_the_scope_of_the_environment_s_credentials_is_one_host(value: str, host: str | None) -> None:
    assert scoped_host(value) == host


def test_environment_credentials_are_only_for_the_host_they_name(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("SKILLPM_OCI_USERNAME", "ci-bot")
    monkeypatch.setenv("SKILLPM_OCI_PASSWORD", "token")
    monkeypatch.setenv("SKILLPM_OCI_HOST", "ghcr.io")
    assert find_credentials("ghcr.io") == Credentials("ci-bot", "token")
    assert find_credentials("evil.example") is None
    assert find_credentials("ghcr.io:8443") is None
    monkeypatch.delenv("SKILLPM_OCI_HOST")
    assert find_credentials("ghcr.io") is None


@pytest.mark.parametrize("realm", ["https://[x/token", "https://127.0.0.1:99999/token"], ids=["IPv6", "port"])
def test_a_token_service_that_is_no_url_is_refused_in_one_line(realm: str) -> None:
    """A 401's realm (found by a hostile review: a traceback, ValueError, before); refused before any request."""
    with pytest.raises(RegistryError, match="names a token service that is not a URL"):
        Authenticator().answer(f'Bearer realm="{realm}",service="x"', host="registry.example", repository="skills/a",
                               scope="pull", transport=None, deadline=None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "realm, host",
    [("http://auth.example/token", "127.0.0.1:5000"), ("http://10.0.0.7/token", "127.0.0.1:5000"),
     ("ftp://127.0.0.1/token", "127.0.0.1:5000"), ("http://auth.example/token", "registry.example"),
     # a remote registry naming a plain-http service on this machine would have skillpm fetch it and hand
     # what it answers to the registry as a token (a second-pass review of the first fix)
     ("http://127.0.0.1:9/internal/admin-token", "registry.example"), ("http://localhost/t", "registry.example")],
)
def test_a_token_service_over_plain_http_must_be_on_this_machine(realm: str, host: str) -> None:
    """A token asked over plain http could be read or changed on the way: plain http is only from a registry
    on this machine to a token service on this machine (found by a review: a registry on localhost could
    name a plain-http service anywhere)."""
    with pytest.raises(RegistryError, match="names a token service skillpm will not use"):
        Authenticator().answer(f'Bearer realm="{realm}",service="x"', host=host, repository="skills/a",
                               scope="pull", transport=None, deadline=None)  # type: ignore[arg-type]


def test_credentials_never_show_in_a_repr() -> None:
    assert "hunter2" not in repr(Credentials("me", "hunter2"))


def test_docker_config_auths_and_a_malformed_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    auth = base64.b64encode(b"me:pa:ss").decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"ghcr.io": {"auth": auth}, "bad.io": {"auth": "%%"}}}))
    assert find_credentials("ghcr.io") == Credentials("me", "pa:ss")
    assert find_credentials("other.io") is None
    with pytest.raises(RegistryError, match="malformed"):
        find_credentials("bad.io")


def test_a_credential_helper_is_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    helper = tmp_path / "bin" / "docker-credential-test"
    helper.parent.mkdir()
    helper.write_text('#!/bin/sh\nread host\n[ "$host" = "ghcr.io" ] || exit 1\n'
                      'echo \'{"Username": "helper-user", "Secret": "helper-secret"}\'\n')
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{helper.parent}:/usr/bin:/bin")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"credHelpers": {"ghcr.io": "test"}}))
    assert find_credentials("ghcr.io") == Credentials("helper-user", "helper-secret")


class _TokenRegistry(BaseHTTPRequestHandler):
    """A registry front that wants a bearer token, and the token service it names (same server)."""

    seen: list[tuple[str, str | None]] = []
    realm = ""

    def do_GET(self) -> None:
        type(self).seen.append((self.path, self.headers.get("Authorization")))
        if self.path.startswith("/token"):
            if self.headers.get("Authorization") != "Basic " + base64.b64encode(b"alice:pw").decode():
                return self._reply(401, b"{}")
            return self._reply(200, json.dumps({"token": "tok-123"}).encode())
        if self.headers.get("Authorization") != "Bearer tok-123":
            return self._reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                               {"WWW-Authenticate": f'Bearer realm="{self.realm}",service="test",scope="x"'})
        return self._reply(200, json.dumps({"name": "skills/demo", "tags": ["1.0.0"]}).encode())

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def token_registry() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenRegistry)
    host = f"127.0.0.1:{server.server_address[1]}"
    _TokenRegistry.realm = f"http://{host}/token"
    _TokenRegistry.seen = []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield host
    server.shutdown()
    server.server_close()


def _client(host: str) -> OciClient:
    return OciClient(parse_location(f"oci://{host}/skills"), Transport(idle=5, user_agent="t"), Deadline.after(30, "t"))


def test_the_bearer_flow_gets_a_token_with_the_credentials(token_registry: str, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("SKILLPM_OCI_USERNAME", "alice")
    monkeypatch.setenv("SKILLPM_OCI_PASSWORD", "pw")
    monkeypatch.setenv("SKILLPM_OCI_HOST", token_registry)
    assert _client(token_registry).tags("skills/demo") == ["1.0.0"]
    token_requests = [auth for path, auth in _TokenRegistry.seen if path.startswith("/token")]
    assert token_requests and "scope=repository%3Askills%2Fdemo%3Apull" in next(
        path for path, _ in _TokenRegistry.seen if path.startswith("/token"))


def test_without_credentials_the_error_says_how_to_log_in(token_registry: str, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    with pytest.raises(RegistryError, match="needs credentials") as raised:
        _client(token_registry).tags("skills/demo")
    assert "docker login" in (raised.value.hint or "")


def test_a_credential_helper_sees_none_of_skillpm_s_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A docker credential helper got every secret variable of skillpm's environment (found by a hostile
    review): a registry token, the OCI password scoped to another host, the key passphrase, an OIDC token."""
    seen = tmp_path / "helper-env.txt"
    helper = tmp_path / "bin" / "docker-credential-test"
    helper.parent.mkdir()
    helper.write_text(f"#!/bin/sh\nenv > {seen}\n" 'echo \'{"Username": "helper-user", "Secret": "helper-secret"}\'\n')
    helper.chmod(0o755)
    secrets = {"SKILLPM_TOKEN_TEAM": "tokSECRET", "SKILLPM_OCI_USERNAME": "userSECRET",
               "SKILLPM_OCI_PASSWORD": "ociSECRET", "SKILLPM_SIGNING_KEY_PASSPHRASE": "ppSECRET",
               "SIGSTORE_ID_TOKEN": "oidcSECRET"}
    for name, value in {**secrets, "SKILLPM_OCI_HOST": "other.io", "KEPT_FOR_HELPER": "kept"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PATH", f"{helper.parent}:/usr/bin:/bin")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"credHelpers": {"ghcr.io": "test"}}))
    assert find_credentials("ghcr.io") == Credentials("helper-user", "helper-secret")
    environment = seen.read_text()
    assert "KEPT_FOR_HELPER=kept" in environment
    assert [value for value in secrets.values() if value in environment] == []
