"""The folders plugin manifests declare skills in: Claude Code's as the ``skills`` CLI reads them, and Codex's.

Pure rules over parsed JSON; :mod:`skillpm.validation.discover` reads the files.

**Claude Code.** Source: vercel-labs/skills, ``src/plugin-manifest.ts`` ``getPluginSkillPaths``
(commit 82dd76b). ``.claude-plugin/marketplace.json`` lists plugins. Each one with a local
``source`` (a path that starts ``./``) has its skills in the subfolders of its ``skills/`` folder
and of the folder holding each ``./`` path its ``skills`` names. That CLI puts the source under
``metadata.pluginRoot`` (when given, which must start ``./`` too); Claude Code resolves it from the
marketplace's own folder (https://code.claude.com/docs/en/plugins/marketplace-reference), and
marketplaces are written for either (``pluginRoot: "./plugins"`` beside ``source:
"./plugins/spec"``), so both places are searched. ``.claude-plugin/plugin.json`` is one plugin: the
repository itself. Skipped, as that CLI skips them: a plugin from elsewhere (``source`` an object),
a path that does not start ``./`` and one that leads out of the repository. Unlike that CLI,
skillpm also skips a path into a version-control folder and takes ``skills`` given as one path
(Claude Code's manifests allow it).

**Codex** (https://developers.openai.com/codex/plugins/build; the ``skills`` CLI does not read
these). ``.agents/plugins/marketplace.json`` lists plugins whose ``source`` is ``{"source":
"local", "path": "./..."}``; a plugin's ``.codex-plugin/plugin.json`` names the folder of its
skills (``"skills": "./skills/"``), and the repository itself may be such a plugin. A plugin's
``skills/`` folder is searched whatever its manifest says, as for Claude Code's.
"""

from __future__ import annotations

import posixpath
from pathlib import PurePosixPath
from typing import Any

from skillpm.containment import vcs_component

CLAUDE_MARKETPLACE = ".claude-plugin/marketplace.json"
CLAUDE_PLUGIN = ".claude-plugin/plugin.json"
CODEX_MARKETPLACE = ".agents/plugins/marketplace.json"
CODEX_PLUGIN = ".codex-plugin/plugin.json"
_ABSENT = object()


def skill_places(marketplace: Any, plugin: Any) -> list[str]:
    """The folders (POSIX paths relative to the repository, each once, in order) whose subfolders are skills,
    as Claude Code's parsed ``marketplace.json`` and ``plugin.json`` declare them (``None`` for a missing one)."""
    places: list[str] = []
    if isinstance(marketplace, dict):
        metadata = marketplace.get("metadata")
        root = metadata.get("pluginRoot", _ABSENT) if isinstance(metadata, dict) else _ABSENT
        for entry in _plugins(marketplace):
            source = entry.get("source", _ABSENT)
            if source is not _ABSENT and not _local(source):
                continue
            bases: list[str] = []
            if root is _ABSENT or _local(root):  # the skills CLI's: under pluginRoot
                bases.append(posixpath.join("" if root is _ABSENT else root, "" if source is _ABSENT else source))
            if source is not _ABSENT:  # Claude Code's: from the marketplace's own folder
                bases.append(source)
            for base in bases:
                places += _claude_plugin_places(base, entry.get("skills"))
    if isinstance(plugin, dict):
        places += _claude_plugin_places("", plugin.get("skills"))
    return _unique_inside(places)


def codex_plugins(marketplace: Any) -> list[str]:
    """The plugin folders (relative to the repository, each once) a parsed Codex ``marketplace.json`` lists."""
    sources = (entry.get("source") for entry in _plugins(marketplace))
    return _unique_inside([
        source["path"] for source in sources
        if isinstance(source, dict) and source.get("source") == "local" and _local(source.get("path"))
    ])


def codex_skill_places(base: str, plugin: Any) -> list[str]:
    """The folders whose subfolders are skills of the Codex plugin at ``base``, whose parsed
    ``.codex-plugin/plugin.json`` is ``plugin`` (``None`` when it has none)."""
    named = plugin.get("skills") if isinstance(plugin, dict) else None
    folders = [named] if isinstance(named, str) else named if isinstance(named, list) else []
    return _unique_inside([*(posixpath.join(base, folder) for folder in folders if _local(folder)),
                           posixpath.join(base, "skills")])


def inside(place: str) -> str | None:
    """``place`` normalised, or None when it leads out of the repository or into a version-control folder."""
    normal = posixpath.normpath(place)
    if normal == ".." or normal.startswith("../") or normal.startswith("/") or "\\" in normal or "\0" in normal:
        return None
    return None if vcs_component(PurePosixPath(normal)) else normal


def _plugins(marketplace: Any) -> list[dict[str, Any]]:
    """The entries of a parsed marketplace's ``plugins`` list that are objects."""
    plugins = marketplace.get("plugins") if isinstance(marketplace, dict) else None
    return [entry for entry in plugins if isinstance(entry, dict)] if isinstance(plugins, list) else []


def _local(path: object) -> bool:
    """Whether ``path`` is a path in the repository as plugin manifests write one (``./...``)."""
    return isinstance(path, str) and path.startswith("./")


def _claude_plugin_places(base: str, skills: object) -> list[str]:
    """The plugin at ``base``'s ``skills/`` folder, after the folder of each ``./`` path its ``skills`` names."""
    named = [skills] if isinstance(skills, str) else skills if isinstance(skills, list) else []
    return [*(posixpath.dirname(posixpath.join(base, path)) for path in named if _local(path)),
            posixpath.join(base, "skills")]


def _unique_inside(places: list[str]) -> list[str]:
    return list(dict.fromkeys(place for place in map(inside, places) if place is not None))
