"""What newer versions and better variants exist for installed skills (``skillpm outdated``).

:func:`compare` is logic only: one locked skill, its registry's listing of the package (which reads
the versions asked of it) and the GPU in, one :class:`Outdated` out. :func:`check` reads the
lockfile and each registry, read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from packaging.version import Version

from skillpm.errors import ResolutionError
from skillpm.index.listing import Listing
from skillpm.lockfile import LockedSkill, read_lockfile
from skillpm.records import Record
from skillpm.requirements import parse_requirement
from skillpm.resolve import resolve
from skillpm.targets import Capability, best_target


class Outdated(Record):
    """One installed skill against what its registry has now; ``None`` where nothing qualifies."""

    name: str
    installed: str
    target: str
    requirement: str
    capability: Capability | None  # the GPU compared for: --arch, else the one recorded at install
    wanted: str | None  # newest version (and its variant) allowed by the requirement, for this GPU
    wanted_target: str | None
    latest: str | None  # newest version with a variant for this GPU, whatever the requirement
    latest_target: str | None
    better_variant: str | None  # a variant of the installed version that suits this GPU better
    yanked: bool  # the installed variant has been yanked since
    new_content: bool = False  # the wanted version and variant hold other bytes (a source's new commit of it)

    @property
    def behind(self) -> bool:
        """Whether ``update`` would change something (a newer allowed version, a better variant, new content)."""
        return self.action == "update"

    @property
    def action(self) -> str:
        """What ``update`` does with this skill (:func:`update_action`)."""
        return update_action(self.installed, self.target, self.wanted, self.wanted_target, new_content=self.new_content)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name, "installed": self.installed, "target": self.target, "requirement": self.requirement,
            "capability": None if self.capability is None else str(self.capability),
            "wanted": self.wanted, "wanted_target": self.wanted_target, "latest": self.latest,
            "latest_target": self.latest_target, "better_variant": self.better_variant, "yanked": self.yanked,
            "new_content": self.new_content, "behind": self.behind,
        }


def update_action(installed: str, target: str, wanted: str | None, wanted_target: str | None, *,
                  new_content: bool = False) -> str:
    """What ``skillpm update`` does with a skill locked at ``installed`` (``target``) that now resolves to ``wanted``.

    ``"update"`` to a higher version, to another variant of the same one, or to other bytes of the same
    variant (``new_content``: a source's new commit that kept the version); ``"unchanged"``; ``"keep"``
    when ``wanted`` is a lower version (after a yank, or for another GPU), which update never takes
    silently, or when nothing resolves.
    """
    if wanted is None or Version(wanted) < Version(installed):
        return "keep"
    if Version(wanted) > Version(installed) or wanted_target != target or new_content:
        return "update"
    return "unchanged"


def keep_message(row: Outdated) -> str:
    """Why ``update`` keeps ``row``'s installed version, whose requirement now resolves lower, and what to do."""
    what = f"{row.name} {row.installed} ({row.target})"
    gpu = "no GPU" if row.capability is None else f"GPU {row.capability}"
    why = "was yanked" if row.yanked else f"has no newer version for {gpu}"
    if row.wanted is None:
        return (f"{what} {why}, and nothing {row.requirement!r} allows suits {gpu}: 'skillpm update' keeps it; "
                "change the requirement with 'skillpm install' to move")
    return (f"{what} {why}; the newest version {row.requirement!r} allows for {gpu} is {row.wanted}, lower, "
            f"so 'skillpm update' keeps {row.installed}; to move to it: skillpm install '{row.name}=={row.wanted}'")


def yank_notice(row: Outdated) -> str:
    """What ``skillpm outdated`` says of a yanked install: what ``update`` will do with it."""
    what = f"{row.name} {row.installed} ({row.target}) has been yanked"
    action = row.action
    if action == "update":
        return f"{what}; 'skillpm update {row.name}' moves to {row.wanted} ({row.wanted_target})"
    if action == "unchanged":
        return f"{what}; {row.requirement!r} pins it, so 'skillpm update' keeps it; install another version to move"
    return keep_message(row)


def compare(skill: LockedSkill, listing: Listing, capability: Capability | None) -> Outdated:
    """How ``skill`` (as locked) stands against ``listing`` for a GPU of ``capability``: reading the
    versions resolution needs, and the installed one."""
    wanted = _resolved(listing, skill.requirement, capability)
    latest = _resolved(listing, skill.name, capability)
    entry = listing.read(skill.version)
    installed = next((v for v in entry.variants if v.target == skill.target), None) if entry else None
    better = None
    if entry is not None:
        best = best_target([v.target for v in entry.variants if not v.yanked], capability)
        if best not in (None, skill.target) and best_target([skill.target, best], capability) == best:
            better = best
    return Outdated(
        name=skill.name, installed=skill.version, target=skill.target, requirement=skill.requirement,
        capability=capability,
        wanted=wanted[0] if wanted else None, wanted_target=wanted[1] if wanted else None,
        latest=latest[0] if latest else None, latest_target=latest[1] if latest else None,
        better_variant=better, yanked=installed is not None and installed.yanked,
        new_content=wanted is not None and (wanted[0], wanted[1]) == (skill.version, skill.target)
        and wanted[2] != skill.sha256,
    )


def _resolved(listing: Listing, requirement: str,
              capability: Capability | None) -> tuple[str, str, str] | None:
    """The version, target and sha256 ``requirement`` resolves to in ``listing``, or None."""
    try:
        resolution = resolve(listing, parse_requirement(requirement), capability)
    except ResolutionError:
        return None
    return resolution.version, resolution.variant.target, resolution.variant.sha256


def check(
    lockfile_path: Path, capability: Capability | None, *, listing_for: Callable[[LockedSkill], Listing],
    names: frozenset[str] = frozenset(),
) -> list[Outdated]:
    """Each locked skill (or those in ``names``) compared with what its registry lists now.

    Each is compared for ``capability`` when given, else for the GPU it was installed for,
    as ``update`` resolves. A skill installed in several folders alike is one row.
    """
    rows: dict[tuple[str, str, str, str], Outdated] = {}
    for skill in read_lockfile(lockfile_path).skills:
        key = (skill.name, skill.version, skill.target, skill.requirement)
        if (not names or skill.name in names) and key not in rows:
            rows[key] = compare(skill, listing_for(skill), capability or skill.recorded_capability())
    return list(rows.values())
