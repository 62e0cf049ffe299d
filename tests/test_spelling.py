"""Property tests: each check of skillpm.spelling says what the regular expression it replaced says.

The patterns are the ones the modules compiled before (index/model.py and lockfile.py for names and
digests, lockfile.py for plain versions, targets.py for GPU targets, containment.py for NTFS short names, registry/config.py for
registry names), drawn on text near what they accept: the characters they take, their neighbours
(other digits, capitals, '_', a non-ASCII digit) and lengths around their limits.
"""

from __future__ import annotations

import re
import sys

from hypothesis import example, given, settings
from hypothesis import strategies as st
from packaging.version import Version

from skillpm.containment import VCS_FOLDERS, is_vcs_name
from skillpm.registry.config import _is_registry_name
from skillpm.spelling import is_lowercase_words, is_plain_version, is_sha256, target_parts

NEAR = "0123456789abcdefgzAF-_~.s m\u0660\u00e9"


def near(alphabet: str = NEAR, max_size: int = 70) -> st.SearchStrategy[str]:
    return st.text(alphabet, max_size=max_size)


@settings(max_examples=600, deadline=None)
@given(st.one_of(near(), st.text("0123456789abcdef\u0660A", min_size=63, max_size=65)))
@example("0" * 64)
def test_is_sha256_is_the_pattern(text: str) -> None:
    assert is_sha256(text) == (re.fullmatch(r"[0-9a-f]{64}", text) is not None)


@settings(max_examples=600, deadline=None)
@given(near("az09-_A\u0660 ", 12))
@example("kernel-builder-cuda")
def test_is_lowercase_words_is_the_pattern(text: str) -> None:
    assert is_lowercase_words(text) == (re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", text) is not None)


@settings(max_examples=600, deadline=None)
@given(st.builds(str.__add__, st.sampled_from(["sm_", "sm", "SM_", ""]), near("0123459afAb\u0660_", 6)))
@example("sm_100a")
@example("sm_09")
@example("sm_90")
def test_target_parts_are_the_pattern(text: str) -> None:
    match = re.fullmatch(r"sm_(?P<major>[1-9][0-9]?)(?P<minor>[0-9])(?P<suffix>[af]?)", text)
    expected = None if match is None else (int(match["major"]), int(match["minor"]), match["suffix"])
    assert target_parts(text) == expected


@settings(max_examples=600, deadline=None)
@given(st.builds(str.__add__, st.sampled_from(["git", "hg", "svn", "bzr", "darcs", "jj", "gi", "gitx", ""]),
                 near("~0129\u0660a", 5)))
@example("git~1")
def test_short_vcs_names_are_the_pattern(text: str) -> None:
    by_pattern = re.fullmatch(r"(?:git|hg|svn|bzr|darcs|jj)~[0-9]+", text) is not None
    assert is_vcs_name(text) == (by_pattern or text in VCS_FOLDERS)


@settings(max_examples=600, deadline=None)
@given(st.one_of(near("az09-_A.\u0660", 8), st.text("ab_-", min_size=63, max_size=66)))
@example("a" * 64)
def test_registry_names_are_the_pattern(text: str) -> None:
    assert _is_registry_name(text) == (re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", text) is not None)


#: The pattern lockfile.py compiled for the versions it reads without packaging.
PLAIN_VERSION = r"[0-9]+(?:\.[0-9]+)*(?:(?:a|b|rc)[0-9]+)?(?:\.post[0-9]+)?(?:\.dev[0-9]+)?"
NUMBERS = st.sampled_from(["0", "1", "10", "", "\u0661", "1 ", "+1"])


@st.composite
def near_versions(draw: st.DrawFn) -> str:
    """Versions of the pattern's shape, each piece sometimes wrong: a release of numbers and dots, then a pre-,
    post- and dev-release part each maybe, in order or not."""
    release = ".".join(draw(st.lists(NUMBERS, min_size=1, max_size=3)))
    pre = draw(st.sampled_from(["", "a", "b", "rc", "c", "r", "."])) + draw(NUMBERS)
    tails = [marker + draw(NUMBERS) for marker in draw(st.lists(st.sampled_from([".post", ".dev", "post", "dev"]),
                                                                 max_size=2))]
    return release + pre + "".join(tails)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(near_versions(), st.text("01.abcrpostdev+", max_size=12)))
@example("2.1.post1.dev3")
@example("1.0.dev1.post2")
@example("0.2.0a1")
@example("9" * 640)
@example("9" * 641)
def test_is_plain_version_is_the_pattern(text: str) -> None:
    assert is_plain_version(text) == (re.fullmatch(PLAIN_VERSION, text) is not None and len(text) <= 640)


@settings(max_examples=300, deadline=None)
@given(near_versions())
@example("9" * 640)
@example("1." + "9" * 638)
def test_packaging_reads_every_plain_version_as_a_public_one(text: str) -> None:
    """Even with Python's int() limited to the fewest digits it may be set to (640)."""
    if not is_plain_version(text):
        return
    was = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        assert Version(text).local is None
    finally:
        sys.set_int_max_str_digits(was)
