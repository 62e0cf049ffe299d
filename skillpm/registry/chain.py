"""The configured registries as one Source: a package comes from the first that has it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from skillpm.errors import RegistryUnreachable
from skillpm.registry.documents import not_found
from skillpm.registry.settings import settings

if TYPE_CHECKING:
    from skillpm.index.model import PackageDocument, SearchEntry
    from skillpm.registry.source import Registry


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

