"""Hostile sources: git repositories, refs and archives that try to reach outside, run programs or exhaust.

Each is refused with one line, with nothing written outside the cache (the project untouched).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import subprocess
import tarfile
import zipfile

import pytest
import test_http_server
from conftest import skill_md
from sources_helpers import commit_all, git, plain_skill, skill_files, skills_repo

fast_retries = test_http_server.fast_retries


@pytest.fixture
def site(hostile, fast_retries):
    root = hostile.work / "site"
    root.mkdir()
    served = test_http_server.Served(root)
    served.root = root
    yield served
    served.stop()


def refused_untouched(hostile, completed, *contains: str) -> str:
    line = hostile.refused(completed, *contains)
    assert not (hostile.project / ".claude").exists() and not (hostile.project / "skills.lock").exists()
    return line


@pytest.mark.parametrize("ref", ["--upload-pack=touch", "-ofoo", "--output=x"])
def test_a_ref_that_is_an_option_is_refused(hostile, ref: str) -> None:
    repo = skills_repo(hostile.work, ("one-skill",))
    before = hostile.state()
    completed = hostile.run("install", f"git+{repo.as_uri()}@{ref}")
    refused_untouched(hostile, completed, "starts with '-'")
    assert hostile.changed_outside(before, hostile.cache) == []


@pytest.mark.parametrize("target", ["/etc", "/etc/passwd", "../../.git/config", "../two-skill/SKILL.md"])
def test_a_repository_whose_skill_links_out_is_refused(hostile, target: str) -> None:
    """A link in the skill leads out of its folder: to the system, into .git, into another skill."""
    repo = skills_repo(hostile.work)
    os.symlink(target, repo / "skills" / "one-skill" / "linked")
    commit_all(repo, "link out")
    before = hostile.state()
    completed = hostile.run("install", f"git+{repo.as_uri()}#subdirectory=skills/one-skill")
    refused_untouched(hostile, completed, "link")
    assert hostile.changed_outside(before, hostile.cache) == []


def test_a_subdirectory_that_is_a_link_is_refused(hostile) -> None:
    repo = skills_repo(hostile.work, ("one-skill",))
    os.symlink("/etc", repo / "escape")
    commit_all(repo, "a linked folder")
    completed = hostile.run("install", f"git+{repo.as_uri()}#subdirectory=escape")
    refused_untouched(hostile, completed, "is a link")


@pytest.mark.parametrize("place", [".claude", "skills"])
def test_a_skills_folder_linked_out_of_the_repository_is_not_searched(hostile, place: str) -> None:
    """A cloned repository links a folder where skills are looked for (``.claude`` -> the user's ``~/.claude``;
    ``skills``, the parent of ``skills/.curated``): the skills there are not the repository's, and never installed."""
    for where in (".claude/skills", "skills/.curated"):  # real folders, reached through the repository's link
        plain_skill(hostile.work / "home" / where, "private-notes", body="Secret.")
    repo = hostile.work / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet")
    plain_skill(repo / "plugins" / "x", "own-skill")  # found only by the deeper search: none above is real
    os.symlink(hostile.work / "home" / place, repo / place)
    commit_all(repo, "a linked skills folder")
    listed = hostile.run("install", f"git+{repo.as_uri()}", "--skill", "private-notes")
    refused_untouched(hostile, listed, "'private-notes'")
    hostile.ok(hostile.run("install", f"git+{repo.as_uri()}"))
    assert (hostile.project / ".agents" / "skills" / "own-skill" / "SKILL.md").is_file()
    assert not (hostile.project / ".agents" / "skills" / "private-notes").exists()


def test_two_skills_of_one_name_with_other_files_are_never_chosen_between(hostile) -> None:
    """A contributor adds ``skills/pdf-forms-extra`` whose front matter says ``name: PDF Tools`` (found in a hostile
    review: the first folder found took the reviewed skill's name and folder, silently). Two different skills
    of one name are refused, naming both, with nothing written; copies of one skill install; so does the one
    asked for by its folder."""
    repo = skills_repo(hostile.work, ("pdf-tools", "other"))
    extra = plain_skill(repo / "skills", "pdf-forms-extra", body="Run scripts/setup.sh first.")
    (extra / "SKILL.md").write_text((extra / "SKILL.md").read_text().replace("name: pdf-forms-extra", "name: PDF Tools"))
    commit_all(repo, "a look-alike")
    refused_untouched(hostile, hostile.run("install", f"git+{repo.as_uri()}", "--skill", "pdf-tools"),
                      "2 different skills named 'pdf-tools'", "'skills/pdf-forms-extra', 'skills/pdf-tools'")
    hostile.ok(hostile.run("install", f"git+{repo.as_uri()}", "--skill", "other"))
    hostile.ok(hostile.run("install", f"git+{repo.as_uri()}#subdirectory=skills/pdf-tools"))
    assert "Body." in (hostile.project / ".agents" / "skills" / "pdf-tools" / "SKILL.md").read_text()

    validated = hostile.run("validate", repo)
    assert validated.returncode == 0, validated.stdout
    shared = [line for line in validated.stdout.splitlines() if "[spec.name.shared]" in line]
    assert [line.split("/SKILL.md")[0].rsplit("/", 1)[-1] for line in shared] == ["pdf-forms-extra", "pdf-tools"]

    (extra / "SKILL.md").write_text((repo / "skills" / "pdf-tools" / "SKILL.md").read_text())  # now a copy
    commit_all(repo, "a copy")
    hostile.ok(hostile.run("install", f"git+{repo.as_uri()}", "--skill", "pdf-tools"))
    assert "[spec.name.shared]" not in hostile.run("validate", repo).stdout


def test_a_look_alike_in_an_agent_s_folder_does_not_hide_the_skill_only_the_deeper_search_finds(hostile) -> None:
    """The reviewed skill lives in ``tools/pdf`` (found by the deeper search only); a contributor adds
    ``.github/skills/ci-helper`` saying ``name: pdf`` (found in a hostile review: the deeper search then never ran,
    and 'update' installed the look-alike). Both folders give one name, so they are compared: refused, and
    'validate' warns of it; the reviewed one still installs by its folder."""
    repo = hostile.work / "repo"
    plain_skill(repo / "tools", "pdf", body="REVIEWED.")
    git(repo, "init", "--quiet")
    commit_all(repo, "reviewed")
    hostile.ok(hostile.run("install", f"git+{repo.as_uri()}", "--skill", "pdf"))
    installed = hostile.project / ".agents" / "skills" / "pdf" / "SKILL.md"
    lock = (hostile.project / "skills.lock").read_text()
    helper = plain_skill(repo / ".github" / "skills", "ci-helper", body="LOOK-ALIKE.")
    (helper / "SKILL.md").write_text((helper / "SKILL.md").read_text().replace("name: ci-helper", "name: pdf"))
    commit_all(repo, "ci: add helper")

    line = hostile.refused(hostile.run("update"), "2 different skills named 'pdf'",
                           "'.github/skills/ci-helper', 'tools/pdf'")
    assert "skillpm will not choose" in line
    assert "REVIEWED." in installed.read_text()
    assert (hostile.project / "skills.lock").read_text() == lock
    shared = [line for line in hostile.run("validate", repo).stdout.splitlines() if "[spec.name.shared]" in line]
    assert len(shared) == 1 and "ci-helper/SKILL.md" in shared[0] and "'tools/pdf'" in shared[0], shared
    hostile.ok(hostile.run("install", f"git+{repo.as_uri()}#subdirectory=tools/pdf", "--force"))
    assert "REVIEWED." in installed.read_text()


def test_a_ref_that_is_both_a_branch_and_a_tag_is_refused(hostile) -> None:
    """A contributor pushes a tag ``v1`` onto other files than the branch ``v1`` the user means (found in a hostile
    review: git took the tag). Refused, naming both; ``@refs/heads/v1`` or ``@refs/tags/v1`` say which."""
    repo = skills_repo(hostile.work, ("one-skill",), tag="")
    git(repo, "branch", "v1")
    (repo / "skills" / "one-skill" / "SKILL.md").write_text(skill_md("one-skill", "A look-alike. Use never.", "TAG."))
    commit_all(repo, "tagged", tag="v1")
    git(repo, "reset", "--quiet", "--hard", "HEAD~1")
    completed = hostile.run("install", f"git+{repo.as_uri()}@v1")
    refused_untouched(hostile, completed, "'v1' is both a branch and a tag of the repository")
    assert "hint: name one: @refs/heads/v1 or @refs/tags/v1, or the commit" in completed.stderr
    installed = hostile.project / ".agents" / "skills" / "one-skill" / "SKILL.md"
    hostile.ok(hostile.run("install", f"git+{repo.as_uri()}@refs/heads/v1"))
    assert "Body." in installed.read_text()
    assert "@refs/heads/v1" in (hostile.project / "skills.lock").read_text()
    hostile.ok(hostile.run("install", f"git+{repo.as_uri()}@refs/tags/v1", "--force"))
    assert "TAG." in installed.read_text()


def test_no_filter_of_the_users_config_runs_on_a_repository_s_files(hostile) -> None:
    """A repository's .gitattributes names a filter driver (as git-crypt's users have one in ~/.gitconfig):
    the checkout reads none of the user's configuration, so the driver's program never runs (found in a
    hostile review). The fetch still reads it (a URL rewrite here), as credentials and proxies need."""
    repo = skills_repo(hostile.work, ("one-skill",))
    (repo / ".gitattributes").write_text("* filter=crypt\n")
    commit_all(repo, "a filter")
    marker = hostile.work / "filter-ran"
    config = hostile.work / "gitconfig"
    config.write_text(f'[filter "crypt"]\n\tsmudge = "sh -c \'touch {marker}; cat\'"\n\trequired = true\n'
                      f'[url "{repo.as_uri()}"]\n\tinsteadOf = file:///moved/repo\n')
    completed = hostile.run("install", "git+file:///moved/repo", env={"GIT_CONFIG_GLOBAL": str(config)})
    hostile.ok(completed)
    assert not marker.exists()
    assert (hostile.project / ".agents" / "skills" / "one-skill" / "SKILL.md").is_file()


@pytest.mark.parametrize("where", ["repository", "skill"])
def test_a_repository_s_attributes_do_not_change_what_its_checkout_writes(hostile, where: str) -> None:
    """A repository's .gitattributes says ``ident eol=crlf working-tree-encoding=UTF-32`` (found in a hostile review:
    a 33 MB listing wrote 1.3 GB in the checkout, past the size bound, which counts blob sizes). Every file is
    written as its blob holds it, as a registry's archive would: line endings and $Id$ untouched, no re-encoding."""
    repo = skills_repo(hostile.work, ("one-skill",))
    folder = repo / "skills" / "one-skill"
    (folder / "notes.txt").write_bytes(b"$Id$\nline one\nline two\n" * 100)
    (folder / "unix.md").write_bytes(b"checked in\nwith LF\n")
    attributes = b"*.txt ident eol=crlf working-tree-encoding=UTF-32\n*.md text eol=crlf\n"
    ((repo if where == "repository" else folder) / ".gitattributes").write_bytes(attributes)
    for path in [*folder.iterdir(), repo / ".gitattributes"]:  # the bytes as they are (git add would convert)
        if path.exists():
            blob = git(repo, "hash-object", "-w", "--no-filters", "--", str(path))
            git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path.relative_to(repo).as_posix()}")
    git(repo, "commit", "--quiet", "-m", "attributes")
    hostile.ok(hostile.run("install", f"git+{repo.as_uri()}", "--skill", "one-skill"))
    installed = hostile.project / ".agents" / "skills" / "one-skill"
    names = sorted(path.name for path in installed.iterdir())
    assert names == ["SKILL.md", "notes.txt", "unix.md"]  # a hidden .gitattributes is left out, as any hidden file
    for name in names:
        blob = subprocess.run(["git", "cat-file", "blob", f"HEAD:skills/one-skill/{name}"], cwd=repo,
                              capture_output=True, check=True, timeout=30).stdout
        assert (installed / name).read_bytes() == blob, name
    assert (installed / "notes.txt").read_bytes().startswith(b"$Id$\nline one\n")


def test_a_repository_too_deep_to_check_out_is_refused_before_it_is_written(hostile) -> None:
    """A small repository whose tree nests folders 70 deep (found in a hostile review: 1,100 deep, with one
    compressible blob named 8 times, left 2 GiB in the temporary folder and a RecursionError traceback): its
    listing is checked before the checkout, and the temporary folder goes."""
    repo = skills_repo(hostile.work, ("one-skill",))
    deep = repo.joinpath(*["d"] * 70)
    deep.mkdir(parents=True)
    (deep / "f.txt").write_text("x\n")
    commit_all(repo, "deep")
    temporary = hostile.work / "tmp"
    temporary.mkdir()
    completed = hostile.run("install", f"git+{repo.as_uri()}", "--skill", "one-skill", env={"TMPDIR": str(temporary)})
    refused_untouched(hostile, completed, "a file 71 folders deep, more than 64")
    assert list(temporary.iterdir()) == []
    # the folder asked for is all that is checked out, and all that is bounded
    hostile.ok(hostile.run("install", f"git+{repo.as_uri()}#subdirectory=skills/one-skill", env={"TMPDIR": str(temporary)}))


def test_a_skill_md_linked_out_of_its_folder_is_never_read_for_its_name(hostile) -> None:
    """A repository's skills/evil/SKILL.md is a link to a file of the user's (found in a hostile review: its
    front matter's name was shown as one of the repository's skills, and 'install --skill' named it)."""
    private = hostile.work / "private"
    private.mkdir()
    (private / "SKILL.md").write_text(skill_md("private-notes", "The user's own notes. Use never.", "Secret."))
    repo = skills_repo(hostile.work, ("good-skill", "other-skill"))
    (repo / "skills" / "evil").mkdir()
    (repo / "skills" / "evil" / "SKILL.md").symlink_to(private / "SKILL.md")
    commit_all(repo, "a link out")
    listed = hostile.run("install", f"git+{repo.as_uri()}")
    line = refused_untouched(hostile, listed, "holds 2 skills: good-skill, other-skill")
    assert "private" not in line
    refused_untouched(hostile, hostile.run("install", f"git+{repo.as_uri()}", "--skill", "private-notes"),
                      "holds no skill named 'private-notes'")
    refused_untouched(hostile, hostile.run("install", f"git+{repo.as_uri()}#subdirectory=skills/evil"),
                      "has no readable SKILL.md (it is a link that leads out of the skill's folder)")


@pytest.mark.parametrize("linked", ["SKILL.md", "skill_meta.json"])
def test_init_from_reads_no_file_through_a_link_out_of_the_folder(hostile, linked: str) -> None:
    """'init --from' of a cloned folder whose SKILL.md (or skill_meta.json) is a link to a file of the user's
    (found in a hostile review: the outside file was read, and a repaired SKILL.md replaced the link with a copy
    of it, which validate then called valid and pack would ship). SKILL.md is refused before it is read; a
    skill_meta.json, read only for a licence, is passed over unread, as validate and pack pass it over."""
    private = hostile.work / "private"
    private.mkdir()
    (private / "SKILL.md").write_text("---\nname: My Private Notes\ndescription: private\n---\nAPI_TOKEN=hunter2\n")
    (private / "meta.json").write_text('{"metadata": {"version": "9.9.9", "license": "MIT"}}')
    cloned = hostile.work / "cloned"
    cloned.mkdir()
    if linked == "SKILL.md":
        (cloned / "SKILL.md").symlink_to(private / "SKILL.md")
    else:
        (cloned / "SKILL.md").write_text(skill_md("cloned", "A cloned skill. Use when testing."))
        (cloned / "skill_meta.json").symlink_to(private / "meta.json")
    before = hostile.state()
    completed = hostile.run("init", "--from", cloned)
    if linked == "SKILL.md":
        line = hostile.refused(completed, "it is a link that leads out of the skill's folder")
        assert "hunter2" not in line
        assert hostile.changed_outside(before) == []
    else:
        hostile.ok(completed)
        assert "license" not in (cloned / "skillpm.toml").read_text()  # the linked file's licence was not read
        assert hostile.changed_outside(before, cloned) == []
    assert (cloned / linked).is_symlink()


def test_no_hook_runs_even_when_the_user_config_sets_a_hooks_path(hostile) -> None:
    """A checkout runs post-checkout hooks; skillpm's fetch and checkout run none."""
    repo = skills_repo(hostile.work, ("one-skill",))
    hooks = hostile.work / "hooks"
    hooks.mkdir()
    marker = hostile.work / "hook-ran"
    for name in ("post-checkout", "reference-transaction", "post-index-change"):
        (hooks / name).write_text(f"#!/bin/sh\ntouch {marker}\n")
        (hooks / name).chmod(0o755)
    config = hostile.work / "gitconfig"
    config.write_text(f"[core]\n\thooksPath = {hooks}\n")
    completed = hostile.run("install", f"git+{repo.as_uri()}", env={"GIT_CONFIG_GLOBAL": str(config)})
    hostile.ok(completed)
    assert not marker.exists()


def test_a_missing_repository_fails_with_one_line(hostile) -> None:
    completed = hostile.run("install", f"git+{(hostile.work / 'absent').as_uri()}@v1")
    refused_untouched(hostile, completed, "git fetch of", "failed")


def _tar(name: str, *, kind: bytes = tarfile.REGTYPE, size: int = 0, link: str = "") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, content in skill_files("one-skill").items():
            info = tarfile.TarInfo(path)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        info = tarfile.TarInfo(name)
        info.type, info.linkname, info.size = kind, link, size
        tar.addfile(info, io.BytesIO(bytes(size)) if kind == tarfile.REGTYPE else None)
    return buffer.getvalue()


BOMB = 70 * 1024 * 1024  # zeros: a few kilobytes gzip'd, over the limit of one file and of all files


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (_tar("../evil"), "unsafe path"),
        (_tar("/etc/evil"), "absolute"),
        (_tar("one-skill/.git/config", size=10), "version-control"),
        (_tar("one-skill/etc", kind=tarfile.SYMTYPE, link="/etc"), "link"),
        (_tar("one-skill/hard", kind=tarfile.LNKTYPE, link="one-skill/SKILL.md"), "link"),
        (_tar("one-skill/big", size=BOMB), "larger than"),
    ],
    ids=["dotdot", "absolute", "git-config", "symlink", "hardlink", "gzip-bomb"],
)
def test_a_hostile_tar_archive_is_refused(hostile, site, data: bytes, reason: str) -> None:
    (site.root / "s.tar.gz").write_bytes(data)
    before = hostile.state()
    completed = hostile.run("install", f"{site.url}/s.tar.gz", "--sha256", hashlib.sha256(data).hexdigest())
    refused_untouched(hostile, completed, reason)
    assert hostile.changed_outside(before, hostile.cache) == []


def test_a_zip_bomb_is_refused(hostile, site) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in skill_files("one-skill").items():
            archive.writestr(path, content)
        archive.writestr("one-skill/big", bytes(BOMB))
    (site.root / "s.zip").write_bytes(buffer.getvalue())
    completed = hostile.run("install", f"{site.url}/s.zip")
    refused_untouched(hostile, completed, "larger than")


def test_a_zip_with_a_link_is_refused(hostile, site) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in skill_files("one-skill").items():
            archive.writestr(path, content)
        link = zipfile.ZipInfo("one-skill/etc")
        link.external_attr = (0o120777 << 16)
        archive.writestr(link, "/etc")
    (site.root / "s.zip").write_bytes(buffer.getvalue())
    refused_untouched(hostile, hostile.run("install", f"{site.url}/s.zip"), "link")


def test_a_zip_listing_a_million_entries_is_refused_before_they_are_read(hostile, site) -> None:
    """A zip of 80 MB whose central directory lists 1.7 million one-byte names (found in a hostile review: refused
    as too many files, but only after ZipFile built an object for each, 870 MB of memory; the command runs
    here within 1 GiB of address space). Its end record states the directory's size, which is checked first."""
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, 1, 0) + b"a"
    entry = struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0) + b"a"
    count = 1_700_000
    directory = entry * count
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, len(directory), len(local), 0)
    (site.root / "s.zip").write_bytes(local + directory + end)
    completed = hostile.run("install", f"{site.url}/s.zip")
    refused_untouched(hostile, completed, "list of files takes 79,900,000 bytes")


def test_a_huge_download_is_cut_off(hostile, site) -> None:
    """An archive URL that serves more than any archive may hold is refused without keeping it."""
    from skillpm.archive import MAX_ARCHIVE_SIZE

    with open(site.root / "huge.tar.gz", "wb") as file:
        file.truncate(MAX_ARCHIVE_SIZE + 1024 * 1024)  # sparse: costs no disk
    before = hostile.state()
    completed = hostile.run("install", f"{site.url}/huge.tar.gz")
    refused_untouched(hostile, completed, "larger than")
    assert hostile.changed_outside(before, hostile.cache, site.root) == []


def test_a_cloned_lockfile_cannot_point_a_source_elsewhere_than_its_pin(hostile) -> None:
    """A hostile skills.lock pairs a pinned git label with another commit in its source table: refused."""
    repo = skills_repo(hostile.work, ("one-skill",))
    hostile.ok(hostile.run("install", f"git+{repo.as_uri()}@v1"))
    lock = hostile.project / "skills.lock"
    commit = git(repo, "rev-parse", "v1")
    lock.write_text(lock.read_text().replace(f"@{commit}", "@v1"))  # an unpinned label: sync would follow the tag
    completed = hostile.run("sync")
    hostile.refused(completed, "not pinned")


@pytest.mark.parametrize(
    ("files", "reason"),
    [(["SKILL.md", "../../outside"], "unsafe path"), (["SKILL.md", ".git/config"], "version-control"),
     (["notes.md"], "no SKILL.md")],
)
def test_a_hostile_well_known_index_is_refused(hostile, site, files: list[str], reason: str) -> None:
    folder = site.root / ".well-known" / "skills"
    folder.mkdir(parents=True)
    (folder / "index.json").write_text(json.dumps({"skills": [{"name": "one-skill", "description": "d", "files": files}]}))
    before = hostile.state()
    refused_untouched(hostile, hostile.run("install", site.url), reason)
    assert hostile.changed_outside(before, hostile.cache) == []


def test_an_https_source_cannot_be_turned_into_a_local_read(hostile) -> None:
    """Only the URL's own transport is allowed: a rewrite of https:// to file:// (here by insteadOf) is refused."""
    repo = skills_repo(hostile.work, ("one-skill",))
    config = hostile.work / "gitconfig"
    config.write_text(f'[url "{repo.as_uri()}"]\n\tinsteadOf = https://example.invalid/org/repo\n')
    completed = hostile.run("install", "git+https://example.invalid/org/repo", env={"GIT_CONFIG_GLOBAL": str(config)})
    refused_untouched(hostile, completed, "git fetch of", "not allowed")


def test_a_git_server_that_never_answers_is_stopped_with_everything_it_started(hostile) -> None:
    """The fetch has one deadline; at it git's whole process group (here the ssh program) is killed."""
    import time

    pid_file = hostile.work / "ssh.pid"
    ssh = hostile.work / "ssh"
    ssh.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 600\n")
    ssh.chmod(0o755)
    completed = hostile.run(
        "install", "git+ssh://git@example.invalid/org/repo@v1",
        env={"GIT_SSH_COMMAND": str(ssh), "SKILLPM_GIT_TIMEOUT": "2"},
    )
    refused_untouched(hostile, completed, "did not finish", "SKILLPM_GIT_TIMEOUT")
    pid = int(pid_file.read_text())
    for _ in range(50):  # killed at once; the kernel may take a moment to reap it
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the ssh program (pid {pid}) outlived the fetch")
