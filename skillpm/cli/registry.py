"""``skillpm registry``: create and maintain a registry in a local directory."""

from __future__ import annotations

from pathlib import Path

import click

from skillpm.cli.common import json_option
from skillpm.cli.output import emit_json

_DIR = click.Path(path_type=Path, file_okay=False)


@click.group()
def registry() -> None:
    """Create and maintain a static registry: plain files any web server can serve.

    \b
    skillpm registry init ./myreg
    skillpm registry add ./myreg dist/*.tar.gz
    skillpm registry yank ./myreg my-skill==1.0.0
    """


@registry.command()
@click.argument("directory", type=_DIR)
@click.option("--name", help="The registry's name (default: the directory's name).")
def init(directory: Path, name: str | None) -> None:
    """Create an empty registry in DIRECTORY."""
    from skillpm.registry.store import init as init_registry

    init_registry(directory, name=name)
    click.echo(f"created registry in {directory}")


@registry.command()
@click.argument("directory", type=_DIR)
@click.argument("archives", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@json_option
def add(directory: Path, archives: tuple[Path, ...], as_json: bool) -> None:
    """Publish variant archives (from 'skillpm pack') into the registry.

    All archives of one version must be added together; published versions
    are immutable.
    """
    from skillpm.registry.store import add as add_archives

    added = add_archives(directory, archives)
    if as_json:
        emit_json([vars(item) for item in added])
        return
    for item in added:
        state = "added" if item.new else "already published:"
        click.echo(f"{state} {item.name} {item.version} {item.target}  sha256:{item.sha256}")


@registry.command()
@click.argument("directory", type=_DIR)
@click.argument("requirement", metavar="NAME==VERSION")
@click.option("--target", help="Yank only this variant.")
@click.option("--undo", is_flag=True, help="Un-yank instead.")
def yank(directory: Path, requirement: str, target: str | None, undo: bool) -> None:
    """Mark a version (or one variant) yanked: installed only when pinned exactly."""
    from skillpm.errors import RequirementError
    from skillpm.registry.store import yank as yank_version
    from skillpm.requirements import parse_requirement

    parsed = parse_requirement(requirement)
    version = parsed.pinned_version
    if version is None:
        raise RequirementError(f"yank needs NAME==VERSION, got {requirement!r}")
    targets = yank_version(directory, parsed.name, version, target=target, undo=undo)
    click.echo(f"{'un-yanked' if undo else 'yanked'} {parsed.name} {version}: {', '.join(targets)}")


@registry.command()
@click.argument("directory", type=_DIR)
def rebuild(directory: Path) -> None:
    """Regenerate the index and search.json from the artifacts in DIRECTORY."""
    from skillpm.registry.store import rebuild as rebuild_index

    documents = rebuild_index(directory)
    click.echo(f"rebuilt the index of {directory}: {len(documents)} packages")
