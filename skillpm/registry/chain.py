"""The configured registries as one Source: a package comes from the first that has it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from skillpm.errors import RegistryUnreachable
from skillpm.registry.documents import not_found
from skillpm.registry.settings import settings

if TYPE_CHECKING:
    from skillpm.index.listing import Listing
    from skillpm.index.model import SearchEntry
    from skillpm.registry.source import Registry


class RegistryChain:
    """The configured registries, highest priority first, with the embedded one among them (at priority 0).

    A package comes from the first member that has it; :meth:`locate` says which,
    so an install records (and ``sync`` later uses) exactly that registry. A member
    that does not answer (:class:`~skillpm.errors.RegistryUnreachable`) stops
    :meth:`locate` when it comes before the member that has the package: it might
    have had it, and taking a lower-priority registry's package of the same name
    instead is how dependency confusion works. A dead member after that one is never
    asked. A package the embedded registry also ships, taken from a member before it,
    is said in a warning (a registry added for other skills must not replace skillpm's
    own unnoticed). :meth:`search_entries` lists what the answering members have,
    skipping a dead one with one warning. Any other failure (a bad document, a failed
    integrity check) stops either.
    """

    def __init__(self, members: list[Registry]) -> None:
        self.members = members
        self._warned: set[str] = set()
        self.label = "the configured registries (" + ", ".join(member.label for member in members) + ")"

    def __repr__(self) -> str:
        return f"RegistryChain({[member.label for member in self.members]!r})"

    def locate(self, name: str) -> tuple[Registry, Listing]:
        for position, member in enumerate(self.members):
            try:
                listing = member.listing(name)
            except RegistryUnreachable as error:
                later = ", ".join(other.label for other in self.members[position + 1 :])
                raise RegistryUnreachable(
                    error.message,
                    hint=f"{member.label} comes first among the configured registries, so {name!r} cannot be "
                    f"taken from a later one ({later}) while it is down; pass --registry NAME to choose one, "
                    "or try again later",
                ) from error
            if listing is not None:
                self._shadowing(member, position, name)
                return member, listing
        not_found(self, name)

    def _shadowing(self, member: Registry, position: int, name: str) -> None:
        """Warn when ``member`` serves ``name``, which the embedded registry (later in the chain) ships too."""
        from skillpm.registry.directory import EMBEDDED

        if name in self._warned:
            return
        embedded = next((later for later in self.members[position + 1:] if later.label == EMBEDDED), None)
        if embedded is not None and embedded.package(name) is not None:
            self._warned.add(name)
            settings.warn(f"{name} is taken from {member.label}, which comes before the embedded registry that "
                          f"ships it too; pass --registry embedded for skillpm's own, or give {member.label} a "
                          "priority below 0")

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

