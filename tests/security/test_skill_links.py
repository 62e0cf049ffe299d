"""A cloned repository of skills whose links lead to what the user keeps beside them.

The user clones someone else's skills and runs validate, init, pack and publish on them. A committed
link may lead to a hidden file the user fills in (``notes.md -> .env``), into a version-control
folder (``config.md -> .hg/hgrc``), or make a whole skill folder the user's own
(``skills/notes -> ~/.claude/skills/private-notes``); links into nested folders may multiply the walk;
a file git ignores may hold the key the README told the user to put there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from collections import Counter
from pathlib import Path

import pytest

from security.conftest import TIMEOUT, limit_memory
from test_registry_crash_safety import _strace_problem

SKILL_MD = "---\nname: {name}\ndescription: A skill.\n---\n\n{body}\n"


def plain_skill(folder: Path, body: str = "Body.") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(SKILL_MD.format(name=folder.name, body=body))
    return folder


def members(archive_folder: Path) -> dict[str, bytes]:
    """The files of the one archive in ``archive_folder``, by name in the archive."""
    [archive] = archive_folder.glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        return {member.name: tar.extractfile(member).read() for member in tar.getmembers() if member.isfile()}


@pytest.mark.parametrize(("link", "target", "rule"), [
    ("notes.md", ".env", "tree.link-hidden"),
    ("config.md", ".hg/hgrc", "tree.link-escape"),
    ("data", ".secrets", "tree.link-hidden"),  # a link to a hidden folder is not walked
    ("hooks", ".git", "tree.link-escape"),
])
def test_a_link_to_a_hidden_or_version_control_file_is_never_packed(hostile, link: str, target: str, rule: str) -> None:
    skill = plain_skill(hostile.work / "repo" / "my-skill")
    for folder in (".hg", ".secrets", ".git"):
        (skill / folder).mkdir()
    (skill / ".env").write_text("OPENAI_API_KEY=sk-USER-SECRET\n")
    (skill / ".hg" / "hgrc").write_text("[paths]\ndefault = https://user:hgpass@hg.example/x\n")
    (skill / ".secrets" / "token.txt").write_text("token=USER-TOKEN\n")
    (skill / ".git" / "config").write_text("[core]\n\tfsmonitor = echo USER-GIT\n")
    (skill / link).symlink_to(target)

    validated = hostile.run("validate", skill, "--json")
    [report] = json.loads(validated.stdout)["results"]
    assert validated.returncode == 1
    assert [(f["file"], f["rule"]) for f in report["findings"] if f["severity"] == "error"] == [(link, rule)]
    out = hostile.work / "dist"
    hostile.refused(hostile.run("pack", skill, "-o", out), link)
    assert not out.exists()
    registry = hostile.work / "registry"
    hostile.ok(hostile.run("registry", "init", registry))
    hostile.refused(hostile.run("publish", skill, "--registry", registry), link)
    assert not list(registry.rglob("*.tar.gz"))


def test_a_link_to_a_hidden_file_skill_md_names_is_packed(hostile) -> None:
    """A hidden file the skill ships (SKILL.md names it) may be linked to: its bytes are in the archive anyway."""
    skill = plain_skill(hostile.work / "my-skill", "Copy [the example](.env.example).")
    (skill / ".env.example").write_text("KEY=\n")
    (skill / "example.env").symlink_to(".env.example")
    out = hostile.work / "dist"

    hostile.ok(hostile.run("pack", skill, "-o", out))

    assert members(out)["skill/example.env"] == b"KEY=\n"


def test_links_within_the_repository_never_lead_to_its_hidden_files(hostile) -> None:
    repo = hostile.work / "repo"
    skill = plain_skill(repo / "skills" / "s3")
    (repo / ".env").write_text("AWS_SECRET_ACCESS_KEY=USER-AWS\n")
    (skill / "shared.md").symlink_to("../../.env")
    out = hostile.work / "dist"

    hostile.refused(hostile.run("pack", skill, "--links-within", repo, "-o", out), "shared.md", ".env")
    assert not out.exists()
    # A hidden folder the skill itself lies in is the repository's layout, not a secret.
    agent_skill = plain_skill(repo / ".claude" / "skills" / "s4")
    (repo / ".claude" / "shared.md").write_text("shared\n")
    (agent_skill / "shared.md").symlink_to("../../shared.md")
    hostile.ok(hostile.run("pack", agent_skill, "--links-within", repo, "-o", out))
    assert members(out)["skill/shared.md"] == b"shared\n"


def test_a_skill_folder_that_is_a_link_is_refused_by_every_command(hostile) -> None:
    """``skills/notes -> ~/.claude/skills/private-notes``: named directly (or by the shell's ``skills/*``), it is
    refused; init writes nothing into the user's own folder, and pack, publish and install take nothing from it."""
    private = hostile.home / ".claude" / "skills" / "private-notes"
    plain_skill(private, "ssh prod, password hunter2")
    (private / "SKILL.md").write_text("---\nname: private-notes\ndescription: My notes: servers, tokens\n---\n\nhunter2\n")
    repo = hostile.work / "repo"
    plain_skill(repo / "skills" / "good")
    notes = repo / "skills" / "notes"
    notes.symlink_to(private, target_is_directory=True)
    before = hostile.state()
    registry = hostile.work / "registry"
    hostile.ok(hostile.run("registry", "init", registry))

    validated = hostile.run("validate", *sorted((repo / "skills").iterdir()))
    assert validated.returncode == 1 and "repo/skills/good: valid" in validated.stdout
    assert f"is a link to {private}" in validated.stdout
    for args in (["init", "--from", notes], ["init", notes], ["pack", notes, "-o", hostile.work / "dist"],
                 ["publish", notes, "--registry", registry], ["install", notes]):
        hostile.refused(hostile.run(*args), f"{notes} is a link to {private}")
    assert hostile.changed_outside(before, registry, hostile.cache, hostile.project) == []
    assert sorted(path.name for path in private.iterdir()) == ["SKILL.md"]
    assert not list(registry.rglob("*.tar.gz"))
    assert "is a link" not in hostile.run("validate", private).stdout  # named as itself, it is the user's to check


def test_links_into_nested_folders_walk_each_folder_once(hostile) -> None:
    """A link into each of L nested folders listed each level once per link above it (K*L*L/2 files: 300 links,
    454,501 files, 195 s, 663 MiB); each folder is now entered once through links, the other links reported."""
    skill = plain_skill(hostile.work / "blow")
    levels, per_level = 20, 3
    here = Path("c")
    for level in range(levels):
        (skill / here).mkdir()
        for number in range(per_level):
            (skill / here / f"f{number}").write_text("x")
        (skill / f"l{level:02}").symlink_to(here)
        here = here / "d"
    out = hostile.work / "dist"

    packed = hostile.ok(hostile.run("pack", skill, "-o", out, "--json"))

    [built] = json.loads(packed.stdout)
    assert len(built["files"]) == 1 + 2 * levels * per_level  # SKILL.md, c/..., and l00/... once
    assert packed.stderr.count("leads to a folder whose files the tree already holds") == levels - 1


def _stat_calls(hostile, *args: str | Path) -> tuple[int, subprocess.CompletedProcess[str]]:
    """The stat and readlink system calls ``skillpm ARGS`` makes (counted by strace), and what it printed."""
    counts = hostile.work / "strace-counts"
    calls = "stat,lstat,newfstatat,statx,readlink,readlinkat"
    completed = subprocess.run(["strace", "-f", "-c", "-o", counts, "-e", f"trace={calls}", sys.executable,
                                "-m", "skillpm", *map(str, args)], env=hostile.env(), capture_output=True,
                               text=True, timeout=TIMEOUT * 4, preexec_fn=limit_memory)
    total = next(line for line in counts.read_text().splitlines() if line.rstrip().endswith(" total"))
    return int(total.split()[3]), completed


def _links_into_a_chain(folder: Path, levels: int) -> Path:
    """A skill whose folder chain ``c/d/d/...`` is ``levels`` deep, a file in each, with a link to each of its
    folders (``l007 -> c/d/d/d/d/d/d/d``) and to each of its files (``m007 -> .../f.md``); and a link into
    ``.git`` and one out of the skill, which must stay errors."""
    skill = plain_skill(folder)
    here = "c"
    for level in range(levels):
        (skill / here).mkdir()
        (skill / here / "f.md").write_text("x")
        (skill / f"l{level:03}").symlink_to(here)
        (skill / f"m{level:03}").symlink_to(here + "/f.md")
        here += "/d"
    (skill / "c" / ".git").mkdir()
    (skill / "c" / ".git" / "config").write_text("[core]\n")
    (skill / "vcs.md").symlink_to("c/d/../.git/config")
    (folder.parent / "outside.md").write_text("mine")
    (skill / "out.md").symlink_to("c/d/d/../../../../outside.md")
    return skill


#: Levels of the chain -> the links to folders dropped as duplicates, and the folders and files too deep: what
#: validate found before links were resolved with memory (every 32nd link enters folders not yet walked).
FOUND = {150: (145, 10), 300: (290, 20)}


@pytest.mark.skipif(_strace_problem() is not None, reason=str(_strace_problem()))
def test_links_into_a_deep_chain_cost_a_few_system_calls_each(hostile) -> None:
    """A link to each level of a folder chain: each link was resolved from scratch, looking at every folder on
    its way (``validate`` of 600 such links took 5 s and 190,000 stat calls, growing with the square of the
    links); each folder on a link's way is now looked at once, so each more link costs a few calls. The
    findings are those it gave before: the links into .git and out of the skill are errors."""
    counted = {}
    for levels in (150, 300):
        skill = _links_into_a_chain(hostile.work / f"chain{levels}" / "deep", levels)
        counted[levels], validated = _stat_calls(hostile, "validate", skill, "--json")
        assert validated.returncode == 1, validated.stderr
        [report] = json.loads(validated.stdout)["results"]
        rules = Counter((finding["file"], finding["rule"]) for finding in report["findings"])
        assert rules[("vcs.md", "tree.link-escape")] == rules[("out.md", "tree.link-escape")] == 1, rules
        duplicates, too_deep = FOUND[levels]
        assert Counter(rule for _, rule in rules.elements()) == {
            "tree.link-escape": 2, "tree.left-out": 2, "tree.link-duplicate": duplicates, "tree.path-length": too_deep}
    per_link = (counted[300] - counted[150]) / (2 * 150)
    print(f"stat and readlink calls: {counted}; {per_link:.1f} for each more link")
    assert per_link < 20, counted


def test_a_folder_nested_deeper_than_an_archive_allows_is_not_walked(hostile) -> None:
    """Every file below 32 levels was listed (and each of its path's names checked) only to be refused one by one:
    the walk no longer enters a folder whose files would all be too deep, and says so once."""
    skill = plain_skill(hostile.work / "deep")
    here = skill
    for _ in range(40):
        here = here / "d"
        here.mkdir()
        (here / "f.md").write_text("x")

    validated = hostile.run("validate", skill, "--json")

    [report] = json.loads(validated.stdout)["results"]
    deep = [(f["file"], f["rule"]) for f in report["findings"] if f["file"].count("/") >= 32]
    assert deep == [("/".join(["d"] * 33), "tree.path-length"), ("d/" * 32 + "f.md", "tree.path-length")]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_pack_warns_of_each_file_git_ignores(hostile) -> None:
    """The cloned skill's .gitignore lists config.local.json and SKILL.md tells the user to put a key there: the file
    is still packed (skillpm reads no .gitignore to choose files), but validate and pack say so, and pack --json and
    pack -v list every file an archive holds."""
    repo = hostile.work / "repo"
    skill = plain_skill(repo / "s", "Put your API key in config.local.json (never committed).")
    (skill / ".gitignore").write_text("config.local.json\n")
    git = ["git", "-c", "user.email=a@b", "-c", "user.name=a"]
    subprocess.run([*git, "init", "-q", "."], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=repo, check=True)
    (skill / "config.local.json").write_text('{"api_key": "sk-USER-SECRET"}\n')

    validated = hostile.ok(hostile.run("validate", skill))
    assert "config.local.json: warning [tree.git-ignored]" in validated.stdout
    packed = hostile.ok(hostile.run("pack", skill, "-o", hostile.work / "dist", "--json"))
    assert "'config.local.json' is ignored by git" in packed.stderr
    assert json.loads(packed.stdout)[0]["files"] == ["SKILL.md", "config.local.json"]
    listed = hostile.ok(hostile.run("pack", skill, "-o", hostile.work / "dist2", "-v"))
    assert "  config.local.json" in listed.stdout.splitlines()
