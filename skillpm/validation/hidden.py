"""Which hidden entries of a skill folder its tree leaves out, and why.

Hidden names (``.gitignore``, ``.maintenance/``) and ``__pycache__`` are left out of a skill's
tree, as agents' installers do, unless SKILL.md names them (a link or a code-span path such as
``scripts/.gitignore``): the skill then needs them, and they are kept. A version-control folder
or file (``.git``) is always left out. ``validate`` reports each entry left out as a warning
(``tree.left-out``) and ``pack`` lists them.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Collection
from urllib.parse import unquote

from skillpm.containment import is_vcs_name
from skillpm.reading import MAX_SKILL_MD_SIZE, read_regular_file
from skillpm.validation.findings import Finding, Severity
from skillpm.validation.frontmatter import parse_skill_md
from skillpm.validation.links import references

PYCACHE = "__pycache__"


def is_hidden(name: str) -> bool:
    """Whether a file or folder name is left out unless SKILL.md needs it."""
    return name.startswith(".") or name == PYCACHE


def named_paths(skill_md: bytes) -> frozenset[str]:
    """The normalised relative paths SKILL.md's body refers to (links and code-span paths)."""
    parsed, _ = parse_skill_md(skill_md, file="SKILL.md")
    paths = set()
    for _, target, _ in references(parsed.body):
        path = posixpath.normpath(unquote(target.split("#", 1)[0].split("?", 1)[0]) or ".")
        if not path.startswith(("..", "/")):
            paths.add(path)
    return frozenset(paths)


def named_in_folder(folder: str | os.PathLike[str]) -> frozenset[str]:
    """:func:`named_paths` of ``folder``'s SKILL.md; none when it is missing, a link, or unreadable."""
    path = os.path.join(folder, "SKILL.md")
    try:
        if os.path.islink(path):
            return frozenset()
        raw = read_regular_file(path, MAX_SKILL_MD_SIZE)
    except OSError:
        return frozenset()
    return named_paths(raw) if len(raw) <= MAX_SKILL_MD_SIZE else frozenset()


class Named:
    """What the SKILL.md of some folders name, read only once a hidden entry asks (most trees have none)."""

    def __init__(self, *folders: str | os.PathLike[str]) -> None:
        self._folders = folders
        self._paths: frozenset[str] | None = None

    def keeps(self, path: str) -> bool:
        """Whether the hidden entry at ``path`` is kept: SKILL.md names it or something inside it."""
        if any(is_vcs_name(part) for part in path.split("/")):
            return False
        if self._paths is None:
            self._paths = frozenset().union(*(named_in_folder(folder) for folder in self._folders))
        return path in self._paths or any(other.startswith(path + "/") for other in self._paths)


def reason(name: str) -> str:
    """Why an entry named ``name`` is left out."""
    if is_vcs_name(name):
        return "a version-control folder or file"
    if name == PYCACHE:
        return "Python's bytecode cache"
    return "a hidden file or folder that SKILL.md does not name (name it there if the skill needs it)"


def left_out_findings(left_out: Collection[str], *, prefix: str = "") -> list[Finding]:
    """One ``tree.left-out`` warning per entry left out; ``prefix`` is the folder findings name it under."""
    return [
        Finding(prefix + path, None, "tree.left-out", Severity.WARNING,
                f"{path!r} is left out of the installed skill: {reason(posixpath.basename(path))}")
        for path in sorted(left_out)
    ]
