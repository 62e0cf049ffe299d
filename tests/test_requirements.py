"""Tests of skillpm.requirements: NAME[specifier] parsing and exact pins."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet

from skillpm.errors import RequirementError
from skillpm.index.versionkey import version_key
from skillpm.requirements import Requirement, parse_requirement

package_names = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,3}", fullmatch=True)
releases = st.lists(st.integers(min_value=0, max_value=99), min_size=1, max_size=3).map(
    lambda parts: ".".join(map(str, parts))
)


@pytest.mark.parametrize(
    ("text", "name", "specifier"),
    [
        ("kernel-builder-cuda", "kernel-builder-cuda", ""),
        ("kernel-builder-cuda==0.1.0", "kernel-builder-cuda", "==0.1.0"),
        ("kernel-builder-cuda>=0.2,<1", "kernel-builder-cuda", "<1,>=0.2"),
        ("x~=0.1", "x", "~=0.1"),
        ("x!=0.3", "x", "!=0.3"),
        ("x===0.2.0", "x", "===0.2.0"),
        ("x==1.*", "x", "==1.*"),
        ("x>=1.0b1", "x", ">=1.0b1"),
        ("Kernel-Builder", "kernel-builder", ""),
        ("  x  ", "x", ""),
        ("x >= 0.1 , < 1", "x", "<1,>=0.1"),
        ("a1-b2", "a1-b2", ""),
        ("123", "123", ""),
        # names as PEP 503 normalises them, and a folder-like trailing slash
        ("kernel_builder_cuda", "kernel-builder-cuda", ""),
        ("Kernel-Builder-CUDA", "kernel-builder-cuda", ""),
        ("Kernel.Builder__CUDA==0.1", "kernel-builder-cuda", "==0.1"),
        ("x--y", "x-y", ""),
        ("kernel-builder-cuda/", "kernel-builder-cuda", ""),
    ],
)
def test_parse_requirement(text: str, name: str, specifier: str) -> None:
    requirement = parse_requirement(text)
    assert requirement.name == name
    assert (requirement.specifier or SpecifierSet()) == SpecifierSet(specifier)
    assert (requirement.specifier is None) == (specifier == "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "invalid requirement"),
        ("   ", "invalid requirement"),
        ("-x", "invalid requirement"),
        (">=1", "invalid requirement"),
        ("x>=", "invalid version specifier"),
        ("x>>1", "invalid version specifier"),
        ("x=1", "invalid version specifier"),
        ("x 1.0", "invalid version specifier"),
        ("x-", "invalid version specifier"),
        ("x[extra]", "invalid version specifier"),
        ("x>=1; python_version>'3'", "invalid version specifier"),
        ("x @ https://example.org/x.tar.gz", "invalid version specifier"),
        ("x<=one", "invalid version specifier"),
        ("\u212aernel-builder-cuda", "invalid requirement"),  # the Kelvin sign, which lower() makes 'k'
        ("kernel-builder-\u017fkill", "invalid version specifier"),  # the long s, which lower() makes 's'
    ],
)
def test_parse_requirement_rejects(text: str, message: str) -> None:
    with pytest.raises(RequirementError, match=message) as raised:
        parse_requirement(text)
    assert repr(text) in raised.value.message
    assert text.isascii() or ascii(text) in raised.value.message  # a look-alike letter is shown as what it is
    assert "kernel-builder-cuda" in (raised.value.hint or "") or "0.1" in (raised.value.hint or "")
    assert RequirementError.exit_code == 2


@pytest.mark.parametrize(
    ("specifier", "pinned"),
    [
        ("==0.2.0", "0.2.0"),
        ("==0.2", "0.2"),
        ("===0.2.0", "0.2.0"),
        ("==1.0b1", "1.0b1"),
        ("", None),
        (">=0.2.0", None),
        ("~=0.2.0", None),
        ("!=0.2.0", None),
        ("==0.2.*", None),
        ("==0.2.0,>=0.1", None),
        ("<=0.2.0", None),
    ],
)
def test_pinned_version(specifier: str, pinned: str | None) -> None:
    assert parse_requirement(f"x{specifier}").pinned_version == pinned


def test_str_and_value_type() -> None:
    requirement = parse_requirement("x>=0.1,<1")
    assert str(requirement) == "x<1,>=0.1"
    assert str(parse_requirement("x")) == "x"
    assert requirement == Requirement("x", SpecifierSet(">=0.1,<1"))
    assert hash(requirement) == hash(parse_requirement("x <1, >=0.1"))


@given(name=package_names, release=releases, operator=st.sampled_from(["==", ">=", "<=", "~=", "!=", "<", ">"]))
def test_round_trip(name: str, release: str, operator: str) -> None:
    if operator == "~=" and "." not in release:
        release += ".0"
    requirement = parse_requirement(f"{name}{operator}{release}")
    assert requirement.name == name
    assert parse_requirement(str(requirement)) == requirement
    assert (requirement.pinned_version == release) == (operator == "==")


_VERSION_LISTS = st.lists(
    st.sampled_from(["0.1.0", "0.2.0a1", "0.2.0rc2", "1.0.0", "1.0.0.dev3", "2.0b1", "2.0.post1"]),
    max_size=6,
)


@given(_VERSION_LISTS)
def test_bare_name_filters_as_an_empty_specifier_set(texts: list[str]) -> None:
    """Without a specifier, filter() applies packaging's rule for SpecifierSet('')."""
    versions = {text: version_key(text) for text in texts}
    assert parse_requirement("x").filter(versions) == list(SpecifierSet("").filter(versions))
