"""Tests for skillpm.lockfile: reading, writing and editing skills.lock."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import VERSION_PATTERN

from skillpm.errors import LockfileError
from skillpm.lockfile import (
    MAX_VERSION_LENGTH,
    Lockfile,
    LockedSkill,
    LockedSource,
    _is_pep440,
    entry_problem,
    read_lockfile,
    write_lockfile,
)
from skillpm.spelling import is_plain_version
from test_spelling import PLAIN_VERSION  # the pattern the fast path was written from

ALPHA = LockedSkill(
    name="alpha",
    version="1.0.0",
    target="sm_90a",
    sha256="a" * 64,
    registry="file:///srv/registry",
    path="artifacts/alpha/1.0.0/alpha-1.0.0-sm_90a.tar.gz",
    directory=".claude/skills/alpha",
    capability="9.0",
    requirement="alpha>=1",
)
BETA = ALPHA._replace(name="beta", sha256="b" * 64, directory=".agents/skills/beta", requirement="beta")


def test_absent_lockfile_is_empty(tmp_path: Path) -> None:
    lockfile = read_lockfile(tmp_path / "skills.lock")
    assert lockfile.skills == ()
    assert lockfile.root == tmp_path


def test_round_trip_sorted_with_header(tmp_path: Path) -> None:
    path = tmp_path / "skills.lock"
    write_lockfile(Lockfile(path).with_skill(BETA).with_skill(ALPHA))

    text = path.read_text()
    assert text.startswith("# Written by skillpm; do not edit by hand.")
    assert tomllib.loads(text)["version"] == 1
    assert read_lockfile(path).skills == (ALPHA, BETA)
    assert [p.name for p in tmp_path.iterdir()] == ["skills.lock"]  # no temporary files left


def test_agents_and_links_round_trip_and_are_left_out_when_empty(tmp_path: Path) -> None:
    """An entry without agents or links reads and writes as before they existed."""
    path = tmp_path / "skills.lock"
    linked = BETA._replace(agents=("claude-code", "codex"), links=(".claude/skills/beta",))
    write_lockfile(Lockfile(path, (ALPHA, linked)))
    tables = tomllib.loads(path.read_text())["skill"]
    assert [sorted(table.keys() & {"agents", "links"}) for table in tables] == [[], ["agents", "links"]]
    assert (tables[1]["agents"], tables[1]["links"]) == (["claude-code", "codex"], [".claude/skills/beta"])
    assert read_lockfile(path).skills == (ALPHA, linked)


def test_writing_the_same_lockfile_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    path = tmp_path / "skills.lock"
    write_lockfile(Lockfile(path, (ALPHA, BETA)))
    first = path.read_bytes()
    write_lockfile(read_lockfile(path))
    assert path.read_bytes() == first


def test_building_a_lockfile_folds_each_folder_once_not_once_per_comparison(tmp_path: Path, monkeypatch) -> None:
    """A hostile review: sync of a lockfile whose entries sit under long non-ASCII folder names (every
    lockfile rule allows them) folded every other entry's folder for each entry it placed, twice an entry:
    1,000 entries took 166 s of CPU. Folding (NFD and casefold of a ~3.8 KB path) is now done once a folder."""
    import unicodedata

    calls = []
    normalize = unicodedata.normalize
    monkeypatch.setattr(unicodedata, "normalize", lambda form, text: calls.append(text) or normalize(form, text))
    deep = "/".join([tmp_path.name, *["\u00e9" * 60] * 4])  # folders no earlier test folded
    lockfile = Lockfile(tmp_path / "skills.lock")
    for index in range(200):
        lockfile = lockfile.with_skill(ALPHA._replace(name=f"s{index}", requirement=f"s{index}", directory=f"{deep}/s{index}"))
    for index in range(200):  # sync places each again (install, then its links)
        lockfile = lockfile.with_skill(ALPHA._replace(name=f"s{index}", requirement=f"s{index}", directory=f"{deep}/s{index}",
                                                   version="2.0"))
    assert len(lockfile.skills) == 200 and {s.version for s in lockfile.skills} == {"2.0"}
    assert len(calls) <= 2 * 200  # two normalisations a folder; quadratic, it was ~60,000


def test_with_skill_replaces_the_entry_of_the_same_directory(tmp_path: Path) -> None:
    newer = ALPHA._replace(version="2.0.0", sha256="c" * 64)
    lockfile = Lockfile(tmp_path / "skills.lock").with_skill(ALPHA).with_skill(BETA).with_skill(newer)
    assert lockfile.skills == (newer, BETA)
    elsewhere = ALPHA._replace(directory="/opt/skills/alpha")
    assert lockfile.with_skill(elsewhere).named("alpha") == [newer, elsewhere]


def test_without_and_directory(tmp_path: Path) -> None:
    lockfile = Lockfile(tmp_path / "skills.lock", (ALPHA, BETA))
    assert lockfile.without([ALPHA]).skills == (BETA,)
    assert lockfile.directory(ALPHA) == tmp_path / ".claude" / "skills" / "alpha"
    assert lockfile.directory(ALPHA._replace(directory="/opt/skills/alpha")) == Path("/opt/skills/alpha")


def entry_toml(**fields: str) -> str:
    """ALPHA's table with ``fields`` changed (its source and empty lists left out), every value a TOML string."""
    table = {**{key: value for key, value in ALPHA._asdict().items() if key != "source" and value != ()}, **fields}
    return "[[skill]]\n" + "".join(f'{key} = "{value}"\n' for key, value in table.items())


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("version = [", "not a readable lockfile"),
        ("version = 2\n", "lockfile version 2"),
        ("", "lockfile version None"),
        ("version = 1\n" + entry_toml(sha256="short"), "sha256 that is not 64"),
        ("version = 1\n" + entry_toml(sha256="A" * 64), "sha256 that is not 64"),
        ("version = 1\n" + entry_toml(sha256="a" * 65), "sha256 that is not 64"),  # a full match, not a prefix
        ("version = 1\n" + entry_toml(sha256="a" * 64 + "-evil"), "sha256 that is not 64"),
        ("version = 1\n" + entry_toml(extra="x"), "must have the fields"),
        ("version = 1\n[[skill]]\nname = 'alpha'\n", "must have the fields"),
        ("version = 1\n" + entry_toml().replace('version = "1.0.0"', "version = 1"), "not text"),
        ("version = 1\n" + entry_toml(directory="../../.ssh"), "not a folder named 'alpha'"),
        ("version = 1\n" + entry_toml(directory="/home/user"), "not a folder named 'alpha'"),
        ("version = 1\n" + entry_toml(directory="skills/../../alpha"), "not a folder named 'alpha'"),
        ("version = 1\n" + entry_toml(agents="claude-code"), "agents that is not a list"),
        ("version = 1\n" + entry_toml() + "links = ['.claude/skills/../../.ssh/alpha']\n", "not a folder named"),
        ("version = 1\n" + entry_toml() + "links = ['.git/hooks/alpha']\n", "not a folder named"),
        ("version = 1\n" + entry_toml() + "agents = ['Claude Code']\n", "agent name"),
        ("version = 1\n" + entry_toml() + "agents = [1]\n", "not text"),
        ("version = 1\nskill = 5\n", "'skill' is not an array of tables"),  # a traceback before (hostile review)
        ("version = 1\nskill = 'alpha'\n", "'skill' is not an array of tables"),
        # One folder spelt two ways (a hostile review: sync wrote two variants into it, and never settled).
        ("version = 1\n" + entry_toml(directory=".agents/./skills/alpha"), "not written plainly"),
        ("version = 1\n" + entry_toml(directory=".agents//skills/alpha"), "not written plainly"),
        ("version = 1\n" + entry_toml(directory=".agents./skills/alpha"), "not written plainly"),  # Windows drops '.'
        ("version = 1\n" + entry_toml() + "links = ['.claude/skills/alpha/']\n", "not written plainly"),
        ("version = 1\n" + entry_toml() + entry_toml(directory=".Claude/skills/alpha", target="sm_90"),
         "two entries install into one folder"),
        ("version = 1\n" + entry_toml() + entry_toml(directory=".agents/skills/alpha", target="sm_90")
         + "links = ['.claude/skills/alpha']\n", "two entries install into one folder"),
    ],
)
def test_bad_lockfiles_are_refused(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "skills.lock"
    path.write_text(text)
    with pytest.raises(LockfileError, match=match):
        read_lockfile(path)


def test_two_entries_for_one_folder_reached_otherwise_are_refused(tmp_path: Path) -> None:
    """Its absolute spelling, or a path through a link the project holds, is the same folder (a second-pass
    hostile review: the check compared the entries' text)."""
    path = tmp_path / "skills.lock"
    absolute = entry_toml(directory=f"{tmp_path}/.claude/skills/alpha", target="sm_90")
    (tmp_path / "alias").symlink_to(tmp_path / ".claude" / "skills", target_is_directory=True)
    for second in (absolute, entry_toml(directory="alias/alpha", target="sm_90")):
        path.write_text("version = 1\n" + entry_toml() + second)
        with pytest.raises(LockfileError, match="two entries install into one folder"):
            read_lockfile(path)


def test_an_entry_for_the_same_folder_in_another_case_is_replaced(tmp_path: Path) -> None:
    """One folder on macOS and Windows: installing there replaces the entry, so the lockfile stays readable."""
    lockfile = Lockfile(tmp_path / "skills.lock", (ALPHA._replace(directory=".Claude/skills/alpha"),))
    assert lockfile.with_skill(ALPHA).skills == (ALPHA,)


def test_absolute_and_nested_directories_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "skills.lock"
    path.write_text("version = 1\n" + entry_toml(directory="/opt/agent skills/alpha"))
    assert read_lockfile(path).skills[0].directory == "/opt/agent skills/alpha"


def test_undecodable_lockfile_has_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "skills.lock"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(LockfileError) as caught:
        read_lockfile(path)
    assert "restore it" in caught.value.hint


def test_a_lockfile_that_is_a_directory_is_named_in_the_error(tmp_path: Path) -> None:
    """Not "[Errno 21] Is a directory: 3" (the descriptor), but the path and what is wrong."""
    (tmp_path / "skills.lock").mkdir()
    with pytest.raises(LockfileError) as caught:
        read_lockfile(tmp_path / "skills.lock")
    assert str(caught.value) == f"{tmp_path / 'skills.lock'} is not a readable lockfile: not a regular file"


@pytest.mark.parametrize(
    ("field", "value", "phrase"),
    [
        ("name", "Alpha", "invalid package name"),
        ("name", "a" * 65, "invalid package name"),
        ("version", "1.0.0\n", "version that is empty"),
        ("version", "1.0.0 ", "not a PEP 440 version"),
        ("version", "v1..0", "not a PEP 440 version"),
        ("version", "1" * 300, "not a PEP 440 version"),
        ("target", "sm_90b", "unknown GPU target"),
        ("target", "Generic", "unknown GPU target"),
        ("capability", "90", "neither 'none'"),
        ("capability", "", "capability that is empty"),
        ("sha256", "a" * 63, "64 lowercase hex"),
        ("sha256", "a" * 65, "64 lowercase hex"),
        ("path", "/srv/x.tar.gz", "not relative"),
        ("path", "a\\..\\b", "not relative"),
        ("registry", "embedded\t", "registry that is empty"),
        ("requirement", "beta>=1", "another package"),
        ("directory", ".claude/.hg/alpha", "version-control"),
        ("directory", ".claude/GIT~1/alpha", "version-control"),
        ("directory", ".claude/skills/beta", "not a folder named 'alpha'"),
    ],
)
def test_entry_problem_for_each_field(field: str, value: str, phrase: str) -> None:
    assert phrase in entry_problem({**ALPHA._asdict(), field: value})


def test_entry_problem_accepts_what_skillpm_writes() -> None:
    assert entry_problem(ALPHA._asdict()) is None
    assert entry_problem({**ALPHA._asdict(), "version": "1.0.0rc1", "capability": "none", "target": "generic"}) is None
    assert entry_problem({**ALPHA._asdict(), "version": "1.0.0-RC1"}) is None  # PEP 440, as a registry may spell it


def test_the_writer_cannot_build_an_entry_the_reader_would_refuse() -> None:
    with pytest.raises(LockfileError, match="refusing to record 'alpha'"):
        ALPHA._replace(version="1.0.0\n")


COMMIT = "c" * 40
GIT_LABEL = f"git+https://example.com/org/repo@{COMMIT}#subdirectory=skills/alpha"
GIT_SOURCE = LockedSource("git", "git+https://example.com/org/repo@v1#subdirectory=skills/alpha", COMMIT, "d" * 64)
FROM_GIT = ALPHA._replace(registry=GIT_LABEL, source=GIT_SOURCE)


def test_a_source_entry_round_trips_with_its_source_table(tmp_path: Path) -> None:
    path = tmp_path / "skills.lock"
    folder = FROM_GIT._replace(name="beta", directory=".claude/skills/beta", requirement="beta",
                     registry="dir+file:///srv/beta", source=LockedSource("dir", "dir+file:///srv/beta", None, "e" * 64))
    write_lockfile(Lockfile(path, (FROM_GIT, folder)))
    tables = tomllib.loads(path.read_text())["skill"]
    assert tables[0]["source"] == {"kind": "git", "url": GIT_SOURCE.url, "resolved": COMMIT, "tree": "d" * 64}
    assert "resolved" not in tables[1]["source"]
    assert read_lockfile(path).skills == (FROM_GIT, folder)


@pytest.mark.parametrize(
    ("source", "registry", "match"),
    [
        ({"kind": "git", "url": GIT_SOURCE.url, "resolved": COMMIT}, GIT_LABEL, "not a table of"),
        ({**GIT_SOURCE._asdict(), "extra": "x"}, GIT_LABEL, "not a table of"),
        ({**GIT_SOURCE._asdict(), "tree": "short"}, GIT_LABEL, "tree digest"),
        ({**GIT_SOURCE._asdict(), "kind": "archive"}, GIT_LABEL, "not pinned to it"),
        ({**GIT_SOURCE._asdict(), "resolved": "f" * 40}, GIT_LABEL, "not pinned to it"),
        (GIT_SOURCE._asdict(), "git+https://example.com/org/repo@v1#subdirectory=skills/alpha", "not pinned to it"),
        (GIT_SOURCE._asdict(), "https://example.com/registry", "not pinned to it"),
        ({**GIT_SOURCE._asdict(), "url": "git+https://evil.example/org/repo@v1"}, GIT_LABEL, "not its registry label"),
        ({**GIT_SOURCE._asdict(), "url": "git+ext::sh -c evil"}, GIT_LABEL, "cannot be read"),
        (GIT_SOURCE._asdict(), "git+https://example.com/org/repo@--upload-pack=x", "cannot be read"),
    ],
)
def test_a_source_table_that_disagrees_with_its_label_is_refused(source: dict, registry: str, match: str) -> None:
    fields = {**{k: v for k, v in ALPHA._asdict().items() if k != "source"}, "registry": registry, "source": source}
    problem = entry_problem(fields)
    assert problem is not None and match in problem, problem


@given(st.text(st.sampled_from("0123456789.abcdeprvlostv+-_!* \n\tRCV١"), max_size=24))
def test_a_locked_version_is_one_pep_440_s_grammar_matches_whole(version: str) -> None:
    """skills.lock's version check is packaging's grammar (VERSION_PATTERN) matching the whole text."""
    grammar = re.compile(VERSION_PATTERN, re.VERBOSE | re.IGNORECASE)
    refused = entry_problem({**ALPHA._asdict(), "version": version})
    whole = version != "" and grammar.fullmatch(version) is not None
    assert (refused is None or "version" not in refused) == whole, (version, refused)


@given(st.from_regex(PLAIN_VERSION, fullmatch=True).filter(lambda text: len(text) <= MAX_VERSION_LENGTH))
def test_every_plain_version_is_one_packaging_reads(text: str) -> None:
    """The fast path of the lockfile's version check (no packaging import) accepts only PEP 440 versions."""
    from packaging.version import Version

    assert is_plain_version(text)
    Version(text)  # raises for anything that is not one


@pytest.mark.parametrize("text", ["1!2.0", "1.0+local.1", "v1.0", "1.0.0-beta", "1.0alpha1"])
def test_versions_in_other_forms_are_still_read_as_packaging_reads_them(text: str) -> None:
    assert not is_plain_version(text) and _is_pep440(text)
