"""Tests for skillpm.validation.paths: validate reports every path that pack's archive rules refuse.

Each kind of name goes through the real ``skillpm validate``; for a set of hostile and
borderline trees, validate fails exactly when the archive (``build_archive``, and so
``skillpm pack``) refuses the tree.
"""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path
from typing import Callable

import pytest
from click.testing import Result
from conftest import Files, build_source, skill_md, write_files

from skillpm.archive import build_archive
from skillpm.errors import ArchiveError
from skillpm.manifest import SkillSource
from skillpm.portable import (
    MAX_FILE_SIZE,
    MAX_FOLDERS,
    MAX_MEMBERS,
    MAX_NAME_BYTES,
    MAX_PATH_DEPTH,
    MAX_PATH_LENGTH,
    MAX_TOTAL_SIZE,
)
from skillpm.validation import validate_tree

NAME = "demo"
NFD = unicodedata.normalize("NFD", "é")  # "e" and a combining accent, where NFC has one character

RunCli = Callable[..., Result]


def plain_skill(base: Path, files: Files) -> Path:
    """A plain Agent Skills directory named ``demo``, with a valid SKILL.md and ``files``."""
    root = base / NAME
    write_files(root, {"SKILL.md": skill_md(NAME, "Does demo things. Use when testing."), **files})
    return root


def findings(run_cli: RunCli, path: Path) -> list[tuple[str, str, str]]:
    """``skillpm validate --json``'s findings for ``path``, as (file, rule, message); it must exit 1 if any is an error."""
    result = run_cli("validate", path, "--json")
    [report] = json.loads(result.stdout)["results"]
    assert result.exit_code == (0 if report["valid"] else 1), result.output
    return [(f["file"], f["rule"], f["message"]) for f in report["findings"]]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("a:b.md", "a character Windows refuses"),
        ("C:", "a character Windows refuses"),
        ('say"hi".md', "a character Windows refuses"),
        ("a<b>.md", "a character Windows refuses"),
        ("pipe|.md", "a character Windows refuses"),
        ("what?.md", "a character Windows refuses"),
        ("star*.md", "a character Windows refuses"),
        ("back\\slash.md", "a character Windows refuses"),
        ("bell\a.md", "unprintable character"),
        ("escape\x1b[2J.md", "unprintable character"),
        ("\u202eevil.md", "unprintable character"),  # a bidirectional override
        ("notes.", "ends in a dot or space"),
        ("notes ", "ends in a dot or space"),
        ("notes\u00a0", "ends in a space no one sees (U+00A0)"),
        ("zero\u200bwidth.md", "unprintable character"),  # a format character, not a space
        ("line\u2028break.md", "unprintable character"),
        ("NUL", "a Windows device name"),
        ("com1.txt", "a Windows device name"),
        ("Lpt¹.md", "a Windows device name"),
        ("conin$", "a Windows device name"),
        ("aux.tar.gz", "a Windows device name"),
        ("nul .md", "a Windows device name"),  # Windows drops the spaces before the extension
        ("COM1  .txt", "a Windows device name"),
    ],
)
def test_each_unsafe_name_is_reported(tmp_path: Path, run_cli: RunCli, name: str, reason: str) -> None:
    skill = plain_skill(tmp_path, {name: "x\n", f"references/{name}/guide.md": "x\n"})
    messages = {file: message for file, rule, message in findings(run_cli, skill) if rule == "tree.unsafe-name"}
    assert sorted(messages) == sorted([name, f"references/{name}/guide.md"])
    assert all(f"the name {name!r} " in message and reason in message for message in messages.values())


def test_a_macos_screenshot_name_is_kept(tmp_path: Path, run_cli: RunCli) -> None:
    """macOS names each screenshot with U+202F before AM/PM (held-out batch G had two such files):
    a space every file system keeps, packed and installed as it is."""
    name = "Screenshot 2025-12-27 at 3.05.04\u202fAM.png"
    skill = plain_skill(tmp_path, {f"assets/{name}": "png\n", "assets/ideographic\u3000space.md": "x\n"})
    assert [rule for _, rule, _ in findings(run_cli, skill) if rule.startswith("tree.")] == []
    registry = tmp_path / "registry"
    assert run_cli("registry", "init", registry).exit_code == 0
    published = run_cli("publish", skill, "--registry", registry)
    assert published.exit_code == 0, published.output
    installed = run_cli("install", NAME, "--registry", registry, "--dir", tmp_path / "installed")
    assert installed.exit_code == 0, installed.output
    assert (tmp_path / "installed" / NAME / "assets" / name).read_text() == "png\n"


def test_a_name_that_is_not_utf8_is_reported(tmp_path: Path, run_cli: RunCli) -> None:
    skill = plain_skill(tmp_path, {})
    (skill / os.fsdecode(b"caf\xe9.md")).write_text("x\n")
    result = run_cli("validate", skill)
    assert result.exit_code == 1
    assert "caf\\udce9.md: error [tree.unsafe-name]" in result.stdout
    assert "bytes that are not UTF-8" in result.stdout


def test_a_control_character_in_a_file_name_is_printed_escaped(tmp_path: Path, run_cli: RunCli) -> None:
    skill = plain_skill(tmp_path, {"escape\x1b[2J.md": "x\n"})
    result = run_cli("validate", skill)
    assert "\x1b" not in result.stdout
    assert "/escape\\x1b[2J.md: error [tree.unsafe-name]" in result.stdout


@pytest.mark.parametrize(
    ("files", "reported", "other"),
    [
        ({"notes.md": "a\n", "NOTES.md": "b\n"}, "notes.md", "'NOTES.md'"),
        ({"Café.md": "a\n", "CAFÉ.md": "b\n"}, "Café.md", "'CAF\\xc9.md'"),
        ({"caf\u00e9.md": "a\n", f"caf{NFD}.md": "b\n"}, "caf\u00e9.md", "'cafe\\u0301.md'"),
        ({"Refs/a.md": "a\n", "refs/b.md": "b\n"}, "refs/b.md", "'Refs'"),
        ({"Refs": "a\n", "refs/b.md": "b\n"}, "refs/b.md", "'Refs'"),
        ({"refs/b.md": "a\n", "Refs": "b\n"}, "refs/b.md", "'Refs'"),
    ],
    ids=["case", "case-beyond-ascii", "unicode-form", "folder-case", "file-where-a-folder-is", "folder-where-a-file-is"],
)
def test_each_clash_is_reported(tmp_path: Path, run_cli: RunCli, files: Files, reported: str, other: str) -> None:
    skill = plain_skill(tmp_path, files)
    [(file, rule, message)] = findings(run_cli, skill)
    assert (file, rule) == (reported, "tree.name-clash")
    assert f"clashes with another, {other}:" in message


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("a/" * MAX_PATH_DEPTH + "deep.md", f"is deeper than {MAX_PATH_DEPTH} levels"),
        ("/".join(["x" * 250] * 4) + "/" + "y" * 30 + ".md", f"is longer than {MAX_PATH_LENGTH} characters"),
    ],
    ids=["too-deep", "too-long"],
)
def test_a_path_too_long_or_deep_is_reported(tmp_path: Path, run_cli: RunCli, path: str, reason: str) -> None:
    skill = plain_skill(tmp_path, {path: "x\n"})
    assert findings(run_cli, skill) == [(path, "tree.path-length", f"the path as installed {reason}; an archive refuses it")]


def test_a_name_over_255_bytes_is_reported(tmp_path: Path) -> None:
    """Linux keeps names to 255 bytes, so the tree maps the long name (macOS allows 255 characters) to a file."""
    skill = plain_skill(tmp_path, {"short.md": "x\n"})
    long_name = "é" * 128  # 256 bytes in UTF-8
    files = {"SKILL.md": skill / "SKILL.md", f"references/{long_name}": skill / "short.md"}
    [finding] = validate_tree(files, root=skill, dir_name=NAME)
    assert (finding.file, finding.rule) == ("short.md", "tree.path-length")
    assert f"has a name over {MAX_NAME_BYTES} bytes" in finding.message


def test_too_many_folders_is_reported_once(tmp_path: Path, run_cli: RunCli) -> None:
    skill = plain_skill(tmp_path, {f"references/{number}/x.md": "x\n" for number in range(MAX_FOLDERS)})
    assert findings(run_cli, skill) == [  # the walk of a plain folder stops there, before the paths are checked
        (".", "tree.folder-count", f"the folder holds more than {MAX_FOLDERS} folders (a link to a folder counts as "
                                   f"what it leads to); an archive holds at most {MAX_FOLDERS}, so the walk stopped "
                                   "there")
    ]


def test_every_offending_path_is_reported(tmp_path: Path, run_cli: RunCli) -> None:
    skill = plain_skill(tmp_path, {"a:1.md": "x\n", "a:2.md": "x\n", "b.": "x\n", "c.md": "x\n", "C.md": "x\n"})
    assert [(file, rule) for file, rule, _ in findings(run_cli, skill)] == [
        ("a:1.md", "tree.unsafe-name"),
        ("a:2.md", "tree.unsafe-name"),
        ("b.", "tree.unsafe-name"),
        ("c.md", "tree.name-clash"),
    ]


def test_each_variant_is_checked_as_installed(tmp_path: Path, run_cli: RunCli) -> None:
    """Only sm_80's overlay brings a clash with the common files; the finding names the overlay's file."""
    source = build_source(tmp_path, NAME, {"generic": {}, "sm_80": {"NOTES.md": "b\n", "refs": "c\n"}},
                          common={"notes.md": "a\n", "refs/x.md": "d\n"})
    assert [(file, rule) for file, rule, _ in findings(run_cli, source)] == [
        ("notes.md", "tree.name-clash"),
        ("refs/x.md", "tree.name-clash"),
    ]
    messages = [message for _, _, message in findings(run_cli, source)]
    assert "clashes with another, 'NOTES.md' (from 'variants/sm_80/NOTES.md'):" in messages[0]
    assert "clashes with another, 'refs' (from 'variants/sm_80/refs'):" in messages[1]


# --- validate fails exactly when the archive refuses the tree ----------------------------------------------

TREES: dict[str, Files] = {
    "plain": {"references/guide.md": "x\n"},
    "unicode-names": {"références/guide é 中文.md": "x\n", "assets/😀.png": b"x"},
    "near-device-names": {"console.md": "x\n", "com10.txt": "x\n", "nully.md": "x\n", "auxiliary/x.md": "x\n",
                          "nul x.md": "x\n"},
    "dots-inside": {"a.b.c.md": "x\n", "v1.0/notes.md": "x\n"},
    "longest-name": {"n" * (MAX_NAME_BYTES - 3) + ".md": "x\n"},
    "deepest-path": {"a/" * (MAX_PATH_DEPTH - 1) + "deep.md": "x\n"},
    "longest-path": {"/".join(["x" * 250] * 4) + "/" + "y" * 16 + ".md": "x\n"},
    "most-folders": {f"r/{number}/x.md": "x\n" for number in range(MAX_FOLDERS - 1)},
    "colon": {"a/C:/x.md": "x\n"},
    "trailing-space": {"notes /x.md": "x\n"},
    "device": {"scripts/prn.sh": "x\n"},
    "control": {"tab\there.md": "x\n"},
    "bidi": {"\u202egnp.exe": "x\n"},
    "case": {"Guide.md": "x\n", "guide.md": "x\n"},
    "unicode-form": {f"{NFD}.md": "x\n", "\u00e9.md": "x\n"},
    # One name in NFC and NFD, which casefolding before decomposing took apart (U+0345 folds to a letter).
    "unicode-form-of-a-folded-mark": {"\u1fb4.md": "x\n", "\u1fb3\u0301.md": "x\n"},
    "file-where-a-folder-is": {"refs": "x\n", "REFS/a.md": "x\n"},
    "too-deep": {"a/" * MAX_PATH_DEPTH + "deep.md": "x\n"},
    "too-long": {"/".join(["x" * 250] * 4) + "/" + "y" * 30 + ".md": "x\n"},
    "too-many-folders": {f"r/{number}/x.md": "x\n" for number in range(MAX_FOLDERS)},
    "too-many-files": {f"f/{number}.md": "" for number in range(MAX_MEMBERS)},  # and SKILL.md
}


@pytest.mark.parametrize("files", TREES.values(), ids=TREES.keys())
def test_validate_fails_exactly_when_pack_fails(tmp_path: Path, run_cli: RunCli, files: Files) -> None:
    source = build_source(tmp_path, NAME, common=files)
    fields = {"name": NAME, "version": "1.0.0", "target": "generic", "description": "d", "license": None,
              "authors": (), "keywords": (), "agents": ()}
    try:
        build_archive(fields, SkillSource.load(source).variant_files("generic"))
    except ArchiveError:
        archived = False
    else:
        archived = True
    validated = run_cli("validate", source).exit_code == 0
    packed = run_cli("pack", source, "-o", tmp_path / "dist").exit_code == 0
    assert validated == archived == packed


def test_files_too_large_in_all_are_a_finding_judged_by_size(tmp_path: Path, run_cli: RunCli) -> None:
    """Five sparse files, each under the per-file limit, over the archive's total: nothing is read."""
    source = build_source(tmp_path, NAME)
    count = MAX_TOTAL_SIZE // (MAX_FILE_SIZE - 1) + 1
    for number in range(count):
        with open(source / f"blob{number}.bin", "wb") as blob:
            blob.truncate(MAX_FILE_SIZE - 1)
    assert [(file, rule) for file, rule, _ in findings(run_cli, source)] == [(".", "tree.total-size")]
    assert run_cli("pack", source, "-o", tmp_path / "dist").exit_code != 0
