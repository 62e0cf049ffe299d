"""The link step: each agent's folder linked to the one copy of a skill, after the copy is placed and recorded.

A lockfile entry lists the ``links`` skillpm made to its directory. Every link is
checked (:func:`check_links`) with the other checks, before anything is written;
made (:func:`make_links`) after the copy is in place, so a kill in between leaves
links missing that ``sync`` makes; and taken away by ``remove`` (:func:`unlink`)
only when it still leads to the copy (:func:`skillpm.links.is_ours`). Where the
file system refuses links, the folder gets a copy of its own, recorded as an
entry, and one warning says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from skillpm import agents, links
from skillpm.containment import check_writable
from skillpm.errors import InstallError
from skillpm.installing.record import record
from skillpm.lockfile import LockedSkill, Lockfile

if TYPE_CHECKING:  # the install side; remove (unlink) reads no registry and places nothing
    from skillpm.cache import ArtifactCache
    from skillpm.installing.place import InstallResult
    from skillpm.installing.plan import Plan


def check_links(lockfile: Lockfile, skills: Iterable[LockedSkill], *, allow_outside: bool) -> None:
    """Refuse links skillpm must not make (:func:`skillpm.links.needs_making`); a copy skills.lock records is named."""
    recorded = {lockfile.directory(skill): skill.name for skill in lockfile.skills}
    for skill in skills:
        for link in _links(lockfile, skill):
            if link in recorded and not link.is_symlink():
                raise InstallError(
                    f"{link} holds a copy of {recorded[link]} that skills.lock records; nothing was changed",
                    hint=f"'skillpm remove {recorded[link]}' first to keep one copy, or pass --copy to keep copies",
                )
            links.needs_making(link, lockfile.directory(skill), root=lockfile.root, allow_outside=allow_outside)


def make_links(
    lockfile: Lockfile, plans: Sequence[Plan], *, cache: ArtifactCache, warn: Callable[[str], None]
) -> tuple[Lockfile, list[InstallResult], dict[Path, set[str]]]:
    """Make the links of each plan's entry that are missing; the lockfile after, the copies made instead, and
    by directory the agents reading the folders where a link was made.

    Each plan is placed and recorded, and its links checked. Where a link cannot be
    made, the folder gets a copy (:func:`~skillpm.installing.place.place`): its own
    entry, for the agents reading that folder, which the linked entry no longer lists.
    """
    copies: list[InstallResult] = []
    linked: dict[Path, set[str]] = {}
    for plan in plans:
        entry = next(skill for skill in lockfile.skills if skill.directory == plan.entry.directory)
        directory = lockfile.directory(entry)
        for text in entry.links:
            link = lockfile.root / text
            if links.is_ours(link, directory):
                continue
            readers = tuple(name for name in entry.agents if link.parent in _folders(name, lockfile.root))
            if links.make(link, directory, relative=not Path(text).is_absolute()):
                linked.setdefault(directory, set()).update(readers)
                continue
            from skillpm.installing.place import place

            copy = entry._replace(directory=text, agents=readers, links=())
            copies.append(place(lockfile, plan._replace(entry=copy), cache))
            lockfile = lockfile.with_skill(copy)
            entry = entry._replace(
                agents=tuple(name for name in entry.agents if name not in readers),
                links=tuple(other for other in entry.links if other != text),
            )
            record(lockfile, lockfile.with_skill(entry))
            lockfile = lockfile.with_skill(entry)
    if copies:
        folders = ", ".join(sorted({str(result.directory.parent) for result in copies}))
        warn(f"note: this file system refused links in {folders}; copied the skills there instead")
    return lockfile, copies, linked


def unlink(lockfile: Lockfile, skills: Sequence[LockedSkill], *, allow_outside: bool) -> list[Path]:
    """Remove the links of ``skills`` that still lead to their directories; those left alone, which do not.

    Every link's folder is checked (:func:`check_link_folders`) before any is removed.
    """
    check_link_folders(lockfile, skills, allow_outside=allow_outside)
    return [
        link
        for skill in skills
        for link in _links(lockfile, skill)
        if not links.remove(link, lockfile.directory(skill))
    ]


def check_link_folders(lockfile: Lockfile, skills: Iterable[LockedSkill], *, allow_outside: bool) -> None:
    """Refuse links of ``skills`` whose folder skillpm must not write (:func:`skillpm.containment.check_writable`),
    as a cloned skills.lock may record any: checked before recovery cleans those folders, or a link is removed."""
    for skill in skills:
        for link in _links(lockfile, skill):
            check_writable(link.parent, root=lockfile.root, allow_outside=allow_outside)


def _links(lockfile: Lockfile, skill: LockedSkill) -> list[Path]:
    return [lockfile.root / text for text in skill.links]


def _folders(name: str, root: Path) -> set[Path]:
    """Where the agent ``name`` reads skills, in the project ``root`` and in the user's folders."""
    if name not in agents.AGENTS:  # a lockfile written by a skillpm that knows more agents
        return set()
    found = {agents.skills_dir(name, project_root=root, user=False)}
    if agents.AGENTS[name].user:
        found.add(agents.skills_dir(name, project_root=root, user=True))
    return found
