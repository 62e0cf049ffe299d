"""Installing from sources beyond a registry, end to end through the CLI: folders, git, archive URLs, well-known indexes.

Real git repositories built in tmp, archives and indexes served by a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tomllib
from pathlib import Path

import pytest
import test_http_server
from sources_helpers import commit_all, git, plain_skill, skill_files, skills_repo, tar_gz, zip_bytes

from skillpm.errors import LockfileError, RequirementError, SkillpmError, SourceError
from skillpm.lockfile import read_lockfile
from skillpm.sources.spec import SourceSpec, parse_source

fast_retries = test_http_server.fast_retries


def assert_one_error(result, *, contains: str, hint: str | None = None) -> None:
    """The command failed with one SkillpmError (the CLI prints it as ``error:`` and ``hint:``) saying ``contains``."""
    error = result.exception
    assert isinstance(error, SkillpmError), result.output
    assert contains in error.message, error.message
    assert hint is None or hint in (error.hint or ""), error.hint


def lock_entries(project: Path) -> list[dict]:
    return tomllib.loads((project / "skills.lock").read_text())["skill"]


@pytest.fixture
def server(tmp_path: Path, fast_retries) -> test_http_server.Served:
    root = tmp_path / "site"
    root.mkdir()
    served = test_http_server.Served(root)
    served.root = root
    yield served
    served.stop()


# --- parsing what a requirement names ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kernel-helper", None),
        ("kernel-helper>=1.0", None),
        ("kernel-helper/", None),
        ("git+https://example.com/org/repo@v1#subdirectory=skills/x",
         SourceSpec("git", "https://example.com/org/repo", ref="v1", subdirectory="skills/x")),
        ("git+ssh://git@example.com/org/repo.git", SourceSpec("git", "ssh://git@example.com/org/repo.git")),
        ("org/repo", SourceSpec("git", "https://github.com/org/repo")),
        ("org/repo/skills/x", SourceSpec("git", "https://github.com/org/repo", subdirectory="skills/x")),
        ("org/repo@my-skill", SourceSpec("git", "https://github.com/org/repo", skill="my-skill")),
        ("https://github.com/org/repo", SourceSpec("git", "https://github.com/org/repo")),
        ("https://github.com/org/repo.git", SourceSpec("git", "https://github.com/org/repo")),
        ("https://github.com/org/repo/tree/v1/skills/x",  # split at the first '/' until the remote's refs settle it
         SourceSpec("git", "https://github.com/org/repo", ref="v1", subdirectory="skills/x", tree="v1/skills/x")),
        ("https://github.com/org/repo/tree/v1", SourceSpec("git", "https://github.com/org/repo", ref="v1")),
        ("https://github.com/org/repo/tree/" + "c" * 40 + "/skills/x",
         SourceSpec("git", "https://github.com/org/repo", ref="c" * 40, subdirectory="skills/x")),
        ("https://gitlab.com/group/sub/repo/-/tree/main/skills",
         SourceSpec("git", "https://gitlab.com/group/sub/repo", ref="main", subdirectory="skills", tree="main/skills")),
        ("https://example.com/s.tar.gz#sha256=" + "a" * 64,
         SourceSpec("archive", "https://example.com/s.tar.gz", sha256="a" * 64)),
        ("https://example.com/docs/", SourceSpec("well-known", "https://example.com/docs")),
        ("file:///opt/skills/x", SourceSpec("dir", "file:///opt/skills/x")),
    ],
)
def test_parse_source(text: str, expected: SourceSpec | None) -> None:
    spec = parse_source(text)
    assert spec == expected
    if spec is not None:  # the label reads back to the same spec (but for the skill chosen and a page's REF/PATH)
        assert parse_source(spec.label) == spec._replace(skill=None, tree=None)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("git+https://example.com/org/repo@--upload-pack=touch", "starts with '-'"),
        ("git+https://example.com/org/repo@v1#subdirectory=../x", "not a relative folder"),
        ("git+https://example.com/org/repo#subdirectory=.git/hooks", "not a relative folder"),
        ("git+https://user:token@example.com/org/repo", "credentials"),
        ("git+ftp://example.com/org/repo", "not supported"),
        ("git+https://example.com/org/repo#egg=x", "not understood"),
        ("https://example.com/s.tar.gz#sha256=short", "64 lowercase hex"),
        ("ftp://example.com/s.tar.gz", "not supported"),
        ("https://example.com/s.tar.gz?X-Amz-Signature=abc", "has a query"),
        ("archive+https://example.com/s.tar.gz?private_token=abc#sha256=" + "0" * 64, "has a query"),
        ("well-known+https://example.com/?token=abc", "has a query"),
        ("org/repo/../x", "not a relative folder"),
        ("https://github.com/org/repo/blob/main/SKILL.md", "not a repository's page"),
    ],
)
def test_parse_source_refuses(text: str, reason: str) -> None:
    with pytest.raises(SourceError, match=reason):
        parse_source(text)


def test_relative_folders_are_made_absolute(tmp_path: Path) -> None:
    assert parse_source("../x", cwd=tmp_path / "p") == SourceSpec("dir", (tmp_path / "x").as_uri())


# --- folders -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["relative", "absolute", "file-url"])
def test_install_a_plain_folder(isolated, run_cli, form: str) -> None:
    folder = plain_skill(isolated.tmp / "work", "one-skill", "The folder's own words.")
    text = {"relative": "../work/one-skill", "absolute": str(folder), "file-url": folder.as_uri()}[form]
    result = run_cli("install", text)
    assert result.exit_code == 0, result.output
    assert "has no attestations" in result.stderr  # the one warning: a source is unsigned
    installed = isolated.skills / "one-skill" / "SKILL.md"
    assert installed.read_bytes() == (folder / "SKILL.md").read_bytes()
    [entry] = lock_entries(isolated.project)
    assert entry["registry"] == f"dir+{folder.as_uri()}" and entry["target"] == "generic"
    assert entry["source"]["kind"] == "dir" and len(entry["source"]["tree"]) == 64


def test_a_folder_with_variants_resolves_by_arch(isolated, run_cli, make_source) -> None:
    source = make_source(isolated.tmp, "kernel-helper", {"generic": {}, "sm_90a": {"references/h.md": "Hopper.\n"}})
    assert run_cli("install", source, "--arch", "9.0").exit_code == 0
    assert (isolated.skills / "kernel-helper" / "references" / "h.md").is_file()
    assert lock_entries(isolated.project)[0]["target"] == "sm_90a"
    assert run_cli("install", source, "--arch", "8.0").exit_code == 0
    assert lock_entries(isolated.project)[0]["target"] == "generic"


def test_sync_refuses_a_folder_that_changed(isolated, run_cli) -> None:
    folder = plain_skill(isolated.tmp / "work", "one-skill")
    assert run_cli("install", folder).exit_code == 0
    shutil.rmtree(isolated.skills)
    (folder / "SKILL.md").write_text((folder / "SKILL.md").read_text() + "\nChanged.\n")
    result = run_cli("sync")
    assert_one_error(result, contains="digest mismatch")
    assert not isolated.skills.exists()


def test_require_attestations_refuses_a_source(isolated, run_cli, snapshot) -> None:
    folder = plain_skill(isolated.tmp / "work", "one-skill")
    before = snapshot(isolated.project)
    result = run_cli("install", folder, "--require-attestations")
    assert_one_error(result, contains="nothing was installed")
    assert snapshot(isolated.project) == before


def test_skill_needs_a_source(isolated, run_cli) -> None:
    result = run_cli("install", "kernel-helper", "--skill", "x")
    assert_one_error(result, contains="--skill")
    assert isinstance(result.exception, RequirementError)  # a usage error: exit status 2


# --- git -------------------------------------------------------------------------------------------------


def test_install_git_subdirectory_at_a_tag(isolated, run_cli) -> None:
    repo = skills_repo(isolated.tmp)
    commit = git(repo, "rev-parse", "v1^{commit}")
    result = run_cli("install", f"git+{repo.as_uri()}@v1#subdirectory=skills/one-skill")
    assert result.exit_code == 0, result.output
    assert (isolated.skills / "one-skill" / "SKILL.md").is_file()
    assert not (isolated.skills / "one-skill" / ".git").exists()
    [entry] = lock_entries(isolated.project)
    assert entry["registry"] == f"git+{repo.as_uri()}@{commit}#subdirectory=skills/one-skill"
    assert entry["source"] == {
        "kind": "git", "url": f"git+{repo.as_uri()}@v1#subdirectory=skills/one-skill", "resolved": commit,
        "tree": entry["source"]["tree"],
    }


def test_a_repository_of_many_skills_lists_them_or_installs_those_named(isolated, run_cli, snapshot) -> None:
    repo = skills_repo(isolated.tmp)
    before = snapshot(isolated.project)
    listed = run_cli("install", f"git+{repo.as_uri()}")
    assert_one_error(listed, contains="holds 2 skills: one-skill, two-skill", hint="--skill")
    assert snapshot(isolated.project) == before
    result = run_cli("install", f"git+{repo.as_uri()}", "--skill", "two-skill", "--skill", "one-skill")
    assert result.exit_code == 0, result.output
    assert result.stderr.count("warning:") == 1  # one warning for the unsigned source, naming both skills
    assert sorted(entry["name"] for entry in lock_entries(isolated.project)) == ["one-skill", "two-skill"]
    assert_one_error(run_cli("install", f"git+{repo.as_uri()}", "--skill", "three"), contains="'three'")


def test_a_plugin_marketplace_s_skills_install_by_name(isolated, run_cli) -> None:
    """A Claude Code marketplace repository: its skills are where .claude-plugin/marketplace.json says."""
    repo = isolated.tmp / "market"
    repo.mkdir()
    git(repo, "init", "--quiet")
    plain_skill(repo / "skills", "catalogue-notes")  # found at the usual place, so nothing deeper is searched
    plain_skill(repo / "plugins" / "docs" / "skills", "doc-writer")
    (repo / ".claude-plugin").mkdir()
    (repo / ".claude-plugin" / "marketplace.json").write_text(
        json.dumps({"name": "market", "plugins": [{"name": "docs", "source": "./plugins/docs"}]})
    )
    commit_all(repo, "a marketplace")
    assert_one_error(run_cli("install", f"git+{repo.as_uri()}"), contains="holds 2 skills: catalogue-notes, doc-writer")
    result = run_cli("install", f"git+{repo.as_uri()}", "--skill", "doc-writer")
    assert result.exit_code == 0, result.output
    assert (isolated.skills / "doc-writer" / "SKILL.md").is_file()


def test_sync_installs_the_recorded_commit_after_the_tag_moved(isolated, run_cli) -> None:
    repo = skills_repo(isolated.tmp)
    assert run_cli("install", f"git+{repo.as_uri()}@v1#subdirectory=skills/one-skill").exit_code == 0
    original = (isolated.skills / "one-skill" / "SKILL.md").read_bytes()
    lock = isolated.lockfile.read_bytes()
    (repo / "skills" / "one-skill" / "SKILL.md").write_bytes(original + b"\nMoved on.\n")
    commit_all(repo, "move the tag", tag="v1")
    shutil.rmtree(isolated.skills)
    result = run_cli("sync")
    assert result.exit_code == 0, result.output
    assert (isolated.skills / "one-skill" / "SKILL.md").read_bytes() == original
    assert isolated.lockfile.read_bytes() == lock


def test_sync_refuses_a_lockfile_whose_commit_is_not_its_source_table(isolated, run_cli) -> None:
    repo = skills_repo(isolated.tmp)
    assert run_cli("install", f"git+{repo.as_uri()}@v1#subdirectory=skills/one-skill").exit_code == 0
    text = isolated.lockfile.read_text()
    resolved = lock_entries(isolated.project)[0]["source"]["resolved"]
    isolated.lockfile.write_text(text.replace(f'resolved = "{resolved}"', f'resolved = "{"0" * 40}"'))
    with pytest.raises(LockfileError, match="not pinned to it"):
        read_lockfile(isolated.lockfile)
    assert_one_error(run_cli("sync"), contains="not pinned to it")


# --- archive URLs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_install_an_archive_url_pinned_by_sha256(isolated, run_cli, server, kind: str) -> None:
    files = skill_files("one-skill", prefix="repo-main/skills/")
    data = tar_gz(files) if kind == "tar.gz" else zip_bytes(files)
    (server.root / f"skills.{kind}").write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    result = run_cli("install", f"{server.url}/skills.{kind}", "--sha256", digest)
    assert result.exit_code == 0, result.output
    [entry] = lock_entries(isolated.project)
    assert entry["registry"] == f"archive+{server.url}/skills.{kind}#sha256={digest}"
    assert entry["source"]["resolved"] == digest
    shutil.rmtree(isolated.skills)
    (server.root / f"skills.{kind}").unlink()  # sync takes the pinned bytes from the cache
    assert run_cli("sync").exit_code == 0
    assert (isolated.skills / "one-skill" / "SKILL.md").is_file()


def test_an_archive_with_another_sha256_is_refused_with_nothing_written(isolated, run_cli, server, snapshot) -> None:
    (server.root / "skills.tar.gz").write_bytes(tar_gz(skill_files("one-skill")))
    before = snapshot(isolated.project)
    result = run_cli("install", f"{server.url}/skills.tar.gz", "--sha256", "0" * 64)
    assert_one_error(result, contains="sha256 mismatch")
    assert snapshot(isolated.project) == before
    assert not isolated.cache.exists() or not any(isolated.cache.rglob("*" + "0" * 8 + "*"))


# --- the well-known index --------------------------------------------------------------------------------


def test_install_from_a_well_known_index(isolated, run_cli, server) -> None:
    site = server.root / ".well-known" / "skills"
    for name in ("one-skill", "two-skill"):
        plain_skill(site, name)
        (site / name / "notes.md").write_text(f"Notes of {name}.\n")
    index = {"skills": [{"name": n, "description": "d", "files": ["SKILL.md", "notes.md"]}
                        for n in ("one-skill", "two-skill")]}
    (site / "index.json").write_text(json.dumps(index))
    assert_one_error(run_cli("install", server.url), contains="holds 2 skills")
    result = run_cli("install", server.url, "--skill", "two-skill")
    assert result.exit_code == 0, result.output
    assert (isolated.skills / "two-skill" / "notes.md").read_text() == "Notes of two-skill.\n"
    assert not (isolated.skills / "one-skill").exists()
    [entry] = lock_entries(isolated.project)
    assert entry["registry"] == f"well-known+{server.url}" and entry["source"]["kind"] == "well-known"


def test_update_follows_the_ref_asked_for(isolated, run_cli) -> None:
    """sync keeps the recorded commit; update fetches the tag again and pins the commit it now names."""
    repo = skills_repo(isolated.tmp)
    asked = f"git+{repo.as_uri()}@v1#subdirectory=skills/one-skill"
    assert run_cli("install", asked).exit_code == 0
    (repo / "skills" / "one-skill" / "SKILL.md").write_text(
        (repo / "skills" / "one-skill" / "SKILL.md").read_text() + "\nMoved on.\n"
    )
    moved = commit_all(repo, "move the tag", tag="v1")
    result = run_cli("update")
    assert result.exit_code == 0, result.output
    assert "Moved on." in (isolated.skills / "one-skill" / "SKILL.md").read_text()
    [entry] = lock_entries(isolated.project)
    assert entry["source"]["url"] == asked and entry["source"]["resolved"] == moved
    assert entry["registry"] == f"git+{repo.as_uri()}@{moved}#subdirectory=skills/one-skill"


def test_a_lockfile_whose_source_url_leads_elsewhere_is_refused(isolated, run_cli) -> None:
    """update opens the source url: a cloned skills.lock must not send it to another repository."""
    repo = skills_repo(isolated.tmp)
    assert run_cli("install", f"git+{repo.as_uri()}@v1#subdirectory=skills/one-skill").exit_code == 0
    text = isolated.lockfile.read_text()
    isolated.lockfile.write_text(text.replace(f'url = "git+{repo.as_uri()}@v1', 'url = "git+https://example.com/evil@v1'))
    with pytest.raises(LockfileError, match="not its registry label"):
        read_lockfile(isolated.lockfile)


def test_offline_sync_reproduces_a_local_repository_and_refuses_a_remote_one(isolated, run_cli, monkeypatch) -> None:
    repo = skills_repo(isolated.tmp)
    assert run_cli("install", f"git+{repo.as_uri()}@v1#subdirectory=skills/one-skill").exit_code == 0
    shutil.rmtree(isolated.skills)
    monkeypatch.setenv("SKILLPM_OFFLINE", "1")
    assert run_cli("sync").exit_code == 0
    assert (isolated.skills / "one-skill" / "SKILL.md").is_file()
    assert_one_error(run_cli("install", "git+https://127.0.0.1:9/org/repo@v1"), contains="offline")


def test_a_source_without_skills_says_so(isolated, run_cli) -> None:
    repo = isolated.tmp / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet")
    (repo / "README.md").write_text("No skills here.\n")
    commit_all(repo, "no skills")
    assert_one_error(run_cli("install", f"git+{repo.as_uri()}"), contains=f"git+{repo.as_uri()} holds no skill")
    assert_one_error(run_cli("install", repo), contains=f"{repo} holds no skill")


def _listing(*entries: tuple[int, str]) -> bytes:
    """``git ls-tree -r -l -z`` output naming a blob of each size at each path."""
    return b"".join(f"100644 blob {'0' * 40} {size:>7}\t{path}".encode() + b"\0" for size, path in entries)


def test_a_checkout_is_bounded_in_files_bytes_and_depth() -> None:
    from skillpm.sources import git

    _check = git._check_tree
    _check(_listing((10, "skills/a/SKILL.md"), (git.MAX_CHECKOUT_SIZE - 10, "big.bin")), "repo", None)
    with pytest.raises(SourceError, match="MiB of files, more than 1,024 MiB"):
        _check(_listing(*[(git.MAX_CHECKOUT_SIZE // 8 + 1, f"copy{n}") for n in range(8)]), "repo", None)
    _check(_listing((1, "/".join(["d"] * (git.MAX_CHECKOUT_DEPTH - 1) + ["f"]))), "repo", None)
    with pytest.raises(SourceError, match="65 folders deep, more than 64"):
        _check(_listing((1, "/".join(["d"] * git.MAX_CHECKOUT_DEPTH + ["f"]))), "repo", None)
    with pytest.raises(SourceError, match="more than 100,000 files") as refused:
        _check(_listing(*[(1, f"f{n}") for n in range(git.MAX_CHECKOUT_FILES + 1)]), "repo", None)
    assert "#subdirectory=" in (refused.value.hint or "")
    with pytest.raises(SourceError, match="more than 100,000 files"):
        _check(b"x" * (git.MAX_LISTING + 1), "repo", None)
    with pytest.raises(SourceError, match="has no folder 'skills/b'"):
        _check(b"", "repo", "skills/b")
    # a submodule's commit has no size ('-'): it counts as no bytes
    _check(b"160000 commit " + b"0" * 40 + b"       -\tvendored" + b"\0", "repo", None)
