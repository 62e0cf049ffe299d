"""Tests for skillpm.validation.frontmatter: splitting and safe parsing of SKILL.md."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillpm.validation.frontmatter import parse_skill_md


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
        ("---\nbase: &b {a: 1}\nother:\n  <<: *b\n---\n", 4),
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


def test_alias_bomb_is_refused_quickly() -> None:
    start = time.perf_counter()
    skill_md, findings = parse(alias_bomb())
    assert time.perf_counter() - start < 0.5
    assert skill_md.fields is None
    assert [rule for rule, _ in findings] == ["spec.frontmatter.yaml"]


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
