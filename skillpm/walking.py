"""Walking and removing folder trees that anyone may have made, however deep they nest.

Python 3.11's :func:`os.walk` and :func:`shutil.rmtree` call themselves once per folder level, so a
tree nested a thousand deep (a cloned project's committed ``.agents/skills/NAME/a/a/a/...``) ends
them in RecursionError, a traceback and, for a removal, a tree half gone. :func:`walk` is
:func:`os.walk` without following links (iterative as in Python 3.12, which made it so), and
:func:`deeper_than` tells, before :func:`shutil.rmtree` starts, whether a tree nests deeper than it
may.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Iterator
from typing import Union

StrPath = Union[str, "os.PathLike[str]"]


def walk(top: StrPath, onerror: Callable[[OSError], None] | None = None) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk(top, onerror=onerror)``: top-down, links to folders listed among the folders but not entered,
    folders that cannot be read (``top`` too) skipped after ``onerror`` is told, which may raise; a caller may
    prune or reorder the folder list it is given, as with os.walk."""
    if sys.version_info >= (3, 12):  # iterative there
        yield from os.walk(top, onerror=onerror)
        return
    stack = [os.fspath(top)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as scanned:
                entries = list(scanned)
        except OSError as error:
            if onerror is not None:
                onerror(error)
            continue
        folders, files = [], []
        for entry in entries:
            try:
                is_folder = entry.is_dir()
            except OSError:
                is_folder = False
            (folders if is_folder else files).append(entry.name)
        yield folder, folders, files
        for name in reversed(folders):
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                stack.append(path)


def deeper_than(top: StrPath, levels: int) -> bool:
    """Whether the folder ``top`` holds a folder more than ``levels`` below it (links are not entered), or a
    path too long to be read at all (``ENAMETOOLONG``: long names nested less deep)."""
    stack = [(os.fspath(top), 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            with os.scandir(folder) as scanned:
                below = [entry.path for entry in scanned if entry.is_dir(follow_symlinks=False)]
        except OSError as error:
            if error.errno == errno.ENAMETOOLONG:
                return True
            continue
        if below and depth + 1 > levels:
            return True
        stack.extend((path, depth + 1) for path in below)
    return False
