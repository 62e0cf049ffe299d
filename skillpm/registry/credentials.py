"""Credentials for private registries over HTTPS: a bearer token per registry, or ``~/.netrc``.

For a registry, the first of these that has something wins:

1. ``$SKILLPM_TOKEN_<NAME>``, where NAME is the configured registry's name upper-cased with
   ``-`` as ``_`` (``team-skills`` -> ``SKILLPM_TOKEN_TEAM_SKILLS``): a bearer token;
2. ``credentials.toml`` in skillpm's config folder, written by ``skillpm registry login NAME``
   with mode 0600 (a file others can read is refused): a bearer token;
3. ``~/.netrc`` (or ``$NETRC``), the ``machine`` entry for the registry's host: basic auth, as
   pip and curl read it (never its ``default`` entry, which names no host).

Only a registry the user configured gets any: a registry given by URL gets them when its URL
is a configured registry's. A URL a cloned project's skills.lock names could be anyone's, and
netrc entries name a host without a port, so they are not sent to every URL on that host.
Credentials are sent only to the registry's own origin (scheme, host and port),
never after a redirect to another (:mod:`skillpm.registry.transport`), and are never printed,
logged, written to skills.lock or kept in the index cache.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from skillpm.errors import RegistryError
from skillpm.reading import MAX_CONFIG_SIZE, open_to_others, problem
from skillpm.userdirs import user_path

TOKEN_ENV_PREFIX = "SKILLPM_TOKEN_"
_TOKEN_RE = re.compile(r"[\x21-\x7e]{1,4096}")  # visible ASCII: what an HTTP header may carry


def token_variable(name: str) -> str:
    """The environment variable that holds registry ``name``'s token."""
    return TOKEN_ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", name.upper())


def credentials_path() -> Path:
    return user_path("config") / "credentials.toml"


def check_token(token: str) -> str:
    """``token`` when it can be sent in a header; RegistryError otherwise (the token is never shown)."""
    if not _TOKEN_RE.fullmatch(token):
        raise RegistryError("the token is empty, too long, or holds spaces or control characters")
    return token


def _stored_tokens() -> dict[str, str]:
    path = credentials_path()
    if not os.path.lexists(path):
        return {}
    from skillpm.tomlfile import read_toml_file

    try:
        if open_to_others(path):
            raise RegistryError(
                f"{path} can be read by other users; refusing to use the tokens in it",
                hint=f"run 'chmod 600 {path}', then replace the tokens (they may have been seen)",
            )
        data = read_toml_file(path, limit=MAX_CONFIG_SIZE)
    except (ValueError, OSError) as error:
        raise RegistryError(f"{path} is not a readable credentials file: {problem(error)}",
                            hint="fix or delete it, then 'skillpm registry login NAME' again") from None
    tables = data.get("registry", {})
    if not isinstance(tables, dict):
        raise RegistryError(f"{path}: 'registry' must be a table of [registry.NAME] tables")
    tokens = {}
    for name, table in tables.items():
        token = table.get("token") if isinstance(table, dict) else None
        if not isinstance(token, str):
            raise RegistryError(f"{path}: [registry.{name}] must have a token string")
        tokens[name] = token
    return tokens


def store_token(name: str, token: str) -> Path:
    """Keep ``token`` for registry ``name`` in the credentials file (mode 0600); its path."""
    from skillpm.locks import lock_for

    check_token(token)
    path = credentials_path()
    with lock_for(path):
        tokens = _stored_tokens()
        tokens[name] = token
        _write(path, tokens)
    return path


def forget_token(name: str) -> bool:
    """Remove registry ``name``'s stored token; whether there was one."""
    from skillpm.locks import lock_for

    path = credentials_path()
    with lock_for(path):
        tokens = _stored_tokens()
        if tokens.pop(name, None) is None:
            return False
        _write(path, tokens)
    return True


def _write(path: Path, tokens: dict[str, str]) -> None:
    import tomli_w

    from skillpm.atomic import atomic_write

    header = "# skillpm registry tokens: 'skillpm registry login/logout' edit this file. Keep it private.\n"
    document = {"registry": {name: {"token": token} for name, token in sorted(tokens.items())}}
    atomic_write(path, (header + tomli_w.dumps(document)).encode(), mode=0o600)


def configured_name(url: str) -> str | None:
    from skillpm.registry.config import load_registries
    from skillpm.registry.urls import comparable

    wanted = comparable(url)
    return next((remote.name for remote in load_registries() if comparable(remote.url) == wanted), None)


def authorization(url: str, name: str | None = None) -> str | None:
    """The ``Authorization`` header value for the registry at ``url`` (configured as ``name``), if any."""
    name = name or configured_name(url)
    if name is None:
        return None
    token = os.environ.get(token_variable(name)) or _stored_tokens().get(name)
    if token:
        return f"Bearer {check_token(token)}"
    return _netrc_basic(urlsplit(url).hostname or "")


def _netrc_basic(host: str) -> str | None:
    import netrc

    path = os.environ.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
    if not host or host == "default" or not os.path.isfile(path):  # netrc keeps its 'default' entry by that name
        return None
    try:
        entry = netrc.netrc(path).hosts.get(host)  # not authenticators(): it falls back to 'default'
    except netrc.NetrcParseError as error:
        reason = error.msg.split("'", 1)[0].strip()  # never quote the file: a token may be in it
        raise RegistryError(f"cannot read {path}: {reason} (line {error.lineno})",
                            hint="fix its permissions (chmod 600) or its syntax") from None
    except OSError as error:
        raise RegistryError(f"cannot read {path}: {problem(error)}") from None
    if entry is None or not entry[2]:
        return None
    try:  # Python's netrc checks this only for ~/.netrc it finds itself, never for a path it is given
        if open_to_others(path) or (os.name == "posix" and os.stat(path).st_uid != os.getuid()):
            raise RegistryError(f"{path} can be read or written by other users, or is not yours; "
                                "refusing to send the password in it",
                                hint=f"run 'chmod 600 {path}' (as its owner), then change the password (it may have been seen)")
    except OSError as error:
        raise RegistryError(f"cannot read {path}: {problem(error)}") from None
    login, _, password = entry
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode("ascii")
