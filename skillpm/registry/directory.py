"""The static-directory backend: a registry in a local folder (a path or a ``file://`` URL).

Reads only what is asked for, each file bounded (:mod:`skillpm.reading`), never
following a link out of the registry; a signed index is checked by
:class:`~skillpm.registry.trust.IndexGuard` (imported only then).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from skillpm.errors import IndexFormatError, RegistryError
from skillpm.index.listing import Listing, listed
from skillpm.reading import MAX_ARTIFACT_SIZE, MAX_DOCUMENT_SIZE, artifact_limit, read_regular_file
from skillpm.registry.documents import not_found, package_path, parse_json, read_config, read_package, read_search

if TYPE_CHECKING:
    from skillpm.index.model import PackageDocument, RegistryConfig, SearchEntry
    from skillpm.registry.trust import IndexGuard

#: The label of the registry shipped with skillpm (its index is unsigned: trusted as part of skillpm).
EMBEDDED = "embedded"
#: The folder at a registry's root that holds the journal of a write in progress (skillpm.registry.store.journal).
JOURNAL = ".skillpm-journal"


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

    @property
    def index_guard(self) -> IndexGuard | None:
        """The signed-index checks of this registry; ``None`` for the embedded one and the registry's own writer."""
        return self._guard

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

    def listing(self, name: str) -> Listing | None:
        """:meth:`package` as a listing (every entry at hand)."""
        return listed(self.package(name))

    def locate(self, name: str) -> tuple[LocalRegistry, Listing]:
        return self, Listing.of(self.require_package(name))

    def search_entries(self) -> tuple[SearchEntry, ...]:
        """Every package in the compact search document."""
        self.config()
        return read_search(self.label, self._document("search.json"))

    def artifact(self, relative: str, *, limit: int = MAX_ARTIFACT_SIZE) -> bytes:
        """The bytes of an artifact named by its path in the index, at most ``limit`` + 1 of them.

        A caller that expects ``limit`` bytes sees a longer artifact as too long (and
        reports it against the digest it expected) without reading it whole.
        """
        data = self._read(relative, artifact_limit(limit), clip=True)
        if data is None:
            raise RegistryError(
                f"{self.label}: artifact {relative} is missing",
                hint="the registry is incomplete; tell its owner or run 'skillpm registry rebuild'",
            )
        return data

    def _document(self, relative: str) -> object | None:
        data = self._raw(relative)
        if self._guard is not None:
            try:
                self._guard.check(relative, data)
            except RegistryError as error:
                if (self.root / JOURNAL).exists():  # a writer was killed half-way: say how to finish its write
                    error.hint = f"a write to it was interrupted; any write finishes it: 'skillpm registry build {self.root}'"
                raise
        return None if data is None else parse_json(self.label, relative, data)

    def _raw(self, relative: str) -> bytes | None:
        return self._read(relative, MAX_DOCUMENT_SIZE)

    def _read(self, relative: str, limit: int, *, clip: bool = False) -> bytes | None:
        path = self.root.joinpath(*relative.split("/"))
        # The embedded registry is skillpm's own files, trusted as part of it (as its unsigned index is).
        if self.label != EMBEDDED and not _resolves_inside(path, self.root):  # a folder or file linked elsewhere
            raise RegistryError(f"{self.label}: {relative} leads out of the registry through a link; refused",
                                hint="a registry's files are its own; tell its owner")
        try:
            data = read_regular_file(path, limit)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise RegistryError(f"{self.label}: cannot read {relative}: {error.strerror or error}") from None
        if len(data) > limit and not clip:
            raise IndexFormatError(f"{self.label}: {relative} is larger than {limit} bytes")
        return data


def _resolves_inside(path: Path, root: Path) -> bool:
    """:func:`skillpm.containment.resolves_inside`, imported only where a registry other than the embedded
    one is read (the root may itself be a link: the user named it)."""
    from skillpm.containment import resolves_inside

    return resolves_inside(path, root)
