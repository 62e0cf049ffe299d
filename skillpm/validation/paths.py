"""The tree's paths must be ones an archive holds: names every file system keeps as they are, and apart.

The rules are :mod:`skillpm.portable`'s, which archives enforce (``skillpm pack`` too); here every path
that breaks one is reported, not only the first.
"""

from __future__ import annotations

from collections.abc import Mapping

from skillpm.portable import (
    MAX_FOLDERS,
    FoldedTree,
    path_length_reason,
    unsafe_name_reason,
)
from skillpm.validation.findings import Finding, error


def check_paths(shown: Mapping[str, str]) -> list[Finding]:
    """The archive's path rules for a tree; ``shown`` maps each path as installed to the file findings name.

    Paths are taken in sorted order, as an archive holds them, so of two clashing paths
    the later one is reported, naming the earlier.
    """
    findings = []
    tree = FoldedTree()
    for path in sorted(shown):
        file = shown[path]
        for name in path.split("/"):
            reason = unsafe_name_reason(name)
            if reason:
                findings.append(error(file, None, "tree.unsafe-name",
                                      f"the name {name!r} {reason}; an archive refuses it"))
        reason = path_length_reason(path)
        if reason:
            findings.append(error(file, None, "tree.path-length",
                                  f"the path as installed {reason}; an archive refuses it"))
        clash = tree.add(path)
        if clash:
            origin = f" (from {ascii(shown[clash])})" if shown.get(clash, clash) != clash else ""
            findings.append(error(file, None, "tree.name-clash",
                                  f"{ascii(path)} clashes with another, {ascii(clash)}{origin}: the same path but "
                                  "for case or Unicode form, or a file where a folder is, as macOS and Windows see them"))
    if tree.folder_count > MAX_FOLDERS:
        findings.append(error(".", None, "tree.folder-count",
                              f"the tree's paths make {tree.folder_count} folders; an archive holds at most "
                              f"{MAX_FOLDERS}"))
    return findings
