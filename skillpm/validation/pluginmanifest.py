"""The folders a repository's Claude Code plugin manifests declare skills in, read as the ``skills`` CLI reads them.

Source: vercel-labs/skills, ``src/plugin-manifest.ts`` ``getPluginSkillPaths`` (commit 82dd76b).
``.claude-plugin/marketplace.json`` lists plugins. Each one with a local ``source`` (a path that
starts ``./``) has its skills in the subfolders of its ``skills/`` folder and of the folder
holding each ``./`` path its ``skills`` names. That CLI puts the source under
``metadata.pluginRoot`` (when given, which must start ``./`` too); Claude Code resolves it from
the marketplace's own folder (https://code.claude.com/docs/en/plugins/marketplace-reference), and
marketplaces are written for either (``pluginRoot: "./plugins"`` beside ``source:
"./plugins/spec"``), so both places are searched. ``.claude-plugin/plugin.json`` is one plugin:
the repository itself. Skipped, as that CLI skips them: a plugin from elsewhere (``source`` an
object), a path that does not start ``./`` and one that leads out of the repository. Unlike that
CLI, skillpm also skips a path into a version-control folder, takes ``skills`` given as one path
(Claude Code's manifests allow it), and reads a manifest only when it is a regular JSON file of at
most :data:`~skillpm.reading.MAX_PLUGIN_MANIFEST_SIZE` bytes that no link leads to.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from skillpm.containment import vcs_component

MANIFEST_FOLDER = ".claude-plugin"
MARKETPLACE = "marketplace.json"
PLUGIN = "plugin.json"
_ABSENT = object()


def skill_places(marketplace: Any, plugin: Any) -> list[str]:
    """The folders (POSIX paths relative to the repository, each once, in order) whose subfolders are skills,
    as the parsed ``marketplace.json`` and ``plugin.json`` declare them (``None`` for a missing manifest)."""
    places: list[str] = []
    if isinstance(marketplace, dict):
        metadata = marketplace.get("metadata")
        root = metadata.get("pluginRoot", _ABSENT) if isinstance(metadata, dict) else _ABSENT
        plugins = marketplace.get("plugins")
        for entry in plugins if isinstance(plugins, list) else ():
            source = entry.get("source", _ABSENT) if isinstance(entry, dict) else None
            if source is not _ABSENT and not _local(source):
                continue
            bases: list[str] = []
            if root is _ABSENT or _local(root):  # the skills CLI's: under pluginRoot
                bases.append(posixpath.join("" if root is _ABSENT else root, "" if source is _ABSENT else source))
            if source is not _ABSENT:  # Claude Code's: from the marketplace's own folder
                bases.append(source)
            for base in bases:
                places += _plugin_places(base, entry.get("skills"))
    if isinstance(plugin, dict):
        places += _plugin_places("", plugin.get("skills"))
    return list(dict.fromkeys(place for place in map(_inside, places) if place is not None))


def read_skill_places(root: Path) -> list[str]:
    """:func:`skill_places` of the manifests in ``root/.claude-plugin`` (none when it is not a real folder)."""
    folder = root / MANIFEST_FOLDER
    if folder.is_symlink() or not folder.is_dir():
        return []
    return skill_places(_manifest(folder / MARKETPLACE), _manifest(folder / PLUGIN))


def _manifest(path: Path) -> Any:
    """The parsed JSON of ``path``; ``None`` when it is missing, a link, not a small regular file, or not JSON."""
    if path.is_symlink():
        return None
    from skillpm.jsonfile import read_json
    from skillpm.reading import MAX_PLUGIN_MANIFEST_SIZE

    try:
        return read_json(path, MAX_PLUGIN_MANIFEST_SIZE)
    except (OSError, ValueError):
        return None


def _local(path: object) -> bool:
    """Whether ``path`` is a path in the repository as Claude Code's manifests write one (``./...``)."""
    return isinstance(path, str) and path.startswith("./")


def _plugin_places(base: str, skills: object) -> list[str]:
    """The plugin at ``base``'s ``skills/`` folder, after the folder of each ``./`` path its ``skills`` names."""
    named = [skills] if isinstance(skills, str) else skills if isinstance(skills, list) else []
    return [*(posixpath.dirname(posixpath.join(base, path)) for path in named if _local(path)),
            posixpath.join(base, "skills")]


def _inside(place: str) -> str | None:
    """``place`` normalised, or None when it leads out of the repository or into a version-control folder."""
    normal = posixpath.normpath(place)
    if normal == ".." or normal.startswith("../") or normal.startswith("/") or "\\" in normal or "\0" in normal:
        return None
    return None if vcs_component(Path(normal)) else normal
