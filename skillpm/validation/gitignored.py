"""The files of a skill that git ignores: packed all the same, but each said (``tree.git-ignored``).

A cloned skill's ``.gitignore`` may list ``config.local.json`` and its README tell the user to put
an API key there: git never shows the file, and a pack would carry it off without a word. Asked of
``git check-ignore`` only when git is installed and the skill lies in a work tree; a file reached
through a link to a folder is not asked (git refuses paths beyond a link: the folder it leads to
is asked where it lies). Git runs without skillpm's secrets, without fsmonitor, and for at most
:data:`DEADLINE_S` seconds; if it fails or is too slow, nothing is reported.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from skillpm.portable import MAX_PATH_DEPTH
from skillpm.validation.findings import Finding, Severity

#: Seconds ``git check-ignore`` may take for one skill.
DEADLINE_S = 20.0


def ignored(root: str, paths: Iterable[str]) -> list[str]:
    """Those of ``paths`` (on disk, under the folder ``root``) that git ignores, relative to ``root`` in posix form."""
    if not _in_work_tree(root):  # most skills validated outside a repository: no git to start, nothing to import
        return []
    import shutil
    import subprocess

    git = shutil.which("git")
    if git is None:
        return []
    unlinked = {"": True}  # folder -> whether no folder on the way from root to it is a link
    asked = []
    for path in map(os.fspath, paths):
        relative = os.path.relpath(path, root)
        if relative.startswith("..") or relative.count(os.sep) >= MAX_PATH_DEPTH:  # too deep: refused anyway
            continue
        if _unlinked(root, os.path.dirname(relative), unlinked):
            asked.append(relative)
    if not asked:
        return []
    from skillpm.childenv import without_secrets

    env = {name: value for name, value in without_secrets().items() if not name.startswith("GIT_")}
    try:
        completed = subprocess.run(
            [git, "-c", "core.fsmonitor=false", "check-ignore", "--stdin", "-z"],
            cwd=root, env=env, input=b"".join(os.fsencode(path) + b"\0" for path in asked),
            capture_output=True, timeout=DEADLINE_S,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if completed.returncode != 0:  # 1: none ignored; 128: not in a work tree, or git failed
        return []
    return sorted(os.fsdecode(path).replace(os.sep, "/") for path in completed.stdout.split(b"\0") if path)


def _in_work_tree(root: str) -> bool:
    """Whether ``root`` or a folder it is in holds a ``.git`` (a folder, or a worktree's file), as git looks for
    one with no ``GIT_*`` variable set (git runs here without them)."""
    folder = os.path.abspath(root)
    while True:
        if os.path.lexists(os.path.join(folder, ".git")):
            return True
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent


def _unlinked(root: str, folder: str, known: dict[str, bool]) -> bool:
    """Whether no folder on the way from ``root`` to ``root/folder`` is a link; ``known`` holds the answers so far."""
    if folder not in known:
        parent = os.path.dirname(folder)
        known[folder] = _unlinked(root, parent, known) and not os.path.islink(os.path.join(root, folder))
    return known[folder]


def ignored_findings(root: str | os.PathLike[str], paths: Iterable[str | os.PathLike[str]]) -> list[Finding]:
    """One ``tree.git-ignored`` warning per file of ``paths`` (the tree's files on disk, under ``root``) git ignores."""
    return [
        Finding(path, None, "tree.git-ignored", Severity.WARNING,
                f"{path!r} is ignored by git (.gitignore), yet it is packed: a file kept out of the repository may "
                "hold your own secrets (an API key); move it out of the skill unless it belongs in it")
        for path in ignored(os.fspath(root), map(os.fspath, paths))
    ]
