"""Commands that read a registry and change nothing: resolve, info, search."""

from __future__ import annotations

import click

from skillpm.cli.common import arch_option, choose_capability, json_option, registry_option
from skillpm.cli.output import emit_json, notice, table


@click.command()
@click.argument("requirement")
@arch_option
@registry_option
@click.option("--explain", is_flag=True, help="List every candidate and why it was taken or skipped.")
@json_option
def resolve(requirement: str, arch: str | None, registry: str | None, explain: bool, as_json: bool) -> None:
    """Show what 'install' would choose for REQUIREMENT, installing nothing.

    REQUIREMENT is a name with an optional PEP 440 specifier, e.g.
    kernel-builder-cuda or 'kernel-builder-cuda>=0.1,<1'.

    \b
    skillpm resolve kernel-builder-cuda --arch 8.6 --explain
    """
    from skillpm.registry.source import open_registry
    from skillpm.requirements import parse_requirement
    from skillpm.resolve import NoMatch
    from skillpm.resolve import resolve as resolve_variant

    parsed = parse_requirement(requirement)
    capability = choose_capability(arch, quiet=as_json)
    source = open_registry(registry)
    try:
        resolution = resolve_variant(source.require_package(parsed.name), parsed, capability)
    except NoMatch as failure:
        if explain and not as_json:
            _print_candidates(failure.candidates)
        raise
    if as_json:
        data = resolution.to_json()
        data["registry"] = source.label
        if explain:
            data["candidates"] = [candidate.to_json() for candidate in resolution.candidates]
        emit_json(data)
        return
    variant = resolution.variant
    click.echo(f"{resolution.name} {resolution.version} {variant.target}  sha256:{variant.sha256}")
    if explain:
        _print_candidates(resolution.candidates)


def _print_candidates(candidates) -> None:
    table(
        ["version", "target", "decision"],
        [(c.version, c.target, c.reason) for c in candidates],
    )


@click.command()
@click.argument("name")
@registry_option
@json_option
def info(name: str, registry: str | None, as_json: bool) -> None:
    """Show a package's versions, variants and evidence."""
    from skillpm.registry.source import open_registry

    source = open_registry(registry)
    document = source.require_package(name)
    if as_json:
        emit_json({"registry": source.label, **document.to_json()})
        return
    latest = document.versions[-1] if document.versions else None
    click.echo(f"{document.name}  ({source.label})")
    if latest is not None:
        click.echo(f"  {latest.description}")
        if latest.license:
            click.echo(f"  license: {latest.license}")
        if latest.keywords:
            click.echo(f"  keywords: {', '.join(latest.keywords)}")
    rows = [
        (
            entry.version,
            variant.target,
            variant.size,
            variant.sha256[:16],
            "yes" if variant.yanked else "",
            len(variant.attestations) or "none",
        )
        for entry in document.versions
        for variant in entry.variants
    ]
    table(["version", "target", "bytes", "sha256", "yanked", "evidence"], rows)


@click.command()
@click.argument("words", nargs=-1, required=True)
@registry_option
@json_option
def search(words: tuple[str, ...], registry: str | None, as_json: bool) -> None:
    """Find packages whose name, description or keywords contain every one of WORDS."""
    from skillpm.index.model import search as search_index
    from skillpm.registry.source import open_registry

    source = open_registry(registry)
    found = search_index(source.search_entries(), list(words))
    if as_json:
        emit_json([entry.to_json() for entry in found])
        return
    if not found:
        notice(f"no package matches {' '.join(words)!r} in {source.label}")
        return
    table(
        ["name", "version", "targets", "description"],
        [(e.name, e.version, ",".join(e.targets), e.description[:70]) for e in found],
    )
