"""The names the skills of a repository or folder install under, and the names two of them share.

An installer puts each skill in a folder of its name, so two folders of one source that give the
same name (a skill source's ``[package] name``, else the SKILL.md ``name`` as the ``skills`` CLI
installs it: :func:`skillpm.validation.spec.plain_name`) are one skill to it, and the ``skills`` CLI
takes the first it finds. Copies of one skill (``skills/x`` and ``plugins/p/skills/x`` holding the
same files, as plugin marketplaces often do) install the same whichever is taken. Folders that
would install different files are another matter (two plugins' ``setup`` skills, or a look-alike a
contributor added): ``validate`` warns of each, and installing that name from the source is refused,
naming the folders (:class:`skillpm.sources.packed.PackedSource`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from skillpm.errors import SkillpmError
from skillpm.validation.findings import Finding, Severity


def skill_names(folders: Sequence[Path]) -> tuple[dict[str, tuple[Path, ...]], dict[Path, SkillpmError]]:
    """Each name ``folders``' skills install under, with the folders that give it (in ``folders``' order);
    and the folders whose name cannot be read, with why (never read through a link out of a folder)."""
    from skillpm.manifest import SkillSource

    named: dict[str, tuple[Path, ...]] = {}
    unreadable: dict[Path, SkillpmError] = {}
    for folder in folders:
        try:
            name = SkillSource.load_or_derive(folder).name
        except SkillpmError as problem:
            unreadable[folder] = problem
            continue
        named[name] = (*named.get(name, ()), folder)
    return named, unreadable


def install_alike(folders: Sequence[Path]) -> bool:
    """Whether the skills in ``folders`` surely install the same: folders holding the same files, byte for byte.

    Folders that differ only where nothing is installed (a hidden file) count as different, and so does
    one that cannot be read, holds a link, or holds more than a skill may (the archive's limits): the
    answer errs towards refusing a choice, and never reads more than the limits allow.
    """
    first, *others = folders
    listed = _listing(first)
    return listed is not None and all(_same_files(first, listed, other) for other in others)


def _listing(folder: Path) -> dict[str, int] | None:
    """Each file of ``folder`` (posix path relative to it) and its size; None when it holds anything but
    folders and regular files, cannot be read, or holds more files or bytes than a skill may."""
    import os
    import stat

    from skillpm.portable import MAX_MEMBERS, MAX_TOTAL_SIZE
    from skillpm.walking import walk

    sizes: dict[str, int] = {}
    total = 0
    try:
        for where, folders, files in walk(folder, onerror=_raise):
            for name in (*folders, *files):
                status = os.lstat(os.path.join(where, name))
                if stat.S_ISDIR(status.st_mode):
                    continue
                if not stat.S_ISREG(status.st_mode) or len(sizes) >= MAX_MEMBERS:
                    return None
                total += status.st_size
                if total > MAX_TOTAL_SIZE:
                    return None
                sizes[Path(where, name).relative_to(folder).as_posix()] = status.st_size
    except OSError:
        return None
    return sizes


def _raise(error: OSError) -> None:
    raise error


def _same_files(first: Path, listed: dict[str, int], other: Path) -> bool:
    """Whether ``other`` holds the files ``listed`` (``first``'s) with the same bytes; stops at a difference."""
    if _listing(other) != listed:  # names and sizes first: no byte is read when they differ
        return False
    try:
        return all(_sha256(first / relative) == _sha256(other / relative) for relative in listed)
    except OSError:
        return False


def _sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def shared_name_findings(folders: Sequence[Path], root: Path) -> dict[Path, Finding]:
    """For each of ``folders`` (found in ``root``) whose skill's name another of them gives too, with other
    files, the warning ``spec.name.shared`` naming the others (as paths relative to ``root``)."""
    named, _ = skill_names(folders)
    found = {}
    for name, sharing in named.items():
        if len(sharing) < 2 or install_alike(sharing):
            continue
        for folder in sharing:
            others = ", ".join(repr(_relative(other, root)) for other in sharing if other != folder)
            found[folder] = Finding(
                "SKILL.md", None, "spec.name.shared", Severity.WARNING,
                f"{others} installs as {name!r} too, with other files: an installer takes one of them (the skills "
                "CLI the first it finds; skillpm neither, unless it is installed by its own folder)",
            )
    return found


def _relative(folder: Path, root: Path) -> str:
    try:
        return folder.relative_to(root).as_posix() or "."
    except ValueError:
        return folder.as_posix()
