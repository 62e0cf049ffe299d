"""``skillpm registry``: create and maintain a local registry, serve it, and configure remote ones."""

from __future__ import annotations

from pathlib import Path

import click

from skillpm.cli.common import json_option
from skillpm.cli.output import emit_json, notice, table

_DIR = click.Path(path_type=Path, file_okay=False)


@click.group()
def registry() -> None:
    """Create and maintain a static registry: plain files any web server can serve.

    \b
    skillpm registry init ./myreg
    skillpm registry add ./myreg dist/*.tar.gz
    skillpm registry yank ./myreg my-skill==1.0.0
    skillpm registry serve ./myreg --port 8000
    skillpm registry add-remote team https://skills.example.org/registry --priority 10
    skillpm registry list
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


@registry.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0: any free port.")
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--log", is_flag=True, help="Log every request on stderr.")
def serve(directory: Path, port: int, bind: str, log: bool) -> None:
    """Serve DIRECTORY read-only over HTTP (to try a registry out) until Ctrl-C."""
    from skillpm.registry.http import StaticHandler, make_server, server_url

    handler = type("Handler", (StaticHandler,), {"quiet": not log})
    try:
        server = make_server(directory.resolve(), bind=bind, port=port, handler=handler)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {bind}:{port}: {error.strerror or error}") from None
    with server:
        click.echo(f"serving {directory} at {server_url(server)}/  (Ctrl-C to stop)")
        click.echo(f"  skillpm install NAME --registry {server_url(server)}/", err=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            click.echo("stopped", err=True)


@registry.command(name="list")
@json_option
def list_(as_json: bool) -> None:
    """List the configured registries, in the order packages are looked up."""
    from skillpm.registry.config import config_path, load_registries

    rows = [{"name": r.name, "url": r.url, "priority": r.priority} for r in load_registries()]
    rows.append({"name": "embedded", "url": "embedded", "priority": None})
    if as_json:
        emit_json(rows)
        return
    order = ["last" if r["priority"] is None else r["priority"] for r in rows]
    table(["name", "priority", "url"], [(r["name"], rank, r["url"]) for r, rank in zip(rows, order)])
    notice(f"configured in {config_path()}")


@registry.command(name="add-remote")
@click.argument("name")
@click.argument("url")
@click.option("--priority", type=int, default=0, show_default=True, help="Higher is looked up first.")
def add_remote(name: str, url: str, priority: int) -> None:
    """Configure registry NAME at URL (https://, http://localhost, file:// or a directory)."""
    from skillpm.registry.config import add_registry, config_path

    added = add_registry(name, url, priority=priority)
    click.echo(f"added registry {added.name} -> {added.url} (priority {added.priority}) to {config_path()}")


@registry.command(name="remove")
@click.argument("name")
def remove(name: str) -> None:
    """Forget the configured registry NAME (its cached documents stay until cleared)."""
    from skillpm.registry.config import config_path, remove_registry

    removed = remove_registry(name)
    click.echo(f"removed registry {removed.name} ({removed.url}) from {config_path()}")
