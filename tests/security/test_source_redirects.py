"""A source on the internet that redirects skillpm into the user's machine or network (server-side request forgery).

The site ``https://skills.invalid`` stands for one on the internet: every request goes through an HTTP
proxy on 127.0.0.1 (``$HTTPS_PROXY``, as skillpm honours it) that tunnels that name to a TLS server on
127.0.0.1, and the name resolves nowhere here, as no address of this machine's. Its certificate's
authority is trusted only through ``$SSL_CERT_FILE``. The "internal" service is another TLS server on
127.0.0.1, which a redirect names by its address.
"""

from __future__ import annotations

import json
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sources_helpers import skill_files, tar_gz
from tls_helpers import self_signed

SITE = "skills.invalid"
CDN = "cdn.invalid"


@dataclass
class World:
    """The site's answers (path -> status, headers, body), the internal service's hits and the proxy's tunnels."""

    answers: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    tunnels: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    internal: str = ""
    site: str = ""


def _handler(world: World, internal: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if internal:
                world.hits.append(self.path)
                status, headers, body = 200, {}, b"INTERNAL-ONLY token=s3cr3t\n"
            else:
                status, headers, body = world.answers.get(self.path, (404, {}, b""))
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


class _Tunnel(socketserver.BaseRequestHandler):
    """One CONNECT: ``skills.invalid`` and ``cdn.invalid`` to the site, any other host to the internal service."""

    def handle(self) -> None:
        self.request.settimeout(10)
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 8192:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        method, target = head.split(b" ", 2)[:2]
        host = target.decode().rpartition(":")[0]
        self.server.world.tunnels.append(target.decode())  # type: ignore[attr-defined]
        if method != b"CONNECT":
            self.request.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        ports = self.server.ports  # type: ignore[attr-defined]
        upstream_port = ports[0] if host in (SITE, CDN) else ports[1]  # any other host is "internal"
        with socket.create_connection(("127.0.0.1", upstream_port), timeout=10) as upstream:
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            copying = threading.Thread(target=_copy, args=(upstream, self.request), daemon=True)
            copying.start()
            _copy(self.request, upstream)
            copying.join(timeout=10)

    def finish(self) -> None:
        self.request.close()


def _copy(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass


@pytest.fixture
def world(hostile) -> Iterator[World]:
    """The site, the internal service and the proxy, running; ``world.env`` is what ``skillpm`` runs with."""
    world = World()
    cert, key = self_signed(hostile.work, "site", (SITE, CDN, "localhost", "::ffff:127.0.0.1", "169.254.169.254",
                                                   "64:ff9b:1::a00:1"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    servers: list[socketserver.BaseServer] = []
    for internal in (False, True):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(world, internal))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        servers.append(server)
    site, internal_service = servers
    proxy = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Tunnel)
    proxy.daemon_threads = True
    proxy.world = world  # type: ignore[attr-defined]
    proxy.ports = (site.server_address[1], internal_service.server_address[1])  # type: ignore[attr-defined]
    servers.append(proxy)
    threads = [threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    world.internal = f"https://127.0.0.1:{internal_service.server_address[1]}"
    world.site = f"https://127.0.0.1:{site.server_address[1]}"
    proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
    world.env = {"HTTPS_PROXY": proxy_url, "https_proxy": proxy_url, "NO_PROXY": "", "no_proxy": "",
                 "SSL_CERT_FILE": str(cert), "SKILLPM_HTTP_RETRIES": "1"}
    yield world
    for server in servers:
        server.shutdown()
        server.server_close()


def _serve_well_known(world: World, notes: tuple[int, dict[str, str], bytes]) -> str:
    index = {"skills": [{"name": "good", "description": "d", "files": ["SKILL.md", "notes.txt"]}]}
    skill = skill_files("good")["good/SKILL.md"]
    world.answers["/.well-known/agent-skills/index.json"] = (200, {}, json.dumps(index).encode())
    world.answers["/.well-known/agent-skills/good/SKILL.md"] = (302, {"Location": f"https://{CDN}/good/SKILL.md"}, b"")
    world.answers["/good/SKILL.md"] = (200, {}, skill)  # on the "CDN": a redirect between public hosts is followed
    world.answers["/.well-known/agent-skills/good/notes.txt"] = notes
    return f"https://{SITE}"


@pytest.mark.parametrize("where", ["/admin/secret", "//localhost:{port}/admin/secret", "//[::ffff:127.0.0.1]:{port}/x",
                                   "//169.254.169.254/latest/meta-data/", "//[64:ff9b:1::a00:1]/x"])
def test_a_site_on_the_internet_cannot_redirect_a_download_into_this_machine(hostile, world: World, where: str) -> None:
    """A well-known index's file redirects to ``https://127.0.0.1:PORT/admin/secret`` (found in a hostile review: the
    internal service's reply was installed as the skill's notes.txt, for the skill to hand on). Refused before it is
    asked, by address or by a name of this machine; a redirect to another host on the internet is followed.
    Nor does a local NAT64 address (``64:ff9b:1::/48``, RFC 8215: it may stand for 10.0.0.1) pass, whatever
    the Python version thinks of it (found in a hostile review: 3.11 counts it global)."""
    port = world.internal.rsplit(":", 1)[1]
    location = world.internal + where if where.startswith("/admin") else "https:" + where.format(port=port)
    url = _serve_well_known(world, (302, {"Location": location}, b""))
    before = hostile.state()
    line = hostile.refused(hostile.run("install", url, "--skill", "good", env=world.env),
                           "refusing a redirect from skills.invalid to", "an address of this machine or of a private network")
    assert world.hits == []
    assert "INTERNAL" not in line
    assert hostile.changed_outside(before, hostile.cache) == []
    assert not (hostile.project / ".agents").exists()

    world.answers["/.well-known/agent-skills/good/notes.txt"] = (302, {"Location": f"https://{CDN}/notes.txt"}, b"")
    world.answers["/notes.txt"] = (200, {}, b"Public notes.\n")
    hostile.ok(hostile.run("install", url, "--skill", "good", env=world.env))
    assert (hostile.project / ".agents" / "skills" / "good" / "notes.txt").read_bytes() == b"Public notes.\n"
    assert f"{CDN}:443" in world.tunnels


def test_an_archive_url_on_the_internet_cannot_redirect_into_this_machine(hostile, world: World) -> None:
    world.answers["/good.tar.gz"] = (302, {"Location": f"{world.internal}/good.tar.gz"}, b"")
    hostile.refused(hostile.run("install", f"https://{SITE}/good.tar.gz", env=world.env),
                    "refusing a redirect from skills.invalid to", "private network")
    assert world.hits == []


def test_a_site_on_this_machine_may_redirect_on_it(hostile, world: World) -> None:
    """A site the user runs here (its URL 127.0.0.1) redirecting to another port here is followed, as before."""
    _serve_well_known(world, (302, {"Location": f"{world.internal}/notes.txt"}, b""))
    env = {**world.env, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    hostile.ok(hostile.run("install", world.site, "--skill", "good", env=env))
    assert (hostile.project / ".agents" / "skills" / "good" / "notes.txt").read_bytes() == b"INTERNAL-ONLY token=s3cr3t\n"
    assert world.hits == ["/notes.txt"]


@pytest.mark.parametrize("realm", ["{internal}/token", "https://169.254.169.254/token", "https://localhost/token"])
def test_an_oci_registry_on_the_internet_cannot_name_a_token_service_in_this_machine(
    hostile, world: World, realm: str
) -> None:
    """A registry on the internet answers 401 with ``Bearer realm="https://127.0.0.1:PORT/token"`` (or the cloud's
    metadata address): found in a hostile review, skillpm asked the internal service for a token and sent what it
    answered to the registry as ``Authorization: Bearer ...``. A token service is held to the redirect rule: from
    a registry off this machine and its network, none on them."""
    challenge = {"WWW-Authenticate": f'Bearer realm="{realm.format(internal=world.internal)}",service="s"'}
    for path in ("/v2/", "/v2/skills/demo/tags/list"):
        world.answers[path] = (401, challenge, b'{"errors":[{"code":"UNAUTHORIZED","message":"login"}]}')
    env = {**world.env, "DOCKER_CONFIG": str(hostile.work / "no-docker")}
    hostile.refused(hostile.run("install", "demo", "--registry", f"oci://{SITE}/skills", env=env),
                    f"{SITE} names a token service on this machine or a private network")
    assert world.hits == []
