"""The user's configured registries: ``[[registry]]`` tables in skillpm's config.toml.

```toml
[[registry]]
name = "team"
url = "https://skills.example.org/registry"
priority = 10

[[registry]]
name = "build-box"
url = "oci://build-box.lan:5000/skills"
plain-http = true   # an OCI registry off this machine that speaks no TLS (docker's insecure-registries)
```

The file lives in the user's config directory (``~/.config/skillpm/config.toml``
on Linux) or at ``$SKILLPM_CONFIG``. Without ``--registry``, a package comes
from the highest-priority registry that has it, the embedded one counting as
priority 0 (after configured ones of priority 0 or more).
Reading it sits below every backend; editing it (which opens the registry to
name it) is :mod:`skillpm.registry.configure`, above the factory.
"""

from __future__ import annotations

import os
from pathlib import Path

from skillpm.errors import RegistryError
from skillpm.reading import MAX_CONFIG_SIZE, problem
from skillpm.records import CheckedRecord, Record
from skillpm.spelling import LOWER_ALNUM, only
from skillpm.userdirs import user_path

CONFIG_ENV = "SKILLPM_CONFIG"
ALLOW_HTTP_ENV = "SKILLPM_ALLOW_HTTP"
_RESERVED = ("embedded",)


def _is_registry_name(name: str) -> bool:
    """Lowercase letters, digits, '-' and '_', 64 at most, beginning with a letter or digit."""
    return len(name) <= 64 and name[:1] in LOWER_ALNUM and only(name, LOWER_ALNUM + "_-")
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class _RegistryFields(Record):
    name: str
    url: str
    priority: int = 0
    plain_http: bool = False  # oci:// only: the user allows plain http to this registry's host


class RemoteRegistry(CheckedRecord, _RegistryFields):
    """One configured registry: a name to pass to --registry, where it is, and its priority.

    Every way of making one (the constructor, ``_make``, ``_replace``) checks every field.
    """

    __slots__ = ()

    def __new__(cls, name: str, url: str, priority: int = 0, plain_http: bool = False) -> RemoteRegistry:
        self = super().__new__(cls, name, url, priority, plain_http)
        if not _is_registry_name(self.name) or self.name in _RESERVED:
            raise RegistryError(
                f"invalid registry name {self.name!r}",
                hint="use lowercase letters, digits, '-' and '_' (and not 'embedded')",
            )
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise RegistryError(f"registry {self.name!r}: priority {self.priority!r} is not an integer")
        if not isinstance(self.plain_http, bool) or (self.plain_http and not self.url.startswith("oci://")):
            raise RegistryError(f"registry {self.name!r}: plain-http is true or false, and only for an oci:// URL")
        check_url(self.url)
        return self

    def to_toml(self) -> dict[str, object]:
        """The ``[[registry]]`` table, ``plain-http`` only when set."""
        table: dict[str, object] = {"name": self.name, "url": self.url, "priority": self.priority}
        if self.plain_http:
            table["plain-http"] = True
        return table


def config_path() -> Path:
    """``$SKILLPM_CONFIG``, else ``config.toml`` in the user's config directory for skillpm."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    return user_path("config") / "config.toml"


def check_url(url: str) -> str:
    """``url`` as skillpm names the registry there, when it may use it; RegistryError saying why not otherwise.

    https:// anywhere; http:// only to this machine (127.0.0.1, localhost, ::1) unless
    ``$SKILLPM_ALLOW_HTTP=1``; never with a user name or password in it (skillpm sends no
    credentials, also after a redirect); an http(s) URL is returned in its normal form
    (:func:`skillpm.registry.urls.canonical_url`); ``oci://HOST[:PORT]/NAMESPACE`` (see
    docs/oci.md); file:// URLs and directories as they are.
    """
    from urllib.parse import urlsplit

    from skillpm.registry.urls import UrlProblem, canonical_url, shown_url

    if url.startswith("oci://"):
        from skillpm.registry.oci.reference import parse_location

        return parse_location(url).url

    try:
        parts = urlsplit(url)
        credentials = parts.username is not None or parts.password is not None
    except ValueError as error:  # an IPv6 address without its ']'
        raise RegistryError(f"registry URL {shown_url(url)!r} is malformed ({error})") from None
    if parts.scheme in ("http", "https") and credentials:  # first: no other error may quote them
        raise RegistryError(
            f"registry URL {parts.scheme}://{parts.hostname}/... carries a user name or password; refused",
            hint="keep credentials out of URLs: 'skillpm registry login NAME', $SKILLPM_TOKEN_<NAME> or ~/.netrc",
        )
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as error:
        raise RegistryError(f"registry URL {shown_url(url)!r} is malformed ({error})") from None
    if parts.scheme in ("http", "https"):
        try:
            url = canonical_url(url)
        except UrlProblem as problem:
            raise RegistryError(f"registry URL {shown_url(url)!r} {problem}") from None
    if parts.scheme == "https" or parts.scheme == "file" or "://" not in url:
        if parts.scheme == "https" and not parts.hostname:
            raise RegistryError(f"registry URL {shown_url(url)!r} has no host")
        return url
    if parts.scheme != "http":
        raise RegistryError(
            f"registry scheme {parts.scheme!r} is not supported ({shown_url(url)})",
            hint="use https://, http://localhost, file:// or a directory",
        )
    if parts.hostname in _LOCAL_HOSTS or os.environ.get(ALLOW_HTTP_ENV, "").lower() in ("1", "true", "yes"):
        return url
    raise RegistryError(
        f"refusing plain http:// registry {shown_url(url)}: only https:// is allowed off this machine",
        hint=f"use https://, or set {ALLOW_HTTP_ENV}=1 if you trust every network between you and it",
    )


def load_registries(path: Path | None = None) -> tuple[RemoteRegistry, ...]:
    """The configured registries, highest priority first (ties: in file order); none when no file."""
    path = path or config_path()
    if not os.path.lexists(path):  # the common case: skip importing the TOML reader
        return ()
    from skillpm.tomlfile import read_toml_file

    try:
        data = read_toml_file(path, limit=MAX_CONFIG_SIZE)
    except FileNotFoundError:
        return ()
    except (ValueError, OSError) as error:
        raise RegistryError(f"{path} is not a readable config file: {problem(error)}", hint="fix or delete it") from None
    tables = data.get("registry", [])
    if not isinstance(tables, list):
        raise RegistryError(f"{path}: 'registry' must be an array of tables ([[registry]])")
    registries = []
    for index, table in enumerate(tables):
        if not isinstance(table, dict) or not {"name", "url"} <= set(table) <= {"name", "url", "priority", "plain-http"}:
            raise RegistryError(
                f"{path}: [[registry]] {index + 1} must have name, url and optionally priority and plain-http"
            )
        if not isinstance(table["name"], str) or not isinstance(table["url"], str):
            raise RegistryError(f"{path}: [[registry]] {index + 1}: name and url must be strings")
        registries.append(
            RemoteRegistry(table["name"], table["url"], table.get("priority", 0), table.get("plain-http", False))
        )
    names = [registry.name for registry in registries]
    if len(set(names)) != len(names):
        raise RegistryError(f"{path}: a registry name is configured twice", hint="remove one of them")
    return tuple(sorted(registries, key=lambda registry: -registry.priority))


def find_registry(name: str, path: Path | None = None) -> RemoteRegistry | None:
    """The configured registry called ``name``, or ``None``."""
    return next((registry for registry in load_registries(path) if registry.name == name), None)


def plain_http_allowed(url: str) -> bool:
    """Whether the user configured the oci:// registry at ``url`` with ``plain-http = true``.

    Only the user's own configuration (or ``--plain-http``) says so: a lockfile or a project
    never lowers an OCI registry to plain http.
    """
    return any(registry.plain_http and registry.url == url for registry in load_registries())
