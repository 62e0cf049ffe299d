"""Tests of skillpm.resolve: which version and variant a GPU gets, and why.

Documents are written compactly: ``{"0.1.0": "generic sm_80 sm_90a!"}`` is one
version with three variants, the last one yanked (``!``).
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillpm.errors import IndexFormatError, RequirementError, ResolutionError
from skillpm.index.listing import Listing
from skillpm.index.limits import MAX_VARIANTS
from skillpm.index.model import Attestation, PackageDocument, Variant, VersionEntry
from skillpm.requirements import parse_requirement
from skillpm.resolve import NoMatch, Resolution, matching_versions, resolve
from skillpm.targets import Capability, parse_capability, parse_target, supported_targets, why_unusable

NAME = "kernel-builder-cuda"
ALL_TARGETS = (
    "generic sm_75 sm_80 sm_86 sm_89 sm_90 sm_90a sm_100 sm_100a sm_100f sm_103 sm_103a sm_103f "
    "sm_110 sm_110f sm_120 sm_120a sm_120f sm_121 sm_121a sm_121f"
).split()


def variant(spec: str, version: str = "0.1.0") -> Variant:
    target = spec.rstrip("!")
    return Variant(
        target=target,
        sha256="0" * 64,
        size=1,
        path=f"artifacts/{NAME}/{version}/{NAME}-{version}-{target}.tar.gz",
        yanked=spec.endswith("!"),
    )


def document(versions: dict[str, str]) -> PackageDocument:
    return PackageDocument(
        NAME,
        tuple(
            VersionEntry(version, "d", tuple(variant(spec, version) for spec in specs.split()))
            for version, specs in versions.items()
        ),
    )


def run(versions: dict[str, str], requirement: str = "", capability: str | None = "9.0") -> Resolution:
    cap = None if capability is None else parse_capability(capability)
    return resolve(Listing.of(document(versions)), parse_requirement(NAME + requirement), cap)


def chosen(resolution: Resolution) -> tuple[str, str]:
    return resolution.version, resolution.variant.target


# --- within one version: the best usable target ------------------------------------------------

WITHIN = [
    # 8.6 and 8.9 take sm_80 over generic; the nearest lower minor first
    ("8.6", "generic sm_80", "sm_80"),
    ("8.9", "generic sm_80", "sm_80"),
    ("8.9", "generic sm_80 sm_86", "sm_86"),
    ("8.9", "generic sm_80 sm_86 sm_89", "sm_89"),
    ("8.0", "generic sm_80 sm_86", "sm_80"),
    ("8.6", "generic sm_80 sm_89 sm_90", "sm_80"),
    ("8.7", "sm_86 sm_80", "sm_86"),
    # 9.0: sm_90a before sm_90 before generic; never an 8.x variant
    ("9.0", "generic sm_90 sm_90a", "sm_90a"),
    ("9.0", "generic sm_90", "sm_90"),
    ("9.0", "generic sm_80 sm_89", "generic"),
    ("9.0", "generic sm_100 sm_100a sm_100f sm_120", "generic"),
    ("9.0", "generic sm_90f", "generic"),
    # 10.0
    ("10.0", "generic sm_100 sm_100a sm_100f", "sm_100a"),
    ("10.0", "generic sm_100 sm_100f", "sm_100"),
    ("10.0", "generic sm_100f", "sm_100f"),
    ("10.0", "generic sm_90a sm_90 sm_103 sm_103a sm_103f", "generic"),
    # 10.3: sm_103a > sm_103 > sm_103f > sm_100f > sm_100 > generic
    ("10.3", " ".join(ALL_TARGETS), "sm_103a"),
    ("10.3", "generic sm_100 sm_100f sm_103f sm_103", "sm_103"),
    ("10.3", "generic sm_100 sm_100f sm_103f", "sm_103f"),
    ("10.3", "generic sm_100 sm_100f", "sm_100f"),
    ("10.3", "generic sm_100 sm_100a", "sm_100"),
    ("10.3", "generic sm_100a sm_90a sm_120f", "generic"),
    # 11.0 (Jetson Thor)
    ("11.0", "generic sm_110 sm_110f sm_100f", "sm_110"),
    ("11.0", "generic sm_100f sm_100 sm_110f", "sm_110f"),
    # 12.0 never takes sm_100/sm_100a/sm_100f: tcgen05 is absent there
    ("12.0", "generic sm_100 sm_100a sm_100f sm_103f", "generic"),
    ("12.0", "generic sm_100 sm_120f", "sm_120f"),
    ("12.0", "generic sm_120 sm_120f", "sm_120"),
    ("12.0", "generic sm_120a sm_121 sm_121f", "sm_120a"),
    ("12.0", "generic sm_121 sm_121a sm_121f", "generic"),
    # 12.1 takes sm_120f; its own targets before it
    ("12.1", "generic sm_120f sm_100f", "sm_120f"),
    ("12.1", "generic sm_120 sm_120f", "sm_120f"),
    ("12.1", "generic sm_120 sm_120f sm_121f", "sm_121f"),
    ("12.1", "generic sm_120a sm_120", "sm_120"),
    ("12.1", " ".join(ALL_TARGETS), "sm_121a"),
    # the order variants are listed in does not matter
    ("9.0", "sm_90a generic sm_90", "sm_90a"),
    ("9.0", "sm_90 sm_90a generic", "sm_90a"),
    # variants with targets this skillpm does not know are skipped
    ("9.0", "generic sm_90x cuda", "generic"),
    # no capability: only generic
    (None, "sm_90a sm_80 generic", "generic"),
    (None, " ".join(ALL_TARGETS), "generic"),
]


@pytest.mark.parametrize(("capability", "variants", "expected"), WITHIN)
def test_best_variant(capability: str | None, variants: str, expected: str) -> None:
    assert chosen(run({"0.1.0": variants}, capability=capability)) == ("0.1.0", expected)


@pytest.mark.parametrize(
    ("capability", "variants"),
    [
        ("12.0", "sm_100 sm_100a sm_100f"),
        ("12.1", "sm_100f"),
        ("12.0", "sm_121f"),
        ("9.0", "sm_80 sm_86 sm_89"),
        ("8.6", "sm_89 sm_90 sm_90a sm_80a sm_87"),
        ("8.0", "sm_86"),
        ("10.0", "sm_90a sm_103 sm_103f sm_120f"),
        ("10.3", "sm_100a sm_120"),
        ("9.0", "sm_90f"),
        (None, "sm_80 sm_90a sm_100f"),
    ],
)
def test_no_usable_variant(capability: str | None, variants: str) -> None:
    with pytest.raises(NoMatch) as raised:
        run({"0.1.0": variants}, capability=capability)
    message = raised.value.message
    for target in variants.split():
        assert target in message
    assert "--arch" in (raised.value.hint or "")
    gpu = "no GPU detected" if capability is None else f"capability {capability}"
    assert gpu in message
    assert isinstance(raised.value, ResolutionError)
    assert all(not c.taken and c.reason.startswith("skipped") for c in raised.value.candidates)


@given(
    capability=st.sampled_from(["7.5", "8.0", "8.6", "8.9", "9.0", "10.0", "10.3", "11.0", "12.0", "12.1"]),
    subset=st.sets(st.sampled_from(ALL_TARGETS), min_size=1),
)
def test_best_variant_follows_supported_targets(capability: str, subset: set[str]) -> None:
    """The taken variant is the first of supported_targets that the version offers."""
    cap = parse_capability(capability)
    order = [str(t) for t in supported_targets(cap)]
    usable = [t for t in order if t in subset]
    doc = document({"0.1.0": " ".join(sorted(subset))})
    if not usable:
        with pytest.raises(NoMatch):
            resolve(Listing.of(doc), parse_requirement(NAME), cap)
        return
    result = resolve(Listing.of(doc), parse_requirement(NAME), cap)
    assert result.variant.target == usable[0]
    assert why_unusable(parse_target(result.variant.target), cap) is None
    taken = [c for c in result.candidates if c.taken]
    assert len(taken) == 1 and taken[0].target == usable[0]
    assert sorted(c.target for c in result.candidates) == sorted(subset)


# --- across versions ----------------------------------------------------------------------------

ACROSS = [
    # the highest matching version wins
    ({"0.1.0": "generic", "0.2.0": "generic"}, "", "9.0", ("0.2.0", "generic")),
    ({"0.2.0": "generic", "0.10.0": "generic"}, "", "9.0", ("0.10.0", "generic")),
    ({"0.1.0": "generic", "0.2.0": "generic"}, "<0.2", "9.0", ("0.1.0", "generic")),
    ({"0.1.0": "generic", "0.2.0": "generic"}, "==0.1.0", "9.0", ("0.1.0", "generic")),
    ({"0.1.0": "generic", "1.0.0": "generic", "2.0.0": "generic"}, ">=0.1,<2", "9.0", ("1.0.0", "generic")),
    ({"0.1.0": "generic", "0.1.5": "generic", "0.2.0": "generic"}, "~=0.1.0", "9.0", ("0.1.5", "generic")),
    ({"0.1.0": "generic", "0.2.0": "generic"}, "!=0.2.0", "9.0", ("0.1.0", "generic")),
    ({"0.1": "generic", "0.2": "generic"}, "==0.2.0", "9.0", ("0.2", "generic")),
    # a higher version with a better variant beats a lower one with the best target
    ({"0.1.0": "sm_90a", "0.2.0": "generic"}, "", "9.0", ("0.2.0", "generic")),
    # the highest version with a usable variant, even when a higher one has none usable
    ({"0.1.0": "generic sm_90", "0.2.0": "sm_100a"}, "", "9.0", ("0.1.0", "sm_90")),
    ({"0.1.0": "sm_80", "0.2.0": "sm_90a sm_100"}, ">=0.1", "8.6", ("0.1.0", "sm_80")),
    ({"0.1.0": "sm_120f", "0.2.0": "sm_100 sm_100a sm_100f"}, "", "12.0", ("0.1.0", "sm_120f")),
    ({"0.1.0": "generic", "0.2.0": "sm_90a"}, "", None, ("0.1.0", "generic")),
    # yanked variants are skipped unless the exact version is pinned
    ({"0.1.0": "generic", "0.2.0": "generic!"}, "", "9.0", ("0.1.0", "generic")),
    ({"0.1.0": "generic", "0.2.0": "generic!"}, ">=0.1", "9.0", ("0.1.0", "generic")),
    ({"0.1.0": "generic", "0.2.0": "generic!"}, "==0.2.0", "9.0", ("0.2.0", "generic")),
    ({"0.1.0": "generic", "0.2.0": "generic!"}, "===0.2.0", "9.0", ("0.2.0", "generic")),
    ({"0.1.0": "generic", "0.2.0": "generic!"}, "==0.2", "9.0", ("0.2.0", "generic")),
    ({"0.1.0": "generic", "0.2.0": "generic!"}, ">=0.2", "9.0", None),
    ({"0.1.0": "generic", "0.2.0": "generic!"}, "==0.2.*", "9.0", None),
    ({"0.1.0": "generic", "0.2.0": "generic!"}, "~=0.2.0", "9.0", None),
    ({"0.1.0": "generic!", "0.2.0": "generic"}, "==0.1.0", "9.0", ("0.1.0", "generic")),
    # a yanked variant is skipped, the version's other variants stay usable
    ({"0.1.0": "sm_90a", "0.2.0": "generic sm_90a!"}, "", "9.0", ("0.2.0", "generic")),
    ({"0.2.0": "generic sm_90a! sm_90"}, "", "9.0", ("0.2.0", "sm_90")),
    ({"0.2.0": "generic sm_90a! sm_90"}, "==0.2.0", "9.0", ("0.2.0", "sm_90a")),
    # prereleases only when asked for, or when only prereleases match
    ({"0.1.0": "generic", "0.2.0b1": "generic"}, "", "9.0", ("0.1.0", "generic")),
    ({"0.1.0": "generic", "0.2.0b1": "generic"}, ">=0.1", "9.0", ("0.1.0", "generic")),
    ({"0.1.0": "generic", "0.2.0b1": "generic"}, ">=0.2.0b1", "9.0", ("0.2.0b1", "generic")),
    ({"0.1.0": "generic", "0.2.0b1": "generic"}, "==0.2.0b1", "9.0", ("0.2.0b1", "generic")),
    ({"0.1.0": "generic", "0.2.0rc1": "generic"}, ">=0.2.0rc1", "9.0", ("0.2.0rc1", "generic")),
    ({"0.1.0": "generic", "0.2.0.dev1": "generic"}, "", "9.0", ("0.1.0", "generic")),
    ({"0.2.0b1": "generic"}, "", "9.0", ("0.2.0b1", "generic")),
    ({"0.1.0": "generic", "0.2.0b1": "generic"}, ">0.1.0", "9.0", ("0.2.0b1", "generic")),
    ({"0.1.0": "generic", "0.2.0b1": "generic"}, ">=0.2", "9.0", None),
    ({"0.2.0b1": "generic", "0.2.0": "generic"}, "", "9.0", ("0.2.0", "generic")),
    # post releases are ordinary releases
    ({"0.1.0": "generic", "0.1.0.post1": "generic"}, "", "9.0", ("0.1.0.post1", "generic")),
    # versions that are not PEP 440 are never chosen
    ({"0.1.0": "generic", "latest": "generic sm_90a"}, "", "9.0", ("0.1.0", "generic")),
    # nothing matches
    ({"0.1.0": "generic"}, ">=1", "9.0", None),
    ({"0.1.0": "generic", "0.2.0": "generic"}, "==0.3.0", "9.0", None),
    ({"0.1.0": "sm_100a"}, "", "9.0", None),
    ({}, "", "9.0", None),
]


@pytest.mark.parametrize(("versions", "specifier", "capability", "expected"), ACROSS)
def test_version_choice(
    versions: dict[str, str], specifier: str, capability: str | None, expected: tuple[str, str] | None
) -> None:
    if expected is None:
        with pytest.raises(NoMatch):
            run(versions, specifier, capability)
    else:
        assert chosen(run(versions, specifier, capability)) == expected


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("specifier", [">=", "=>1", "==1.0 2", "<<1", "==x y"])
def test_bad_specifier_is_a_requirement_error(specifier: str) -> None:
    with pytest.raises(RequirementError):
        parse_requirement(NAME + specifier)


@pytest.mark.parametrize(
    ("versions", "specifier", "available"),
    [
        ({"0.1.0": "generic", "0.2.0": "generic"}, ">=1", "available: 0.1.0, 0.2.0"),
        ({"0.1.0": "generic"}, "==0.3", "available: 0.1.0"),
        ({}, "", "available: none"),
        ({"0.1.0": "generic", "0.2.0": "generic!"}, ">=0.2", None),
    ],
)
def test_no_matching_version(versions: dict[str, str], specifier: str, available: str | None) -> None:
    with pytest.raises(NoMatch) as raised:
        run(versions, specifier)
    if available is not None:
        assert f"no version of {NAME} matches" in raised.value.message
        assert available in raised.value.message
        assert "loosen" in (raised.value.hint or "")
    else:  # the version matched; its only variant is yanked
        assert "no variant" in raised.value.message and "generic" in raised.value.message
        reasons = {(c.version, c.target): c.reason for c in raised.value.candidates}
        assert reasons[("0.2.0", "generic")].startswith("skipped: yanked")


def test_no_usable_variant_lists_variants_of_matching_versions_only() -> None:
    with pytest.raises(NoMatch) as raised:
        run({"0.1.0": "sm_90", "0.2.0": "sm_80 sm_100a"}, ">=0.2", capability="12.0")
    message = raised.value.message
    assert "variants: sm_100a, sm_80" in message
    assert "sm_90" not in message
    assert "capability 12.0" in message
    assert "--arch" in (raised.value.hint or "")


# --- versions a registry must not publish ----------------------------------------------------------


@pytest.mark.parametrize("specifier", ["", "==1.0.0", "===1.0.0", "<=1.0.0", ">=1", "==1.0.0+evil", "===1.0.0+evil"])
def test_a_local_version_is_never_chosen(specifier: str) -> None:
    """PEP 440 lets '==1.0.0' match '1.0.0+evil', which sorts higher: whoever could publish to a shared
    registry moved every exact pin onto their build (hostile review). Local versions are skipped."""
    versions = {"1.0.0": "generic sm_90a", "1.0.0+evil": "generic sm_90a", "1.0.1+evil": "sm_90a"}
    if "+" in specifier:
        with pytest.raises(NoMatch, match=r"available: 1\.0\.0\)"):
            run(versions, specifier)
        return
    result = run(versions, specifier)
    assert chosen(result) == ("1.0.0", "sm_90a")
    reasons = {(c.version, c.target): c.reason for c in result.candidates}
    assert reasons[("1.0.0+evil", "sm_90a")] == reasons[("1.0.1+evil", "sm_90a")] == (
        "skipped: a local version (+label), which registries do not publish")


def test_a_package_of_local_versions_only_has_nothing_to_install() -> None:
    with pytest.raises(NoMatch, match=r"available: none"):
        run({"1.0.0+local": "generic"})


def test_a_document_spelling_one_version_twice_is_refused() -> None:
    """An OCI registry's tags '1.0.0' and '1.0.0.0' made such a document, and the later one replaced the first,
    even for '===1.0.0' (hostile review): which one an install gets must not depend on the registry's order."""
    twice = document({"1.0.0": "generic", "1.0.0.0": "generic"})
    for requirement in ("===1.0.0", "==1.0.0", ""):
        with pytest.raises(IndexFormatError, match="lists one version twice: '1.0.0' and '1.0.0.0'"):
            resolve(Listing.of(twice), parse_requirement(NAME + requirement), None)
    with pytest.raises(IndexFormatError, match="lists one version twice"):
        matching_versions(Listing.of(twice), parse_requirement(NAME))



# --- a listing read as resolution asks (an OCI registry's) ---------------------------------------


def read_as_asked(versions: dict[str, str], gone: frozenset[str] = frozenset()) -> tuple[Listing, list[str]]:
    """A listing of ``versions`` whose entries are read one at a time (``gone``: deleted since listed), and
    the versions read so far."""
    entries = {entry.version: entry for entry in document(versions).versions}
    read: list[str] = []

    def from_the_registry(version: str) -> VersionEntry | None:
        read.append(version)
        return None if version in gone else entries[version]

    return Listing(NAME, list(entries), from_the_registry, where=NAME), read


def test_resolution_reads_from_the_highest_candidate_down_to_the_first_that_suits() -> None:
    listing, read = read_as_asked({"0.1.0": "sm_90", "0.2.0": "sm_90a generic", "0.3.0": "sm_90a!",
                                   "0.4.0": "sm_100a", "0.5.0b1": "sm_90a", "0.4.0+local": "sm_90a"})
    result = resolve(listing, parse_requirement(NAME), parse_capability("9.0"))
    assert chosen(result) == ("0.2.0", "sm_90a") and read == ["0.4.0", "0.3.0", "0.2.0"]
    assert [(c.version, c.target) for c in result.candidates if c.version in ("0.5.0b1", "0.4.0+local", "0.1.0")] == [
        ("0.5.0b1", None), ("0.4.0+local", None), ("0.1.0", None)]  # never read: one row each
    assert chosen(resolve(listing, parse_requirement(NAME + "==0.3.0"), parse_capability("9.0"))) == ("0.3.0", "sm_90a")
    assert read == ["0.4.0", "0.3.0", "0.2.0"]  # each read once


def test_a_version_gone_when_read_is_as_if_never_listed() -> None:
    """1.0.0's tag is deleted after the tags were listed: without it only a pre-release is left, which a bare
    name then takes (packaging's rule), as from a document that never listed 1.0.0."""
    listing, read = read_as_asked({"1.0.0": "generic", "1.1.0rc1": "generic"}, gone=frozenset({"1.0.0"}))
    assert chosen(resolve(listing, parse_requirement(NAME), None)) == ("1.1.0rc1", "generic")
    assert read == ["1.0.0", "1.1.0rc1"] and listing.versions == ["1.1.0rc1"]
    listing, _ = read_as_asked({"1.0.0": "generic"}, gone=frozenset({"1.0.0"}))
    with pytest.raises(NoMatch, match=r"no version of kernel-builder-cuda matches any version \(available: none\)"):
        resolve(listing, parse_requirement(NAME), None)


def test_versions_named_are_read_alone_and_checked_together() -> None:
    """info NAME==VERSION (and verify) read the versions the requirement names; those read are held to the
    limits of one document (a bundle listed twice), and more than a document may list are refused unread."""
    listing, read = read_as_asked({"0.1.0": "generic", "0.2.0": "generic", "0.3.0": "sm_90"})
    assert [entry.version for entry in matching_versions(listing, parse_requirement(NAME + ">=0.2"))] == [
        "0.2.0", "0.3.0"]
    assert read == ["0.2.0", "0.3.0"]
    attestation = Attestation("attestations/x.sigstore.json", "1" * 64, "https://example.com/eval")
    twice = {entry.version: entry._replace(variants=tuple(v._replace(attestations=(attestation,))
                                                          for v in entry.variants))
             for entry in document({"0.1.0": "generic", "0.2.0": "generic"}).versions}
    listing = Listing(NAME, list(twice), twice.get, where=NAME)
    assert matching_versions(listing, parse_requirement(NAME + "==0.2.0"))[0].version == "0.2.0"
    with pytest.raises(IndexFormatError, match="the attestation path 'attestations/x.sigstore.json' is listed twice"):
        matching_versions(listing, parse_requirement(NAME))
    asked: list[str] = []
    listing = Listing(NAME, [f"0.{n}" for n in range(MAX_VARIANTS + 1)], asked.append, where=NAME)
    with pytest.raises(IndexFormatError, match=f"{MAX_VARIANTS + 1} versions to read, more than"):
        listing.document()
    assert asked == []


# --- --explain: candidates ------------------------------------------------------------------------


def test_explain_lists_every_candidate_with_one_taken() -> None:
    versions = {
        "0.1.0": "generic sm_90",
        "0.2.0": "generic sm_80 sm_90 sm_90a sm_100a",
        "0.3.0": "sm_90a!",
        "1.0.0": "generic",
        "0.2.1b1": "sm_90a",
        "latest": "generic",
    }
    result = run(versions, "<1", "9.0")
    assert chosen(result) == ("0.2.0", "sm_90a")
    pairs = [(c.version, c.target) for c in result.candidates]
    expected_pairs = {
        (version, spec.rstrip("!"))
        for version, specs in versions.items()
        if version != "latest"
        for spec in specs.split()
    }
    assert sorted(pairs) == sorted(expected_pairs)
    assert [c for c in result.candidates if c.taken] == [c for c in result.candidates if c.reason.startswith("taken")]
    reasons = {(c.version, c.target): c.reason for c in result.candidates}
    assert reasons[("1.0.0", "generic")] == "version does not match <1"
    assert reasons[("0.2.1b1", "sm_90a")] == "version does not match <1"
    assert reasons[("0.3.0", "sm_90a")].startswith("skipped: yanked")
    assert reasons[("0.2.0", "sm_90a")] == "taken: arch-specific target for exactly 9.0"
    assert reasons[("0.2.0", "sm_90")] == "usable, but sm_90a ranks higher"
    assert reasons[("0.2.0", "generic")] == "usable, but sm_90a ranks higher"
    assert reasons[("0.2.0", "sm_80")] == "skipped: sm_80 is for major 8; code never carries across majors"
    assert reasons[("0.2.0", "sm_100a")] == "skipped: sm_100a runs only on capability 10.0"
    assert reasons[("0.1.0", "sm_90")] == "not considered: 0.2.0 was taken"
    assert all(c.reason for c in result.candidates)
    assert [c.to_json()["taken"] for c in result.candidates].count(True) == 1


def test_explain_when_a_version_is_yanked_and_the_next_is_taken() -> None:
    result = run({"0.1.0": "generic", "0.2.0": "generic!"}, ">=0.1", "9.0")
    reasons = [(c.version, c.target, c.taken, c.reason) for c in result.candidates]
    assert reasons == [
        ("0.2.0", "generic", False, "skipped: yanked (pin the exact version to use it)"),
        ("0.1.0", "generic", True, "taken: generic, runs anywhere"),
    ]


@pytest.mark.parametrize(
    ("capability", "variants", "target", "reason"),
    [
        (None, "sm_90a generic", "sm_90a", "skipped: no GPU detected, only generic applies"),
        ("9.0", "generic cuda", "cuda", "skipped: unknown GPU target"),
        ("8.6", "sm_89 generic", "sm_89", "skipped: sm_89 needs capability 8.9 or a newer 8.x"),
        ("12.0", "sm_100f generic", "sm_100f", "skipped: sm_100f runs only on its family (10.0, 10.3)"),
        ("8.6", "sm_80 generic", "sm_80", "taken: same major, lower minor (8.0 code runs on 8.6)"),
        ("10.3", "sm_100f generic", "sm_100f", "taken: family-specific target covering 10.3"),
        ("9.0", "sm_90 generic", "sm_90", "taken: exact target for 9.0"),
        (None, "generic", "generic", "taken: generic, runs anywhere"),
    ],
)
def test_candidate_reasons(capability: str | None, variants: str, target: str, reason: str) -> None:
    result = run({"0.1.0": variants}, capability=capability)
    assert {c.target: c.reason for c in result.candidates}[target] == reason


def test_resolution_to_json() -> None:
    result = run({"0.1.0": "generic sm_90a"}, capability="9.0")
    assert result.to_json() == {
        "name": NAME,
        "version": "0.1.0",
        "target": "sm_90a",
        "sha256": "0" * 64,
        "size": 1,
        "path": f"artifacts/{NAME}/0.1.0/{NAME}-0.1.0-sm_90a.tar.gz",
        "yanked": False,
        "capability": "9.0",
    }
    assert run({"0.1.0": "generic"}, capability=None).to_json()["capability"] is None
    assert result.capability == Capability(9, 0)
    assert result.name == NAME


# --- property: resolution across random documents ---------------------------------------------

version_texts = st.sampled_from(["0.1.0", "0.2.0", "0.2.1", "0.3.0b1", "1.0.0", "1.1.0", "2.0.0"])
variant_specs = st.sampled_from(["generic", "sm_80", "sm_86", "sm_90", "sm_90a", "sm_100f", "sm_120"]).flatmap(
    lambda target: st.sampled_from([target, target + "!"])
)
documents_st = st.dictionaries(
    version_texts,
    st.lists(variant_specs, min_size=1, max_size=4, unique_by=lambda s: s.rstrip("!")).map(" ".join),
    max_size=5,
)


@given(
    versions=documents_st,
    specifier=st.sampled_from(["", ">=0.2", "<1", "==0.2.0", "==1.0.0", "!=1.1.0", ">=0.3.0b1"]),
    capability=st.sampled_from([None, "8.6", "9.0", "10.3", "12.0"]),
)
def test_resolution_properties(versions: dict[str, str], specifier: str, capability: str | None) -> None:
    try:
        result = run(versions, specifier, capability)
    except NoMatch as error:
        assert not any(c.taken for c in error.candidates)
        return
    cap = None if capability is None else parse_capability(capability)
    target = parse_target(result.variant.target)
    if cap is None:
        assert target.is_generic
    else:
        assert why_unusable(target, cap) is None
    if result.variant.yanked:
        assert specifier.startswith("==") and specifier[2:] == result.version
    taken = [c for c in result.candidates if c.taken]
    assert [(c.version, c.target) for c in taken] == [(result.version, result.variant.target)]
    assert len(result.candidates) == sum(len(specs.split()) for specs in versions.values())


# --- the pure modules stay light -----------------------------------------------------------------


def test_pure_modules_import_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "import skillpm.targets, skillpm.requirements, skillpm.resolve, skillpm.index.model\n"
        "heavy = ['pydantic', 'jsonschema', 'httpx', 'sigstore', 'cryptography', 'torch']\n"
        "print(','.join(m for m in heavy if m in sys.modules or any(k.startswith(m + '.') for k in sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == ""
