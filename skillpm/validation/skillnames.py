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
    """Whether the skills in ``folders`` install the same: the same variants, each of the same files."""
    first, *others = (_installed(folder) for folder in folders)
    return all(other == first for other in others)


def _installed(folder: Path) -> dict[str, dict[str, str]] | None:
    """Each variant of the skill in ``folder`` as installed: its files' paths and sha256; None when unreadable."""
    from skillpm.manifest import SkillSource

    try:
        source = SkillSource.load_or_derive(folder)
        return {target: {relative: _sha256(path) for relative, path in source.variant_files(target).items()}
                for target in source.targets}
    except (SkillpmError, OSError):
        return None


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
