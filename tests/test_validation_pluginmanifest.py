"""The folders plugin manifests declare skills in (skillpm.validation.pluginmanifest), and discovery reading them.

Claude Code's rules are the skills CLI's (vercel-labs/skills, src/plugin-manifest.ts, commit 82dd76b), which
reads ``.claude-plugin/marketplace.json`` (https://code.claude.com/docs/en/plugins/marketplace-reference) and
``.claude-plugin/plugin.json``; Codex's are its plugin docs' (https://developers.openai.com/codex/plugins/build):
``.agents/plugins/marketplace.json`` and each plugin's ``.codex-plugin/plugin.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from skillpm.reading import MAX_PLUGIN_MANIFEST_SIZE
from skillpm.validation.discover import discover
from skillpm.validation.pluginmanifest import codex_plugins, codex_skill_places, skill_places


@pytest.mark.parametrize(
    ("marketplace", "plugin", "places"),
    [
        (None, None, []),
        ({"plugins": [{"name": "a", "source": "./plugins/a"}]}, None, ["plugins/a/skills"]),
        ({"plugins": [{"name": "root"}]}, None, ["skills"]),  # no source: the marketplace's own folder
        # under pluginRoot, as the skills CLI looks, and from the marketplace's folder, as Claude Code does
        ({"metadata": {"pluginRoot": "./plugins"}, "plugins": [{"source": "./a"}]}, None,
         ["plugins/a/skills", "a/skills"]),
        ({"metadata": {"pluginRoot": "./plugins"}, "plugins": [{"source": "./plugins/a"}]}, None,
         ["plugins/plugins/a/skills", "plugins/a/skills"]),
        ({"metadata": {"pluginRoot": "./plugins"}, "plugins": [{}]}, None, ["plugins/skills"]),
        # a pluginRoot that does not start './' makes the skills CLI skip every plugin of the marketplace
        ({"metadata": {"pluginRoot": "plugins"}, "plugins": [{"source": "./a"}, {}]}, None, ["a/skills"]),
        ({"metadata": {"pluginRoot": None}, "plugins": [{"source": "./a"}]}, None, ["a/skills"]),
        ({"plugins": [{"source": "plugins/a"}, {"source": {"source": "github", "repo": "o/r"}}, {"source": 3}]},
         None, []),
        ({"plugins": [{"source": "./a", "skills": ["./s/one", "./s/two", "./t", "s/bare", 7]}]}, None,
         ["a/s", "a", "a/skills"]),
        (None, {"skills": ["./extra/x"]}, ["extra", "skills"]),
        (None, {"skills": "./extra/x"}, ["extra", "skills"]),  # Claude Code allows one path as a string
        (None, {"name": "p"}, ["skills"]),
        # out of the repository, or into a version-control folder: skipped
        ({"plugins": [{"source": "./../x"}, {"source": "./a/../../x"}, {"source": "./.git/x"}]}, None, []),
        (None, {"skills": ["./../../etc/x", "./.GIT/hooks/x", "./a/.hg/x"]}, ["skills"]),
        ({"plugins": [{"source": "./a"}, {"source": "./a/"}, {"source": "./b/../a"}]}, {}, ["a/skills", "skills"]),
        # not the shapes the format has: nothing
        ([], "x", []),
        ({"plugins": {"a": {"source": "./a"}}}, None, []),
        ({"plugins": ["./a", None]}, None, []),
    ],
)
def test_skill_places(marketplace: object, plugin: object, places: list[str]) -> None:
    assert skill_places(marketplace, plugin) == places


@pytest.mark.parametrize(
    ("marketplace", "plugins"),
    [
        (None, []),
        ({"plugins": [{"name": "a", "source": {"source": "local", "path": "./plugins/a"}}]}, ["plugins/a"]),
        ({"plugins": [{"source": {"source": "local", "path": "./"}}, {"source": {"source": "local", "path": "./b/"}}]},
         [".", "b"]),
        # from elsewhere, not './', out of the repository, into .git, or not the documented shape: none
        ({"plugins": [{"source": {"source": "git-subdir", "url": "https://x", "path": "./a"}},
                      {"source": {"source": "local", "path": "a"}}, {"source": {"source": "local", "path": "./../a"}},
                      {"source": {"source": "local", "path": "./.git/a"}}, {"source": "./a"}, {"source": None}, "x"]},
         []),
        ({"plugins": [{"source": {"source": "local", "path": "./a"}}] * 3}, ["a"]),
    ],
)
def test_codex_plugins(marketplace: object, plugins: list[str]) -> None:
    assert codex_plugins(marketplace) == plugins


@pytest.mark.parametrize(
    ("base", "plugin", "places"),
    [
        ("plugins/a", None, ["plugins/a/skills"]),
        ("plugins/a", {"skills": "./skills/"}, ["plugins/a/skills"]),
        ("plugins/a", {"skills": "./own/"}, ["plugins/a/own", "plugins/a/skills"]),  # the folder itself, not its parent
        ("", {"skills": ["./one", "./two"]}, ["one", "two", "skills"]),
        ("plugins/a", {"skills": "./../../../etc"}, ["plugins/a/skills"]),
        ("plugins/a", {"skills": "own"}, ["plugins/a/skills"]),
        ("plugins/a", ["./own"], ["plugins/a/skills"]),
    ],
)
def test_codex_skill_places(base: str, plugin: object, places: list[str]) -> None:
    assert codex_skill_places(base, plugin) == places


def _skill(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(f"---\nname: {folder.name}\ndescription: Does one thing.\n---\nBody.\n")
    return folder


def _marketplace(root: Path, text: str, relative: str = ".claude-plugin/marketplace.json") -> Path:
    """``root`` holding a usual place with one skill (so that only manifests lead deeper) and a manifest."""
    _skill(root / "skills" / "usual")
    (root / relative).parent.mkdir(parents=True, exist_ok=True)
    (root / relative).write_text(text)
    _skill(root / "plugins" / "a" / "skills" / "plugged")
    return root


def _found(root: Path) -> list[str]:
    return [path.relative_to(root).as_posix() for path in discover(root)]


CLAUDE = json.dumps({"plugins": [{"source": "./plugins/a"}]})
CODEX = json.dumps({"plugins": [{"source": {"source": "local", "path": "./plugins/a"}}]})


@pytest.mark.parametrize(("relative", "text"), [(".claude-plugin/marketplace.json", CLAUDE),
                                                (".agents/plugins/marketplace.json", CODEX)])
def test_discovery_reads_both_marketplaces(tmp_path: Path, relative: str, text: str) -> None:
    assert _found(_marketplace(tmp_path, text, relative)) == ["skills/usual", "plugins/a/skills/plugged"]


def test_discovery_reads_a_codex_plugin_s_own_manifest(tmp_path: Path) -> None:
    root = _marketplace(tmp_path, CODEX, ".agents/plugins/marketplace.json")
    _skill(root / "plugins" / "a" / "own" / "named")
    (root / "plugins" / "a" / ".codex-plugin").mkdir()
    (root / "plugins" / "a" / ".codex-plugin" / "plugin.json").write_text(json.dumps({"skills": "./own/"}))
    assert _found(root) == ["skills/usual", "plugins/a/own/named", "plugins/a/skills/plugged"]


@pytest.mark.parametrize(
    "text",
    ['{"plugins": [{"source": "./plugins/a"}', '{"plugins": [{"source": "./plugins/a", "x": NaN}]}', "\xff", ""],
)
def test_a_manifest_that_is_not_json_declares_nothing(tmp_path: Path, text: str) -> None:
    assert _found(_marketplace(tmp_path, text)) == ["skills/usual"]


def test_a_manifest_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    padded = json.dumps({"plugins": [{"source": "./plugins/a"}], "pad": "x" * MAX_PLUGIN_MANIFEST_SIZE})
    assert _found(_marketplace(tmp_path / "big", padded)) == ["skills/usual"]
    assert _found(_marketplace(tmp_path / "small", CLAUDE)) == ["skills/usual", "plugins/a/skills/plugged"]


def test_manifests_reached_through_links_are_not_read(tmp_path: Path) -> None:
    """A cloned repository's manifest linked to a file elsewhere, a manifest folder (``.claude-plugin``,
    ``.agents``) linked to a folder elsewhere, or a manifest that is a fifo (which would block a reader)
    declares nothing; nor does a Codex plugin folder reached through a link."""
    elsewhere = tmp_path / "elsewhere"
    for relative, text in ((".claude-plugin/marketplace.json", CLAUDE), (".agents/plugins/marketplace.json", CODEX)):
        (elsewhere / relative).parent.mkdir(parents=True)
        (elsewhere / relative).write_text(text)
    cases = []
    linked_file = _marketplace(tmp_path / "linked-file", "{}")
    (linked_file / ".claude-plugin" / "marketplace.json").unlink()
    (linked_file / ".claude-plugin" / "marketplace.json").symlink_to(elsewhere / ".claude-plugin" / "marketplace.json")
    cases.append(linked_file)
    for folder in (".claude-plugin", ".agents"):
        root = _marketplace(tmp_path / f"linked{folder}", "{}", "unused.json")
        (root / folder).symlink_to(elsewhere / folder, target_is_directory=True)
        cases.append(root)
    fifo = _marketplace(tmp_path / "fifo", "{}", "unused.json")
    (fifo / ".claude-plugin").mkdir()
    os.mkfifo(fifo / ".claude-plugin" / "marketplace.json")
    cases.append(fifo)
    linked_plugin = _marketplace(tmp_path / "linked-plugin", CODEX, ".agents/plugins/marketplace.json")
    _skill(tmp_path / "outside" / "skills" / "escaped")
    (linked_plugin / "plugins" / "b").symlink_to(tmp_path / "outside", target_is_directory=True)
    (linked_plugin / ".agents" / "plugins" / "marketplace.json").write_text(
        json.dumps({"plugins": [{"source": {"source": "local", "path": "./plugins/b"}}]})
    )
    cases.append(linked_plugin)
    assert [_found(root) for root in cases] == [["skills/usual"]] * len(cases)


def test_a_name_too_long_for_the_file_system_is_no_folder(tmp_path: Path) -> None:
    """A manifest's path with a 300-character name (ENAMETOOLONG) skips that plugin, not the whole discovery
    (found in a hostile review: 'File name too long' ended validate and install of every skill of the source)."""
    text = json.dumps({"plugins": [{"source": "./" + "x" * 300}, {"source": "./plugins/a"}]})
    assert _found(_marketplace(tmp_path, text)) == ["skills/usual", "plugins/a/skills/plugged"]


def test_a_folder_of_more_skills_than_the_most_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skillpm.errors import SourceError
    from skillpm.validation import discover as discovery

    monkeypatch.setattr(discovery, "MAX_SKILLS", 3)
    for name in ("a", "b", "c"):
        _skill(tmp_path / "usual" / "skills" / name)
        _skill(tmp_path / "deep" / "x" / name)
    assert len(discover(tmp_path / "usual")) == 3
    _skill(tmp_path / "usual" / "skills" / "d")
    _skill(tmp_path / "deep" / "y" / "d")
    for root in (tmp_path / "usual", tmp_path / "deep"):  # the usual places, then the deeper search
        with pytest.raises(SourceError, match="holds more than 3 skills"):
            discover(root)
