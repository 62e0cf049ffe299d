"""Property tests for resolution, against a brute-force oracle written from docs/resolution.md.

Random package documents (versions from a pool with pre-, post- and dev releases; random variant
sets, yanked flags and capabilities; requirements with and without pins): ``resolve`` must pick a
variant usable on the GPU, never a yanked one unless the version is pinned, the highest matching
version that has one, and the best-ranked variant of it; and raise NoMatch exactly when the oracle
finds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from skillpm.errors import IndexFormatError
from skillpm.index.listing import Listing
from skillpm.index.model import PackageDocument, Variant, VersionEntry
from skillpm.registry.oci import tags
from skillpm.requirements import parse_requirement
from skillpm.resolve import NoMatch, matching_versions, resolve
from skillpm.targets import Capability, parse_target, why_unusable

VERSIONS = ["0.1.0", "0.9", "1.0.0a1", "1.0.0rc1", "1.0.0", "1.0.1", "1.1.0.dev1", "2.0.0b2", "2.0.0", "2.0.0.post1"]
TARGETS = ["generic", "sm_75", "sm_80", "sm_86", "sm_89", "sm_90", "sm_90a", "sm_90f", "sm_100", "sm_100a",
           "sm_100f", "sm_103", "sm_103a", "sm_110f", "sm_120", "sm_120f", "sm_121a", "sm_x"]
CAPABILITIES = [None, (7, 5), (8, 0), (8, 6), (8, 9), (9, 0), (10, 0), (10, 3), (11, 0), (12, 0), (12, 1)]
SPECIFIERS = ["", ">=1.0", "<2", "==1.0.0", "==2.0.0b2", "===1.0.1", ">=1.0.0a1", "!=1.0.1", "~=1.0", "==1.*",
              ">0.1,<=2.0.0", "==0.9"]

# The family-specific targets of the CUDA guide, and who belongs to each (written out again here).
FAMILIES = {(10, 0): {(10, 0), (10, 3)}, (10, 1): {(10, 1)}, (10, 3): {(10, 3)}, (11, 0): {(11, 0)},
            (12, 0): {(12, 0), (12, 1)}, (12, 1): {(12, 1)}}
_TARGET = re.compile(r"sm_([1-9][0-9]?)([0-9])([af]?)")


def oracle_preference(target: str, cap: tuple[int, int] | None) -> int | None:
    """How much a GPU of ``cap`` wants ``target`` (lower is better), or None when it cannot use it."""
    if target == "generic":
        return 1000
    match = _TARGET.fullmatch(target)
    if match is None or cap is None:
        return None
    major, minor, suffix = int(match[1]), int(match[2]), match[3]
    if suffix == "a":
        return 0 if (major, minor) == cap else None
    if suffix == "f":
        members = FAMILIES.get((major, minor), {(major, minor)} if major >= 10 else set())
        return 100 + cap[1] - minor if cap in members else None
    if major != cap[0] or minor > cap[1]:
        return None
    return 1 if minor == cap[1] else 200 + cap[1] - minor


def oracle(document: PackageDocument, specifier: str, cap: tuple[int, int] | None) -> tuple[str, str] | None:
    """The (version, target) to install, by trying every version from the highest down."""
    versions = {Version(entry.version): entry for entry in document.versions}
    matching = set(SpecifierSet(specifier).filter(versions))
    exact = [spec for spec in SpecifierSet(specifier) if spec.operator in ("==", "===")]
    pin = exact[0].version if len(SpecifierSet(specifier)) == 1 and exact and "*" not in exact[0].version else None
    for version in sorted(matching, reverse=True):
        choices = [
            (preference, variant.target)
            for variant in versions[version].variants
            if (preference := oracle_preference(variant.target, cap)) is not None
            and (not variant.yanked or (pin is not None and Version(pin) == version))
        ]
        if choices:
            return versions[version].version, min(choices)[1]
    return None


@st.composite
def documents(draw: st.DrawFn, versions: list[str] = VERSIONS) -> PackageDocument:
    """A document of up to 6 of ``versions``, no two under one OCI tag (``1.0+rc1`` and ``1.0_rc1``)."""
    chosen = draw(st.lists(st.sampled_from(versions), unique_by=tags.tag_for, max_size=6))
    entries = []
    for version in chosen:
        targets = draw(st.lists(st.sampled_from(TARGETS), unique=True, max_size=5))
        variants = tuple(
            Variant(target, "0" * 64, 1, f"artifacts/p/{version}/{target}.tar.gz", draw(st.booleans()))
            for target in targets
        )
        entries.append(VersionEntry(version, "d", variants))
    return PackageDocument("pkg", tuple(entries))


@settings(max_examples=400, deadline=None)
@given(documents(), st.sampled_from(SPECIFIERS), st.sampled_from(CAPABILITIES))
def test_resolution_agrees_with_the_oracle(document: PackageDocument, specifier: str, cap) -> None:
    requirement = parse_requirement("pkg" + specifier)
    capability = Capability(*cap) if cap is not None else None
    expected = oracle(document, specifier, cap)

    try:
        resolution = resolve(Listing.of(document), requirement, capability)
    except NoMatch as no_match:
        assert expected is None, f"the oracle found {expected}"
        assert len(no_match.candidates) == sum(len(entry.variants) for entry in document.versions)
        return

    variant = resolution.variant
    assert (resolution.version, variant.target) == expected
    target = parse_target(variant.target)
    assert target.is_generic if capability is None else why_unusable(target, capability) is None
    if variant.yanked:
        assert requirement.pinned_version is not None
        assert Version(requirement.pinned_version) == Version(resolution.version)
    assert sum(candidate.taken for candidate in resolution.candidates) == 1


def read_as_asked(document: PackageDocument, data: st.DataObject) -> tuple[Listing, list[str], PackageDocument]:
    """``document`` as a registry that reads each version's entry when asked, some of them (drawn) gone by then:
    that listing, the versions it was asked for as they are asked, and the document of the versions not gone."""
    gone = data.draw(st.sets(st.sampled_from([entry.version for entry in document.versions]))
                     if document.versions else st.just(set()))
    entries = {entry.version: entry for entry in document.versions}
    read: list[str] = []

    def from_the_registry(version: str) -> VersionEntry | None:
        read.append(version)
        return None if version in gone else entries[version]

    whole = document._replace(versions=tuple(entry for entry in document.versions if entry.version not in gone))
    return Listing("pkg", list(entries), from_the_registry, where="pkg"), read, whole


@settings(max_examples=400, deadline=None)
@given(documents(), st.sampled_from(SPECIFIERS), st.sampled_from(CAPABILITIES), st.data())
def test_reading_versions_as_asked_resolves_as_the_whole_document(
    document: PackageDocument, specifier: str, cap, data: st.DataObject
) -> None:
    """A listing that reads a version's entry when asked (as an OCI registry's reads its tag's index), some
    versions gone when read (a tag deleted since the tags were listed), chooses what the whole document of the
    versions not gone chooses, and with the same candidates for the versions it read: it reads no version
    the requirement does not match, none below the one taken (but one found gone), and each at most once."""
    requirement = parse_requirement("pkg" + specifier)
    capability = Capability(*cap) if cap is not None else None
    lazy, read, whole = read_as_asked(document, data)
    outcomes = []
    for listing in (lazy, Listing.of(whole)):
        try:
            outcomes.append(resolve(listing, requirement, capability))
        except NoMatch as no_match:
            outcomes.append(no_match)
    chosen, expected = outcomes
    assert type(chosen) is type(expected)
    assert len(read) == len(set(read))
    present = {entry.version for entry in whole.versions}
    seen = [version for version in read if version in present]
    shown = [candidate for candidate in chosen.candidates if candidate.target is not None]
    assert shown == [candidate for candidate in expected.candidates if candidate.version in seen]
    if isinstance(expected, NoMatch):
        assert str(chosen).split(" (")[0] == str(expected).split(" (")[0]
        return
    assert (chosen.version, chosen.variant) == (expected.version, expected.variant)
    assert all(SpecifierSet(specifier).contains(Version(version), prereleases=True) for version in read)
    assert all(Version(version) >= Version(chosen.version) for version in seen)  # a gone one may be lower: the
    # walk read it before it knew (then walked again, when without it only pre-releases were left)


#: Versions whose OCI tag holds '_': PEP 440 spellings with '_' (1.0_rc1, 2.0_post1) and the versions they equal
#: (1.0rc1, 2.0.post1), local versions whose tag reads as those (1.0+rc1, 2.0+post1: '+' written '_'), and local
#: versions whose tag is no version as it stands (1.0.0+build; 1.0_a+b, listed as 1.0+a_b until read).
TAGGED = ["1.0.0", "1.0rc1", "1.0_rc1", "1.0+rc1", "1.0.0+build", "1.0_a+b", "2.0.0", "2.0.post1", "2.0_post1",
          "2.0+post1", "2.0.0b2"]
TAGGED_SPECIFIERS = ["", ">=1.0", "<2", "==1.0", "==1.0a0", "==2.0.post1", "==1.0rc1", ">=1.0rc1", "==2.0+post1"]


@settings(max_examples=400, deadline=None)
@given(documents(TAGGED), st.sampled_from(TAGGED_SPECIFIERS), st.sampled_from(CAPABILITIES), st.data())
def test_tags_read_as_asked_resolve_and_match_as_the_whole_document(
    document: PackageDocument, specifier: str, cap, data: st.DataObject
) -> None:
    """An OCI repository's tags (tags.tag_listing), each tag holding '_' listed as it reads until its index
    spells it otherwise, some versions gone when read (none that another version equals): resolve, the versions
    info NAME==... shows and info NAME's are the whole document's of the versions not gone, a version listed
    twice refused by both."""
    equal = {entry.version for entry in document.versions
             if sum(Version(other.version) == Version(entry.version) for other in document.versions) > 1}
    gone = data.draw(st.sets(st.sampled_from(sorted({entry.version for entry in document.versions} - equal)))
                     if set(entry.version for entry in document.versions) - equal else st.just(set()))
    held = {tags.tag_for(entry.version): entry for entry in document.versions}
    whole = document._replace(versions=tuple(entry for entry in document.versions if entry.version not in gone))
    requirement = parse_requirement("pkg" + specifier)
    capability = Capability(*cap) if cap is not None else None

    def lazy() -> Listing:
        listing = tags.tag_listing("pkg", list(held), lambda tag: None if held[tag].version in gone else held[tag],
                                     where="pkg")
        return listing or Listing("pkg", [], lambda version: None, where="pkg")

    def answers(listing: Callable[[], Listing]) -> list[object]:
        found: list[object] = []
        for question in (lambda: resolve(listing(), requirement, capability),
                         lambda: [entry.version for entry in matching_versions(listing(), requirement)],
                         lambda: sorted(entry.version for entry in listing().document().versions)):
            try:
                answer = question()
            except IndexFormatError:
                answer = IndexFormatError
            except NoMatch as no_match:
                answer = str(no_match).split(" (")[0]
            found.append((answer.version, answer.variant) if hasattr(answer, "variant") else answer)
        return found

    assert answers(lazy) == answers(lambda: Listing.of(whole))
