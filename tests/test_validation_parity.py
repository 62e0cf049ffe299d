"""Parity with the reference validator, skills-ref 0.1.1 (``skills_ref.validator.validate``).

Every skill in ``tests/assets/skills-corpus/`` gets the same verdict from both validators.
``DIFFERENCES`` lists the cases where skillpm deliberately differs, each with its reason;
docs/validation.md carries the same table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from skills_ref.validator import validate as reference_validate

from skillpm.validation import validate_skill_dir

CORPUS = Path(__file__).parent / "assets" / "skills-corpus"
VALID = sorted((CORPUS / "valid").iterdir())
INVALID = sorted((CORPUS / "invalid").iterdir())

# The rule each broken corpus skill is there to exercise.
INVALID_RULES = {
    "missing-name": "spec.field.missing",
    "missing-description": "spec.field.missing",
    "PDF-Tools": "spec.name.format",
    "leading-hyphen": "spec.name.format",
    "trailing-hyphen-": "spec.name.format",
    "pdf--processing": "spec.name.format",
    "snake_case_skill": "spec.name.format",
    "a" * 65: "spec.name.length",
    "name-mismatch": "spec.name.directory",
    "description-too-long": "spec.description.length",
    "description-empty": "spec.description.length",
    "compatibility-too-long": "spec.compatibility.length",
    "unknown-field": "spec.field.unknown",
    "no-frontmatter": "spec.frontmatter.missing",
    "unclosed-frontmatter": "spec.frontmatter.unclosed",
    "invalid-yaml": "spec.frontmatter.yaml",
    "frontmatter-list": "spec.frontmatter.not-mapping",
    "empty-frontmatter": "spec.frontmatter.not-mapping",
    "duplicate-key": "spec.frontmatter.yaml",
    "yaml-alias": "spec.frontmatter.yaml",
    "python-tag": "spec.frontmatter.yaml",
    "no-skill-md": "spec.skill-md.missing",
}


def ours_valid(path: Path, *, strict: bool = False) -> bool:
    return not any(f.is_error for f in validate_skill_dir(path, strict=strict))


def reference_valid(path: Path) -> bool:
    return reference_validate(path) == []


def test_corpus_size() -> None:
    assert len(VALID) >= 12
    assert len(INVALID) >= 15
    assert {p.name for p in INVALID} == set(INVALID_RULES)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_corpus(path: Path) -> None:
    assert reference_valid(path)
    assert validate_skill_dir(path) == []


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name[:30])
def test_invalid_corpus(path: Path) -> None:
    """Each is refused under ``--strict``, which holds front matter to the specification as skills-ref does."""
    assert not reference_valid(path)
    assert INVALID_RULES[path.name] in {f.rule for f in validate_skill_dir(path, strict=True) if f.is_error}


def test_body_size_warning_agrees(tmp_path: Path) -> None:
    skill = tmp_path / "long-skill"
    skill.mkdir()
    (skill / "SKILL.md").write_text("---\nname: long-skill\ndescription: d\n---\n" + "step\n" * 900)
    assert reference_valid(skill)
    assert ours_valid(skill)
    assert [f.rule for f in validate_skill_dir(skill)] == ["spec.body.size"]


@dataclass(frozen=True)
class Symlink:
    target: str


FIFO = object()
RAISES = "raises"


def front(extra: str = "", name: str = "demo") -> str:
    return f"---\nname: {name}\ndescription: Does one thing well.\n{extra}---\n# Body\n"


@dataclass(frozen=True)
class Difference:
    id: str
    dir_name: str
    files: dict[str, object]
    ours_valid: bool
    reference: bool | str
    reason: str
    strict: bool = False  # the verdicts differ under --strict only (by default skillpm warns)


DIFFERENCES = [
    Difference("unicode-name", "café", {"SKILL.md": front(name="café")}, False, True,
               "the spec allows only a-z, 0-9 and hyphens; skills-ref takes any lowercase letter"),
    Difference("fullwidth-name", "ｄｅｍｏ", {"SKILL.md": front(name="ｄｅｍｏ")}, False, True,
               "skills-ref NFKC-normalises names before checking them; the spec does not"),
    Difference("lowercase-skill-md", "demo", {"skill.md": front()}, False, True,
               "the spec names the file SKILL.md; skills-ref also accepts skill.md"),
    Difference("yaml-boolean-name", "yes", {"SKILL.md": front(name="yes")}, False, True,
               "YAML reads an unquoted yes as a boolean; skills-ref's strictyaml reads strings"),
    Difference("empty-compatibility", "demo", {"SKILL.md": front('compatibility: ""\n')}, False,
               True, "the spec says 1-500 characters if provided, which --strict holds to; skills-ref allows 0; "
               "agents ignore the field, so by default it is a warning", strict=True),
    Difference("empty-license", "demo", {"SKILL.md": front("license:\n")}, False, True,
               "an empty YAML value is null, not a string; skills-ref reads it as ''"),
    Difference("license-list", "demo", {"SKILL.md": front("license:\n  - MIT\n")}, False, True,
               "license is a string; skills-ref does not check its type"),
    Difference("claude-code-field", "demo", {"SKILL.md": front("when_to_use: On release days.\nmodel: sonnet\n")},
               True, False, "Claude Code documents these fields; skills-ref allows only the spec's"),
    Difference("undocumented-field", "demo", {"SKILL.md": front("version: 1.0.0\n")}, True, False,
               "agents load the skill and ignore the field, so it is a warning; --strict refuses it, as skills-ref"),
    Difference("plain-folder-named-otherwise", "react-best-practices",
               {"SKILL.md": front(name="vercel-react-best-practices")}, True, False,
               "a plain folder installs under its name, so it is a warning; --strict refuses it, as skills-ref"),
    Difference("plain-folder-display-name", "seo-optimizer", {"SKILL.md": front(name="SEO Optimizer")}, True, False,
               "the skills CLI installs it as seo-optimizer, and so does skillpm: a warning; --strict refuses it"),
    Difference("flow-mapping", "demo", {"SKILL.md": front("metadata: {author: me}\n")}, True,
               False, "flow style is standard YAML; skills-ref's strictyaml refuses it"),
    Difference("dashes-in-value", "demo",
               {"SKILL.md": front().replace("Does one thing well.", '"Turns A---B into C"')}, True,
               False, "only a line of three dashes closes the front matter; skills-ref splits "
               "at the first '---' anywhere"),
    Difference("missing-link", "demo", {"SKILL.md": front() + "[guide](references/guide.md)\n"},
               False, True, "skillpm checks relative links; skills-ref does not"),
    Difference("escaping-symlink", "demo",
               {"SKILL.md": front(), "data.txt": Symlink("../outside.txt")}, False, True,
               "an installed tree must stay inside its source; skills-ref reads SKILL.md only"),
    Difference("fifo", "demo", {"SKILL.md": front(), "pipe": FIFO}, False, True,
               "only regular files can be packed; skills-ref reads only SKILL.md"),
    Difference("windows-unsafe-name", "demo", {"SKILL.md": front(), "a:b.md": "x"}, False, True,
               "Windows reads ':' as a drive or stream; skills-ref reads only SKILL.md"),
    Difference("names-differing-in-case", "demo", {"SKILL.md": front(), "notes.md": "a", "NOTES.md": "b"},
               False, True, "macOS and Windows see one file; skills-ref reads only SKILL.md"),
    Difference("long-integer", "demo", {"SKILL.md": front("metadata:\n  build: 12345678901234567890\n")}, False,
               True, "integers are built only up to 18 digits; skills-ref reads every scalar as a string"),
    Difference("front-matter-over-64k", "demo", {"SKILL.md": front("metadata:\n  notes: " + "a" * 70_000 + "\n")},
               False, True, "front matter is read up to 64 KiB; skills-ref has no limit"),
    Difference("invalid-utf8", "demo", {"SKILL.md": front().encode() + b"caf\xe9\n"}, False,
               RAISES, "skillpm reports a finding; skills-ref raises UnicodeDecodeError"),
]


def build(root: Path, difference: Difference) -> Path:
    (root / "outside.txt").write_text("outside the skill")
    skill = root / difference.dir_name
    skill.mkdir()
    for rel, content in difference.files.items():
        path = skill / rel
        if isinstance(content, Symlink):
            path.symlink_to(content.target)
        elif content is FIFO:
            os.mkfifo(path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(str(content))
    return skill


@pytest.mark.parametrize("difference", DIFFERENCES, ids=lambda d: d.id)
def test_deliberate_differences(tmp_path: Path, difference: Difference) -> None:
    skill = build(tmp_path, difference)
    assert ours_valid(skill, strict=difference.strict) is difference.ours_valid
    assert not difference.strict or ours_valid(skill)
    if difference.reference == RAISES:
        with pytest.raises(UnicodeDecodeError):
            reference_validate(skill)
    else:
        assert reference_valid(skill) is difference.reference
        assert difference.reference is not difference.ours_valid


@pytest.mark.parametrize("numeral", ["0x1F", "0o17", "017", "0b101", "1:30:00", ".inf", "1_000"])
def test_non_decimal_numerals_are_text_to_both(tmp_path: Path, numeral: str) -> None:
    """YAML 1.1 makes numbers of these; skillpm keeps them as strings, as skills-ref does every scalar."""
    skill = build(tmp_path, Difference("numeral", "demo", {"SKILL.md": front(f"metadata:\n  build: {numeral}\n")},
                                       True, True, ""))
    assert reference_valid(skill)
    assert ours_valid(skill)
