"""skillpm.validation.pluginmanifest: the folders Claude Code plugin manifests declare skills in.

The rules are the skills CLI's (vercel-labs/skills, src/plugin-manifest.ts, commit 82dd76b), which reads
``.claude-plugin/marketplace.json`` (https://code.claude.com/docs/en/plugins/marketplace-reference)
and ``.claude-plugin/plugin.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from skillpm.reading import MAX_PLUGIN_MANIFEST_SIZE
from skillpm.validation.pluginmanifest import read_skill_places, skill_places


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


def _manifests(root: Path, marketplace: str | None = None, plugin: str | None = None) -> Path:
    (root / ".claude-plugin").mkdir(parents=True)
    for name, text in (("marketplace.json", marketplace), ("plugin.json", plugin)):
        if text is not None:
            (root / ".claude-plugin" / name).write_text(text)
    return root


def test_read_skill_places_reads_both_manifests(tmp_path: Path) -> None:
    root = _manifests(tmp_path, json.dumps({"plugins": [{"source": "./a"}]}), json.dumps({"skills": ["./b/c"]}))
    assert read_skill_places(root) == ["a/skills", "b", "skills"]


@pytest.mark.parametrize(
    "text",
    ['{"plugins": [{"source": "./a"}', '{"plugins": [{"source": "./a", "x": NaN}]}', "\xff", ""],
)
def test_a_manifest_that_is_not_json_declares_nothing(tmp_path: Path, text: str) -> None:
    assert read_skill_places(_manifests(tmp_path, text)) == []


def test_a_manifest_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    padded = json.dumps({"plugins": [{"source": "./a"}], "pad": "x" * MAX_PLUGIN_MANIFEST_SIZE})
    assert read_skill_places(_manifests(tmp_path, padded)) == []
    assert read_skill_places(_manifests(tmp_path / "small", json.dumps({"plugins": [{"source": "./a"}]}))) == [
        "a/skills"
    ]


def test_manifests_reached_through_links_are_not_read(tmp_path: Path) -> None:
    """A cloned repository's manifest linked to a file elsewhere, or its .claude-plugin linked to a folder
    elsewhere (the user's own marketplace), declares nothing; nor does a fifo (which would block a reader)."""
    elsewhere = _manifests(tmp_path / "elsewhere", json.dumps({"plugins": [{"source": "./a"}]}))
    linked_file = tmp_path / "linked-file"
    (linked_file / ".claude-plugin").mkdir(parents=True)
    (linked_file / ".claude-plugin" / "marketplace.json").symlink_to(elsewhere / ".claude-plugin" / "marketplace.json")
    linked_folder = tmp_path / "linked-folder"
    linked_folder.mkdir()
    (linked_folder / ".claude-plugin").symlink_to(elsewhere / ".claude-plugin", target_is_directory=True)
    fifo = tmp_path / "fifo"
    (fifo / ".claude-plugin").mkdir(parents=True)
    os.mkfifo(fifo / ".claude-plugin" / "marketplace.json")
    assert read_skill_places(elsewhere) == ["a/skills"]
    assert [read_skill_places(root) for root in (linked_file, linked_folder, fifo)] == [[], [], []]
