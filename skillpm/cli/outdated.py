"""``skillpm outdated``: newer versions and better variants of what is installed, changing nothing."""

from __future__ import annotations

import click

from skillpm.cli.common import arch_option, global_option, json_option, offline_option, project_lockfile
from skillpm.cli.output import emit_json, notice, table


@click.command()
@click.argument("names", nargs=-1)
@arch_option("the GPU each skill was installed for")
@global_option
@offline_option
@json_option
def outdated(names: tuple[str, ...], arch: str | None, user: bool, as_json: bool) -> None:
    """Show newer versions and better variants of installed skills, changing nothing.

    \b
    skillpm outdated                   # every skill in this project's skills.lock
    skillpm outdated kernel-builder-cuda --arch b300 --json
    skillpm outdated --offline         # from the caches only

    Per skill: the installed version and variant; 'wanted', the newest version its
    requirement allows with a variant for this GPU (what 'skillpm update' installs);
    'latest', the newest with such a variant whatever the requirement; and a better
    variant of the installed version when one suits this GPU better. Each skill is
    compared for --arch, else for the GPU it was installed for, as 'update' resolves.
    Exit 0 either way.
    """
    from skillpm.lockfile import update_source
    from skillpm.outdated import check, yank_notice
    from skillpm.registry.factory import open_locked_registry
    from skillpm.requirements import normalize_name

    from skillpm.targets import parse_capability

    capability = parse_capability(arch) if arch else None
    registries: dict[str, object] = {}

    def listing_for(skill):  # type: ignore[no-untyped-def]
        # where update resolves it again: a source as first asked for (its git ref), not the commit it is pinned to
        where = update_source(skill)
        if where not in registries:
            registries[where] = open_locked_registry(where)
        return registries[where].locate(skill.name)[1]  # type: ignore[attr-defined]

    rows = check(project_lockfile(user), capability, listing_for=listing_for,
                 names=frozenset(normalize_name(name) for name in names))
    if as_json:
        emit_json([row.to_json() for row in rows])
        return
    if not rows:
        notice("no skills installed here" if not names else "none of those skills is installed here")
        return
    table(
        ["name", "for GPU", "installed", "wanted", "latest", "better variant"],
        [
            (
                row.name,
                "none" if row.capability is None else str(row.capability),
                f"{row.installed} ({row.target}){' YANKED' if row.yanked else ''}",
                "-" if row.wanted is None else f"{row.wanted} ({row.wanted_target})",
                "-" if row.latest is None else f"{row.latest} ({row.latest_target})",
                row.better_variant or "-",
            )
            for row in rows
        ],
    )
    behind = [row.name for row in rows if row.behind]
    if behind:
        notice(f"'skillpm update {' '.join(behind)}' installs what 'wanted' shows")
    for row in rows:
        if row.yanked:
            notice(yank_notice(row))
