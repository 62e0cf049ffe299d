"""Commands on what is installed: list it, and remove a skill (the installing ones: :mod:`skillpm.cli.installing`)."""

from __future__ import annotations

import click

from skillpm.cli.common import (
    allow_outside_option,
    arch_option,
    choose_capability,
    global_option,
    json_option,
    lockfile_path,
)
from skillpm.cli.output import emit_json, notice, say, table
from skillpm.display import few


@click.command()
@click.argument("name")
@global_option
@click.option("--force", is_flag=True, help="Delete the directory even when it holds no SKILL.md.")
@allow_outside_option
@json_option
def remove(name: str, user: bool, force: bool, allow_outside: bool, as_json: bool) -> None:
    """Remove an installed skill and its entry in skills.lock.

    \b
    skillpm remove kernel-builder-cuda
    skillpm remove kernel-builder-cuda --global
    skillpm uninstall kernel-builder-cuda    (also: skillpm rm)

    Every directory skills.lock records for NAME is deleted, and every link
    skillpm made to it from an agent's folder (one that now leads elsewhere, or
    was replaced, is left alone, with a note). As for sync, a directory outside
    the project needs --allow-outside, and one that does not look like a skill
    (no SKILL.md) needs --force.
    """
    from skillpm.installing.removal import remove as remove_one
    from skillpm.requirements import normalize_name

    lockfile = lockfile_path(user)
    removed = remove_one(
        lockfile, normalize_name(name), force=force, allow_outside=allow_outside or user, warn=notice
    )
    rows = [(skill, lockfile.parent / skill.directory) for skill in removed]
    if as_json:
        emit_json([
            {"name": skill.name, "version": skill.version, "target": skill.target, "directory": str(directory)}
            for skill, directory in rows
        ])
        return
    for skill, directory in rows:
        say(f"removed {skill.name} {skill.version} from {directory}")


@click.command(name="list")
@arch_option()
@global_option
@json_option
def list_(arch: str | None, user: bool, as_json: bool) -> None:
    """List installed skills, their variants, and whether each suits this GPU.

    \b
    skillpm list                  # this project's skills.lock, for this GPU
    skillpm list --arch 8.0 --json
    skillpm list --global
    """
    from skillpm.installing.record import installed_skills

    capability = choose_capability(arch, quiet=True)
    rows = installed_skills(lockfile_path(user), capability)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        notice("no skills installed here")
        return
    table(
        ["name", "version", "target", "suits GPU", "agents", "directory"],
        [
            (r["name"], r["version"], r["target"], r["suits"], few(r["agents"]),
             r["directory"] if r["present"] else f"{r['directory']} (MISSING)")
            for r in rows
        ],
    )
    missing = [r["name"] for r in rows if not r["present"]]
    if missing:
        notice(f"{', '.join(missing)}: recorded in skills.lock but missing on disk; 'skillpm sync' installs them again")
    unlinked = [f"{r['name']} ({', '.join(r['missing_links'])})" for r in rows if r["missing_links"]]
    if unlinked:
        notice(f"links gone: {'; '.join(unlinked)}; 'skillpm sync' makes them again")
