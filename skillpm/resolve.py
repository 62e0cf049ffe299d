"""Pick the version and variant of a package for a GPU (logic only: entries come through a listing).

Across versions: the highest version that matches the requirement and has a
usable variant; yanked variants only when the requirement pins that exact
version. Within a version: the usable variant whose target ranks best in
:func:`skillpm.targets.supported_targets`. A version's entry is read only when
the choice needs it (:class:`~skillpm.index.listing.Listing`). docs/resolution.md
explains the rules.
"""

from __future__ import annotations

from skillpm.errors import IndexFormatError, ResolutionError, TargetError
from skillpm.index.listing import Listing
from skillpm.index.model import Variant, VersionEntry
from skillpm.index.versionkey import VersionKey, version_key
from skillpm.records import Record
from skillpm.requirements import Requirement
from skillpm.targets import (
    Capability,
    Target,
    match_kind,
    parse_target,
    ranking_for,
    why_unusable,
)


#: Why a version with a local label (``1.0.0+evil``) is never chosen: PEP 440 keeps such versions off shared
#: indexes, ``==1.0.0`` matches them, and they sort above the public version they label.
LOCAL_REASON = "skipped: a local version (+label), which registries do not publish"
#: Why a yanked variant is not chosen (unless its version is pinned exactly).
YANKED_REASON = "skipped: yanked"


class Candidate(Record):
    """One (version, variant) the resolver looked at, and what it decided."""

    version: str
    target: str | None  # None: a version whose entry was never read (no choice needed it)
    taken: bool
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"version": self.version, "target": self.target, "taken": self.taken, "reason": self.reason}


class Resolution(Record):
    """The chosen version and variant, and every candidate with its reason."""

    name: str
    version: str
    variant: Variant
    capability: Capability | None
    candidates: tuple[Candidate, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "target": self.variant.target,
            "sha256": self.variant.sha256,
            "size": self.variant.size,
            "path": self.variant.path,
            "yanked": self.variant.yanked,
            "capability": None if self.capability is None else str(self.capability),
        }


class NoMatch(ResolutionError):
    """No version and variant suit the request; ``candidates`` says why each was skipped."""

    def __init__(self, message: str, *, hint: str | None, candidates: tuple[Candidate, ...]) -> None:
        super().__init__(message, hint=hint)
        self.candidates = candidates


def resolve(listing: Listing, requirement: Requirement, capability: Capability | None) -> Resolution:
    """Choose what to install of ``listing``'s package for a GPU of ``capability``.

    Versions are looked at highest first, and an entry is read only for a version the requirement
    matches, up to the first with a usable variant: an OCI registry's versions below it, or that
    do not match, are never read. ``capability`` is ``None`` when no GPU is known: only
    ``generic`` is usable. Raises :class:`NoMatch` when nothing suits.
    """
    walked = None
    while walked is None:  # again only when a version read turns out gone and that changes which versions match
        versions = _parsed_versions(listing)
        matching = _matching(versions, requirement)
        walked = _walk(listing, versions, requirement, capability, matching)
    candidates, chosen = walked
    if chosen is None:
        raise _no_match(listing, requirement, capability, candidates, bool(matching))
    return Resolution(listing.name, chosen[0], chosen[1], capability, candidates)


def _walk(
    listing: Listing, versions: dict[VersionKey, str], requirement: Requirement, capability: Capability | None,
    matching: set[VersionKey],
) -> tuple[tuple[Candidate, ...], tuple[str, Variant] | None] | None:
    """Every candidate of ``versions`` (the listing's, parsed), highest first, and the version and variant
    taken (``None``: none suits).

    ``None`` instead when a version the listing named is gone when read (an OCI tag deleted
    since) and without it other versions match (the pre-release rule): the walk must start
    again, as if it had never been listed. ``versions`` and ``matching`` lose the versions found
    gone. Only the last final release found gone can let pre-releases match, so only then are
    the versions matched again: a registry listing thousands of gone tags costs a walk, not a
    walk for each of them.
    """
    ranking = ranking_for(capability)
    pinned = requirement.pinned_version
    candidates: list[Candidate] = []
    chosen: tuple[str, Variant] | None = None
    finals = sum(1 for version in matching if not version.is_prerelease)
    for version in sorted(versions, reverse=True):
        spelt = versions[version]
        if chosen is not None:
            candidates.extend(_not_taken(listing, spelt, f"not considered: {chosen[0]} was taken"))
            continue
        if version.is_local:
            candidates.extend(_not_taken(listing, spelt, LOCAL_REASON))
            continue
        if version not in matching:
            reason = f"version does not match {requirement.specifier or 'the requirement'}"
            candidates.extend(_not_taken(listing, spelt, reason))
            continue
        entry = listing.read(spelt)
        if entry is None:
            if listing.spelt(spelt) != spelt:  # its tag holds a '+' where it reads as PEP 440's '_'
                candidates.extend(_not_taken(listing, listing.spelt(spelt), LOCAL_REASON))
            del versions[version]
            matching.discard(version)
            if not version.is_prerelease:
                finals -= 1
                if not finals and _matching(versions, requirement) != matching:
                    return None
            continue
        allow_yanked = pinned is not None and version_key(pinned) == version
        usable, skipped = _rank_variants(entry.variants, ranking, capability, allow_yanked)
        if usable:
            best = min(usable, key=lambda item: item[0])[1]
            chosen = (entry.version, best)
            for _, variant in sorted(usable, key=lambda item: item[0]):
                reason = (
                    f"taken: {match_kind(parse_target(variant.target), capability)}"
                    if variant is best
                    else f"usable, but {best.target} ranks higher"
                )
                candidates.append(Candidate(entry.version, variant.target, variant is best, reason))
        candidates.extend(Candidate(entry.version, v.target, False, why) for v, why in skipped)
    return tuple(candidates), chosen


def _not_taken(listing: Listing, version: str, reason: str) -> list[Candidate]:
    """A candidate for each variant of ``version`` that is not taken for ``reason``; one whose target is
    ``None`` when its entry was never read (an OCI registry's version no choice needed)."""
    entry = listing.at_hand(version)
    if entry is None:
        return [Candidate(version, None, False, reason)]
    return [Candidate(entry.version, variant.target, False, reason) for variant in entry.variants]


def _matching(versions: dict[VersionKey, str], requirement: Requirement) -> set[VersionKey]:
    """The versions of ``versions`` (keyed, as spelt) that ``requirement`` accepts (PEP 440's pre-release rules),
    local ones never."""
    public = {spelt: version for version, spelt in versions.items() if not version.is_local}
    return {public[spelt] for spelt in requirement.filter(public)}


def matching_versions(listing: Listing, requirement: Requirement) -> list[VersionEntry]:
    """The listing's versions ``requirement`` names, oldest first: yanked and pre-releases too; only
    those are read, and those whose spelling only their entry settles that it may name (:meth:`Listing.settle`).

    What ``info NAME==VERSION`` shows and ``verify`` checks: a question about published
    versions, not a choice to install (that is :func:`resolve`).
    """
    def named(spelt: str) -> bool:
        if requirement.specifier is None:
            return True
        try:
            return requirement.specifier.contains(spelt, prereleases=True)
        except ValueError:
            return False  # no version: left out by _parsed_versions

    listing.settle(named)
    parsed = {version: spelt for version, spelt in _parsed_versions(listing).items() if named(spelt)}
    return listing.entries(parsed[version] for version in sorted(parsed))


def _parsed_versions(listing: Listing) -> dict[VersionKey, str]:
    """The listing's versions keyed by their PEP 440 value; unparsable ones are left out.

    IndexFormatError when two spell one version (``1.0.0`` and ``1.0.0.0``): which one an
    install gets must not depend on the order a registry lists them in.
    """
    parsed: dict[VersionKey, str] = {}
    for spelt in listing.versions:
        try:
            version = version_key(spelt)
        except ValueError:
            continue
        if version in parsed:
            raise IndexFormatError(
                f"{listing.name} lists one version twice: {parsed[version]!r} and {spelt!r}",
                hint="the registry's owner must remove one of them",
            )
        parsed[version] = spelt
    return parsed


def _rank_variants(
    variants: tuple[Variant, ...],
    ranking: dict[Target, int],
    capability: Capability | None,
    allow_yanked: bool,
) -> tuple[list[tuple[int, Variant]], list[tuple[Variant, str]]]:
    """Split variants into (rank, variant) pairs that are usable and (variant, reason) that are not."""
    usable: list[tuple[int, Variant]] = []
    skipped: list[tuple[Variant, str]] = []
    for variant in variants:
        try:
            target = parse_target(variant.target)
        except TargetError:
            skipped.append((variant, "skipped: unknown GPU target"))
            continue
        if variant.yanked and not allow_yanked:
            skipped.append((variant, f"{YANKED_REASON} (pin the exact version to use it)"))
        elif capability is None and not target.is_generic:
            skipped.append((variant, "skipped: no GPU detected, only generic applies"))
        elif capability is not None and (why := why_unusable(target, capability)):
            skipped.append((variant, f"skipped: {why}"))
        else:
            usable.append((ranking[target], variant))
    return usable, skipped


def _no_match(
    listing: Listing,
    requirement: Requirement,
    capability: Capability | None,
    candidates: tuple[Candidate, ...],
    any_version_matched: bool,
) -> NoMatch:
    available = ", ".join(version for version in listing.versions if "+" not in version) or "none"
    if not any_version_matched:
        return NoMatch(
            f"no version of {listing.name} matches {requirement.specifier or 'any version'} (available: {available})",
            hint="loosen the version specifier",
            candidates=candidates,
        )
    skipped = [c for c in candidates if c.reason.startswith("skipped") and c.target is not None]
    targets = sorted({c.target for c in skipped})
    gpu = f"capability {capability}" if capability is not None else "a machine with no GPU detected"
    if skipped and all(c.reason.startswith(YANKED_REASON) for c in skipped):
        hint = f"every variant that matches is yanked; pin a version ('{listing.name}==VERSION') to install it anyway"
    elif capability is None:
        hint = "pass --arch to choose a GPU, e.g. --arch 9.0 or --arch h100"
    else:
        asked = f'"{requirement}"' if requirement.specifier else str(requirement)
        hint = f"'skillpm resolve {asked} --arch {capability} --explain' says why each was skipped; --arch picks another GPU"
    return NoMatch(f"no variant of {listing.name} suits {gpu} (variants: {', '.join(targets)})", hint=hint,
                   candidates=candidates)
