"""Turning a ``--registry`` value, ``$SKILLPM_REGISTRY`` or the configuration into a Source.

The one module that knows every backend: a directory or ``file://`` URL opens the
static-directory backend (:mod:`~skillpm.registry.directory`), an ``http(s)://`` URL
the static-HTTP one (:mod:`~skillpm.registry.http`, imported only then), an ``oci://``
URL an OCI registry (:mod:`~skillpm.registry.oci.registry`, imported only then), a
configured name its URL, and no value the configured registries (:mod:`~skillpm.registry.chain`).
No backend imports this module.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from skillpm.errors import RegistryError, RegistryUnreachable
from skillpm.registry.directory import EMBEDDED, LocalRegistry

if TYPE_CHECKING:
    from skillpm.registry.oci.registry import OciRegistry
    from skillpm.registry.source import Registry, Source
    from skillpm.registry.trust import IndexGuard

REGISTRY_ENV = "SKILLPM_REGISTRY"


def embedded_registry_path() -> Path:
    """The registry shipped with skillpm: in the wheel, or registry/ of a source checkout."""
    from skillpm.resources import shipped

    return shipped("registry")



def open_registry(location: str | None = None) -> Source:
    """Open the registry at ``location``: a directory, a URL, a configured name or ``embedded``.

    Without ``location``: ``$SKILLPM_REGISTRY``; else the configured registries by
    priority with the embedded one at priority 0, after the configured ones of priority 0
    or more and before those below it; else the embedded one alone.
    """
    location = location or os.environ.get(REGISTRY_ENV)
    if not location:
        from skillpm.registry.config import load_registries

        configured = load_registries()
        if not configured:
            return LocalRegistry(embedded_registry_path(), EMBEDDED)
        from skillpm.registry.chain import RegistryChain  # only with configured registries: kept off start-up

        above = [open_registry(remote.url) for remote in configured if remote.priority >= 0]
        below = [open_registry(remote.url) for remote in configured if remote.priority < 0]
        return RegistryChain([*above, LocalRegistry(embedded_registry_path(), EMBEDDED), *below])
    if location == EMBEDDED:
        return LocalRegistry(embedded_registry_path(), EMBEDDED)
    if location[:8].lower().startswith(("http://", "https://")):  # HttpRegistry puts the URL in normal form
        from skillpm.registry.http import HttpRegistry

        return HttpRegistry(location)
    if location.startswith("oci://"):
        return open_oci_registry(location)
    if location.startswith("file://"):
        path = Path(unquote(urlparse(location).path))
    elif "://" in location:
        scheme = location.split("://", 1)[0]
        raise RegistryError(
            f"registry scheme {scheme!r} is not supported",
            hint="use a directory, a file://, https://, http://localhost or oci:// URL, or a configured name",
        )
    else:
        named = _configured_url(location)
        if named is not None:
            return open_registry(named)
        path = Path(location)
    root = path.expanduser().resolve()
    if not root.is_dir():  # unreachable: sync may take the locked bytes from elsewhere
        raise RegistryUnreachable(
            f"registry {location} does not exist or is not a directory",
            hint="check --registry or $SKILLPM_REGISTRY; 'skillpm registry list' shows the configured names",
        )
    return LocalRegistry(root, root.as_uri())


def oci_url(location: str) -> str | None:
    """``location`` when it is an ``oci://`` URL, or the URL of the configured OCI registry it names; else None."""
    url = location if location.startswith("oci://") else _configured_url(location)
    return url if url is not None and url.startswith("oci://") else None


def open_oci_registry(location: str) -> OciRegistry:
    """The OCI registry at ``oci://HOST[:PORT]/NAMESPACE`` (or configured by that name), over plain http
    when the user allows it.

    Plain http to a host off this machine only with ``--plain-http`` or the configured
    registry's ``plain-http = true``; a loopback host falls back to it by itself.
    """
    from skillpm.registry.config import plain_http_allowed
    from skillpm.registry.oci.reference import parse_location
    from skillpm.registry.oci.registry import OciRegistry
    from skillpm.registry.settings import settings

    url = parse_location(oci_url(location) or location).url
    return OciRegistry(url, plain_http=settings.plain_http or plain_http_allowed(url))


def open_locked_registry(label: str) -> Registry:
    """The one registry a lockfile entry names: ``embedded`` or a URL, never the configured chain.

    A source's pinned label (:mod:`skillpm.sources.spec`) opens that source, fetched again at its pin.
    """
    from skillpm.registry.chain import RegistryChain
    from skillpm.sources import names_a_source

    if names_a_source(label):  # the source modules only then: a registry's entries need none of them
        from skillpm.sources.factory import open_locked_source

        source = open_locked_source(label)
        if source is not None:
            return source

    opened = open_registry(label) if label else None
    if opened is None or isinstance(opened, RegistryChain):
        raise RegistryError(f"a lockfile entry names registry {label!r}, which is not one registry")
    return opened


def registry_label(location: str) -> str:
    """How skillpm names (and pins the index key of) the one registry at ``location``: ``embedded`` or a URL."""
    return open_locked_registry(location).label


def index_guard(location: str) -> IndexGuard | None:
    """The signed-index checks of the one registry at ``location``; ``None`` for one with no index to sign.

    A directory or a static HTTP registry has them; the embedded registry, an OCI registry and a source do not.
    """
    opened = open_locked_registry(location)
    if isinstance(opened, LocalRegistry):
        return opened.index_guard
    if not opened.label.startswith(("http://", "https://")):
        return None
    from skillpm.registry.http import HttpRegistry

    return opened.index_guard if isinstance(opened, HttpRegistry) else None


def _configured_url(name: str) -> str | None:
    """The URL of the configured registry ``name``; only bare names are looked up, never paths."""
    if "/" in name or os.sep in name or name.startswith("."):
        return None
    from skillpm.registry.config import find_registry

    remote = find_registry(name)
    return None if remote is None else remote.url
