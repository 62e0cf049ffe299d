"""Find the skills in a folder that holds several, as the ``skills`` CLI (``npx skills``) finds them.

Source: vercel-labs/skills, ``src/skills.ts`` ``discoverSkills`` (commit 82dd76b, February 2026).
A folder with a SKILL.md (or a skillpm.toml) is one skill, unless that SKILL.md, a regular file, has
no front matter: it is then an index of the skills below (that CLI takes a SKILL.md naming no skill
for none), and the folder is one skill, with that problem, only when none is found below. Otherwise the skills are the
subfolders holding a SKILL.md of the folder itself, of ``skills/``, ``skills/.curated``,
``skills/.experimental``, ``skills/.system``, of each agent's ``.<agent>/skills`` and of the folders
Claude Code's and Codex's plugin manifests declare (:mod:`skillpm.validation.pluginmanifest`; a
manifest is read only as a regular JSON file of at most 1 MiB that no link leads to); when none is
found there, every folder holding a SKILL.md, at most 5 levels down, skipping ``node_modules``,
``.git``, ``dist``, ``build`` and ``__pycache__``. Links to folders are not followed, nor is a
place reached through one (``.claude`` linked to another folder). Unlike that CLI, skillpm keeps
two skills of the same name, and takes neither when their files differ: validation warns of both,
and installing that name is refused (:mod:`skillpm.validation.skillnames`). Those two may be one
found in the places above and one only the deeper search finds (:func:`unlisted`): a look-alike in
``.github/skills`` would otherwise hide the reviewed ``tools/pdf`` it copies the name of.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from skillpm.containment import real_folder
from skillpm.validation.frontmatter import BOM, DELIMITER
from skillpm.validation.tree import SKILL_MD

MANIFEST_NAME = "skillpm.toml"  # skillpm.manifest.MANIFEST_NAME, without importing that module (and tomllib) for it

MAX_DEPTH = 5
#: The most skills one folder may hold: the largest collections measured hold about 7,000.
MAX_SKILLS = 10_000
_SKIPPED = frozenset({"node_modules", ".git", "dist", "build", "__pycache__"})
_AGENTS = (
    "agent", "agents", "claude", "cline", "codebuddy", "codex", "commandcode", "continue", "cursor",
    "github", "goose", "iflow", "junie", "kilocode", "kiro", "mux", "neovate", "opencode", "openhands",
    "pi", "qoder", "roo", "trae", "windsurf", "zencoder",
)
_PLACES = (
    ".", "skills", "skills/.curated", "skills/.experimental", "skills/.system",
    *(f".{agent}/skills" for agent in _AGENTS),
)


def _is_skill(folder: Path) -> bool:
    return (folder / SKILL_MD).is_file() or (folder / MANIFEST_NAME).is_file()


def _is_index(folder: Path) -> bool:
    """Whether ``folder``'s SKILL.md, a regular file (not a link) beside no skillpm.toml, lacks the ``---`` line
    that opens front matter (a byte-order mark before it aside): a list of the skills below, not a skill."""
    from skillpm.reading import open_regular

    path = folder / SKILL_MD
    if path.is_symlink() or (folder / MANIFEST_NAME).is_file():
        return False
    try:
        with open_regular(path) as stream:
            head = stream.read(64)
    except OSError:
        return False
    return head.removeprefix(BOM.encode()).split(b"\n", 1)[0].rstrip() != DELIMITER.encode()


def _subfolders(folder: Path) -> list[Path]:
    """The real (not linked) subfolders of ``folder``, sorted; none when it cannot be read."""
    try:
        with os.scandir(folder) as entries:
            return sorted(Path(entry.path) for entry in entries if entry.is_dir(follow_symlinks=False))
    except OSError:
        return []


def _manifest(root: Path, relative: str) -> Any:
    """The parsed JSON file ``root / relative``; ``None`` when it is missing, reached through a link, not a
    regular file of at most :data:`~skillpm.reading.MAX_PLUGIN_MANIFEST_SIZE` bytes, or not JSON."""
    folder_name, _, name = relative.rpartition("/")
    folder = real_folder(root, folder_name)
    if folder is None or (folder / name).is_symlink():
        return None
    from skillpm.jsonfile import read_json
    from skillpm.reading import MAX_PLUGIN_MANIFEST_SIZE

    try:
        return read_json(folder / name, MAX_PLUGIN_MANIFEST_SIZE)
    except (OSError, ValueError):
        return None


def _plugin_places(root: Path) -> list[str]:
    """The places ``root``'s Claude Code and Codex plugin manifests declare (:mod:`~skillpm.validation.pluginmanifest`)."""
    from skillpm.validation import pluginmanifest as plugins

    places = plugins.skill_places(_manifest(root, plugins.CLAUDE_MARKETPLACE), _manifest(root, plugins.CLAUDE_PLUGIN))
    for base in ["", *plugins.codex_plugins(_manifest(root, plugins.CODEX_MARKETPLACE))]:
        places += plugins.codex_skill_places(base, _manifest(root, posixpath.join(base, plugins.CODEX_PLUGIN)))
    return list(dict.fromkeys(places))


def _search(folder: Path, depth: int) -> list[Path]:
    if depth > MAX_DEPTH:
        return []
    found = [folder] if (folder / SKILL_MD).is_file() else []
    for child in _subfolders(folder):
        if child.name not in _SKIPPED:
            found += _search(child, depth + 1)
    return found


def discover(path: Path) -> list[Path]:
    """The skill folders under ``path``; ``[path]`` itself when it is a skill (not an index) or holds none."""
    if not path.is_dir() or path.is_symlink() or (_is_skill(path) and not _is_index(path)):
        return [path]
    found: dict[Path, None] = {}  # in order, each once
    for place in (*_PLACES, *_plugin_places(path)):
        folder = real_folder(path, place)
        for child in _subfolders(folder) if folder is not None else ():
            if child not in found and (child / SKILL_MD).is_file():
                found[child] = None
                _bounded(path, len(found))
    if not found:
        found = dict.fromkeys(skill for skill in _search(path, 0) if skill != path)
        _bounded(path, len(found))
    return list(found) or [path]


def unlisted(path: Path, found: Sequence[Path]) -> list[Path]:
    """The folders holding a SKILL.md that the deeper search finds under ``path`` (a folder :func:`discover` gave
    ``found`` for) outside every folder of ``found``: skills no installer lists, which may give the name of one
    that is. None when ``path`` is itself a skill."""
    if found == [path]:
        return []
    listed = set(found)
    others = [skill for skill in _search(path, 0)
              if skill != path and not listed.intersection(skill.parents) and skill not in listed]
    _bounded(path, len(others))
    return others


def _bounded(path: Path, count: int) -> None:
    """Refuse a folder holding more than :data:`MAX_SKILLS` skills (each is read, then validated or packed)."""
    if count > MAX_SKILLS:
        from skillpm.display import clean
        from skillpm.errors import SourceError

        raise SourceError(f"{clean(str(path), 200)} holds more than {MAX_SKILLS} skills; refused",
                          hint="name the folder of the skills you want (a subfolder, or #subdirectory= for git)")
