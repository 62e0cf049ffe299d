"""Tests for skillpm.validation.plainyaml: the front matter it reads is read as PyYAML reads it.

Every case is checked against :func:`skillpm.validation.yamlfront.read_yaml` (PyYAML, with the
front matter's rules) on the same text, so a case can only pass if both readers agree.
"""

from __future__ import annotations

import datetime
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillpm.validation.frontmatter import MAX_DEPTH, MAX_INT_DIGITS, parse_skill_md
from skillpm.validation.plainyaml import read_plain
from skillpm.validation.yamlfront import YamlProblem, read_yaml

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "bench" / "frontmatter_readers.py"
_spec = importlib.util.spec_from_file_location("frontmatter_readers", SCRIPT)
assert _spec is not None and _spec.loader is not None
readers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(readers)
same = readers.same


def by_pyyaml(text: str) -> object:
    return read_yaml(text, max_depth=MAX_DEPTH, max_int_digits=MAX_INT_DIGITS)


PLAIN = {
    "one line": ("name: demo\ndescription: Use when a kernel fails.", {"name": "demo", "description": "Use when a kernel fails."}),
    "words YAML 1.1 reads": ("a: yes\nb: Off\nc: null\nd: ~\ne: TRUE", {"a": True, "b": False, "c": None, "d": None, "e": True}),
    "numbers and versions": ("a: 3\nb: 1.0\nc: 1.2.3\nd: 0", {"a": 3, "b": 1.0, "c": "1.2.3", "d": 0}),
    "text from a digit": ("name: 001-intro\nlicense: 3 clause BSD\nn: 0x1F", {"name": "001-intro", "license": "3 clause BSD", "n": "0x1F"}),
    "other first characters": ("a: /hub:init\nb: 🦄 unicorn\nc: $HOME/x\nd: _private", {"a": "/hub:init", "b": "🦄 unicorn", "c": "$HOME/x", "d": "_private"}),
    "marks inside text": ("d: C# and C++, [x] {y}, a:b, it's \"q\"", {"d": "C# and C++, [x] {y}, a:b, it's \"q\""}),
    "quoted": ("a: \"x: y # z\"\nb: 'it''s'\nc: ''\nd: \"\"", {"a": "x: y # z", "b": "it's", "c": "", "d": ""}),
    "quoted over lines": ("d: 'one\n  two\n\n  three\n\n  '\nn: x", {"d": "one two\nthree\n", "n": "x"}),
    "double quoted over lines": ("d: \"one \n   two  \"", {"d": "one two  "}),
    "plain over lines": ("d: Use when\n  a kernel\n\n  fails.\n\nn: x", {"d": "Use when a kernel\nfails.", "n": "x"}),
    "plain over lines, the later ones starting with marks": (
        "d: Use when asked to\n  \"audit a skill\", 'review it',\n  - or [x] {y} & *z!\nn: x",
        {"d": "Use when asked to \"audit a skill\", 'review it', - or [x] {y} & *z!", "n": "x"}),
    "text below an empty key": ("d:\n\n  Use when\n  it fails.", {"d": "Use when it fails."}),
    "literal, kept line break": ("d: |\n  one\n\n  two\n    indented\nn: x", {"d": "one\n\ntwo\n  indented\n", "n": "x"}),
    "literal at the end": ("d: |\n  one\n  two", {"d": "one\ntwo"}),
    "literal, trailing blank lines": ("d: |\n  one\n\n\nn: x", {"d": "one\n", "n": "x"}),
    "literal, stripped": ("d: |-\n  one\n  two\nn: x", {"d": "one\ntwo", "n": "x"}),
    "literal, spaces kept": ("d: |\n  one\n     \n  two\nn: x", {"d": "one\n   \ntwo\n", "n": "x"}),
    "folded": ("d: >\n  one\n  two\n\n  three\nn: x", {"d": "one two\nthree\n", "n": "x"}),
    "folded, stripped": ("d: >-\n  one\n  two", {"d": "one two"}),
    "mapping below": ("metadata:\n  author: me\n  version: \"1.0\"\n\n  n: 2\nx: y",
                      {"metadata": {"author": "me", "version": "1.0", "n": 2}, "x": "y"}),
    "flow lists": ("a: [Read, 'Write, all', \"Bash(git:*)\"]\nb: []\nm:\n  tools: [x, 'y''s']",
                   {"a": ["Read", "Write, all", "Bash(git:*)"], "b": [], "m": {"tools": ["x", "y's"]}}),
    "levels below": ("metadata:\n  openclaw:\n    requires:\n      bins: [gh, git]\n\n      env:\n    emoji: x\n  author: me",
                     {"metadata": {"openclaw": {"requires": {"bins": ["gh", "git"], "env": None}, "emoji": "x"}, "author": "me"}}),
    "a fourth level": ("a:\n b:\n  c:\n   d: x", {"a": {"b": {"c": {"d": "x"}}}}),
    "a date": ("created: 2025-10-20\nm:\n  updated: 2026-04-04", {"created": datetime.date(2025, 10, 20), "m": {"updated": datetime.date(2026, 4, 4)}}),
    "a list at the key's column": ("tags:\n- coding\n\n- 'api'\nname: x", {"tags": ["coding", "api"], "name": "x"}),
    "list below": ("allowed-tools:\n  - Read\n  - 'Bash(ls)'\n  - 7", {"allowed-tools": ["Read", "Bash(ls)", 7]}),
    "empty value": ("a:\nb: x\nc:", {"a": None, "b": "x", "c": None}),
    "comments between": ("# a comment\nname: x\n\n# another\ndescription: y\n", {"name": "x", "description": "y"}),
    "keys as written": ("yes: a\n1.0: b\nx.y-z_: c", {"yes": "a", "1.0": "b", "x.y-z_": "c"}),
}


@pytest.mark.parametrize(("text", "fields"), PLAIN.values(), ids=PLAIN.keys())
def test_reads_the_plain_subset_as_pyyaml_does(text: str, fields: dict[str, object]) -> None:
    read = read_plain(text)
    assert read is not None
    assert same(read[0], fields)
    reference = by_pyyaml(text)
    assert not isinstance(reference, YamlProblem), reference
    assert same(read[0], reference[0]) and read[1] == reference[1]


def test_key_lines_count_every_line() -> None:
    read = read_plain("# c\nname: x\n\ndescription: |\n  a\n  b\nlicense: MIT")
    assert read is not None and read[1] == {"name": 1, "description": 3, "license": 6}


NOT_PLAIN = {
    "a tab": "d: a\tb",
    "a carriage return": "name: x\r\ndescription: y",
    "a non-breaking space": "d: a\u00a0b",
    "YAML 1.1's next line": "d: a\x85b",
    "an anchor": "a: &x one\nb: *x",
    "a tag": "a: !!str 3",
    "a flow mapping": "m: {a: b}",
    "an escape": 'd: "a\\nb"',
    "a time": "created: 2025-10-20 10:00:00",
    "a day no month has": "created: 2024-02-30",
    "a date YAML 1.1 reads, but with one digit": "created: 2025-1-2",
    "an item at the key's column over two lines": "tags:\n- a\n  b",
    "a list at the key's column after lines below the key": "k:\n  a: b\n- x",
    "no space after the colon": "name:x",
    "a duplicate key": "name: a\nname: b",
    "a line less indented than the first below its key": "m:\n    a:\n  b: y",
    "a fifth level": "a:\n b:\n  c:\n   d:\n    e: x",
    "a list of mappings": "authors:\n  - name: me\n    github: me",
    "a list at its key's column, nested": "m:\n  tools:\n  - Read",
    "a kept block": "d: |+\n  a\n",
    "an indentation indicator": "d: |2\n   a",
    "a more-indented folded line": "d: >\n  a\n    b",
    "a comment after a value": "d: a # note",
    "a comment line in text over lines": "d: a\n  # note\n  b",
    "a colon in a later line of text": "d: a\n  b: c",
    "a colon in a value": "d: a: b",
    "a long integer": "n: " + "9" * (MAX_INT_DIGITS + 1),
    "digits YAML 1.1 may read as a number": "n: 1_000",
    "a negative number": "n: -1",
    "a word YAML reads as a boolean, as a nested key": "m:\n  on: x",
    "an indented comment": "m:\n  a: b\n  # c\n  d: e",
    "a block in a mapping": "m:\n  a: |\n    x",
    "a trailing comma": "a: [x, y,]",
    "a flow mark in a flow list's text": "a: [b{c}, d]",
    "a colon in a flow list's text": "a: [x:y]",
    "nothing": "",
    "only a comment": "# nothing here",
    "a document marker": "name: x\n...\n",
}


@pytest.mark.parametrize("text", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_leaves_everything_else_to_pyyaml(text: str) -> None:
    assert read_plain(text) is None


def test_parse_skill_md_gives_the_same_findings_either_way() -> None:
    """A front matter outside the subset still goes through PyYAML's checks (here: an alias)."""
    skill_md, findings = parse_skill_md(b"---\nname: &n x\ndescription: *n\n---\nbody\n", file="SKILL.md")
    assert skill_md.fields is None
    assert [(f.rule, f.line) for f in findings] == [("spec.frontmatter.yaml", 2)]


HOSTILE = {
    "a flow list of 16,000 items": "a: [" + ", ".join(["x", "'y'", '"z"', "'it''s'"] * 4000) + "]",
    "30,000 blank lines in a block": "a: |\n  x" + "\n" * 30000 + "b: y",
    "30,000 blank lines below a key": "a:" + "\n" * 30000,
    "30,000 blank lines before text": "d:" + "\n" * 30000 + "  text\n  more",
    "16,000 folded lines": "a: >\n" + "  w\n" * 16000,
    "16,000 lines of plain text": "a: w\n" + "  w\n" * 16000,
    "6,000 keys below a key": "m:\n" + "".join(f"  k{i}: v\n" for i in range(6000)),
    "16,000 items at the key's column": "t:\n" + "- x\n" * 16000,
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_front_matter_at_the_size_limit_is_read_as_pyyaml_reads_it(text: str) -> None:
    """Each shape read in one pass (a front matter may be 64 KiB), to PyYAML's fields."""
    read = read_plain(text)
    assert read is not None
    reference = by_pyyaml(text)
    assert not isinstance(reference, YamlProblem) and same(read[0], reference[0]) and read[1] == reference[1]


# Front matter assembled from the pieces real skills are written with, and from the ones where
# YAML's rules differ from what the text seems to say.
_KEYS = st.sampled_from(["name", "description", "metadata", "allowed-tools", "yes", "a.b", "x_1"])
_VALUES = st.sampled_from([
    "demo", "Use when: it fails", "yes", "No", "null", "~", "3", "007", "1.0", "1.", ".5", "1.2.3", "2025-10-20",
    "1e5", "3 things", "12:30", "'it''s'", "'a'b'", '"q"', '"a\\"b"', '""', "''", "|", "|-", ">", ">-", "|+",
    "[a, b]", "[a, 'b, c']", "[a,]", "[]", "{a: b}", "&x a", "*x", "!!str a", "a # c", "C#", "x:", "-1", "- a",
    "/x", "🦄", "a  b", "", "2024-02-30", "2025-1-2",
])
_BELOW = st.sampled_from([
    "  more text", "  - item", "  - 'q'", "  - yes", "  key: value", "  on: x", "  k: [a, b]", "    deeper",
    "  # comment", "", " ", "     ", "  'quoted", "  end'", "  \"", "# top comment", "  k:", "  9: nine", "- item",
    "- 2024-02-30", "-  x",
])


_TEXT = st.sampled_from(["  more text", "  Use: when", "  it's", "  # no", "  - dash", "    deeper", "", "  ", "     "])
_ENTRIES = st.sampled_from(["  key: value", "  on: x", "  k: [a, 'b']", "  v: 1.0", "  k:", "  9: nine", "  - item",
                            "  - 'q'", "  - yes", "", "  # comment", "    deeper: x", "    - item", "      k: v", "    text",
                            "   odd: 1", "        far: y"])


def _entry(key: str, written: str, below: list[str]) -> list[str]:
    return [f"{key}: {written}".rstrip(" "), *below]


@st.composite
def front_matters(draw: st.DrawFn) -> str:
    """Entries of each shape the reader knows (one line, over lines, block, one level below), each
    drawn from pieces that are in the subset and pieces just outside it."""
    shapes = st.one_of(
        st.builds(_entry, _KEYS, _VALUES, st.just([])),
        st.builds(_entry, _KEYS, _VALUES, st.lists(_TEXT, min_size=1, max_size=3)),
        st.builds(_entry, _KEYS, st.sampled_from(["|", "|-", ">", ">-", "'a", '"a']),
                  st.lists(st.sampled_from(["  a", "  b  ", "    c", "", "  ", "      ", "  d'", '  e"']), min_size=1, max_size=4)),
        st.builds(_entry, _KEYS, st.sampled_from(["", " "]), st.lists(_ENTRIES, min_size=1, max_size=3)),
        st.builds(_entry, _KEYS, _VALUES, st.lists(_BELOW, max_size=3)),
    )
    entries = draw(st.lists(shapes, min_size=1, max_size=4, unique_by=lambda entry: entry[0].partition(":")[0]))
    lines = [line for entry in entries for line in entry]
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))


@settings(max_examples=600, deadline=None)
@given(front_matters())
def test_what_it_reads_pyyaml_reads_the_same(text: str) -> None:
    read = read_plain(text)
    if read is not None:
        reference = by_pyyaml(text)
        assert not isinstance(reference, YamlProblem), (text, reference)
        assert same(read[0], reference[0]) and read[1] == reference[1], text


def test_the_bench_script_finds_no_difference_in_this_repository() -> None:
    """bench/frontmatter_readers.py, run on every SKILL.md this repository holds (its skills and fixtures)."""
    result = subprocess.run([sys.executable, str(SCRIPT), str(REPO / "skills"), str(REPO / "tests")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    counts = result.stdout.strip().splitlines()[-1]
    assert counts.startswith("front matter: ") and counts.endswith("read differently: 0"), counts
    assert int(counts.split("read without PyYAML: ")[1].split()[0]) > 0, counts


def test_the_bench_script_tells_types_apart_and_reads_only_closed_front_matter(tmp_path: Path) -> None:
    assert not same({"a": 1}, {"a": 1.0}) and not same([True], [1]) and same({"a": ["x"]}, {"a": ["x"]})
    (tmp_path / "SKILL.md").write_text("---\nname: x\n---\n")
    assert readers.front_matter(tmp_path / "SKILL.md") == "name: x"
    (tmp_path / "SKILL.md").write_text("---\nname: x\n")
    assert readers.front_matter(tmp_path / "SKILL.md") is None
