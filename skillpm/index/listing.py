"""A package's versions as a registry lists them, each version's entry read only when asked for.

Resolution walks a package's versions highest first and stops at the first that suits
(:mod:`skillpm.resolve`): it needs every version's number, but only the entries it looks at.
A static registry's document holds every entry already (:meth:`Listing.of`); an OCI registry
names its versions in its tags and holds each entry in that tag's index, a request apiece
(:meth:`skillpm.registry.oci.registry.OciRegistry.listing`).
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping, Sequence

from skillpm.errors import IndexFormatError
from skillpm.index.limits import MAX_VARIANTS, document_problem
from skillpm.index.model import PackageDocument, VersionEntry


class Listing:
    """Package ``name``'s versions as spelt, in the registry's order, and each one's entry, from
    ``entries`` or read by ``read`` when first asked for.

    ``where`` names the package in errors. A version whose entry reads as ``None`` (an OCI tag
    deleted since its tags were listed) is dropped from :attr:`versions`, as if never listed.
    """

    def __init__(self, name: str, versions: Sequence[str], read: Callable[[str], VersionEntry | None], *,
                 where: str, entries: Mapping[str, VersionEntry] | None = None) -> None:
        self.name = name
        self.versions = list(versions)
        self.where = where
        self._read = read
        self._entries: dict[str, VersionEntry] = dict(entries or {})

    @classmethod
    def of(cls, document: PackageDocument) -> Listing:
        """A whole document's versions, every entry at hand."""
        entries = {entry.version: entry for entry in document.versions}
        return cls(document.name, [entry.version for entry in document.versions], entries.get,
                   where=f"package {document.name}", entries=entries)

    def read(self, version: str) -> VersionEntry | None:
        """``version``'s entry, read now if not yet; ``None`` for a version not listed (or gone)."""
        if version in self._entries:
            return self._entries[version]
        if version not in self.versions:
            return None
        entry = self._read(version)
        if entry is None:
            self.versions.remove(version)
            return None
        self._entries[version] = entry
        return entry

    def at_hand(self, version: str) -> VersionEntry | None:
        """``version``'s entry if it has been read (or came with the document), reading nothing."""
        return self._entries.get(version)

    def entries(self, versions: Iterable[str]) -> list[VersionEntry]:
        """The entries of ``versions`` (each read now if not yet; those gone left out), checked together
        against the index limits as one document's are.

        IndexFormatError, before any is read, when more than MAX_VARIANTS are left to read: each read
        may be a request, and a package may list no more variants than that over all its versions.
        """
        wanted = list(versions)
        unread = sum(1 for version in wanted if version not in self._entries)
        if unread > MAX_VARIANTS:
            raise IndexFormatError(
                f"{self.where}: {unread} versions to read, more than the {MAX_VARIANTS} skillpm reads of one package",
                hint="install, resolve and info NAME==VERSION (or a range, 'NAME>=2') read only the versions they need",
            )
        found = [entry for entry in map(self.read, wanted) if entry is not None]
        problem = document_problem(found)
        if problem is not None:
            raise IndexFormatError(f"{self.where}: {problem}")
        return found

    def document(self) -> PackageDocument:
        """Every version, as one document (:meth:`entries` of them all)."""
        return PackageDocument(self.name, tuple(self.entries(list(self.versions))))


def listed(document: PackageDocument | None) -> Listing | None:
    """``document`` as a :class:`Listing` (``None`` stays ``None``): what a static registry lists."""
    return None if document is None else Listing.of(document)
