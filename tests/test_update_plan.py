"""update never moves to a lower version silently; update --dry-run shows the plan; outdated agrees (issue 17, part 3)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from skillpm.outdated import update_action

KERNEL = "kernel-helper"
KEPT = (
    f"{KERNEL} 1.1.0 (generic) was yanked; the newest version '{KERNEL}' allows for GPU 9.0 is 1.0.0, lower, "
    f"so 'skillpm update' keeps 1.1.0; to move to it: skillpm install '{KERNEL}==1.0.0'"
)


@pytest.mark.parametrize(
    ("installed", "target", "wanted", "wanted_target", "action"),
    [
        ("1.0.0", "generic", "1.1.0", "generic", "update"),
        ("1.0.0", "generic", "1.0.0", "sm_90", "update"),  # a better variant of the same version
        ("1.0", "generic", "1.0.0", "generic", "unchanged"),  # versions compare as PEP 440 says
        ("1.1.0", "generic", "1.0.0", "sm_90", "keep"),  # lower: never taken silently
        ("1.1.0", "generic", None, None, "keep"),  # nothing resolves
    ],
)
def test_update_action(installed: str, target: str, wanted: str | None, wanted_target: str | None, action: str) -> None:
    assert update_action(installed, target, wanted, wanted_target) == action


@pytest.fixture
def newer(registry: Path, make_source, publish, tmp_path: Path) -> Path:
    """The test registry with kernel-helper 1.1.0 (generic only) published too."""
    publish(registry, make_source(tmp_path, KERNEL, version="1.1.0"))
    return registry


def test_update_after_a_yank_keeps_the_version_says_why_and_outdated_agrees(
    isolated, newer: Path, run_cli, snapshot
) -> None:
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", newer).exit_code == 0
    assert run_cli("registry", "yank", newer, f"{KERNEL}==1.1.0").exit_code == 0
    before = snapshot(isolated.project)

    result = run_cli("update")

    assert result.exit_code == 0, result.output
    assert f"warning: {KEPT}" in result.stderr
    assert "updated" not in result.stdout
    assert snapshot(isolated.project) == before
    (row,) = json.loads(run_cli("outdated", "--json").stdout)
    assert row["yanked"] and row["wanted"] == "1.0.0" and not row["behind"]
    assert KEPT in run_cli("outdated").stderr


def test_dry_run_shows_the_plan_and_changes_nothing(isolated, registry: Path, make_source, publish, tmp_path, run_cli, snapshot) -> None:
    assert run_cli("install", KERNEL, "doc-writer", "--arch", "9.0", "--registry", registry).exit_code == 0
    publish(registry, make_source(tmp_path, KERNEL, {"generic": {}, "sm_90a": {}}, version="1.1.0"))
    before, cached = snapshot(isolated.project), snapshot(isolated.cache / "artifacts")

    result = run_cli("update", "--dry-run", "--json")

    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert (rows[KERNEL]["installed"], rows[KERNEL]["resolved"], rows[KERNEL]["resolved_target"]) == ("1.0.0", "1.1.0", "sm_90a")
    assert rows[KERNEL]["action"] == "update" and rows[KERNEL]["reason"] is None
    assert rows["doc-writer"]["action"] == "unchanged"
    assert rows[KERNEL]["directory"] == str(isolated.skills / KERNEL)
    text = run_cli("update", "--dry-run", KERNEL)
    assert text.exit_code == 0 and "1.1.0 (sm_90a)" in text.stdout and "doc-writer" not in text.stdout
    assert snapshot(isolated.project) == before
    assert snapshot(isolated.cache / "artifacts") == cached  # no archive was downloaded
    (row,) = [row for row in json.loads(run_cli("outdated", "--json").stdout) if row["name"] == KERNEL]
    assert row["behind"] and (row["wanted"], row["wanted_target"]) == ("1.1.0", "sm_90a")  # as the plan says

    assert run_cli("update").exit_code == 0
    locked = {entry["name"]: entry["version"] for entry in tomllib.loads(isolated.lockfile.read_text())["skill"]}
    assert locked == {KERNEL: "1.1.0", "doc-writer": "0.2.0"}


def test_dry_run_after_a_yank_says_update_keeps_it(isolated, newer: Path, run_cli) -> None:
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", newer).exit_code == 0
    assert run_cli("registry", "yank", newer, f"{KERNEL}==1.1.0").exit_code == 0

    result = run_cli("update", "--dry-run", "--json")

    (row,) = json.loads(result.stdout)
    assert (row["installed"], row["resolved"], row["action"], row["reason"]) == ("1.1.0", "1.0.0", "keep", KEPT)


def test_dry_run_of_a_skill_not_installed_says_so(isolated, registry: Path, run_cli) -> None:
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry).exit_code == 0
    result = run_cli("update", "--dry-run", "nothing-here")
    assert result.exit_code == 1 and result.exception.message == "not installed: nothing-here"
