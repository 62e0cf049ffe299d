"""What every kind of registry offers: the :class:`Source` and :class:`Registry` protocols.

A backend (one module each: :mod:`~skillpm.registry.directory`, :mod:`~skillpm.registry.http`,
:mod:`~skillpm.registry.oci.registry`) implements :class:`Registry`: what versions of a package
exist (:meth:`Registry.listing`, each version's entry read when asked for; :meth:`Registry.package`,
all of them), one variant's archive and its evidence (:meth:`Registry.artifact` of the paths the
index names). :mod:`skillpm.registry.factory` opens one from a ``--registry`` value.
Only type annotations name these protocols, so this module costs nothing at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from skillpm.reading import MAX_ARTIFACT_SIZE

if TYPE_CHECKING:
    from skillpm.index.listing import Listing
    from skillpm.index.model import PackageDocument, RegistryConfig, SearchEntry


class Source(Protocol):
    """Where packages are looked up: one registry, or the configured registries in turn."""

    label: str

    def locate(self, name: str) -> tuple[Registry, Listing]:
        """The registry that serves package ``name``, and its versions; ResolutionError when none does."""
        ...

    def search_entries(self) -> tuple[SearchEntry, ...]: ...


class Registry(Source, Protocol):
    """One registry, wherever it is: what install, sync, resolve, info and search read from it."""

    #: How the lockfile names this registry: ``embedded`` or a URL.
    label: str

    def config(self) -> RegistryConfig:
        """The registry's ``config.json``, checked."""
        ...

    def listing(self, name: str) -> Listing | None:
        """What versions of ``name`` exist, each one's entry read when asked for; ``None`` when the registry
        has no such package."""
        ...

    def package(self, name: str) -> PackageDocument | None:
        """Every version of ``name`` (its document), or ``None`` when the registry has no such package."""
        ...

    def require_package(self, name: str) -> PackageDocument:
        """:meth:`package`, or ResolutionError suggesting near names."""
        ...

    def search_entries(self) -> tuple[SearchEntry, ...]:
        """Every package in the compact search document."""
        ...

    def artifact(self, relative: str, *, limit: int = MAX_ARTIFACT_SIZE) -> bytes:
        """A variant's archive or an evidence bundle, by the path the index names; at most ``limit`` + 1 bytes."""
        ...
