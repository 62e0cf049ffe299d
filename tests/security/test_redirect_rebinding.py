"""A redirect from the internet to a name that resolves elsewhere when connected than when checked (DNS rebinding).

skillpm refuses a redirect from a site off this machine and the user's network to a host on them
(test_source_redirects.py), judging the host by what its name resolves to. A name under an attacker's
control may resolve to a public address when skillpm checks it and to 127.0.0.1 a moment later, when it
connects. The command runs here with the system's resolver answering so for names under ``.test``: a
public address (example.com's) when asked without a port, as the check asks, and 127.0.0.1 when asked
with one, as a connection does; the servers are on 127.0.0.1.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

from conftest import http_served

from .conftest import Hostile

#: skillpm, its resolver answering for names under ``.test`` as a rebinding DNS server would.
_REBINDING = """
import runpy, socket
real = socket.getaddrinfo
def rebinding(host, port, *args, **kwargs):
    if isinstance(host, str) and host.rstrip(".").endswith(".test"):
        host = "93.184.216.34" if port is None else "127.0.0.1"
    return real(host, port, *args, **kwargs)
socket.getaddrinfo = rebinding
runpy.run_module("skillpm", run_name="__main__")
"""


def test_a_redirect_to_a_name_that_rebinds_to_this_machine_is_refused_when_connected(hostile: Hostile) -> None:
    """Threat: the redirect check resolved the target's name, found a public address and let the request go;
    the connection resolved it again and reached 127.0.0.1, so an internal service's reply was read as the
    registry's (server-side request forgery past the check). The connection of a redirected request from off
    this machine is checked too, at its peer's address, before a byte is sent: one line naming the address."""
    asked: list[str] = []

    class Site(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            port = self.server.server_address[1]
            secret = self.path.startswith("/internal/")
            self.send_response(200 if secret else 302)
            if not secret:
                self.send_header("Location", f"http://rebind.test:{port}/internal{self.path}")
            body = b'{"format": "skillpm-index", "token": "s3cr3t"}' if secret else b""
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    with http_served(Site) as url:
        port = url.rsplit(":", 1)[1]
        refused = hostile.run("search", "demo", "--registry", f"http://public.test:{port}", code=_REBINDING,
                              env={"SKILLPM_ALLOW_HTTP": "1", "NO_PROXY": "*", "no_proxy": "*"})

    hostile.refused(refused, f"refusing a redirect from public.test:{port} to http://rebind.test:{port}/internal/",
                    "which reached 127.0.0.1 when connected, an address of this machine or of a private network")
    assert asked and not [path for path in asked if path.startswith("/internal/")], asked


#: skillpm, on a network where the server at port ``{port}`` is on the internet (its connections' peer is a
#: public address) while its name, asked again to check a redirect, answers 127.0.0.1 (DNS rebinding).
_ANSWERS_INWARD_WHEN_CHECKED = """
import runpy, socket
real, peer = socket.getaddrinfo, socket.socket.getpeername
def rebinding(host, port, *args, **kwargs):
    if isinstance(host, str) and host.rstrip(".").endswith(".test"):
        host = "127.0.0.1"
    return real(host, port, *args, **kwargs)
def on_the_internet(self):
    address = peer(self)
    return ("93.184.216.34", address[1]) if address[1] == {port} else address
socket.getaddrinfo, socket.socket.getpeername = rebinding, on_the_internet
runpy.run_module("skillpm", run_name="__main__")
"""


def test_a_site_on_the_internet_whose_name_answers_inward_when_checked_may_not_redirect_inward(
    hostile: Hostile,
) -> None:
    """Threat: whether the URL asked for is off this machine and its network was judged by asking its name again
    when a redirect came; a rebinding name answered 127.0.0.1 then, so the site on the internet that sent the
    redirect passed for one on this machine and led skillpm to an internal service (server-side request forgery).
    The site is judged by the address its reply came from too: a public peer is off this machine, whatever
    the name answers later."""
    asked: list[str] = []

    class Inside(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            body = b'{"format": "skillpm-index", "token": "s3cr3t"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    with http_served(Inside) as inside:

        class Site(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(302)
                self.send_header("Location", f"{inside}/internal{self.path}")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        with http_served(Site) as url:
            port = url.rsplit(":", 1)[1]
            refused = hostile.run("search", "demo", "--registry", f"http://public.test:{port}",
                                  code=_ANSWERS_INWARD_WHEN_CHECKED.replace("{port}", port),
                                  env={"SKILLPM_ALLOW_HTTP": "1", "NO_PROXY": "*", "no_proxy": "*"})

    hostile.refused(refused, f"refusing a redirect from public.test:{port} to {inside}/internal/",
                    "an address of this machine or of a private network")
    assert not asked, asked
