"""What ``validate`` and ``pack`` take into a skill's tree, through the command line: the same files on every
machine, never pack's own output, never the test cases, and no overlay ignored without a word."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path
from typing import Callable

from click.testing import Result
from conftest import build_source, skill_md, write_files

RunCli = Callable[..., Result]


def archive_files(archive: Path) -> list[str]:
    with tarfile.open(archive) as tar:
        return sorted(member.name for member in tar.getmembers() if member.isfile())


def packed(run_cli: RunCli, source: Path, out: Path) -> list[dict[str, object]]:
    """``skillpm pack SOURCE -o OUT --json``'s archives; it must succeed."""
    result = run_cli("pack", source, "-o", out, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _with_linked_overlay(tmp_path: Path) -> Path:
    """A source of variants generic, sm_80 and sm_90a whose sm_90a overlay is a link to sm_80's."""
    source = build_source(tmp_path, "s", {"generic": {}, "sm_80": {}, "sm_90a": {}})
    overlay = source / "variants" / "sm_90a"
    for path in sorted(overlay.rglob("*"), reverse=True):
        path.unlink()
    overlay.rmdir()
    overlay.symlink_to("sm_80")
    return source


def test_an_overlay_that_is_a_link_is_an_error(tmp_path: Path, run_cli: RunCli) -> None:
    """variants/sm_90a -> sm_80 was ignored: the sm_90a archive held the generic SKILL.md, and validate said valid."""
    source = _with_linked_overlay(tmp_path)

    validated = run_cli("validate", source)
    assert validated.exit_code == 1
    assert "variants/sm_90a: error [manifest.overlay-link] variants/sm_90a is a link" in validated.stdout
    refused = run_cli("pack", source, "-o", tmp_path / "dist")
    assert refused.exit_code == 1 and "is not a valid skill" in str(refused.exception)
    assert not (tmp_path / "dist").exists()


def test_eval_refuses_an_overlay_that_is_a_link_as_pack_does(tmp_path: Path, run_cli: RunCli) -> None:
    """eval --target sm_90a with variants/sm_90a -> sm_80 took the generic files as the variant's, and refused them
    only for having no SKILL.md, never naming the link; it now validates the source first, as pack does, and is
    refused with pack's error (the link and the SKILL.md the variant lacks without it)."""
    source = _with_linked_overlay(tmp_path)

    packing = run_cli("pack", source, "-o", tmp_path / "dist")
    evaluated = run_cli("eval", source, "--target", "sm_90a", "-m", "m", "--base-url", "http://127.0.0.1:9/v1",
                        "-o", tmp_path / "evidence.json")
    assert evaluated.exit_code == packing.exit_code == 1
    assert (evaluated.exception.message, evaluated.exception.hint) == (packing.exception.message, packing.exception.hint)
    assert "is not a valid skill" in evaluated.exception.message and "(and 1 more)" in evaluated.exception.message
    assert not (tmp_path / "evidence.json").exists()


def test_two_links_to_one_folder_pack_alike_whatever_order_they_were_made_in(tmp_path: Path, run_cli: RunCli) -> None:
    """Which of two links to one folder was kept depended on the order the file system lists them in: two archives
    for one source. The first in sorted order is kept, and the other reported."""
    digests = set()
    for order in (("docs", "refs"), ("refs", "docs")):
        skill = tmp_path / "-".join(order) / "s"
        write_files(skill, {"SKILL.md": skill_md("s", "A skill."), "references/guide.md": "x\n"})
        for name in order:
            (skill / name).symlink_to("references")
        validated = run_cli("validate", skill)
        assert "refs: warning [tree.link-duplicate] 'refs' leads to a folder whose files the tree already holds " \
               "under 'docs'" in validated.stdout
        [built] = packed(run_cli, skill, skill.parent / "dist")
        assert built["files"] == ["SKILL.md", "docs/guide.md", "references/guide.md"]
        digests.add(built["sha256"])
    assert len(digests) == 1


def test_pack_dot_leaves_its_own_output_folder_out(tmp_path: Path, run_cli: RunCli, monkeypatch) -> None:
    """``pack .`` in the skill writes ./dist; the next one packed the previous archive into the new one."""
    skill = tmp_path / "s"
    write_files(skill, {"SKILL.md": skill_md("s", "A skill.")})
    monkeypatch.chdir(skill)

    first = run_cli("pack", ".")
    again = run_cli("pack", ".")

    assert first.exit_code == 0 and again.exit_code == 0, again.output
    assert first.stdout == again.stdout  # the same archive, the same sha256
    assert "'dist' is left out of the archives: it is the folder they are written to (-o)" in again.stderr
    assert archive_files(skill / "dist" / "s-0.1.0-generic.tar.gz") == ["skill/SKILL.md", "skillpm-variant.json"]
    refused = run_cli("pack", ".", "-o", ".")
    assert refused.exit_code == 1 and "is the skill folder itself" in str(refused.exception)


def test_a_plain_folder_packs_as_after_init_from_without_its_test_cases(tmp_path: Path, run_cli: RunCli) -> None:
    """A plain folder's skill_meta.json (the test cases, with their expected answers) was packed; after
    ``init --from`` it was not, so the same skill gave two archives."""
    skill = tmp_path / "s"
    write_files(skill, {"SKILL.md": skill_md("s", "A skill."),
                        "skill_meta.json": '{"tests": [{"input": "q", "expected": {"contains": ["ANSWER-42"]}}]}'})

    [plain] = packed(run_cli, skill, tmp_path / "plain")
    assert run_cli("init", "--from", skill).exit_code == 0
    [source] = packed(run_cli, skill, tmp_path / "source")

    assert plain["files"] == ["SKILL.md"]
    assert plain["sha256"] == source["sha256"]


def test_a_skill_meta_json_deeper_in_a_source_is_packed(tmp_path: Path, run_cli: RunCli) -> None:
    """Only the top-level skill_meta.json (and an overlay's) is the skill's test cases; one at any depth was left out
    without a word."""
    source = build_source(tmp_path, "s", {"generic": {}},
                          common={"references/data/skill_meta.json": '{"schema": "data the skill ships"}'})

    [built] = packed(run_cli, source, tmp_path / "dist")

    assert "references/data/skill_meta.json" in built["files"]
    assert "skill_meta.json" not in built["files"]
    assert os.path.isfile(source / "skill_meta.json")


def test_pack_lists_the_files_of_each_archive(tmp_path: Path, run_cli: RunCli) -> None:
    """pack said only an archive's path, size and sha256: what it took in was seen only by unpacking it."""
    skill = tmp_path / "s"
    write_files(skill, {"SKILL.md": skill_md("s", "A skill."), "references/guide.md": "x\n"})

    [built] = packed(run_cli, skill, tmp_path / "dist")
    listed = run_cli("pack", skill, "-o", tmp_path / "dist", "-v")

    assert built["files"] == ["SKILL.md", "references/guide.md"]
    assert listed.stdout.splitlines()[1:] == ["  SKILL.md", "  references/guide.md"]
