"""Tests for skillpm.validation.spec (and Finding): the Agent Skills specification's rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillpm.validation import Finding, Severity, validate_skill_dir, validate_tree
from skillpm.validation.spec import check_fields, installed_name, plain_name
from skillpm.validation.tree import check_skill_md


def skill_md(front: str, body: str = "# Body\n") -> bytes:
    return f"---\n{front}\n---\n{body}".encode()


def findings_for(front: str, *, dir_name: str = "demo", body: str = "# Body\n") -> list[Finding]:
    raw = skill_md(front, body)
    return check_skill_md(raw, file="SKILL.md", dir_name=dir_name, tree={"SKILL.md"})


def rules(front: str, **kwargs: str) -> list[str]:
    return sorted(f.rule for f in findings_for(front, **kwargs))


def with_name(name: str) -> list[str]:
    """The rules a name breaks, with the directory named the same."""
    return [f.rule for f in check_fields({"name": name, "description": "d"}, {}, file="SKILL.md",
                                         dir_name=name)]


@pytest.mark.parametrize(
    "name",
    ["a", "pdf-processing", "a-b", "a1", "1a", "123", "x" * 64, "a-b-c-d", "cuda-sm90a-helper"],
)
def test_valid_names(name: str) -> None:
    assert with_name(name) == []


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("x" * 65, "spec.name.length"),
        ("", "spec.name.length"),
        ("   ", "spec.name.length"),
        ("a--b", "spec.name.format"),
        ("-a", "spec.name.format"),
        ("a-", "spec.name.format"),
        ("-", "spec.name.format"),
        ("A", "spec.name.format"),
        ("PDF-Processing", "spec.name.format"),
        ("a_b", "spec.name.format"),
        ("a.b", "spec.name.format"),
        ("a b", "spec.name.format"),
        ("café", "spec.name.format"),
        ("データ", "spec.name.format"),
        ("ａｂｃ", "spec.name.format"),
        ("a\n", "spec.name.format"),
        ("a/b", "spec.name.format"),
    ],
)
def test_invalid_names(name: str, rule: str) -> None:
    assert with_name(name) == [rule]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Abc", "lowercase"),
        ("-abc", "start or end with a hyphen"),
        ("abc-", "start or end with a hyphen"),
        ("a--b", "consecutive hyphens"),
        ("a_b", "a-z, 0-9 and single hyphens"),
    ],
)
def test_name_messages_say_why(name: str, reason: str) -> None:
    [finding] = check_fields({"name": name, "description": "d"}, {"name": 2}, file="SKILL.md",
                             dir_name=name)
    assert reason in finding.message
    assert repr(name) in finding.message


@pytest.mark.parametrize(
    ("name", "dir_name", "expected"),
    [
        ("demo", "demo", []),
        ("demo", "other", ["spec.name.directory"]),
        ("demo", "Demo", ["spec.name.directory"]),
        ("Demo", "Demo", ["spec.name.format"]),
        ("x" * 65, "y", ["spec.name.length"]),
    ],
)
def test_name_matches_directory(name: str, dir_name: str, expected: list[str]) -> None:
    assert rules(f"name: {name}\ndescription: d", dir_name=dir_name) == expected


@pytest.mark.parametrize(
    ("plain", "strict", "severity"),
    [(True, False, Severity.WARNING), (True, True, Severity.ERROR), (False, False, Severity.ERROR)],
)
def test_a_plain_folder_named_otherwise_warns_as_it_installs_under_its_name(
    plain: bool, strict: bool, severity: Severity
) -> None:
    """A folder with no manifest installs under its ``name`` (skillpm; vercel-labs/skills' installer.ts):
    only where it sits does the name differ. For a skill source, ``dir_name`` is the manifest's name."""
    [finding] = check_fields({"name": "demo", "description": "d"}, {"name": 2}, file="SKILL.md",
                             dir_name="other", strict=strict, plain=plain)
    assert (finding.rule, finding.severity) == ("spec.name.directory", severity)
    assert ("install it into a folder of that name" in finding.message) is plain


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("x", []),
        ("x" * 1024, []),
        ("x" * 1025, ["spec.description.length"]),
        ('""', ["spec.description.length"]),
        ('"   "', ["spec.description.length"]),
        ("", ["spec.field.type"]),
        ("123", ["spec.field.type"]),
        ("[a, b]", ["spec.field.type"]),
        ("{a: b}", ["spec.field.type"]),
        ("'123'", []),
        ("Use when: the user asks", ["spec.frontmatter.yaml"]),
        ('"Use when: the user asks"', []),
    ],
)
def test_description(value: str, expected: list[str]) -> None:
    assert rules(f"name: demo\ndescription: {value}") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Requires git", []),
        ("c" * 500, []),
        ("c" * 501, ["spec.compatibility.length"]),
        ('""', ["spec.compatibility.length"]),
        ("3.10", ["spec.field.type"]),
        ("[python, git]", ["spec.field.type"]),
    ],
)
def test_compatibility(value: str, expected: list[str]) -> None:
    assert rules(f"name: demo\ndescription: d\ncompatibility: {value}") == expected


@pytest.mark.parametrize("written", ["\n  claude-code: true\n  cursor: true", " [python, git]"])
def test_compatibility_written_as_data_says_what_the_field_is_for(written: str) -> None:
    """One repository of held-out batch G writes it as a mapping of agents to booleans (384 skills):
    the error says what the specification's compatibility holds and where data goes."""
    [finding] = findings_for(f"name: demo\ndescription: d\ncompatibility:{written}")
    assert finding.rule == "spec.field.type"
    assert "text of at most 500 characters saying what the skill needs" in finding.message
    assert "'metadata'" in finding.message and "quote it" not in finding.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{}", []),
        ("\n  author: me\n  version: '1.0'", []),
        ("\n  version: 1.0", ["spec.metadata.entry"]),
        ("\n  stable: yes", ["spec.metadata.entry"]),
        ("\n  1: one", ["spec.metadata.entry"]),
        ("\n  tags: [a, b]", ["spec.metadata.entry"]),
        ("\n  a: 1\n  b: 2", ["spec.metadata.entry", "spec.metadata.entry"]),
        ("author", ["spec.field.type"]),
        ("[a, b]", ["spec.field.type"]),
        ("", ["spec.field.type"]),
    ],
)
def test_metadata(value: str, expected: list[str]) -> None:
    assert rules(f"name: demo\ndescription: d\nmetadata: {value}") == expected


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("license", "Apache-2.0", []),
        ("license", "Proprietary. LICENSE.txt has complete terms", []),
        ("license", "[MIT]", ["spec.field.type"]),
        ("license", "", ["spec.field.type"]),
        ("allowed-tools", "Bash(git:*) Bash(jq:*) Read", []),
        ("allowed-tools", "Read", []),
        ("allowed-tools", "[Read, Write]", []),
        ("allowed-tools", "\n  - Read", []),
        ("allowed-tools", "\n  - 1", ["extension.field.type"]),
        ("disallowed-tools", "[AskUserQuestion]", []),
        ("disallowed-tools", "{a: b}", ["extension.field.type"]),
        ("argument-hint", "[issue-number]", []),
        ("argument-hint", "[optional: date]", []),  # YAML makes [{'optional': 'date'}] of it
        ("argument-hint", "[file, optional: 2]", []),
        ("argument-hint", "[{a: 1, b: 2}]", ["extension.field.type"]),
        ("argument-hint", "[a: {b: c}]", ["extension.field.type"]),
        ("argument-hint", "{a: b}", ["extension.field.type"]),
    ],
)
def test_optional_string_fields(field: str, value: str, expected: list[str]) -> None:
    assert rules(f"name: demo\ndescription: d\n{field}: {value}") == expected


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("name: demo\ndescription: d", []),
        ("description: d", ["spec.field.missing"]),
        ("name: demo", ["spec.field.missing"]),
        ("license: MIT", ["spec.field.missing", "spec.field.missing"]),
        ("name: demo\ndescription: d\nversion: 1.0.0", ["spec.field.unknown"]),
        ("name: demo\ndescription: d\nauthor: me\ntags: [a]", ["spec.field.unknown"] * 2),
        ("name: demo\ndescription: d\nallowed_tools: Read", ["spec.field.unknown"]),
        ("name: demo\ndescription: d\nName: demo", ["spec.field.unknown"]),
        ("name: demo\ndescription: d\nyes: 1", ["spec.field.unknown"]),
    ],
)
def test_required_and_unknown_fields(front: str, expected: list[str]) -> None:
    assert rules(front) == expected


def test_yaml_booleans_are_not_names() -> None:
    [finding] = findings_for("name: yes\ndescription: d", dir_name="yes")
    assert finding.rule == "spec.field.type"
    assert "a boolean" in finding.message and "quote" in finding.message


@pytest.mark.parametrize(
    ("front", "rule", "line"),
    [
        ("name: Demo\ndescription: d", "spec.name.format", 2),
        ("description: d\n\n\nname: Demo", "spec.name.format", 5),
        ("name: demo\ndescription: ''", "spec.description.length", 3),
        ("name: demo\ndescription: d\nextra: 1", "spec.field.unknown", 4),
        ("name: demo\ndescription: d\nmetadata:\n  a: 1", "spec.metadata.entry", 4),
        ("name: demo\n# note\ncompatibility: ''\ndescription: d", "spec.compatibility.length", 4),
        ("name: demo", "spec.field.missing", 1),
    ],
)
def test_findings_point_at_lines(front: str, rule: str, line: int) -> None:
    assert [(f.line, f.file) for f in findings_for(front) if f.rule == rule] == [(line, "SKILL.md")]


@pytest.mark.parametrize(
    ("lines", "chars_per_line", "warned"),
    [
        (10, 20, False),
        (490, 20, False),
        (600, 20, True),
        (100, 300, True),
        (100, 190, False),
    ],
)
def test_body_size_warning(lines: int, chars_per_line: int, warned: bool) -> None:
    body = ("x" * (chars_per_line - 1) + "\n") * lines
    found = findings_for("name: demo\ndescription: d", body=body)
    assert [(f.rule, f.severity) for f in found] == (
        [("spec.body.size", Severity.WARNING)] if warned else []
    )
    if warned:
        assert "characters / 4" in found[0].message and found[0].line == 5


def test_a_warning_alone_leaves_a_tree_valid(tmp_path: Path) -> None:
    skill = tmp_path / "demo"
    skill.mkdir()
    (skill / "SKILL.md").write_bytes(skill_md("name: demo\ndescription: d", "line\n" * 800))
    findings = validate_skill_dir(skill)
    assert [f.rule for f in findings] == ["spec.body.size"]
    assert not any(f.is_error for f in findings)


def test_every_problem_is_reported_at_once() -> None:
    front = "name: Bad--Name\ndescription: ''\ncompatibility: 7\nmetadata: [x]\nfoo: bar"
    assert rules(front, body="[a](missing.md)\n") == [
        "link.missing",
        "spec.description.length",
        "spec.field.type",
        "spec.field.type",
        "spec.field.unknown",
        "spec.name.directory",
        "spec.name.format",
    ]


def test_overlay_files_are_named_by_their_real_path(tmp_path: Path) -> None:
    overlay = tmp_path / "variants" / "sm_80"
    overlay.mkdir(parents=True)
    (overlay / "SKILL.md").write_bytes(skill_md("name: Kernel\ndescription: d"))
    (tmp_path / "references").mkdir()
    (tmp_path / "references" / "a.md").write_text("a")
    files = {"SKILL.md": overlay / "SKILL.md", "references/a.md": tmp_path / "references" / "a.md"}
    findings = validate_tree(files, root=tmp_path, dir_name="kernel")
    assert [(f.file, f.line, f.rule) for f in findings] == [
        ("variants/sm_80/SKILL.md", 2, "spec.name.directory"),
        ("variants/sm_80/SKILL.md", 2, "spec.name.format"),
    ]


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["README.md"], "no SKILL.md"),
        (["skill.md"], "found 'skill.md'"),
        ([], "no SKILL.md"),
    ],
)
def test_skill_md_missing(tmp_path: Path, names: list[str], message: str) -> None:
    for name in names:
        (tmp_path / name).write_bytes(skill_md("name: demo\ndescription: d"))
    files = {name: tmp_path / name for name in names}
    [finding] = validate_tree(files, root=tmp_path, dir_name="demo")
    assert finding.rule == "spec.skill-md.missing"
    assert message in finding.message


@pytest.mark.parametrize("names", [["Skill.MD"], [".hidden/x", "a:b", *(f"d{i}/x" for i in range(1200))]])
def test_a_folder_with_nothing_named_skill_md_is_one_finding_and_is_not_walked(tmp_path: Path, names: list) -> None:
    """Not a skill (a home folder, a whole repository): one finding, not one per hidden or unsafe entry."""
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    [finding] = validate_skill_dir(tmp_path)
    assert finding.rule == "spec.skill-md.missing"
    assert ("found 'Skill.MD'" in finding.message) is (names == ["Skill.MD"])


def test_a_skill_md_that_is_a_link_is_still_followed_and_judged(tmp_path: Path) -> None:
    skill = tmp_path / "demo"
    skill.mkdir()
    (skill / "SKILL.md").symlink_to(tmp_path / "nowhere.md")
    [finding] = validate_skill_dir(skill)
    assert finding.rule == "tree.link-escape"
    # no folder to validate instead is named: the link leads nowhere (mohitagw15856/pm-claude-skills' templates)
    assert finding.message.endswith(f"resolves to {str(tmp_path / 'nowhere.md')!r}, outside the skill source, "
                                    "where no file is")


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_skill_dir_that_is_not_a_directory(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "demo"
    if kind == "file":
        path.write_text("x")
    [finding] = validate_skill_dir(path)
    assert finding.rule == "tree.root"


def test_finding_str_and_dict() -> None:
    finding = Finding("SKILL.md", 3, "spec.name.format", Severity.ERROR, "bad name")
    assert str(finding) == "SKILL.md:3: error [spec.name.format] bad name"
    assert str(Finding("x", None, "r", Severity.WARNING, "m")) == "x: warning [r] m"
    assert json.loads(json.dumps(finding.to_dict())) == {
        "file": "SKILL.md", "line": 3, "rule": "spec.name.format", "severity": "error",
        "message": "bad name",
    }
    with pytest.raises(AttributeError):
        finding.line = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "installed", "plain"),
    [
        ("SEO Optimizer", "seo-optimizer", "seo-optimizer"),
        ("API Integration Specialist", "api-integration-specialist", "api-integration-specialist"),
        ("SEOAgent", "seoagent", "seoagent"),
        ("my_skill.v2", "my-skill-v2", "my-skill-v2"),  # the skills CLI keeps . and _, which no name may hold
        ("contact-center/android", "contact-center-android", "contact-center-android"),
        ("--Lead--", "lead", "lead"),
        ("demo", "demo", "demo"),
        ("café", "caf", "café"),  # a letter would be dropped: kept, and refused
        ("!!!", "", "!!!"),
        ("A" * 70, "a" * 70, "A" * 70),  # too long either way
    ],
)
def test_a_plain_folder_s_name_is_the_one_the_skills_cli_installs_it_under(name: str, installed: str, plain: str) -> None:
    assert (installed_name(name), plain_name(name)) == (installed, plain)


@pytest.mark.parametrize(
    ("name", "plain", "strict", "expected"),
    [
        ("SEO Optimizer", True, False, [("spec.name.format", Severity.WARNING)]),
        ("SEO Optimizer", True, True, [("spec.name.format", Severity.ERROR)]),
        ("SEO Optimizer", False, False, [("spec.name.directory", Severity.ERROR), ("spec.name.format", Severity.ERROR)]),
        ("café", True, False, [("spec.name.directory", Severity.WARNING), ("spec.name.format", Severity.ERROR)]),
        ("Other Name", True, False, [("spec.name.directory", Severity.WARNING), ("spec.name.format", Severity.WARNING)]),
    ],
)
def test_a_plain_folder_whose_name_the_skills_cli_renames_is_warned_of(
    name: str, plain: bool, strict: bool, expected: list
) -> None:
    found = check_fields({"name": name, "description": "d"}, {"name": 2}, file="SKILL.md",
                         dir_name="seo-optimizer", strict=strict, plain=plain)
    assert sorted((f.rule, f.severity) for f in found) == sorted(expected)
