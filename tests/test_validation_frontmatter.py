"""Tests for skillpm.validation.frontmatter: splitting and safe parsing of SKILL.md."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillpm.validation.frontmatter import MAX_FRONTMATTER_SIZE, MAX_INT_DIGITS, parse_skill_md


def parse(text: str) -> tuple[object, list[tuple[str, int | None]]]:
    skill_md, findings = parse_skill_md(text.encode(), file="SKILL.md")
    return skill_md, [(f.rule, f.line) for f in findings]


def test_splits_fields_key_lines_and_body() -> None:
    text = (
        "---\nname: demo\n\ndescription: >-\n  folded\n  text\nlicense: MIT\n---\n"
        "# Title\nbody\n"
    )
    skill_md, findings = parse(text)
    assert findings == []
    assert skill_md.fields == {"name": "demo", "description": "folded text", "license": "MIT"}
    assert skill_md.key_lines == {"name": 2, "description": 4, "license": 7}
    assert skill_md.body == "# Title\nbody\n"
    assert skill_md.body_line == 9
    assert skill_md.line_count == 10


def test_crlf_line_endings() -> None:
    skill_md, findings = parse("---\r\nname: demo\r\ndescription: d\r\n---\r\nbody\r\n")
    assert findings == []
    assert skill_md.fields == {"name": "demo", "description": "d"}
    assert skill_md.body_line == 5


def test_top_level_keys_are_taken_as_written() -> None:
    skill_md, findings = parse("---\nyes: 1\n2: two\n---\n")
    assert findings == []
    assert skill_md.fields == {"yes": 1, "2": "two"}


def test_values_use_yaml_types() -> None:
    skill_md, _ = parse("---\nname: yes\ndescription: 1.0\nlicense: null\n---\n")
    assert skill_md.fields == {"name": True, "description": 1.0, "license": None}


def test_closing_delimiter_inside_a_value_does_not_close() -> None:
    skill_md, findings = parse('---\nname: demo\ndescription: "a---b"\n---\n')
    assert findings == []
    assert skill_md.fields["description"] == "a---b"


@pytest.mark.parametrize(
    ("text", "rule", "line"),
    [
        ("# no front matter\n", "spec.frontmatter.missing", 1),
        ("", "spec.frontmatter.missing", 1),
        ("\n---\nname: x\n---\n", "spec.frontmatter.missing", 1),
        ("---\nname: x\n", "spec.frontmatter.unclosed", 1),
        ("---\nname: x\n--- trailing\n", "spec.frontmatter.unclosed", 1),
        ("---\n---\n", "spec.frontmatter.not-mapping", 1),
        ("---\n- a\n- b\n---\n", "spec.frontmatter.not-mapping", 1),
        ("---\njust a string\n---\n", "spec.frontmatter.not-mapping", 1),
        ('---\nname: x\ndescription: "open\n---\n', "spec.frontmatter.yaml", 3),
        ("---\nname: x\n  bad: indent\n---\n", "spec.frontmatter.yaml", 3),
        ("---\nname: a: b\n---\n", "spec.frontmatter.yaml", 2),
        ("---\nname: x\nname: y\n---\n", "spec.frontmatter.yaml", 3),
        ("---\n? [a, b]\n: c\n---\n", "spec.frontmatter.yaml", 2),
        ("---\na: 1\n---\nb: 2\n---\n", None, None),
        ("---\nname: x\n...\n---\n", None, None),
        ("---\nname: x\ndescription: a\x07b\n---\n", "spec.frontmatter.yaml", 3),
    ],
)
def test_structure_problems(text: str, rule: str | None, line: int | None) -> None:
    _, findings = parse(text)
    assert findings == ([] if rule is None else [(rule, line)])


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("---\nname: &n demo\ndescription: *n\n---\n", 2),
        ("---\nbase: &b {a: 1}\nother:\n  <<: *b\n---\n", 2),  # the anchor's line: refused before the alias
        ("---\nname: demo\ndescription: &d An anchor no alias names.\n---\n", 3),
        ("---\nname: !!python/object/apply:os.system ['true']\n---\n", 2),
        ("---\nname: !!python/name:os.system\n---\n", 2),
        ("---\nname: !custom value\n---\n", 2),
        ("---\nmetadata:\n  k: !!binary aGk=\n---\n", 3),
        ("---\nmetadata: !!set {a, b}\n---\n", 2),
    ],
)
def test_aliases_and_non_standard_tags_are_refused(text: str, line: int) -> None:
    skill_md, findings = parse(text)
    assert skill_md.fields is None
    assert findings == [("spec.frontmatter.yaml", line)]


def test_standard_explicit_tags_are_allowed() -> None:
    skill_md, findings = parse("---\nname: !!str 123\ndescription: !!str yes\n---\n")
    assert findings == []
    assert skill_md.fields == {"name": "123", "description": "yes"}


def alias_bomb(levels: int = 12, fanout: int = 10) -> str:
    lines = ["---", 'l0: &l0 "lol"']
    for i in range(1, levels):
        refs = ", ".join(f"*l{i - 1}" for _ in range(fanout))
        lines.append(f"l{i}: &l{i} [{refs}]")
    return "\n".join([*lines, "---", ""])


def work(action: Callable[[], object]) -> tuple[int, int]:
    """The Python function calls ``action`` makes and the most memory it holds at once (bytes)."""
    calls = 0

    def count(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        calls += event in ("call", "c_call")

    tracemalloc.start()
    sys.setprofile(count)
    try:
        action()
    finally:
        sys.setprofile(None)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return calls, peak


def test_alias_bomb_is_refused_with_bounded_work() -> None:
    skill_md, findings = parse(alias_bomb())  # 10**11 strings if expanded
    assert skill_md.fields is None
    assert [rule for rule, _ in findings] == ["spec.frontmatter.yaml"]
    calls, peak = work(lambda: parse(alias_bomb()))
    assert calls < 20_000 and peak < 2_000_000


@pytest.mark.parametrize(
    "numeral",
    ["0x" + "f" * 30_000, "0b" + "1" * 30_000, "0o" + "7" * 30_000, "0" + "7" * 30_000,
     ":".join(["1"] + ["59"] * 10_000), "1_000", ".inf", "-.inf", ".nan", "190:20:30.15"],
    ids=["hex", "binary", "octal-0o", "octal", "base-60", "underscores", "inf", "minus-inf", "nan", "base-60-float"],
)
def test_numerals_other_than_decimal_stay_text(numeral: str) -> None:
    skill_md, findings = parse(f"---\nx: {numeral}\n---\n")
    assert findings == []
    assert skill_md.fields == {"x": numeral}


def test_conversion_work_is_bounded_by_the_text() -> None:
    """A 30k-part base-60 numeral was a loop of bigint products; now it is copied as text."""
    text = f"---\nx: {':'.join(['1'] + ['59'] * 10_000)}\n---\n"
    calls, peak = work(lambda: parse(text))
    assert calls < 2_000 and peak < 20 * len(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 0), ("-12", -12), ("+7", 7), ("9" * MAX_INT_DIGITS, int("9" * MAX_INT_DIGITS)), ("1.5", 1.5),
     ("-2.5e+3", -2500.0), ("!!int 12", 12), ("!!float 1", 1.0), ("!!str 0x1F", "0x1F")],
)
def test_decimal_numbers_are_built(value: str, expected: object) -> None:
    skill_md, findings = parse(f"---\nx: {value}\n---\n")
    assert findings == []
    assert skill_md.fields == {"x": expected} and type(skill_md.fields["x"]) is type(expected)


@pytest.mark.parametrize(
    "value",
    ["9" * (MAX_INT_DIGITS + 1), "-" + "9" * (MAX_INT_DIGITS + 1), "1.0e+400", "-1.0e+400", "!!int 0x1F",
     "!!int 1.5", "!!float 0x1F", "!!bool maybe", "!!null x", "!!timestamp tomorrow"],
)
def test_numbers_out_of_range_and_disagreeing_tags_are_refused(value: str) -> None:
    skill_md, findings = parse(f"---\nname: demo\nx: {value}\n---\n")
    assert skill_md.fields is None
    assert findings == [("spec.frontmatter.yaml", 3)]


def test_front_matter_size_limit() -> None:
    at_limit = "x: " + "a" * (MAX_FRONTMATTER_SIZE - 3)
    skill_md, findings = parse(f"---\n{at_limit}\n---\n")
    assert findings == [] and len(skill_md.fields["x"]) == MAX_FRONTMATTER_SIZE - 3
    skill_md, findings = parse(f"---\n{at_limit}a\n---\n")
    assert skill_md.fields is None and findings == [("spec.frontmatter.yaml", 1)]


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        (b"---\nname: caf\xe9\n---\n", 2),
        (b"\xff\xfe---\n", 1),
        (b"---\nname: x\n---\nbody \xc3\n", 4),
    ],
)
def test_invalid_utf8_is_a_finding(raw: bytes, line: int) -> None:
    skill_md, findings = parse_skill_md(raw, file="SKILL.md")
    assert skill_md.fields is None
    assert [(f.rule, f.line) for f in findings] == [("spec.skill-md.encoding", line)]


def test_body_of_a_file_without_front_matter_is_the_whole_text() -> None:
    skill_md, _ = parse("# Title\n[x](y.md)\n")
    assert skill_md.body == "# Title\n[x](y.md)\n"
    assert skill_md.body_line == 1


@given(st.text(max_size=300))
def test_never_raises(text: str) -> None:
    parse_skill_md(("---\n" + text).encode("utf-8", "surrogatepass"), file="SKILL.md")


@given(st.binary(max_size=200))
def test_never_raises_on_bytes(raw: bytes) -> None:
    parse_skill_md(raw, file="SKILL.md")


def test_validation_package_imports_no_heavy_modules() -> None:
    code = (
        "import sys, skillpm.validation; "
        "heavy = ('pydantic', 'jsonschema', 'httpx', 'click'); "
        "print(' '.join(m for m in heavy if m in sys.modules))"
    )
    command = [sys.executable, "-c", code]
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == ""
