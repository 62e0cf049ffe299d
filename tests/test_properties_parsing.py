"""Property tests: parsers of user and registry input raise only their own error, on any input.

GPU targets and capabilities, requirements, index documents and archives: arbitrary text, JSON-like
values and bytes must be refused with the module's error (never a ValueError, KeyError, TypeError or
RecursionError escaping), and valid forms must round-trip.
"""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_archive import SKILL, digests, metadata_member, tar_gz

from skillpm.archive import extract
from skillpm.errors import ArchiveError, IndexFormatError, RequirementError, TargetError
from skillpm.index.model import PackageDocument, RegistryConfig, parse_search
from skillpm.requirements import parse_requirement
from skillpm.targets import KNOWN_CAPABILITIES, Capability, Target, parse_capability, parse_target

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that looks like what the parsers expect, mixed with anything at all.
TARGETISH = st.from_regex(r"\A(sm_?)?[0-9]{0,4}(\.[0-9]{0,2})?[afAF]?\Z") | st.text(max_size=40)
REQUIREMENTISH = st.from_regex(r"\A\s*[a-z0-9-]{0,12}\s*([<>=!~]{0,3}\s*[0-9a-z.*+!-]{0,12},?){0,3}\s*\Z") | st.text(
    max_size=60
)

TARGETS = st.one_of(
    st.just(Target(0, 0, "")),
    st.builds(Target, st.integers(1, 99), st.integers(0, 9), st.sampled_from(["", "a", "f"])),
)
CAPABILITIES = st.sampled_from([Capability(*known) for known in KNOWN_CAPABILITIES])


@FAST
@given(TARGETISH)
@example("sm_" + "9" * 5000)
@example("sm_90a\n")
@example("ＳＭ_９０")
def test_parse_target_raises_only_target_error(text: str) -> None:
    try:
        target = parse_target(text)
    except TargetError:
        return
    assert str(target) == text


@FAST
@given(TARGETISH)
@example("9" * 5000)
@example("h100\x00")
@example("  SM_90A  ")
def test_parse_capability_raises_only_target_error(text: str) -> None:
    try:
        capability = parse_capability(text)
    except TargetError:
        return
    assert 1 <= capability.major <= 99 and 0 <= capability.minor <= 9


@FAST
@given(TARGETS)
def test_targets_round_trip(target: Target) -> None:
    assert parse_target(str(target)) == target


@FAST
@given(CAPABILITIES)
def test_capabilities_round_trip_in_every_spelling(capability: Capability) -> None:
    major, minor = capability
    spellings = (str(capability), f"{major}{minor}", f"sm_{major}{minor}", f"sm_{major}{minor}a", f"SM_{major}{minor}")
    for spelling in spellings:
        assert parse_capability(spelling) == capability


@FAST
@given(REQUIREMENTISH)
@example("x" * 10_000)
@example("x>=1.0,<")
@example("x @ https://evil.example/x.tar.gz")
def test_parse_requirement_raises_only_requirement_error(text: str) -> None:
    try:
        requirement = parse_requirement(text)
    except RequirementError:
        return
    assert str(parse_requirement(str(requirement))) == str(requirement)


def test_a_requirement_with_a_5000_digit_version_is_refused() -> None:
    """packaging would raise ValueError on first use (int() refuses over 4300 digits)."""
    with pytest.raises(RequirementError, match="too long"):
        parse_requirement("x==" + "1" * 5000)


# --- index documents: any JSON-like value ---------------------------------------------------------

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


def near(valid: object, fields: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    """Objects with the document's field names, each holding a plausible or an arbitrary value."""
    return st.fixed_dictionaries({}, optional={key: st.just(valid) | value | JSON for key, value in fields.items()})


VARIANT = near(
    None,
    {
        "target": st.sampled_from(["generic", "sm_90a", "sm_x", ""]),
        "sha256": st.sampled_from(["0" * 64, "A" * 64, "0" * 63]),
        "size": st.integers(-2, 2) | st.floats(allow_nan=True),
        "path": st.sampled_from(["artifacts/a.tar.gz", "../x", "/etc/passwd", "C:x", "a\\b", "", "a/\x00"]),
        "yanked": st.booleans() | st.just("false"),
        "attestations": st.lists(JSON, max_size=2),
    },
)
VERSION = near(
    None,
    {
        "version": st.sampled_from(["1.0.0", "1.0", "1!2.0rc1", "not a version", "1" * 300]),
        "description": JSON,
        "keywords": st.lists(st.text(max_size=5) | JSON, max_size=3),
        "variants": st.lists(VARIANT, max_size=3),
    },
)
DOCUMENT = near(
    None,
    {
        "format-version": st.sampled_from([1, 2, 0, True, 1.0, "1"]),
        "name": st.sampled_from(["pkg", "Pkg", "a" * 65, "-x", ""]),
        "versions": st.lists(VERSION, max_size=3),
    },
)


@FAST
@given(DOCUMENT | JSON)
def test_package_document_raises_only_index_format_error(data: object) -> None:
    try:
        document = PackageDocument.from_json(data)
    except IndexFormatError as error:
        assert len(error.message) < 2000
        return
    assert PackageDocument.from_json(document.to_json()) == document


@FAST
@given(JSON, JSON)
def test_config_and_search_raise_only_index_format_error(config: object, search: object) -> None:
    for parse, data in ((RegistryConfig.from_json, config), (parse_search, search)):
        try:
            parse(data)
        except IndexFormatError:
            pass


# --- archives: any bytes --------------------------------------------------------------------------

VALID_ARCHIVE = tar_gz(metadata_member(digests(SKILL)), SKILL)


@st.composite
def damaged_archives(draw: st.DrawFn) -> bytes:
    """A valid archive with some bytes replaced, cut short, or its inner tar re-compressed damaged."""
    data = bytearray(VALID_ARCHIVE if draw(st.booleans()) else gzip.decompress(VALID_ARCHIVE))
    for _ in range(draw(st.integers(1, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    data = bytes(data[: draw(st.integers(0, len(data)))])
    return data if data[:2] == b"\x1f\x8b" else gzip.compress(data, mtime=0)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048) | st.binary(max_size=2048).map(gzip.compress) | damaged_archives())
def test_extract_raises_only_archive_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        destination = Path(folder) / "dest"
        destination.mkdir()
        try:
            extract(data, destination)
        except ArchiveError:
            pass
        assert [p.name for p in Path(folder).iterdir()] == ["dest"]
