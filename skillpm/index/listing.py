"""A package's versions as a registry lists them, each version's entry read only when asked for.

Resolution walks a package's versions highest first and stops at the first that suits
(:mod:`skillpm.resolve`): it needs every version's number, but only the entries it looks at.
A static registry's document holds every entry already (:meth:`Listing.of`); an OCI registry
names its versions in its tags and holds each entry in that tag's index, a request apiece
(:meth:`skillpm.registry.oci.registry.OciRegistry.listing`). A tag may spell its version two ways
(``_`` is ``+`` written as tags allow, or PEP 440's own separator): it is listed as one until its
entry, read, says it is the other (:meth:`Listing.read`).
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping, Sequence

from skillpm.errors import IndexFormatError
from skillpm.index.limits import MAX_VARIANTS, document_problem
from skillpm.index.model import PackageDocument, SearchEntry, VersionEntry, version_text_order


class Listing:
    """Package ``name``'s versions as spelt, in the registry's order, and each one's entry, from
    ``entries`` or read by ``read`` when first asked for.

    ``where`` names the package in errors. A version whose entry reads as ``None`` (an OCI tag
    deleted since its tags were listed) is dropped from :attr:`versions`, as if never listed.
    ``unsure``: the versions whose spelling only their entry settles, and ``spellings`` those their entry may
    give (:meth:`settle`); at most MAX_VARIANTS entries are read in all (:meth:`read`).
    """

    def __init__(self, name: str, versions: Sequence[str], read: Callable[[str], VersionEntry | None], *,
                 where: str, entries: Mapping[str, VersionEntry] | None = None, unsure: Iterable[str] = (),
                 spellings: Callable[[str], Iterable[str]] = lambda version: (version,)) -> None:
        self.name = name
        # Each version as listed, and as its entry spells it when that is another spelling. A dict: a walk
        # of many versions asks and drops each in O(1).
        self._listed: dict[str, str | None] = dict.fromkeys(versions)
        self.where = where
        self._read = read
        self._reads = 0
        self._entries: dict[str, VersionEntry] = dict(entries or {})
        self._unsure = set(unsure)
        self._spellings = spellings

    @classmethod
    def of(cls, document: PackageDocument) -> Listing:
        """A whole document's versions, every entry at hand."""
        entries = {entry.version: entry for entry in document.versions}
        return cls(document.name, [entry.version for entry in document.versions], entries.get,
                   where=f"package {document.name}", entries=entries)

    @property
    def versions(self) -> list[str]:
        """The versions listed and not found gone, in the registry's order, each as its entry spells it once read."""
        return [spelt or listed for listed, spelt in self._listed.items()]

    def read(self, version: str) -> VersionEntry | None:
        """``version``'s entry, read now if not yet; ``None`` for a version not listed, gone, or whose entry
        spells it otherwise (a ``+`` where it was listed with PEP 440's ``_``): that one is listed in its place.

        IndexFormatError when the listing would read more than MAX_VARIANTS entries: a walk down a
        registry's versions, each yanked, gone or without a variant for the GPU, stops there (offline,
        where no deadline ends it, too), as a package may list no more variants than that.
        """
        if version in self._entries:
            return self._entries[version]
        if self._listed.get(version, "") is not None:  # not listed, or listed as its entry spells it
            return None
        if self._reads >= MAX_VARIANTS:
            raise too_many(self.where, self._reads + 1)
        self._reads += 1
        self._unsure.discard(version)
        entry = self._read(version)
        if entry is None:
            del self._listed[version]
            return None
        self._entries[entry.version] = entry
        if entry.version != version:
            self._listed[version] = entry.version
            return None
        return entry

    def settle(self, named: Callable[[str], bool]) -> None:
        """Read each version whose spelling only its entry settles and of whose spellings ``named`` takes one, so
        that :attr:`versions` spells each of those as its entry does: a question about some versions reads no
        other. IndexFormatError, before any is read, when that would read more than MAX_VARIANTS in all."""
        wanted = [version for version in self._listed
                  if version in self._unsure and any(map(named, self._spellings(version)))]
        if self._reads + len(wanted) > MAX_VARIANTS:
            raise too_many(self.where, self._reads + len(wanted))
        for version in wanted:
            self.read(version)

    def spelt(self, version: str) -> str:
        """``version`` as its entry spells it: itself, unless it was listed one way and its entry, read, spells
        it another."""
        return self._listed.get(version) or version

    def at_hand(self, version: str) -> VersionEntry | None:
        """``version``'s entry if it has been read (or came with the document), reading nothing."""
        return self._entries.get(version)

    def entries(self, versions: Iterable[str]) -> list[VersionEntry]:
        """The entries of ``versions`` (each read now if not yet; those gone left out), checked together
        against the index limits as one document's are.

        IndexFormatError, before any is read, when that would read more than MAX_VARIANTS in all: each
        read may be a request, and a package may list no more variants than that over all its versions.
        """
        wanted = list(versions)
        unread = sum(1 for version in wanted if version not in self._entries)
        if self._reads + unread > MAX_VARIANTS:
            raise too_many(self.where, self._reads + unread)
        found = [entry for entry in map(self._held, wanted) if entry is not None]
        problem = document_problem(found)
        if problem is not None:
            raise IndexFormatError(f"{self.where}: {problem}")
        return found

    def _held(self, version: str) -> VersionEntry | None:
        """:meth:`read`, but the entry of a version listed one way and spelt another by its entry too."""
        entry = self.read(version)
        return self._entries.get(self.spelt(version)) if entry is None else entry

    def search_entry(self) -> SearchEntry | None:
        """:meth:`PackageDocument.search_entry` of the versions not gone (None when all are), reading versions
        highest first down to the first that settles it: the highest public version that is not wholly yanked,
        else the highest public one; the same of the local versions (``1.0.0+label``) only when none is public.
        """
        public = [version for version in self.versions if "+" not in version]
        shown = self._highest_live(public) or self._highest_live(self.versions)
        return None if shown is None else SearchEntry.of(self.name, shown)

    def _highest_live(self, versions: list[str]) -> VersionEntry | None:
        """The highest of ``versions`` not wholly yanked, else the highest (None when all are gone), read highest
        first until one is not yanked; of equal versions (``1.0``, ``1.0.0``) the first listed, as ``max`` takes."""
        highest = None
        for version in sorted(versions, key=version_text_order, reverse=True):  # stable: equal ones keep their order
            entry = self.read(version)
            if entry is not None and not entry.yanked:
                return entry
            highest = highest or entry
        return highest

    def document(self) -> PackageDocument:
        """Every version, as one document (:meth:`entries` of them all)."""
        return PackageDocument(self.name, tuple(self.entries(self.versions)))


def too_many(where: str, count: int) -> IndexFormatError:
    """The refusal of reading ``count`` (more than MAX_VARIANTS) versions of the package ``where`` names."""
    return IndexFormatError(
        f"{where}: {count} versions to read, more than the {MAX_VARIANTS} skillpm reads of one package",
        hint="a requirement that names fewer versions ('NAME==VERSION', or a range such as 'NAME>=2') reads fewer",
    )


def listed(document: PackageDocument | None) -> Listing | None:
    """``document`` as a :class:`Listing` (``None`` stays ``None``): what a static registry lists."""
    return None if document is None else Listing.of(document)
