"""Commands that install: install, sync and update (list and remove: :mod:`skillpm.cli.installed`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import click

from skillpm.agents import AGENT_NAMES, ALIASES, ALL
from skillpm.cli.common import (
    allow_outside_option,
    arch_option,
    choose_capability,
    global_option,
    json_option,
    offline_option,
    project_lockfile,
    registry_option,
)
from skillpm.cli.output import emit_json, notice, say, table
from skillpm.display import few

if TYPE_CHECKING:
    from skillpm.targets import Capability


def _where(agent_names: tuple[str, ...], user: bool, directory: Path | None, copy: bool, save: bool = False):
    from skillpm.installing.destinations import destination
    from skillpm.project import find_project_root

    root = find_project_root(Path.cwd())
    return destination(
        project_root=root, agent_names=agent_names, user=user, directory=directory, copy=copy, save=save
    )


def _nothing_recorded(lockfile: Path) -> str:
    """Why a command over skills.lock has nothing to do: the file records no skill, or is not there yet."""
    if lockfile.exists():
        return f"{lockfile} records no skills; nothing to do"
    return f"{lockfile} does not exist yet, so there is nothing to do; 'skillpm install NAME' starts it"


def _report(results, as_json: bool, verb: str) -> None:
    if as_json:
        emit_json([result.to_json() for result in results])
        return
    for result in results:
        shown = f"{result.name} {result.version} ({result.target})"
        if result.changed:
            shown = f"{verb} {shown}"
        elif result.agents_added:  # the tree was in place: installed for more agents (skills.lock, links)
            shown = f"{verb} {shown} for {few(result.agents_added)}"
        else:
            shown = f"already up to date: {shown}"
        seen_by = f" (for {few(result.agents)})" if result.agents else ""
        say(f"{shown} -> {result.directory}{seen_by}")


class _AgentChoice(click.Choice):
    """An agent's name or alias, or ``all``; an unknown one is one short error, not all the names."""

    def __init__(self) -> None:
        super().__init__((*AGENT_NAMES, *ALIASES, ALL))

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if value not in self.choices:
            self.fail(
                f"{value[:80]!r} is not one of the {len(AGENT_NAMES)} agents skillpm knows "
                "(e.g. claude-code, codex, cursor, github-copilot; docs/user-guide.md lists them)",
                param, ctx,
            )
        return ALIASES.get(value, value)


force_option = click.option(
    "--force", is_flag=True, help="Replace a directory that skillpm did not install, or that holds no SKILL.md."
)


class _Minimum(click.FloatRange):
    """A policy minimum: a finite number in range (a NaN minimum would pass every comparison)."""

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def policy_options(command):
    """--require-attestations, --min-pass-rate, --min-lift, --min-bandwidth-pct, --trusted-key."""
    options = [
        click.option("--require-attestations", is_flag=True, help="Refuse a variant without a verified attestation."),
        click.option("--min-pass-rate", type=_Minimum(0, 1), metavar="RATE",
                     help="Refuse evidence where any model's pass rate with the skill is lower."),
        click.option("--min-lift", type=_Minimum(-1, 1), metavar="LIFT",
                     help="Refuse evidence where any model's lift (pass rate with minus without) is lower."),
        click.option("--min-bandwidth-pct", type=_Minimum(0), metavar="PCT",
                     help="Refuse benchmarks below this percent of peak bandwidth (GPU evidence only)."),
        click.option("--trusted-key", "trusted_keys", multiple=True,
                     type=click.Path(path_type=Path, dir_okay=False, exists=True),
                     metavar="PUBFILE", help="Trust signatures by this public key (repeatable)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _attestation_policy(policy: dict):
    """The install policy from the command line (docs/attestations.md: policy files add to it)."""
    from skillpm.attest.policy import Requirements
    from skillpm.attest.variants import InstallOptions

    requirements = Requirements(
        attestations=policy["require_attestations"],
        min_pass_rate=policy["min_pass_rate"],
        min_lift=policy["min_lift"],
        min_percent_of_peak=policy["min_bandwidth_pct"],
    )
    return InstallOptions(requirements, tuple(policy["trusted_keys"]), warn=notice)


@click.command()
@click.argument("requirements", nargs=-1, required=True)
@arch_option()
@registry_option
@global_option
@click.option(
    "--agent",
    "agent_names",
    type=_AgentChoice(),
    multiple=True,
    metavar="NAME",
    help="Install for this agent, by its name in the skills CLI; repeat for more, or 'all' "
    "(default: the agents found on this machine, else claude-code).",
)
@click.option(
    "--copy",
    is_flag=True,
    help="Put a copy in each agent's folder instead of one copy in .agents/skills linked from the others.",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    help="Install into DIR/<name>/ instead (recorded in the project's skills.lock when DIR is inside "
    "the project, else in DIR/skills.lock).",
)
@click.option(
    "--save",
    is_flag=True,
    help="With --dir outside the project: record the install in the project's skills.lock, not DIR's.",
)
@click.option("--skill", "skills", multiple=True, metavar="NAME",
              help="From a source holding several skills, install this one (repeatable).")
@click.option("--sha256", metavar="HEX", help="The sha256 an archive URL's download must have.")
@force_option
@allow_outside_option
@policy_options
@json_option
def install(
    requirements: tuple[str, ...],
    arch: str | None,
    registry: str | None,
    user: bool,
    agent_names: tuple[str, ...],
    copy: bool,
    directory: Path | None,
    skills: tuple[str, ...],
    sha256: str | None,
    save: bool,
    force: bool,
    allow_outside: bool,
    as_json: bool,
    **policy,
) -> None:
    """Install skills, choosing each one's variant for the GPU.

    \b
    skillpm install kernel-builder-cuda              # variant for this machine's GPU
    skillpm install kernel-builder-cuda --arch h100  # or 9.0, 90, sm_90, sm_90a
    skillpm install 'my-skill>=1.2' --registry ./myreg --dir ./agent-skills
    skillpm install ./path/to/skill                  # a folder with SKILL.md
    skillpm install git+https://host/org/repo@v1#subdirectory=skills/x
    skillpm install org/repo --skill one --skill two # GitHub; pick skills
    skillpm install https://host/skill.tar.gz --sha256 HEX
    skillpm install doc-writer --agent claude-code --agent cursor  # or --agent all

    Each skill goes once into .agents/skills/<name>/ of the current project (the
    nearest folder with skills.lock or .git), linked from the folder of each
    agent that reads another (.claude/skills/<name> for Claude Code), and is
    pinned in its skills.lock; --global does the same in your home folder. Every
    REQUIREMENT is resolved, and its archive fetched and checked, before any is
    installed. A REQUIREMENT may also be a source (docs/user-guide.md, "Installing
    from folders, git, archives and well-known indexes"): skills.lock pins its
    commit or digest, and sources carry no attestations. A skills folder that is a link out of the project needs
    --allow-outside, as for sync; --dir and --global name folders on purpose.
    --dir outside the project leaves the project's skills.lock alone: DIR gets
    its own (run list, sync or remove there), unless --save.

    Attestations attached to a variant are verified before it is installed (a
    warning when there are none); the policy options and .skillpm/policy.toml can
    require them.
    """
    from skillpm.cache import ArtifactCache
    from skillpm.installing.pipeline import install_many
    from skillpm.registry.factory import open_registry
    from skillpm.sources.factory import with_sources

    if directory is not None and (user or agent_names or copy):
        raise click.UsageError("--dir names the folder itself; give it without --global, --agent or --copy")
    if save and directory is None:
        raise click.UsageError("--save says where an install with --dir is recorded; give it with --dir")
    parsed, source = with_sources(requirements, open_registry(registry), skills=skills, sha256=sha256)
    dest = _where(agent_names, user, directory, copy, save)
    capability = choose_capability(arch, quiet=as_json)
    installed = install_many(
        parsed, registry=source, capability=capability, dest=dest,
        cache=ArtifactCache(), force=force, allow_outside=allow_outside or user or directory is not None,
        attestations=_attestation_policy(policy),
    )
    _report([result for _, result in installed], as_json, "installed")


@click.command()
@global_option
@click.option(
    "--registry",
    "mirror",
    metavar="DIR|URL|NAME",
    envvar="SKILLPM_REGISTRY",
    help="Read every locked skill from this registry (a mirror) instead of the ones skills.lock names; "
    "the locked digests must match, so it cannot change what is installed. Default: $SKILLPM_REGISTRY.",
)
@offline_option
@force_option
@allow_outside_option
@policy_options
@json_option
def sync(user: bool, mirror: str | None, force: bool, allow_outside: bool, as_json: bool, **policy) -> None:
    """Install exactly what skills.lock records, refusing any changed digest.

    \b
    skillpm sync                          # after cloning a project that has a skills.lock
    skillpm sync --offline                # from the caches only
    skillpm sync --registry https://mirror.example.org/skills

    Every skill is fetched and checked (digest, attestations) before any is
    installed. When a skill's registry does not answer, it comes from another
    registry that lists the same digest, or from the artifact cache. A directory
    outside the project needs --allow-outside (not with --global: the user's own
    skills.lock names the user's folders).
    """
    from skillpm.cache import ArtifactCache
    from skillpm.installing.pipeline import sync as sync_all

    lockfile = project_lockfile(user)
    results = sync_all(
        lockfile, cache=ArtifactCache(), mirror=mirror or None, force=force,
        allow_outside=allow_outside or user, attestations=_attestation_policy(policy),
    )
    if results or as_json:
        _report(results, as_json, "installed")
    else:
        notice(_nothing_recorded(lockfile))


@click.command()
@click.argument("names", nargs=-1)
@arch_option("the GPU each skill was resolved for before")
@global_option
@offline_option
@click.option("--dry-run", is_flag=True, help="Show what update would do, changing nothing (with --json: as JSON).")
@force_option
@allow_outside_option
@policy_options
@json_option
def update(
    names: tuple[str, ...], arch: str | None, user: bool, dry_run: bool, force: bool, allow_outside: bool,
    as_json: bool, **policy,
) -> None:
    """Resolve installed skills (all, or NAMES) again and install newer versions.

    \b
    skillpm update                                  # every skill in skills.lock
    skillpm update kernel-builder-cuda --arch 10.0  # one skill, for another GPU
    skillpm update --dry-run [--json]               # the plan, changing nothing

    Each skill is resolved again for its recorded requirement, and every chosen
    variant is checked before any is installed. update never moves a skill to a
    lower version: when its version was yanked and only lower ones are allowed,
    it keeps it and says how to move ('skillpm outdated' shows the same).
    """
    from skillpm.cache import ArtifactCache
    from skillpm.installing.pipeline import update as update_all
    from skillpm.requirements import normalize_name
    from skillpm.targets import parse_capability

    capability = parse_capability(arch) if arch else None
    chosen = [normalize_name(name) for name in names]
    if dry_run:
        _show_update_plan(project_lockfile(user), chosen, capability, as_json)
        return
    lockfile = project_lockfile(user)
    results = update_all(
        lockfile, names=chosen, capability=capability, cache=ArtifactCache(), force=force,
        allow_outside=allow_outside or user, attestations=_attestation_policy(policy),
    )
    if results or as_json:
        _report([result for _, result in results], as_json, "updated")
    else:
        notice("nothing to do: update installed no skill" if lockfile.exists() else _nothing_recorded(lockfile))


def _show_update_plan(lockfile_path: Path, names: list[str], capability: Capability | None, as_json: bool) -> None:
    """``update --dry-run``: each chosen skill, what it resolves to now, and what update would do."""
    from skillpm.installing.updates import preview
    from skillpm.registry.factory import open_locked_registry

    lockfile, steps = preview(lockfile_path, names=names, capability=capability, opener=open_locked_registry)
    if as_json:
        emit_json([step.to_json(lockfile) for step in steps])
        return
    if not steps:
        notice(_nothing_recorded(lockfile_path))
        return
    table(
        ["name", "installed", "resolves to", "update would"],
        [
            (step.skill.name, f"{step.skill.version} ({step.skill.target})",
             f"{step.resolution.version} ({step.resolution.variant.target})", step.action)
            for step in steps
        ],
    )
    for step in steps:
        if step.reason is not None:
            notice(step.reason)
