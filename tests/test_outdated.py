"""``skillpm outdated``: per installed skill, what its requirement allows, the newest, and a better variant."""

from __future__ import annotations

import json
from pathlib import Path


from skillpm.index.listing import Listing
from skillpm.index.model import PackageDocument, Variant, VersionEntry
from skillpm.lockfile import LockedSkill
from skillpm.outdated import compare
from skillpm.targets import Capability

SHA = "ab" * 32


def _document(*versions: tuple[str, tuple[str, ...]], yanked: frozenset[tuple[str, str]] = frozenset()) -> Listing:
    return Listing.of(PackageDocument("demo", tuple(
        VersionEntry(version, "", tuple(Variant(target, SHA, 1, f"artifacts/demo/{version}/{target}.tar.gz",
                                                yanked=(version, target) in yanked) for target in targets))
        for version, targets in versions
    )))


def _locked(version: str, target: str, requirement: str = "demo", capability: str = "9.0") -> LockedSkill:
    return LockedSkill("demo", version, target, SHA, "embedded", f"artifacts/demo/{version}/{target}.tar.gz",
                       ".claude/skills/demo", capability, requirement)


HOPPER = Capability(9, 0)


def test_wanted_honours_the_requirement_and_latest_does_not() -> None:
    document = _document(("1.0.0", ("generic", "sm_90")), ("1.2.0", ("generic", "sm_90")), ("2.0.0", ("generic",)))
    row = compare(_locked("1.0.0", "sm_90", "demo<2"), document, HOPPER)
    assert (row.wanted, row.wanted_target) == ("1.2.0", "sm_90")
    assert (row.latest, row.latest_target) == ("2.0.0", "generic")
    assert row.behind and row.better_variant is None and not row.yanked


def test_a_better_variant_of_the_installed_version_is_named() -> None:
    document = _document(("1.0.0", ("generic", "sm_80", "sm_90")))
    row = compare(_locked("1.0.0", "generic"), document, HOPPER)
    assert row.better_variant == "sm_90" and row.behind
    assert compare(_locked("1.0.0", "sm_90"), document, HOPPER).better_variant is None


def test_up_to_date_is_not_behind() -> None:
    row = compare(_locked("1.0.0", "sm_90"), _document(("1.0.0", ("generic", "sm_90"))), HOPPER)
    assert not row.behind and row.wanted == row.latest == "1.0.0"


def test_a_yanked_install_is_flagged_and_wanted_never_goes_down_silently() -> None:
    """After its only newer version is yanked, 'wanted' may be lower than what is installed: it is shown, not hidden."""
    document = _document(("1.0.0", ("generic",)), ("1.1.0", ("generic",)), yanked=frozenset({("1.1.0", "generic")}))
    row = compare(_locked("1.1.0", "generic"), document, HOPPER)
    assert row.yanked and row.wanted == "1.0.0" and not row.behind


def test_nothing_for_this_gpu_is_none_not_a_guess() -> None:
    row = compare(_locked("1.0.0", "sm_90"), _document(("1.0.0", ("sm_90",))), Capability(8, 0))
    assert row.wanted is None and row.latest is None and row.better_variant is None


# --- through the CLI -------------------------------------------------------------------------------


def test_outdated_through_the_cli_changes_nothing(isolated, run_cli, registry: Path, make_source, publish, tmp_path, snapshot) -> None:
    assert run_cli("install", "kernel-helper==1.0.0", "--arch", "8.6", "--registry", str(registry)).exit_code == 0
    publish(registry, make_source(tmp_path, "kernel-helper", {"generic": {}, "sm_90a": {}}, version="1.1.0"))
    before = snapshot(isolated.project)
    result = run_cli("outdated", "--json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["installed"] == "1.0.0" and row["target"] == "sm_80" and row["capability"] == "8.6"
    assert (row["wanted"], row["wanted_target"]) == ("1.0.0", "sm_80")  # pinned by '==1.0.0'
    assert (row["latest"], row["latest_target"]) == ("1.1.0", "generic") and not row["behind"]
    hopper = json.loads(run_cli("outdated", "kernel-helper", "--arch", "h100", "--json").stdout)[0]
    assert hopper["better_variant"] == "sm_90a" and hopper["latest_target"] == "sm_90a" and hopper["behind"]
    text = run_cli("outdated")
    assert "kernel-helper" in text.stdout and "1.1.0 (generic)" in text.stdout
    assert snapshot(isolated.project) == before


def _installed_from_git(isolated, run_cli, make_source) -> tuple[Path, Path]:
    """A git repository holding the skill demo 1.0.0 (one commit), installed from it: the repository and the skill."""
    from sources_helpers import commit_all, git

    repo = isolated.tmp / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    skill = make_source(repo, "demo", {"generic": {}})
    commit_all(repo, "v1")
    assert run_cli("install", f"git+{repo.as_uri()}#subdirectory={skill.relative_to(repo).as_posix()}").exit_code == 0
    return repo, skill


def test_outdated_of_a_git_source_compares_with_its_ref_as_update_does(isolated, run_cli, make_source, snapshot) -> None:
    """outdated read the commit a git-sourced skill is pinned to, and said it was current while update moved it
    to the branch's new version (hostile review): both read the source as first asked for."""
    from sources_helpers import commit_all

    repo, skill = _installed_from_git(isolated, run_cli, make_source)
    manifest = skill / "skillpm.toml"
    manifest.write_text(manifest.read_text().replace('version = "1.0.0"', 'version = "2.0.0"'))
    commit_all(repo, "v2")
    before = snapshot(isolated.project)
    result = run_cli("outdated", "--json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert (row["installed"], row["wanted"], row["latest"], row["behind"]) == ("1.0.0", "2.0.0", "2.0.0", True)
    assert snapshot(isolated.project) == before
    (step,) = json.loads(run_cli("update", "--dry-run", "--json").stdout)
    assert (step["resolved"], step["action"]) == ("2.0.0", "update")


def test_a_source_s_new_commit_of_the_same_version_is_an_update_everywhere(isolated, run_cli, make_source) -> None:
    """A source's new commit that kept the version: outdated and update --dry-run said 'unchanged' while update
    installed the new files (found by the fix above's author): all three now say and do the same."""
    from sources_helpers import commit_all

    repo, skill = _installed_from_git(isolated, run_cli, make_source)
    (skill / "NOTES.md").write_text("a note the new commit adds\n")
    commit_all(repo, "v1, again")
    (row,) = json.loads(run_cli("outdated", "--json").stdout)
    assert (row["installed"], row["wanted"], row["new_content"], row["behind"]) == ("1.0.0", "1.0.0", True, True)
    (step,) = json.loads(run_cli("update", "--dry-run", "--json").stdout)
    assert (step["resolved"], step["action"]) == ("1.0.0", "update")
    assert run_cli("update").exit_code == 0
    (row,) = json.loads(run_cli("outdated", "--json").stdout)
    assert (row["new_content"], row["behind"]) == (False, False)


def test_outdated_outside_a_project_says_so(tmp_path: Path, monkeypatch, run_skillpm) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_skillpm("outdated")
    assert result.returncode != 0 and result.stderr.startswith("error: no project here")
