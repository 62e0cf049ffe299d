"""Logging in to an OCI registry as container tools do: anonymous, basic, or a bearer token.

A registry answers 401 with ``WWW-Authenticate``: ``Basic realm=...`` asks for the user's
credentials on each request; ``Bearer realm=URL,service=...,scope=...`` names a token service
to ask (with the credentials, when there are some; anonymously otherwise), as the distribution
token-authentication spec and Docker Hub / ghcr.io do.

Credentials come from ``$SKILLPM_OCI_USERNAME`` / ``$SKILLPM_OCI_PASSWORD`` for the one registry
``$SKILLPM_OCI_HOST`` names (without it they are ignored, with a warning: a lockfile or a
configured remote can name any host), else docker's ``config.json`` (``$DOCKER_CONFIG`` or
``~/.docker``: ``auths`` entries, and the ``credHelpers`` / ``credsStore`` programs it names).
They are never printed, and go only to the registry's own origin and a token service over
https on the same host or the same parent domain (``registry-1.docker.io`` -> ``auth.docker.io``):
a registry cannot send them elsewhere. Nor may a registry off this machine and the user's network name
a token service on them (the redirect rule, :mod:`skillpm.registry.redirects`).
"""

from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from skillpm.display import clean
from skillpm.errors import RegistryError

if TYPE_CHECKING:
    from skillpm.registry.transport import Deadline, Transport

USERNAME_ENV = "SKILLPM_OCI_USERNAME"
PASSWORD_ENV = "SKILLPM_OCI_PASSWORD"
HOST_ENV = "SKILLPM_OCI_HOST"
_HELPER_TIMEOUT_S = 20
_TOKEN_LIMIT = 64 * 1024
_CONFIG_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class Credentials:
    """A user name and a password or token. ``repr`` never shows the secret."""

    username: str
    secret: str = field(repr=False)

    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.secret}".encode()).decode("ascii")


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``(scheme, parameters)`` of a ``WWW-Authenticate`` header, scheme lower-cased."""
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    position = 0
    while position < len(rest):
        equals = rest.find("=", position)
        if equals < 0:
            break
        key = rest[position:equals].strip(" ,").lower()
        if rest[equals + 1 : equals + 2] == '"':
            end = rest.find('"', equals + 2)
            end = len(rest) if end < 0 else end
            value, position = rest[equals + 2 : end], end + 1
        else:
            end = rest.find(",", equals + 1)
            end = len(rest) if end < 0 else end
            value, position = rest[equals + 1 : end].strip(), end
        params[key] = value
    return scheme.lower(), params


def may_send_credentials(token_url: str, registry_host: str, registry_scheme: str = "https") -> bool:
    """Whether the user's credentials may go to ``token_url`` for a registry on ``registry_host``.

    Yes for the registry's own origin (scheme, host and port); and for https on its default
    port at the registry's host name or a host under the registry's parent domain when that
    domain has two labels or more (``registry-1.docker.io`` -> ``*.docker.io``; ``ghcr.io`` ->
    only ``ghcr.io``; ``reg.example.co.uk`` -> ``*.example.co.uk``, never ``*.co.uk``). An IP
    address has no domain: only its own origin.
    """
    from skillpm.registry.redirects import origin

    token, registry = origin(token_url), origin(f"{registry_scheme}://{registry_host}")
    if token == registry:
        return True
    scheme, name, port = token
    hostname = registry[1]
    if scheme != "https" or port != 443:
        return False
    is_address = hostname.replace(".", "").isdigit() or ":" in hostname
    parent = hostname.split(".", 1)[1] if "." in hostname else ""
    return not is_address and parent.count(".") >= 1 and (name == hostname or name.endswith("." + parent))


def docker_config_path() -> Path:
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"


def find_credentials(host: str) -> Credentials | None:
    """The credentials for ``host`` from the environment or docker's configuration, if any."""
    from_environment = _from_environment(host)
    if from_environment is not None:
        return from_environment
    config = _docker_config()
    helper = (config.get("credHelpers") or {}).get(host) or config.get("credsStore")
    entry = (config.get("auths") or {}).get(host) or (config.get("auths") or {}).get(f"https://{host}")
    if isinstance(entry, dict) and isinstance(entry.get("auth"), str):
        try:
            user, _, secret = base64.b64decode(entry["auth"], validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            raise RegistryError(f"the docker credentials for {host} in {docker_config_path()} are malformed") from None
        return Credentials(user, secret)
    if isinstance(helper, str) and helper:
        return _from_helper(helper, host)
    return None


def _from_environment(host: str) -> Credentials | None:
    """``$SKILLPM_OCI_USERNAME`` / ``$SKILLPM_OCI_PASSWORD`` when ``$SKILLPM_OCI_HOST`` names ``host``.

    Unscoped (or scoped to something that is no host), they go nowhere, and a warning says how to scope them.
    """
    username, password = os.environ.get(USERNAME_ENV), os.environ.get(PASSWORD_ENV)
    if not (username and password):
        return None
    scope = scoped_host(os.environ.get(HOST_ENV, ""))
    if scope is None:
        _warn_unscoped()
        return None
    return Credentials(username, password) if scope == host else None


def scoped_host(value: str) -> str | None:
    """``$SKILLPM_OCI_HOST`` as skillpm names a registry's host (``HOST[:PORT]``, lower case); None when it is none."""
    from skillpm.registry.oci.reference import parse_location

    value = value.strip()
    if not value or any(char in value for char in "/@?#") or not value.isprintable():
        return None
    try:
        return parse_location(f"oci://{value}").host
    except RegistryError:
        return None


@functools.cache
def _warn_unscoped() -> None:
    """Say once per command why the environment's credentials were not sent."""
    from skillpm.registry.settings import settings

    settings.warn(f"${USERNAME_ENV} and ${PASSWORD_ENV} are ignored: set ${HOST_ENV} to the registry host they "
                  f"are for (HOST[:PORT], such as ghcr.io); skillpm sends them to no other")


def _docker_config() -> dict:
    from skillpm.jsonfile import read_json

    path = docker_config_path()
    if not path.is_file():
        return {}
    try:
        config = read_json(path, _CONFIG_LIMIT)
    except (OSError, ValueError) as error:
        raise RegistryError(f"cannot read {path}: {error}") from None
    return config if isinstance(config, dict) else {}


def _from_helper(helper: str, host: str) -> Credentials | None:
    """Ask docker's credential helper ``docker-credential-<helper>`` for ``host``."""
    program = shutil.which(f"docker-credential-{helper}")
    if program is None or not helper.replace("-", "").replace("_", "").isalnum():
        return None
    try:
        from skillpm.childenv import without_secrets

        done = subprocess.run([program, "get"], input=host.encode(), capture_output=True,
                              timeout=_HELPER_TIMEOUT_S, check=False, env=without_secrets())
    except (OSError, subprocess.TimeoutExpired):
        raise RegistryError(f"docker's credential helper {helper!r} did not answer for {host}") from None
    if done.returncode != 0:
        return None  # the helper has nothing for this host
    try:
        answer = json.loads(done.stdout[:_TOKEN_LIMIT])
        return Credentials(str(answer["Username"]), str(answer["Secret"]))
    except (ValueError, KeyError, TypeError):
        raise RegistryError(f"docker's credential helper {helper!r} answered in an unknown format") from None


@dataclass
class Authenticator:
    """The authorization skillpm has for each (host, repository, scope), learnt from challenges."""

    credentials: dict[str, Credentials | None] = field(default_factory=dict, repr=False)
    _tokens: dict[tuple[str, str, str], str] = field(default_factory=dict, repr=False)

    def _credentials(self, host: str) -> Credentials | None:
        if host not in self.credentials:
            self.credentials[host] = find_credentials(host)
        return self.credentials[host]

    def headers(self, host: str, repository: str, scope: str) -> dict[str, str]:
        """The ``Authorization`` header for a request, when a challenge has been answered."""
        value = self._tokens.get((host, repository, scope)) or self._tokens.get((host, "", ""))
        return {"Authorization": value} if value else {}

    def answer(self, challenge: str, *, host: str, repository: str, scope: str, transport: Transport,
               deadline: Deadline, scheme: str = "https", peer: str = "") -> None:
        """Learn how to authorize after a 401 carrying ``challenge`` (from the address ``peer``, when the
        connection was direct); RegistryError when skillpm cannot."""
        from skillpm.registry.addresses import internal
        from skillpm.registry.redirects import off_network

        kind, params = parse_challenge(challenge)
        credentials = self._credentials(host)
        if kind == "basic":
            if credentials is None:
                raise _needs_login(host)
            self._tokens[(host, "", "")] = credentials.basic()
            return
        if kind != "bearer" or not params.get("realm"):
            raise RegistryError(f"{host} asks for an authentication skillpm does not speak ({clean(kind[:40])})")
        realm = params["realm"]
        try:
            parts = urlsplit(realm)
            parts.port  # noqa: B018 - raises on a port out of range, as the request would
        except ValueError as error:  # an unclosed '[' of an IPv6 host, a port out of range
            raise RegistryError(f"{host} names a token service that is not a URL ({clean(realm[:120])}: {error})") from None
        loopback = ("127.0.0.1", "::1", "localhost")  # plain http only from this machine to this machine
        if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not (
                parts.hostname in loopback and urlsplit(f"//{host}").hostname in loopback)):
            raise RegistryError(f"{host} names a token service skillpm will not use ({clean(realm[:120])})")
        if internal(parts.hostname or "") and off_network(f"{scheme}://{host}/", peer):
            raise RegistryError(
                f"{host} names a token service on this machine or a private network ({clean(realm[:120])}); refused",
                hint="a registry on the internet may not send skillpm into your network",
            )
        query = {"service": params.get("service", ""), "scope": f"repository:{repository}:{scope}"}
        headers = {}
        if credentials is not None and may_send_credentials(realm, host, scheme):
            headers["Authorization"] = credentials.basic()
        reply = transport.get(f"{realm}?{urlencode(query)}", deadline=deadline, limit=_TOKEN_LIMIT, decode=True,
                              headers=headers)
        if reply.status in (401, 403):
            raise _needs_login(host)
        if reply.status != 200:
            raise RegistryError(f"the token service of {host} answered HTTP {reply.status}")
        self._tokens[(host, repository, scope)] = f"Bearer {_token(reply.body, host)}"


def _token(body: bytes, host: str) -> str:
    from skillpm.jsonfile import parse_json

    try:
        document = parse_json(body)
    except ValueError:
        document = None
    token = (document.get("token") or document.get("access_token")) if isinstance(document, dict) else None
    if not isinstance(token, str) or not token or not token.isascii() or not token.isprintable() or " " in token:
        raise RegistryError(f"the token service of {host} sent no usable token")
    return token


def _needs_login(host: str) -> RegistryError:
    return RegistryError(
        f"{host} needs credentials, and skillpm has none that it accepts",
        hint=f"run 'docker login {host}', or set {HOST_ENV}={host} beside {USERNAME_ENV} and {PASSWORD_ENV}",
    )
