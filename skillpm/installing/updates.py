"""``update``'s plan: what each chosen skill resolves to now, and what update does with it.

``update`` never moves a skill to a lower version silently. When a skill's
requirement now resolves lower (its version was yanked or removed, or ``--arch``
names a GPU its newer versions have no variant for), the locked version is kept
and the reason said, in the words ``skillpm outdated`` uses
(:func:`skillpm.outdated.keep_message`): both decide by
:func:`skillpm.outdated.update_action`. :func:`preview` is ``update --dry-run``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from skillpm.errors import InstallError
from skillpm.installing.plan import Plan, open_registries, plan_updates
from skillpm.lockfile import LockedSkill, Lockfile, read_lockfile, update_source
from skillpm.outdated import compare, keep_message, update_action
from skillpm.records import Record
from skillpm.resolve import Resolution
from skillpm.targets import Capability

if TYPE_CHECKING:
    from skillpm.registry.source import Registry


class UpdateStep(Record):
    """One locked skill, what its requirement resolves to now, and what ``update`` does: update, unchanged or keep."""

    skill: LockedSkill
    resolution: Resolution
    plan: Plan
    action: str
    reason: str | None  # why a lower version is not taken (action "keep")

    def to_json(self, lockfile: Lockfile) -> dict[str, object]:
        skill, variant = self.skill, self.resolution.variant
        return {
            "name": skill.name, "directory": str(lockfile.directory(skill)), "requirement": skill.requirement,
            "installed": skill.version, "target": skill.target, "resolved": self.resolution.version,
            "resolved_target": variant.target, "action": self.action, "reason": self.reason,
        }


def chosen_skills(lockfile: Lockfile, names: Sequence[str]) -> list[LockedSkill]:
    """The locked skills named (all when ``names`` is empty); InstallError naming any not installed."""
    chosen = [s for s in lockfile.skills if not names or s.name in names]
    missing = sorted(set(names) - {s.name for s in chosen})
    if missing:
        raise InstallError(f"not installed: {', '.join(missing)}", hint="see 'skillpm list'")
    return chosen


def plan_steps(
    skills: Sequence[LockedSkill], registries: dict[str, Registry], capability: Capability | None
) -> list[UpdateStep]:
    """Resolve each of ``skills`` again (:func:`~skillpm.installing.plan.plan_updates`) and decide its action.

    ``registries`` are keyed as :func:`~skillpm.lockfile.update_source` names them.
    """
    resolutions, plans = plan_updates(skills, registries, capability)
    steps = []
    for skill, resolution, plan in zip(skills, resolutions, plans):
        action = update_action(skill.version, skill.target, resolution.version, resolution.variant.target,
                               new_content=resolution.variant.sha256 != skill.sha256)
        reason = None
        if action == "keep":  # rare: read the document again only to say why
            listing = registries[update_source(skill)].locate(skill.name)[1]
            reason = keep_message(compare(skill, listing, capability or skill.recorded_capability()))
        steps.append(UpdateStep(skill, resolution, plan, action, reason))
    return steps


def preview(
    lockfile_path: Path, *, names: Sequence[str], capability: Capability | None, opener: Callable[[str], Registry]
) -> tuple[Lockfile, list[UpdateStep]]:
    """What ``update`` would do, changing nothing and downloading no archive (``update --dry-run``)."""
    lockfile = read_lockfile(lockfile_path)
    chosen = chosen_skills(lockfile, names)
    return lockfile, plan_steps(chosen, open_registries(chosen, opener, update_source), capability)
