"""The tree of a plain skill folder (one with no skillpm.toml), as ``validate`` checks it and ``pack`` packs it.

The walk is the same on every machine: each folder's entries are taken in sorted order, not in the
order the file system lists them. Left out are hidden entries and ``__pycache__`` that SKILL.md does
not name (:mod:`skillpm.validation.hidden`), the top-level skill_meta.json (test cases, never packed,
as in a skill source) and the relative paths the caller names (``pack``'s own output folder).

A link to a folder inside the skill is followed, and the files it leads to are listed under the
link's name as well as their own; each real folder is entered at most once through links (told by
device and inode), so links into nested folders cannot multiply the walk, and a link leading to a
folder links already reached is dropped and reported (the first in sorted order wins). A link to a
folder outside the skill, or into a hidden folder SKILL.md does not name or a version-control folder,
is not followed: it stays an entry, which :func:`~skillpm.validation.tree.validate_tree` refuses. The
walk stops once it has :data:`~skillpm.portable.MAX_MEMBERS` files or has entered
:data:`~skillpm.portable.MAX_FOLDERS` folders, more than any archive holds, and enters no folder
whose files would lie deeper than :data:`~skillpm.portable.MAX_PATH_DEPTH` levels (each is reported).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection

from skillpm.containment import is_vcs_name
from skillpm.portable import MAX_FOLDERS, MAX_MEMBERS, MAX_PATH_DEPTH
from skillpm.realpaths import RealPaths
from skillpm.records import Record
from skillpm.validation.findings import Finding, Severity, error
from skillpm.validation.hidden import Named, is_hidden

EVAL_FILE = "skill_meta.json"  # skillpm.manifest.EVAL_FILE, without importing that module for it


class FolderTree(Record):
    """A plain skill folder's tree: relative posix path -> path on disk, and what the walk left out or stopped at."""

    files: dict[str, str]
    #: Hidden entries left out (each a ``tree.left-out`` warning).
    left_out: list[str]
    #: ``(link, earlier)``: a link to a folder dropped, as links already reached it through ``earlier``.
    duplicates: list[tuple[str, str]]
    #: Folders not entered: a file in them would be deeper than an archive allows.
    too_deep: list[str]
    #: ``"files"`` or ``"folders"`` when the walk stopped at that limit, else ``""``.
    stopped: str


def inside(path: str, root: str) -> bool:
    """Whether the resolved ``path`` is ``root`` or lies under it (both resolved)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def hidden_part(relative: str, keeps: Callable[[str], bool]) -> str | None:
    """The first name of the posix path ``relative`` that is a version-control folder's or file's, or hidden
    (:func:`~skillpm.validation.hidden.is_hidden`) where ``keeps`` does not keep the path up to it; else None."""
    parts = relative.split("/")
    for index, part in enumerate(parts):
        if part[:1] not in (".", "_") and "~" not in part:  # no such name (a short cut: paths may be long)
            continue
        if is_vcs_name(part) or (is_hidden(part) and not keeps("/".join(parts[: index + 1]))):
            return part
    return None


def walk_skill_folder(root: str | os.PathLike[str], *, leave_out: Collection[str] = ()) -> FolderTree:
    """The tree of the plain skill folder ``root`` (see the module's description); ``leave_out`` holds relative
    posix paths left out without a word (the caller says why)."""
    root = os.fspath(root)
    named = Named(root)
    paths = RealPaths()  # links into nested folders: each folder on their way resolved once
    root_real = paths.real(root)
    files: dict[str, str] = {}
    left_out: list[str] = []
    duplicates: list[tuple[str, str]] = []
    too_deep: list[str] = []
    root_info = os.stat(root)
    #: The folders entered through links, each with the path it was first reached by.
    linked: dict[tuple[int, int], str] = {(root_info.st_dev, root_info.st_ino): "."}
    entered = 0
    # Depth first, each folder's entries in sorted order; ``via``: whether the folder is reached through a link.
    pending: list[tuple[str, str, bool]] = [(root, "", False)]
    while pending:
        directory, rel, via = pending.pop()
        if rel:
            if via:
                info = os.stat(directory)
                key = (info.st_dev, info.st_ino)
                if key in linked:
                    if linked[key] != ".":  # a link back to the skill itself is a loop, not a copy
                        duplicates.append((rel, linked[key]))
                    continue
                linked[key] = rel
            entered += 1
            if entered > MAX_FOLDERS:
                return FolderTree(files, left_out, duplicates, too_deep, "folders")
        with os.scandir(directory) as scanned:
            entries = sorted(scanned, key=lambda entry: entry.name)
        below = []
        for entry in entries:
            path = rel + "/" + entry.name if rel else entry.name
            if path in leave_out or (not rel and entry.name == EVAL_FILE):
                continue
            if is_hidden(entry.name) and not named.keeps(path):
                left_out.append(path)
                continue
            folder = entry.is_dir(follow_symlinks=False)
            if folder or (entry.is_symlink() and _is_dir(entry) and _followed(entry.path, root_real, named, paths)):
                if path.count("/") >= MAX_PATH_DEPTH:  # a file in it: deeper than an archive allows
                    too_deep.append(path)
                else:
                    below.append((entry.path, path, via or not folder))
                continue
            if len(files) == MAX_MEMBERS:
                return FolderTree(files, left_out, duplicates, too_deep, "files")
            files[path] = entry.path
        pending.extend(reversed(below))
    return FolderTree(files, left_out, duplicates, too_deep, "")


def _followed(link: str, root_real: str, named: Named, paths: RealPaths) -> bool:
    """Whether the link to a folder at ``link`` is followed: it leads inside the skill, through no hidden folder
    SKILL.md does not name and no version-control folder (and not into a loop of links)."""
    try:
        target = paths.real(link)
    except OSError:  # a loop of links, or a link changed while it was read: an entry, which the checks refuse
        return False
    if target == root_real:
        return True  # a loop: dropped once entered
    return inside(target, root_real) and hidden_part(os.path.relpath(target, root_real).replace(os.sep, "/"),
                                                    named.keeps) is None


def walk_findings(tree: FolderTree) -> list[Finding]:
    """What the walk of a plain skill folder reports besides its left-out entries: each link to a folder dropped,
    each folder too deep to enter, and where it stopped."""
    findings = [
        Finding(link, None, "tree.link-duplicate", Severity.WARNING,
                f"{link!r} leads to a folder whose files the tree already holds under {earlier!r}; it is left out "
                "(link each folder once)")
        for link, earlier in tree.duplicates
    ]
    findings += [
        error(folder, None, "tree.path-length",
              f"the folder {folder!r} lies {folder.count('/') + 1} levels deep, so each file in it would be deeper than "
              f"{MAX_PATH_DEPTH}; an archive refuses them, and it is not walked")
        for folder in tree.too_deep
    ]
    if tree.stopped:
        rule, limit = ("tree.file-count", MAX_MEMBERS) if tree.stopped == "files" else ("tree.folder-count", MAX_FOLDERS)
        findings.append(error(".", None, rule,
                              f"the folder holds more than {limit} {tree.stopped} (a link to a folder counts as what "
                              f"it leads to); an archive holds at most {limit}, so the walk stopped there"))
    return findings


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """Whether ``entry`` leads to a directory; a link loop is not one (it is reported as unreadable)."""
    try:
        return entry.is_dir()
    except OSError:
        return False
