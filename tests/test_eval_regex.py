"""The ``regex`` check: ``re``'s syntax, matched by the ``regex`` module within a time limit."""

from __future__ import annotations

import re
import time

import pytest
from test_eval_checks import case

from skillpm.evaluation.checks import REGEX_TIMEOUT_S, CheckConfigError, checks_for


def test_a_regex_check_that_backtracks_past_its_time_limit_fails_saying_so():
    (contains, check) = checks_for(case("regex", contains=(), pattern=r"^(a{1,30}){1,30}b"), target="generic")
    start = time.monotonic()
    result = check.run("a" * 28 + "!", None, {})  # re would take longer than the universe has
    assert not result.passed and f"took more than {REGEX_TIMEOUT_S:g} s" in result.detail
    assert time.monotonic() - start < 30  # regex heeds its limit only now and then: about 2 s, 12 s seen


@pytest.mark.parametrize("pattern", [r"(?e)abc", r"\p{L}", r"(?V1)a", r"(a"])
def test_a_regex_pattern_re_refuses_is_refused_though_the_regex_module_reads_it(pattern):
    with pytest.raises(CheckConfigError, match="is not a regular expression"):
        checks_for(case("regex", pattern=pattern), target="generic")


@pytest.mark.parametrize(
    ("pattern", "ignore_case", "answer"),
    [
        (r"sm_9\da", True, "x for SM_90A"),
        (r"^(\w+\s?)*$", False, "layer norm rescales rows"),
        (r"\bfoo\b", False, "a foo-bar"),
        (r"(?i)straße", False, "STRASSE"),  # simple case folding, as re: no match
        (r"(?m)^end$", False, "x\nend\ny"),
        (r"a.c", False, "a\nc"),
    ],
)
def test_a_regex_check_finds_what_re_search_finds(pattern, ignore_case, answer):
    (_, check) = checks_for(case("regex", contains=(), pattern=pattern, ignore_case=ignore_case), target="generic")
    expected = re.search(pattern, answer, re.IGNORECASE if ignore_case else 0) is not None
    assert check.run(answer, None, {}).passed == expected

