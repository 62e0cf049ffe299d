"""The record step: skills.lock written after each change, and read back for ``skillpm list``."""

from __future__ import annotations

from pathlib import Path

from skillpm.links import is_ours
from skillpm.lockfile import Lockfile, read_lockfile, write_lockfile
from skillpm.targets import Capability


def record(previous: Lockfile, updated: Lockfile) -> None:
    """Write ``updated`` over ``previous`` (what the file holds now), unless they are the same."""
    if updated != previous:
        write_lockfile(updated)


def installed_skills(lockfile_path: Path, capability: Capability | None) -> list[dict[str, object]]:
    """Each locked skill: whether it is present, which agents see it, its missing links, whether it suits ``capability``."""
    from skillpm.targets import parse_target, why_unusable

    lockfile = read_lockfile(lockfile_path)
    rows = []
    for skill in lockfile.skills:
        target = parse_target(skill.target)
        if capability is None:
            suits = "yes" if target.is_generic else "unknown (no GPU detected)"
        else:
            reason = why_unusable(target, capability)
            suits = "yes" if reason is None else f"no: {reason}"
        rows.append(
            {
                "name": skill.name,
                "version": skill.version,
                "target": skill.target,
                "sha256": skill.sha256,
                "directory": str(lockfile.directory(skill)),
                "present": lockfile.directory(skill).is_dir(),
                "suits": suits,
                "registry": skill.registry,
                "agents": list(skill.agents),
                "missing_links": [
                    text for text in skill.links if not is_ours(lockfile.root / text, lockfile.directory(skill))
                ],
            }
        )
    return rows
