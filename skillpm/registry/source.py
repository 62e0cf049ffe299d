"""Reading a registry: where it is, and its documents and artifacts.

A registry is a tree of plain files (docs/index-format.md). This module opens
one from a directory, a ``file://`` URL, an ``http(s)://`` URL (through
:mod:`skillpm.registry.http`, imported only then) or the name of a registry
configured with ``skillpm registry add-remote``, and reads only what is asked
for: ``config.json``, one package's document, ``search.json``, or one artifact.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Protocol
from urllib.parse import unquote, urlparse

from skillpm.errors import IndexFormatError, RegistryError, RegistryUnreachable, ResolutionError
from skillpm.index.model import (
    PackageDocument,
    RegistryConfig,
    SearchEntry,
    parse_search,
    shard_path,
)
from skillpm.reading import MAX_ARTIFACT_SIZE, MAX_DOCUMENT_SIZE, read_regular_file

if TYPE_CHECKING:
    from skillpm.registry.trust import IndexGuard

EMBEDDED = "embedded"
REGISTRY_ENV = "SKILLPM_REGISTRY"
OFFLINE_ENV = "SKILLPM_OFFLINE"


class Source(Protocol):
    """Where packages are looked up: one registry, or the configured registries in turn."""

    label: str

    def locate(self, name: str) -> tuple[Registry, PackageDocument]:
        """The registry that serves package ``name``, and its document; ResolutionError when none does."""
        ...

    def search_entries(self) -> tuple[SearchEntry, ...]: ...


class Registry(Source, Protocol):
    """One registry, wherever it is: what install, sync, resolve, info and search read from it."""

    #: How the lockfile names this registry: ``embedded`` or a URL.
    label: str

    def config(self) -> RegistryConfig: ...

    def package(self, name: str) -> PackageDocument | None: ...

    def require_package(self, name: str) -> PackageDocument: ...

    def search_entries(self) -> tuple[SearchEntry, ...]: ...

    def artifact(self, relative: str, *, limit: int = MAX_ARTIFACT_SIZE) -> bytes: ...


def _warn_on_stderr(message: str) -> None:
    from skillpm.display import LINE, clean

    sys.stderr.write(f"warning: {clean(message, LINE)}\n")  # quotes a server's words: shown escaped


class Settings:
    """How this process reaches registries; the CLI's ``--offline``, ``--timeout`` and ``--json`` set these."""

    offline = False  # read only the index cache and the artifact cache (also $SKILLPM_OFFLINE=1)
    progress = True  # download progress bars on stderr (only ever shown on a terminal)
    timeout: float | None = None  # seconds one HTTP request may take in all (else $SKILLPM_HTTP_TIMEOUT)
    started: float | None = None  # when the command started (time.monotonic()), for $SKILLPM_HTTP_DEADLINE
    warn: Callable[[str], None] = staticmethod(_warn_on_stderr)  # a registry skipped because it did not answer


settings = Settings()


def offline() -> bool:
    """Whether to use only cached documents and artifacts: ``--offline`` or ``$SKILLPM_OFFLINE=1``."""
    return settings.offline or os.environ.get(OFFLINE_ENV, "").lower() in ("1", "true", "yes")


def embedded_registry_path() -> Path:
    """The registry shipped with skillpm: in the wheel, or registry/ of a source checkout."""
    from skillpm.resources import shipped

    return shipped("registry")


class LocalRegistry:
    """A registry in a local directory (given as a path or a ``file://`` URL)."""

    def __init__(self, root: Path, label: str, *, verify: bool = True) -> None:
        self.root = root
        #: How the lockfile names this registry: ``embedded`` or a ``file://`` URL.
        self.label = label
        self._config: RegistryConfig | None = None
        self._guard: IndexGuard | None = None
        # Unverified: the registry's own writer (skillpm.registry.store), and the embedded
        # registry, which ships inside skillpm and is trusted as part of it (its index is unsigned).
        if verify and label != EMBEDDED:
            from skillpm.registry.trust import IndexGuard

            self._guard = IndexGuard(label, self._raw)

    def __repr__(self) -> str:
        return f"LocalRegistry({self.label!r})"

    def config(self) -> RegistryConfig:
        """Read and check ``config.json`` (once)."""
        if self._config is not None:
            return self._config
        self._config = read_config(self.label, self._document("config.json"))
        return self._config

    def package(self, name: str) -> PackageDocument | None:
        """The document of package ``name``, or ``None`` when the registry has no such package."""
        self.config()
        relative = package_path(name)
        return read_package(self.label, relative, name, self._document(relative))

    def require_package(self, name: str) -> PackageDocument:
        """The document of package ``name``; ResolutionError, suggesting near names, when absent."""
        return self.package(name) or not_found(self, name)

    def locate(self, name: str) -> tuple[LocalRegistry, PackageDocument]:
        return self, self.require_package(name)

    def search_entries(self) -> tuple[SearchEntry, ...]:
        """Every package in the compact search document."""
        self.config()
        return read_search(self.label, self._document("search.json"))

    def artifact(self, relative: str, *, limit: int = MAX_ARTIFACT_SIZE) -> bytes:
        """The bytes of an artifact named by its path in the index, at most ``limit`` + 1 of them.

        A caller that expects ``limit`` bytes sees a longer artifact as too long (and
        reports it against the digest it expected) without reading it whole.
        """
        data = self._read(relative, limit, clip=True)
        if data is None:
            raise RegistryError(
                f"{self.label}: artifact {relative} is missing",
                hint="the registry is incomplete; tell its owner or run 'skillpm registry rebuild'",
            )
        return data

    def _document(self, relative: str) -> object | None:
        data = self._raw(relative)
        if self._guard is not None:
            self._guard.check(relative, data)
        return None if data is None else parse_json(self.label, relative, data)

    def _raw(self, relative: str) -> bytes | None:
        return self._read(relative, MAX_DOCUMENT_SIZE)

    def _read(self, relative: str, limit: int, *, clip: bool = False) -> bytes | None:
        path = self.root.joinpath(*relative.split("/"))
        try:
            data = read_regular_file(path, limit)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise RegistryError(f"{self.label}: cannot read {relative}: {error.strerror or error}") from None
        if len(data) > limit and not clip:
            raise IndexFormatError(f"{self.label}: {relative} is larger than {limit} bytes")
        return data


def package_path(name: str) -> str:
    """The path of package ``name``'s document relative to the registry root."""
    return f"index/{shard_path(name)}"


def parse_json(label: str, relative: str, data: bytes) -> object:
    """The strict JSON value of a document's bytes; IndexFormatError naming it when refused."""
    from skillpm import jsonfile

    try:
        # Index text is only compared, or shown escaped (skillpm.display): a lone surrogate may stay.
        return jsonfile.parse_json(data, lone_surrogates=True)
    except ValueError as error:
        raise IndexFormatError(
            f"{label}: {relative} is corrupt: {error}",
            hint="regenerate the index with 'skillpm registry rebuild DIR'",
        ) from None


def read_config(label: str, data: object | None) -> RegistryConfig:
    """``config.json`` checked; IndexFormatError when the registry has none."""
    if data is None:
        raise IndexFormatError(
            f"{label} is not a skillpm registry (no config.json)",
            hint="create one with 'skillpm registry init DIR', or check --registry",
        )
    return RegistryConfig.from_json(data, f"{label}: config.json")


def read_package(label: str, relative: str, name: str, data: object | None) -> PackageDocument | None:
    """Package ``name``'s document checked, or ``None`` when the registry has none."""
    if data is None:
        return None
    document = PackageDocument.from_json(data, f"{label}: {relative}")
    if document.name != name:
        raise IndexFormatError(f"{label}: {relative} describes {document.name!r}, not {name!r}")
    return document


def read_search(label: str, data: object | None) -> tuple[SearchEntry, ...]:
    """``search.json`` checked; IndexFormatError when the registry has none."""
    if data is None:
        raise IndexFormatError(
            f"{label} has no search.json",
            hint="regenerate it with 'skillpm registry rebuild DIR'",
        )
    return parse_search(data, f"{label}: search.json")


def not_found(registry: Source, name: str) -> NoReturn:
    """Raise the ResolutionError for a package ``registry`` lacks, suggesting near names."""
    import difflib

    names = [entry.name for entry in registry.search_entries()]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}?" if close else "try 'skillpm search WORDS'"
    raise ResolutionError(f"no package named {name!r} in registry {registry.label}", hint=hint)


class RegistryChain:
    """The configured registries, highest priority first, then the embedded one.

    A package comes from the first member that has it; :meth:`locate` says which,
    so an install records (and ``sync`` later uses) exactly that registry. A member
    that does not answer (:class:`~skillpm.errors.RegistryUnreachable`) stops
    :meth:`locate` when it comes before the member that has the package: it might
    have had it, and taking a lower-priority registry's package of the same name
    instead is how dependency confusion works. A dead member after that one is never
    asked. :meth:`search_entries` lists what the answering members have, skipping a
    dead one with one warning. Any other failure (a bad document, a failed integrity
    check) stops either.
    """

    def __init__(self, members: list[Registry]) -> None:
        self.members = members
        self.label = "the configured registries (" + ", ".join(member.label for member in members) + ")"

    def __repr__(self) -> str:
        return f"RegistryChain({[member.label for member in self.members]!r})"

    def locate(self, name: str) -> tuple[Registry, PackageDocument]:
        for position, member in enumerate(self.members):
            try:
                document = member.package(name)
            except RegistryUnreachable as error:
                later = ", ".join(other.label for other in self.members[position + 1 :])
                raise RegistryUnreachable(
                    error.message,
                    hint=f"{member.label} comes first among the configured registries, so {name!r} cannot be "
                    f"taken from a later one ({later}) while it is down; pass --registry NAME to choose one, "
                    "or try again later",
                ) from error
            if document is not None:
                return member, document
        not_found(self, name)

    def search_entries(self) -> tuple[SearchEntry, ...]:
        """Every answering member's entries (a dead one skipped with a warning); a name in several is listed from the first."""
        found: dict[str, SearchEntry] = {}
        answered = False
        for member in self.members:
            try:
                entries = member.search_entries()
            except RegistryUnreachable as error:
                settings.warn(f"skipping registry {member.label}, which does not answer: {error.message}")
                last_error = error
                continue
            answered = True
            for entry in entries:
                found.setdefault(entry.name, entry)
        if not answered:
            raise last_error
        return tuple(sorted(found.values(), key=lambda entry: entry.name))


def open_registry(location: str | None = None) -> Source:
    """Open the registry at ``location``: a directory, a URL, a configured name or ``embedded``.

    Without ``location``: ``$SKILLPM_REGISTRY``; else the configured registries by
    priority, then the embedded one; else the embedded one alone.
    """
    location = location or os.environ.get(REGISTRY_ENV)
    if not location:
        from skillpm.registry.config import load_registries

        configured = load_registries()
        if not configured:
            return LocalRegistry(embedded_registry_path(), EMBEDDED)
        members = [open_registry(remote.url) for remote in configured]
        return RegistryChain([*members, LocalRegistry(embedded_registry_path(), EMBEDDED)])
    if location == EMBEDDED:
        return LocalRegistry(embedded_registry_path(), EMBEDDED)
    if location.startswith(("http://", "https://")):
        from skillpm.registry.http import HttpRegistry

        return HttpRegistry(location)
    if location.startswith("file://"):
        path = Path(unquote(urlparse(location).path))
    elif "://" in location:
        scheme = location.split("://", 1)[0]
        raise RegistryError(
            f"registry scheme {scheme!r} is not supported",
            hint="use a directory, a file://, https:// or http://localhost URL, or a configured name",
        )
    else:
        named = _configured_url(location)
        if named is not None:
            return open_registry(named)
        path = Path(location)
    root = path.expanduser().resolve()
    if not root.is_dir():
        raise RegistryError(
            f"registry {location} does not exist or is not a directory",
            hint="check --registry or $SKILLPM_REGISTRY; 'skillpm registry list' shows the configured names",
        )
    return LocalRegistry(root, root.as_uri())


def open_locked_registry(label: str) -> Registry:
    """The one registry a lockfile entry names: ``embedded`` or a URL, never the configured chain."""
    opened = open_registry(label) if label else None
    if opened is None or isinstance(opened, RegistryChain):
        raise RegistryError(f"a lockfile entry names registry {label!r}, which is not one registry")
    return opened


def registry_label(location: str) -> str:
    """How skillpm names (and pins the index key of) the one registry at ``location``: ``embedded`` or a URL."""
    return open_locked_registry(location).label


def _configured_url(name: str) -> str | None:
    """The URL of the configured registry ``name``; only bare names are looked up, never paths."""
    if "/" in name or os.sep in name or name.startswith("."):
        return None
    from skillpm.registry.config import find_registry

    remote = find_registry(name)
    return None if remote is None else remote.url
