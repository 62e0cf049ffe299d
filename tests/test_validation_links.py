"""Tests for skillpm.validation.links and the tree checks: references, symlinks, special files."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from skillpm.validation import validate_skill_dir, validate_tree
from skillpm.validation.links import check_links, code_spans, references

TREE = {"SKILL.md", "scripts/extract.py", "references/forms.md", "assets/logo.png",
        "references/my file.md", "LICENSE.txt"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("See [guide](references/forms.md).", ["references/forms.md"]),
        ("![logo](assets/logo.png)", ["assets/logo.png"]),
        ('[t](references/forms.md "Title")', ["references/forms.md"]),
        ("[t](<references/my file.md>)", ["references/my file.md"]),
        ("[a](x.md) and [b](y.md)", ["x.md", "y.md"]),
        ("[ref]: references/forms.md", ["references/forms.md"]),
        ('<img src="assets/logo.png">', ["assets/logo.png"]),
        ('<a href="LICENSE.txt">terms</a>', ["LICENSE.txt"]),
        ('<IMG SRC="assets/logo.png"> <A Href=\'LICENSE.txt\'>', ["assets/logo.png", "LICENSE.txt"]),
        ("Run `scripts/extract.py` now", ["scripts/extract.py"]),
        ("Run `python scripts/extract.py in.pdf`.", ["scripts/extract.py"]),
        ("Run `./scripts/extract.py`", ["./scripts/extract.py"]),
        ("`scripts/check_*.py` and `scripts/docx.{sh,ps1}`", []),
        ("Read `references/forms.md`.", ["references/forms.md"]),
        ("Use `scripts/<name>.py` or `references/*.md`", []),
        ("`~/work/scripts/x.py` and `/opt/assets/x`", []),
        ("`src/scripts/x.py`", []),
        ("plain scripts/extract.py text", []),
        ("`[not](a-link.md)`", []),
        ("```\n[x](in-fence.md)\n`scripts/fenced.py`\n```\n[y](after.md)", ["after.md"]),
        ("[^1]: GitHub Blog. https://github.blog/x\n[^note]: Mermaid.\n[ref]: x.md", ["x.md"]),
        ("Read `{baseDir}/references/forms.md` and `${CLAUDE_SKILL_DIR}/scripts/x.py`",
         ["{baseDir}/references/forms.md", "${CLAUDE_SKILL_DIR}/scripts/x.py"]),
        ("Run `${CLAUDE_PLUGIN_ROOT}/scripts/x.py`", []),
        ("~~~python\n[x](a.md)\n```\n[y](b.md)\n~~~\n[z](c.md)", ["c.md"]),
    ],
)
def test_references_found(body: str, expected: list[str]) -> None:
    assert [target for _, target, _ in references(body)] == expected


def link_rules(body: str) -> list[tuple[str, int]]:
    return [(f.rule, f.line) for f in check_links(body, first_line=10, tree=TREE, file="SKILL.md")]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[guide](references/forms.md)", []),
        ("[guide](./references/forms.md)", []),
        ("[guide](references/../references/forms.md)", []),
        ("[dir](references/)", []),
        ("[dir](scripts)", []),
        ("[root](.)", []),
        ("[space](references/my%20file.md)", []),
        ("[frag](references/forms.md#checkboxes)", []),
        ("[query](assets/logo.png?raw=1)", []),
        ("[anchor](#usage)", []),
        ("[web](https://agentskills.io/specification)", []),
        ("[web](http://example.org/x.md)", []),
        ("[mail](mailto:team@example.org)", []),
        ("[ftp](ftp://example.org/file)", []),
        ("`scripts/extract.py`", []),
        ("[missing](references/nope.md)", [("link.missing", 10)]),
        ("[case](references/Forms.md)", [("link.missing", 10)]),
        ("![img](assets/missing.png)", [("link.missing", 10)]),
        ("line\n\n`scripts/missing.sh`", [("link.mention", 12)]),
        ("`./scripts/deploy.sh`", [("link.mention", 10)]),
        ("`references/forms.MD`", [("link.missing", 10)]),
        ("[slash](/uipath:uipath-rpa) and [cmd](/review)", []),
        ("[frag](nope.md#x)", [("link.missing", 10)]),
        ("[up](../other-skill/SKILL.md)", [("link.sibling", 10)]),
        ("[up](references/../../x.md)", [("link.sibling", 10)]),
        ("[up](..)", [("link.sibling", 10)]),
        ("[abs](/etc/passwd)", [("link.escape", 10)]),
        ("[title](url) [tool](通过MCP工具协议提供能力) [doc](references/guide) [l](NOTICE.txt)",
         [("link.mention", 10), ("link.mention", 10), ("link.missing", 10), ("link.missing", 10)]),
        ("[all](references/concepts/*.md) [one](./task.{id}.md) [it](references/<name>.md)", []),
        # no extension: an error only as a path into a folder the skill has or the specification names
        ("[days](MON/WED/FRI) [route](api/users)", [("link.mention", 10), ("link.mention", 10)]),
        ("[run](scripts/build) [asset](assets/logo) [here](references/forms)", [("link.missing", 10)] * 3),
        ("[win](C:/Users/x.md)", [("link.escape", 10)]),
        ("`scripts/../../secret`", [("link.sibling", 10)]),
        ("[g]({baseDir}/references/forms.md) [s](${CLAUDE_SKILL_DIR}/scripts/extract.py#main)", []),
        ("`{baseDir}/scripts/extract.py` `${CLAUDE_SKILL_DIR}/assets/logo.png`", []),
        ("[g]({baseDir}/references/nope.md)", [("link.missing", 10)]),
        ("[g](${CLAUDE_SKILL_DIR}/../other/x.md)", [("link.sibling", 10)]),
        ("`{baseDir}/scripts/deploy.sh`", [("link.mention", 10)]),
        ("[p](${CLAUDE_PLUGIN_ROOT}/scripts)", [("link.plugin", 10)]),
        ("[g](x{baseDir}/references/forms.md)", []),  # not at the start: a pattern, no file, skipped
        ("[^1]: nope.md", []),
        (
            "a\n[x](a.md)\nb\n[y](https://x.org)\n[z](../z)",
            [("link.missing", 11), ("link.sibling", 14)],
        ),
    ],
)
def test_check_links(body: str, expected: list[tuple[str, int]]) -> None:
    assert link_rules(body) == expected


#: The pattern code spans were found with before: it backtracked over a line for every run of backticks.
OLD_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
PLAIN = st.text(st.characters(blacklist_characters="`\n", blacklist_categories=("Cs",)), min_size=1, max_size=12)


@st.composite
def ordinary_line(draw: st.DrawFn) -> str:
    """A line as people write them: text, code spans (a span of N backticks may hold runs of fewer),
    text between spans, and perhaps a lone backtick at the end that opens nothing."""
    line = draw(st.just("") | PLAIN)
    for _ in range(draw(st.integers(0, 4))):
        ticks = "`" * draw(st.integers(1, 3))
        inner = draw(st.lists(st.tuples(st.integers(1, len(ticks) - 1), PLAIN), max_size=2)) if len(ticks) > 1 else []
        content = draw(PLAIN) + "".join("`" * run + text for run, text in inner)
        line += ticks + content + ticks + draw(PLAIN)
    return line + draw(st.sampled_from(["", " `", "` x"]))


@settings(max_examples=500, deadline=None)
@given(ordinary_line())
@example("Run `scripts/x.py` and ``a ` b`` then `c` `")
def test_code_spans_are_those_the_former_pattern_found_on_ordinary_lines(line: str) -> None:
    assert list(code_spans(line)) == [(m.start(), m.end(), m.group(2)) for m in OLD_CODE_SPAN.finditer(line)]


@pytest.mark.parametrize(
    ("line", "spans"),
    [
        ("`foo``bar``", ["bar"]),  # CommonMark: a run closes only a run of its own length
        ("``a```", []),
        ("```a`", []),
        ("`a` ``b`` `c", ["a", "b"]),
        ("a" + "".join("`" * k + "x" for k in range(300, 0, -1)), []),  # runs of falling length: none closes
    ],
)
def test_code_spans_close_only_on_a_run_of_the_opener_s_length(line: str, spans: list[str]) -> None:
    assert [content for _, _, content in code_spans(line)] == spans


def make_skill(root: Path, body: str = "# Body\n", name: str = "demo") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "SKILL.md").write_text(f"---\nname: {name}\ndescription: d\n---\n{body}")
    return root


def test_links_are_checked_against_the_walked_tree(tmp_path: Path) -> None:
    """Hidden entries SKILL.md names are kept in the tree (so their links resolve); others are left out, said."""
    body = "[a](references/a.md)\n[h](.hidden/x.md)\n[p](__pycache__/x.pyc)\n"
    skill = make_skill(tmp_path / "demo", body)
    for rel in ("references/a.md", ".hidden/x.md", "__pycache__/x.pyc", ".unnamed/y.md"):
        (skill / rel).parent.mkdir(exist_ok=True)
        (skill / rel).write_text("x")
    assert [(f.file, f.rule) for f in validate_skill_dir(skill)] == [(".unnamed", "tree.left-out")]


def rules_of(skill: Path) -> list[tuple[str, str]]:
    return [(f.file, f.rule) for f in validate_skill_dir(skill)]


def test_symlink_inside_the_tree_is_fine(tmp_path: Path) -> None:
    skill = make_skill(tmp_path / "demo", "[a](references/alias.md)\n")
    (skill / "references").mkdir()
    (skill / "references" / "real.md").write_text("x")
    (skill / "references" / "alias.md").symlink_to("real.md")
    (skill / "docs").symlink_to("references", target_is_directory=True)
    assert rules_of(skill) == []


def test_file_symlink_escaping_the_root(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("x")
    skill = make_skill(tmp_path / "demo")
    (skill / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (skill / "abs.txt").symlink_to("/etc/hostname")
    assert rules_of(skill) == [("abs.txt", "tree.link-escape"), ("leak.txt", "tree.link-escape")]


def test_directory_symlink_escaping_the_root(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "x.md").write_text("x")
    skill = make_skill(tmp_path / "demo", "[x](shared/x.md)\n")
    (skill / "shared").symlink_to("../outside", target_is_directory=True)
    assert rules_of(skill) == [("SKILL.md", "link.missing"), ("shared", "tree.link-escape")]


def test_symlinked_skill_md_escaping_the_root_is_not_read(tmp_path: Path) -> None:
    make_skill(tmp_path / "elsewhere", name="Bad Name")
    skill = tmp_path / "demo"
    skill.mkdir()
    (skill / "SKILL.md").symlink_to(tmp_path / "elsewhere" / "SKILL.md")
    assert rules_of(skill) == [("SKILL.md", "tree.link-escape")]
    [finding] = validate_skill_dir(skill)  # a mirror folder of links, as some repositories keep for each agent
    assert f"validate or pack {str(tmp_path / 'elsewhere')!r} instead" in finding.message
    (skill / "SKILL.md").unlink()
    make_skill(skill)
    (skill / "notes.md").symlink_to(tmp_path / "elsewhere" / "SKILL.md")
    [finding] = validate_skill_dir(skill)
    assert finding.rule == "tree.link-escape" and "instead" not in finding.message


def test_symlink_loop_and_dangling_link(tmp_path: Path) -> None:
    skill = make_skill(tmp_path / "demo")
    (skill / "sub").mkdir()
    (skill / "sub" / "loop").symlink_to("..", target_is_directory=True)
    (skill / "dangling.md").symlink_to("nowhere.md")
    assert rules_of(skill) == [("dangling.md", "tree.unreadable")]


def test_validate_tree_checks_links_given_in_the_map(tmp_path: Path) -> None:
    (tmp_path / "outside.md").write_text("x")
    skill = make_skill(tmp_path / "src")
    (skill / "x.md").symlink_to(tmp_path / "outside.md")
    files = {"SKILL.md": skill / "SKILL.md", "references/x.md": skill / "x.md"}
    findings = validate_tree(files, root=skill, dir_name="demo")
    assert [(f.file, f.rule) for f in findings] == [("x.md", "tree.link-escape")]


def test_fifo_is_a_special_file(tmp_path: Path) -> None:
    skill = make_skill(tmp_path / "demo")
    os.mkfifo(skill / "pipe")
    assert rules_of(skill) == [("pipe", "tree.special-file")]


def test_fifo_skill_md_is_not_opened(tmp_path: Path) -> None:
    skill = tmp_path / "demo"
    skill.mkdir()
    os.mkfifo(skill / "SKILL.md")
    assert rules_of(skill) == [("SKILL.md", "tree.special-file")]


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a device node needs root")
def test_device_is_a_special_file(tmp_path: Path) -> None:
    skill = make_skill(tmp_path / "demo")
    os.mknod(skill / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    assert rules_of(skill) == [("null", "tree.special-file")]


def test_findings_are_sorted(tmp_path: Path) -> None:
    skill = make_skill(tmp_path / "demo", "[z](z.md)\n[a](a.md)\n", name="Demo")
    os.mkfifo(skill / "b-pipe")
    os.mkfifo(skill / "a-pipe")
    findings = validate_skill_dir(skill)
    assert findings == sorted(findings, key=lambda f: (f.file, f.line or 0, f.rule))
    assert [f.file for f in findings][:2] == ["SKILL.md", "SKILL.md"]
    assert [f.file for f in findings][-2:] == ["a-pipe", "b-pipe"]
