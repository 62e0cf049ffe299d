"""``skillpm registry``: create and maintain a local registry, serve it, and configure remote ones."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from skillpm.cli.common import json_option, plain_http_option
from skillpm.cli.output import emit_json, notice, report, say
from skillpm.cli.registry_access import login, logout
from skillpm.cli.registry_mirror import pull, push
from skillpm.cli.registry_remotes import add_remote, list_, remove, trust

if TYPE_CHECKING:
    from skillpm.attest.keys import SigningKey

_DIR = click.Path(path_type=Path, file_okay=False)


def signing_options(command):
    """``--key`` and ``--expires-days``: how a write re-signs the index snapshot."""
    command = click.option(
        "--expires-days",
        type=click.IntRange(1, 36500),
        help="Days until the signed snapshot expires (clients refuse it after); default 365, "
        "or 30 while a key rotation is under way.",
    )(command)
    return click.option(
        "--key",
        "key_paths",
        multiple=True,
        type=click.Path(path_type=Path, dir_okay=False, exists=True),
        help="Private key that signs the index snapshot (default: $SKILLPM_INDEX_KEY); "
        "while a key rotation is under way, give it once for each index key.",
    )(command)


def _index_keys(key_paths: tuple[Path, ...], directory: Path) -> tuple[SigningKey, ...]:
    from skillpm.registry.store import load_index_keys

    return load_index_keys(key_paths, registry=directory)


class _Group(click.Group):
    """A group whose --help shows each command's whole first sentence, not one cut to the width."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl(
                [(name, self.commands[name].get_short_help_str(limit=500)) for name in sorted(self.commands)]
            )


@click.group(cls=_Group)
def registry() -> None:
    """Create and maintain a static registry: plain files any web server can serve.

    \b
    skillpm registry init ./myreg [--key index.key]
    skillpm registry add ./myreg dist/*.tar.gz [--key index.key]
    skillpm registry yank ./myreg my-skill==1.0.0
    skillpm registry rotate-key ./myreg --new-key new.key --key index.key
    skillpm registry build ./myreg
    skillpm registry serve ./myreg --port 8000
    skillpm registry open
    skillpm registry add-remote team https://skills.example.org/registry --priority 10
    skillpm registry login team
    skillpm registry list
    skillpm registry push ./myreg oci://ghcr.io/my-org/skills
    skillpm registry pull oci://ghcr.io/my-org/skills ./mirror my-skill
    """


@registry.command()
@click.argument("directory", type=_DIR)
@click.option("--name", help="The registry's name (default: the directory's name).")
@signing_options
@json_option
def init(
    directory: Path, name: str | None, key_paths: tuple[Path, ...], expires_days: int | None, as_json: bool
) -> None:
    """Create an empty registry in DIRECTORY (with --key: a signed index)."""
    from skillpm.registry.store import init as init_registry

    config = init_registry(directory, name=name, keys=_index_keys(key_paths, directory), expires_days=expires_days)
    signed = f"; index signed with key {', '.join(config.index_keys)}" if config.index_keys else ""
    report(
        as_json,
        {"directory": str(directory), "name": config.name, "index_keys": list(config.index_keys)},
        f"created registry in {directory}{signed}",
    )


@registry.command()
@click.argument("directory", type=_DIR)
@click.argument("archives", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@signing_options
@json_option
def add(
    directory: Path, archives: tuple[Path, ...], key_paths: tuple[Path, ...], expires_days: int | None, as_json: bool
) -> None:
    """Publish variant archives (from 'skillpm pack') into the registry.

    All archives of one version must be added together; published versions
    are immutable.
    """
    from skillpm.registry.store import add as add_archives

    added = add_archives(directory, archives, keys=_index_keys(key_paths, directory), expires_days=expires_days)
    if as_json:
        emit_json([item._asdict() for item in added])
        return
    for item in added:
        state = "added" if item.new else "already published:"
        say(f"{state} {item.name} {item.version} {item.target}  sha256:{item.sha256}")


@registry.command()
@click.argument("location", metavar="DIR|oci://HOST/NAMESPACE|NAME")
@click.argument("requirement", metavar="NAME==VERSION")
@click.option("--target", metavar="TARGET", help="Yank only this variant (default: every variant).")
@click.option("--undo", is_flag=True, help="Un-yank instead.")
@signing_options
@plain_http_option
@json_option
def yank(
    location: str,
    requirement: str,
    target: str | None,
    undo: bool,
    key_paths: tuple[Path, ...],
    expires_days: int | None,
    as_json: bool,
) -> None:
    """Mark a version (or one variant) yanked: installed only when pinned exactly.

    \b
    skillpm registry yank ./myreg my-skill==1.0.0
    skillpm registry yank oci://ghcr.io/my-org/skills my-skill==1.0.0 --target sm_90a
    skillpm registry yank ./myreg my-skill==1.0.0 --undo

    The registry is a static registry's folder (its index is signed again, with
    --key), or an OCI registry, oci://HOST/NAMESPACE or the name of a configured
    one (its version's tag moves to an index that says so).
    """
    from skillpm.errors import RegistryError, RequirementError
    from skillpm.registry.factory import oci_url
    from skillpm.requirements import parse_requirement

    parsed = parse_requirement(requirement)
    version = parsed.pinned_version
    if version is None:
        raise RequirementError(
            f"yank needs NAME==VERSION, got {requirement!r}",
            hint=f"e.g. {parsed.name}==1.0.0; 'skillpm info {parsed.name} --registry {location}' lists versions",
        )
    if oci_url(location):
        from skillpm.registry.factory import open_oci_registry
        from skillpm.registry.oci.registry import yank_version as yank_oci

        if key_paths:
            raise RegistryError("--key signs a static registry's index; an OCI registry's tags are not signed",
                                hint="leave out --key")
        targets = yank_oci(open_oci_registry(location), parsed.name, version, target=target, undo=undo)
    else:
        from skillpm.registry.store import yank as yank_static

        targets = yank_static(Path(location), parsed.name, version, target=target, undo=undo,
                              keys=_index_keys(key_paths, Path(location)), expires_days=expires_days)
    report(
        as_json,
        {"name": parsed.name, "version": version, "targets": list(targets), "yanked": not undo},
        f"{'un-yanked' if undo else 'yanked'} {parsed.name} {version}: {', '.join(targets)}",
    )


@registry.command()
@click.argument("directory", type=_DIR)
@signing_options
@json_option
def rebuild(directory: Path, key_paths: tuple[Path, ...], expires_days: int | None, as_json: bool) -> None:
    """Regenerate the index and search.json from the artifacts in DIRECTORY (and re-sign it)."""
    from skillpm.registry.store import rebuild as rebuild_index

    documents = rebuild_index(directory, keys=_index_keys(key_paths, directory), expires_days=expires_days)
    report(
        as_json,
        {"directory": str(directory), "packages": [document.name for document in documents]},
        f"rebuilt the index of {directory}: {len(documents)} package(s)",
    )


@registry.command(name="rotate-key")
@click.argument("directory", type=_DIR)
@click.option(
    "--new-key",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Private key to add: the index is signed by it and the current keys until one is retired.",
)
@click.option("--retire", metavar="FINGERPRINT", help="Stop listing and signing with this index key.")
@signing_options
@json_option
def rotate_key(
    directory: Path,
    new_key: Path | None,
    retire: str | None,
    key_paths: tuple[Path, ...],
    expires_days: int | None,
    as_json: bool,
) -> None:
    """Rotate the index key of DIRECTORY without breaking its clients' pins.

    \b
    skillpm registry rotate-key ./myreg --new-key new.key --key old.key
    skillpm registry add ./myreg dist/*.tar.gz --key old.key --key new.key
    skillpm registry rotate-key ./myreg --retire OLD_FINGERPRINT --key new.key

    While both keys sign the index, a client pinned to the old key pins the new one
    at its next read; retire the old key once your clients have read the registry
    (at once if it was stolen). Meanwhile each snapshot vouches for the old key, so it
    expires in 30 days unless --expires-days says otherwise.
    """
    from skillpm.index.snapshot import ROTATION_EXPIRES_DAYS
    from skillpm.registry import store

    keys = _index_keys(key_paths, directory)
    if new_key is not None and retire is None:
        (added,) = _index_keys((new_key,), directory)
        config = store.add_index_key(directory, added, keys=keys, expires_days=expires_days)
        text = f"added index key {added.fingerprint} to {directory}: {len(config.index_keys)} keys sign the index"
        report(as_json, {"added": added.fingerprint, "index_keys": list(config.index_keys)}, text)
        notice(
            "every write now needs every key (--key once for each), and its snapshot expires in "
            f"{ROTATION_EXPIRES_DAYS} days unless --expires-days says otherwise; end the rotation with "
            f"'skillpm registry rotate-key {directory} --retire {config.index_keys[0]}'"
        )
    elif retire is not None and new_key is None:
        config = store.retire_index_key(directory, retire, keys=keys, expires_days=expires_days)
        text = f"retired index key {retire} of {directory}; the index is signed by {', '.join(config.index_keys)}"
        report(as_json, {"retired": retire, "index_keys": list(config.index_keys)}, text)
    else:
        raise click.UsageError("give --new-key KEYFILE or --retire FINGERPRINT")


@registry.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option(
    "--trusted-key",
    "trusted_keys",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Public key (PEM) whose signatures the pages report as verified, beside your policy file's.",
)
@json_option
def build(directory: Path, trusted_keys: tuple[Path, ...], as_json: bool) -> None:
    """(Re)write the registry's web pages: index.html and pages/ (every write updates them too).

    \b
    skillpm registry build ./myreg --trusted-key publisher.pub
    skillpm registry serve ./myreg      # then open the URL it prints
    """
    from skillpm.pages.writer import write_pages
    from skillpm.registry.store.journal import writing

    with writing(directory):  # under the lock every writer takes, a killed write finished first
        written = write_pages(directory, trusted_keys=trusted_keys)
    report(
        as_json,
        {"directory": str(directory), "written": written},
        f"wrote {len(written)} page file(s) in {directory} (unchanged ones kept); open index.html",
    )


def _serve(directory: Path, *, port: int, bind: str, log: bool, label: str) -> None:
    """Serve ``directory`` read-only until Ctrl-C, printing its URL first."""
    from skillpm.registry.serve import StaticHandler, make_server, server_url

    handler = type("Handler", (StaticHandler,), {"quiet": not log})
    try:
        server = make_server(directory.resolve(), bind=bind, port=port, handler=handler)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {bind}:{port}: {error.strerror or error}") from None
    with server:
        say(f"serving {label} at {server_url(server)}/  (Ctrl-C to stop)")
        say(f"  pages: {server_url(server)}/index.html", err=True)
        say(f"  skillpm install NAME --registry {server_url(server)}/", err=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            say("stopped", err=True)


@registry.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--embedded", is_flag=True, help="Serve the registry shipped with skillpm (and its pages).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0: any free port.")
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--log", is_flag=True, help="Log every request on stderr.")
def serve(directory: Path | None, embedded: bool, port: int, bind: str, log: bool) -> None:
    """Serve DIRECTORY (or --embedded) read-only over HTTP, pages included, until Ctrl-C."""
    from skillpm.registry.factory import embedded_registry_path

    if (directory is None) == (not embedded):
        raise click.UsageError("give DIRECTORY or --embedded")
    label = "the embedded registry" if embedded else str(directory)
    _serve(directory or embedded_registry_path(), port=port, bind=bind, log=log, label=label)


@registry.command(name="open")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0: any free port.")
def open_(port: int) -> None:
    """Show the embedded registry's pages: serve them on 127.0.0.1 and print the URL to open."""
    from skillpm.registry.factory import embedded_registry_path

    _serve(embedded_registry_path(), port=port, bind="127.0.0.1", log=False, label="the embedded registry")


for command in (list_, add_remote, trust, remove, login, logout, push, pull):
    registry.add_command(command)
