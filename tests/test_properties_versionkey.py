"""Property tests of skillpm.index.versionkey against packaging's Version, the order it stands in for.

Versions are drawn from small alphabets of every PEP 440 part (epochs, releases with trailing zeros and
leading ones, every spelling of pre-, post- and dev releases, local labels of words and numbers joined by any
separator) so that equal, prefix and near versions are common: two keys compare as their versions do, and a key
says what the version says of itself.
"""

from __future__ import annotations

import sys

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import InvalidVersion, Version

import pytest

from skillpm.index.versionkey import version_key

_NUMBER = st.sampled_from(["0", "00", "1", "01", "2", "9", "10", "010", "99999999999999999999"])
_SEPARATOR = st.sampled_from(["", ".", "-", "_"])
_PART = st.one_of(_NUMBER, st.sampled_from(["a", "b", "ab", "abc", "A", "Ab", "z", "1a", "a1", "dev", "post"]))


@st.composite
def versions(draw: st.DrawFn) -> str:
    """A PEP 440 version, spelt any way PEP 440 allows."""
    text = draw(st.sampled_from(["", "0!", "1!", "01!"]))
    text += ".".join(draw(st.lists(_NUMBER, min_size=1, max_size=5)))
    if draw(st.booleans()):
        phase = draw(st.sampled_from(["a", "alpha", "b", "beta", "c", "rc", "pre", "preview", "RC", "A"]))
        text += draw(_SEPARATOR) + phase + draw(st.one_of(st.just(""), _SEPARATOR.flatmap(
            lambda separator: _NUMBER.map(lambda number: separator + number))))
    post = draw(st.sampled_from(["", "-1", ".post", "post2", "-post", "_rev3", ".r", "POST0"]))
    text += post
    if draw(st.booleans()):
        text += draw(st.sampled_from([".dev", "dev", "-dev1", "_DEV2", ".dev0"]))
    if draw(st.booleans()):
        parts = draw(st.lists(_PART, min_size=1, max_size=5))
        separators = draw(st.lists(st.sampled_from([".", "-", "_"]), min_size=len(parts), max_size=len(parts)))
        text += "+" + parts[0] + "".join(separator + part for separator, part in zip(separators[1:], parts[1:]))
    return text


def _sign(a: object, b: object) -> int:
    return (a > b) - (a < b)  # type: ignore[operator]


@settings(max_examples=600, deadline=None)
@given(st.lists(versions(), min_size=2, max_size=6))
def test_keys_compare_as_the_versions_do(texts: list[str]) -> None:
    for first in texts:
        for second in texts:
            assert _sign(version_key(first), version_key(second)) == _sign(Version(first), Version(second))
            assert (version_key(first) == version_key(second)) == (Version(first) == Version(second))


@settings(max_examples=300, deadline=None)
@given(versions())
def test_a_key_says_what_its_version_says_of_itself(text: str) -> None:
    key, version = version_key(text), Version(text)
    assert key.is_prerelease == version.is_prerelease
    assert key.is_local == (version.local is not None)
    assert key == version_key(str(version))  # as packaging writes it back


@pytest.mark.parametrize("lower, higher", [
    ("1.0.dev1", "1.0a1.dev1"), ("1.0a1.dev1", "1.0a1"), ("1.0a1", "1.0b0"), ("1.0b2", "1.0rc1"),
    ("1.0rc1", "1.0"), ("1.0", "1.0.post0.dev0"), ("1.0.post0.dev0", "1.0.post0"), ("1.0.post0", "1.0.post1"),
    ("1.0", "1.0+a"), ("1.0+a", "1.0+a.a"), ("1.0+a.z", "1.0+a.0"), ("1.0+9", "1.0+10"), ("1.0+a", "1.0+aa"),
    ("1.0+zz", "1.0.1"), ("9999", "1!0"), ("1.0+1.a", "1.0+1.0"),
])
def test_pep_440_order(lower: str, higher: str) -> None:
    assert version_key(lower) < version_key(higher)
    assert Version(lower) < Version(higher)  # the order is PEP 440's, not just this key's


@pytest.mark.parametrize("same, other", [("1.0", "1.0.0.0"), ("1.0+A.01", "1.0.0+a-1"), ("1.0-1", "1.0.post1"),
                                         ("1.0a", "1.0alpha0"), ("0!1.0.DEV", "1.0dev0"),
                                         (" 1.0+a \n", "1.0+A")])
def test_spellings_of_one_version_are_one_key(same: str, other: str) -> None:
    assert version_key(same) == version_key(other)


@pytest.mark.parametrize("text", ["", "1.0+", "1..0", "v", "1.0_+a", "1.0+a+b", "-1", "1.0 +a", "1.0+ a", "1.0+a.",
                                  "1.0+a..b", "+a", "1.0+\u00e9", "1.0+\u212a"])
def test_what_packaging_refuses_is_refused(text: str) -> None:
    with pytest.raises(InvalidVersion):
        Version(text)
    with pytest.raises(InvalidVersion):
        version_key(text)


def test_a_long_local_label_costs_a_tenth_of_packagings_parts() -> None:
    """The reason for the key: a 128-character tag of a local version, '7+a.a.a...', as a registry may list by
    the hundred thousand."""
    text = f"7+{'a.' * 62}a"[:128]
    key, version = version_key(text), Version(text)
    assert version < Version("8")  # packaging builds its comparison key when first compared

    def size(value: object, seen: set[int]) -> int:
        if id(value) in seen:
            return 0
        seen.add(id(value))
        slots = getattr(type(value), "__slots__", ())
        parts = value if isinstance(value, tuple) else [getattr(value, slot, None) for slot in slots]
        return sys.getsizeof(value) + sum(size(part, seen) for part in parts)

    held = size(key, set())
    assert held * 10 < size(version, set()), (held, size(version, set()))
    assert held < 600, held
