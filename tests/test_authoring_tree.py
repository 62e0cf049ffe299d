"""What ``validate`` and ``pack`` take into a skill's tree, through the command line: the same files on every
machine, never pack's own output, never the test cases, and no overlay ignored without a word."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

from click.testing import Result
from conftest import build_source, skill_md, write_files

RunCli = Callable[..., Result]


def packed(run_cli: RunCli, source: Path, out: Path) -> list[dict[str, object]]:
    """``skillpm pack SOURCE -o OUT --json``'s archives; it must succeed."""
    result = run_cli("pack", source, "-o", out, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_an_overlay_that_is_a_link_is_an_error(tmp_path: Path, run_cli: RunCli) -> None:
    """variants/sm_90a -> sm_80 was ignored: the sm_90a archive held the generic SKILL.md, and validate said valid."""
    source = build_source(tmp_path, "s", {"generic": {}, "sm_80": {}, "sm_90a": {}})
    overlay = source / "variants" / "sm_90a"
    for path in sorted(overlay.rglob("*"), reverse=True):
        path.unlink()
    overlay.rmdir()
    overlay.symlink_to("sm_80")

    validated = run_cli("validate", source)
    assert validated.exit_code == 1
    assert "variants/sm_90a: error [manifest.overlay-link] variants/sm_90a is a link" in validated.stdout
    refused = run_cli("pack", source, "-o", tmp_path / "dist")
    assert refused.exit_code == 1 and "is not a valid skill" in str(refused.exception)
    assert not (tmp_path / "dist").exists()


def test_pack_lists_the_files_of_each_archive(tmp_path: Path, run_cli: RunCli) -> None:
    """pack said only an archive's path, size and sha256: what it took in was seen only by unpacking it."""
    skill = tmp_path / "s"
    write_files(skill, {"SKILL.md": skill_md("s", "A skill."), "references/guide.md": "x\n"})

    [built] = packed(run_cli, skill, tmp_path / "dist")
    listed = run_cli("pack", skill, "-o", tmp_path / "dist", "-v")

    assert built["files"] == ["SKILL.md", "references/guide.md"]
    assert listed.stdout.splitlines()[1:] == ["  SKILL.md", "  references/guide.md"]


def test_a_skill_meta_json_deeper_in_a_source_is_packed(tmp_path: Path, run_cli: RunCli) -> None:
    """Only the top-level skill_meta.json (and an overlay's) is the skill's test cases; one at any depth was left out
    without a word."""
    source = build_source(tmp_path, "s", {"generic": {}},
                          common={"references/data/skill_meta.json": '{"schema": "data the skill ships"}'})

    [built] = packed(run_cli, source, tmp_path / "dist")

    assert "references/data/skill_meta.json" in built["files"]
    assert "skill_meta.json" not in built["files"]
    assert os.path.isfile(source / "skill_meta.json")
