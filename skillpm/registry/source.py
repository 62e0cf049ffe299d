"""Reading a registry: where it is, and its documents and artifacts.

A registry is a tree of plain files (docs/index-format.md). This module opens
one from a directory or a ``file://`` URL and reads only what is asked for:
``config.json``, one package's document, ``search.json``, or one artifact.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from skillpm.errors import IndexFormatError, RegistryError, ResolutionError
from skillpm.index.model import (
    PackageDocument,
    RegistryConfig,
    SearchEntry,
    parse_search,
    shard_path,
)

EMBEDDED = "embedded"
REGISTRY_ENV = "SKILLPM_REGISTRY"
MAX_DOCUMENT_SIZE = 16 * 1024 * 1024
MAX_ARTIFACT_SIZE = 256 * 1024 * 1024


def embedded_registry_path() -> Path:
    """The registry shipped with skillpm: in the wheel, or registry/ of a source checkout."""
    package_dir = Path(__file__).resolve().parent.parent
    shipped = package_dir / "_registry"
    return shipped if shipped.is_dir() else package_dir.parent / "registry"


class LocalRegistry:
    """A registry in a local directory (given as a path or a ``file://`` URL)."""

    def __init__(self, root: Path, label: str) -> None:
        self.root = root
        #: How the lockfile names this registry: ``embedded`` or a ``file://`` URL.
        self.label = label
        self._config: RegistryConfig | None = None

    def __repr__(self) -> str:
        return f"LocalRegistry({self.label!r})"

    def config(self) -> RegistryConfig:
        """Read and check ``config.json`` (once)."""
        if self._config is not None:
            return self._config
        data = self._document("config.json")
        if data is None:
            raise IndexFormatError(
                f"{self.label} is not a skillpm registry (no config.json)",
                hint="create one with 'skillpm registry init DIR', or check --registry",
            )
        self._config = RegistryConfig.from_json(data, f"{self.label}: config.json")
        return self._config

    def package(self, name: str) -> PackageDocument | None:
        """The document of package ``name``, or ``None`` when the registry has no such package."""
        self.config()
        relative = f"index/{shard_path(name)}"
        data = self._document(relative)
        if data is None:
            return None
        document = PackageDocument.from_json(data, f"{self.label}: {relative}")
        if document.name != name:
            raise IndexFormatError(f"{self.label}: {relative} describes {document.name!r}, not {name!r}")
        return document

    def require_package(self, name: str) -> PackageDocument:
        """The document of package ``name``; ResolutionError, suggesting near names, when absent."""
        document = self.package(name)
        if document is not None:
            return document
        import difflib

        names = [entry.name for entry in self.search_entries()]
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(close)}?" if close else "try 'skillpm search WORDS'"
        raise ResolutionError(f"no package named {name!r} in registry {self.label}", hint=hint)

    def search_entries(self) -> tuple[SearchEntry, ...]:
        """Every package in the compact search document."""
        self.config()
        data = self._document("search.json")
        if data is None:
            raise IndexFormatError(
                f"{self.label} has no search.json",
                hint="regenerate it with 'skillpm registry rebuild DIR'",
            )
        return parse_search(data, f"{self.label}: search.json")

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
        data = self._read(relative, MAX_DOCUMENT_SIZE)
        if data is None:
            return None
        try:
            return json.loads(data)
        except (ValueError, RecursionError):
            raise IndexFormatError(
                f"{self.label}: {relative} is corrupt (not valid JSON)",
                hint="regenerate the index with 'skillpm registry rebuild DIR'",
            ) from None

    def _read(self, relative: str, limit: int, *, clip: bool = False) -> bytes | None:
        path = self.root.joinpath(*relative.split("/"))
        try:
            with path.open("rb") as handle:
                data = handle.read(limit + 1)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise RegistryError(f"{self.label}: cannot read {relative}: {error.strerror}") from None
        if len(data) > limit and not clip:
            raise IndexFormatError(f"{self.label}: {relative} is larger than {limit} bytes")
        return data


def open_registry(location: str | None = None) -> LocalRegistry:
    """Open the registry at ``location``; by default ``$SKILLPM_REGISTRY``, else the embedded one."""
    location = location or os.environ.get(REGISTRY_ENV) or EMBEDDED
    if location == EMBEDDED:
        return LocalRegistry(embedded_registry_path(), EMBEDDED)
    if location.startswith("file://"):
        path = Path(unquote(urlparse(location).path))
    elif "://" in location:
        scheme = location.split("://", 1)[0]
        raise RegistryError(
            f"registry scheme {scheme!r} is not supported yet",
            hint="use a directory or a file:// URL; https:// registries are planned",
        )
    else:
        path = Path(location)
    root = path.expanduser().resolve()
    if not root.is_dir():
        raise RegistryError(
            f"registry {location} does not exist or is not a directory",
            hint="check --registry or $SKILLPM_REGISTRY",
        )
    return LocalRegistry(root, root.as_uri())
