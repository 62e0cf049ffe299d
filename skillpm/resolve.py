"""Pick the version and variant of a package for a GPU (pure logic).

Across versions: the highest version that matches the requirement and has a
usable variant; yanked variants only when the requirement pins that exact
version. Within a version: the usable variant whose target ranks best in
:func:`skillpm.targets.supported_targets`. docs/resolution.md explains the rules.
"""

from __future__ import annotations


from packaging.version import InvalidVersion, Version

from skillpm.errors import IndexFormatError, ResolutionError, TargetError
from skillpm.index.model import PackageDocument, Variant, VersionEntry
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


class Candidate(Record):
    """One (version, variant) the resolver looked at, and what it decided."""

    version: str
    target: str
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


def resolve(
    document: PackageDocument, requirement: Requirement, capability: Capability | None
) -> Resolution:
    """Choose what to install of ``document`` for a GPU of ``capability``.

    ``capability`` is ``None`` when no GPU is known: only ``generic`` is usable.
    Raises :class:`NoMatch` when nothing suits.
    """
    ranking = ranking_for(capability)
    pinned = requirement.pinned_version
    versions = _parsed_versions(document)
    matching = set(requirement.filter(version for version in versions if version.local is None))
    candidates: list[Candidate] = []
    chosen: tuple[str, Variant] | None = None
    for version in sorted(versions, reverse=True):
        entry = versions[version]
        if chosen is not None:
            reason = f"not considered: {chosen[0]} was taken"
            candidates.extend(Candidate(entry.version, v.target, False, reason) for v in entry.variants)
            continue
        if version.local is not None:
            candidates.extend(Candidate(entry.version, v.target, False, LOCAL_REASON) for v in entry.variants)
            continue
        if version not in matching:
            reason = f"version does not match {requirement.specifier or 'the requirement'}"
            candidates.extend(Candidate(entry.version, v.target, False, reason) for v in entry.variants)
            continue
        allow_yanked = pinned is not None and Version(pinned) == version
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
    if chosen is None:
        raise _no_match(document, requirement, capability, tuple(candidates), bool(matching))
    return Resolution(document.name, chosen[0], chosen[1], capability, tuple(candidates))


def matching_versions(document: PackageDocument, requirement: Requirement) -> list[VersionEntry]:
    """The document's versions ``requirement`` names, oldest first: yanked and pre-releases too.

    What ``info NAME==VERSION`` shows and ``verify`` checks: a question about published
    versions, not a choice to install (that is :func:`resolve`).
    """
    parsed = _parsed_versions(document)
    if requirement.specifier is not None:
        parsed = {version: entry for version, entry in parsed.items()
                  if requirement.specifier.contains(version, prereleases=True)}
    return [parsed[version] for version in sorted(parsed)]


def _parsed_versions(document: PackageDocument) -> dict[Version, VersionEntry]:
    """Versions of the document keyed by their parsed value; unparsable ones are left out.

    IndexFormatError when two entries spell one version (``1.0.0`` and ``1.0.0.0``): which one an
    install gets must not depend on the order a registry lists them in.
    """
    parsed: dict[Version, VersionEntry] = {}
    for entry in document.versions:
        try:
            version = Version(entry.version)
        except InvalidVersion:
            continue
        if version in parsed:
            raise IndexFormatError(
                f"{document.name} lists one version twice: {parsed[version].version!r} and {entry.version!r}",
                hint="the registry's owner must remove one of them",
            )
        parsed[version] = entry
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
            skipped.append((variant, "skipped: yanked (pin the exact version to use it)"))
        elif capability is None and not target.is_generic:
            skipped.append((variant, "skipped: no GPU detected, only generic applies"))
        elif capability is not None and (why := why_unusable(target, capability)):
            skipped.append((variant, f"skipped: {why}"))
        else:
            usable.append((ranking[target], variant))
    return usable, skipped


def _no_match(
    document: PackageDocument,
    requirement: Requirement,
    capability: Capability | None,
    candidates: tuple[Candidate, ...],
    any_version_matched: bool,
) -> NoMatch:
    available = ", ".join(entry.version for entry in document.versions if "+" not in entry.version) or "none"
    if not any_version_matched:
        return NoMatch(
            f"no version of {document.name} matches {requirement.specifier or 'any version'} (available: {available})",
            hint="loosen the version specifier",
            candidates=candidates,
        )
    targets = sorted({c.target for c in candidates if c.reason.startswith("skipped")})
    gpu = f"capability {capability}" if capability is not None else "a machine with no GPU detected"
    return NoMatch(
        f"no variant of {document.name} suits {gpu} (variants: {', '.join(targets)})",
        hint="pass --arch to choose a GPU, e.g. --arch 9.0 or --arch h100",
        candidates=candidates,
    )
