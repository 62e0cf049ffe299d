"""``skillpm registry list/add-remote/trust/remove``: the registries a user has configured, and their index keys."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from skillpm.cli.common import json_option
from skillpm.cli.output import emit_json, notice, report, table

if TYPE_CHECKING:
    from skillpm.registry.trust import Trusted


@click.command(name="list")
@json_option
def list_(as_json: bool) -> None:
    """List the configured registries, in the order packages are looked up.

    They are kept in config.toml in the user's config folder ($SKILLPM_CONFIG
    overrides); 'registry add-remote' and 'registry remove' edit it.
    """
    from skillpm.registry.config import config_path, load_registries

    rows = [{"name": r.name, "url": r.url, "priority": r.priority, "plain_http": r.plain_http} for r in load_registries()]
    rows.append({"name": "embedded", "url": "embedded", "priority": None, "plain_http": False})
    if as_json:
        emit_json(rows)
        return
    order = ["last" if r["priority"] is None else r["priority"] for r in rows]
    table(["name", "priority", "url"], [(r["name"], rank, r["url"]) for r, rank in zip(rows, order)])
    notice(f"configured in {config_path()}")


@click.command(name="add-remote")
@click.argument("name")
@click.argument("url")
@click.option("--priority", type=int, default=0, show_default=True, help="Higher is looked up first; the embedded registry counts as 0 (below 0: after it).")
@click.option(
    "--index-key",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Public key (PEM) that signs the registry's index: pinned now instead of on first use.",
)
@click.option("--plain-http", is_flag=True, help="oci:// only: speak to this registry over plain HTTP, without TLS.")
@json_option
def add_remote(name: str, url: str, priority: int, index_key: Path | None, plain_http: bool, as_json: bool) -> None:
    """Configure registry NAME at URL (https://, http://localhost, oci://, file:// or a directory).

    \b
    skillpm registry add-remote team https://skills.example.org/registry --priority 10
    skillpm registry add-remote local ./myreg      # kept as an absolute file:// URL
    skillpm registry add-remote ghcr oci://ghcr.io/my-org/skills

    Then 'skillpm install NAME --registry team', or plain 'skillpm install NAME':
    configured registries are looked up by priority, the built-in one last.
    """
    from skillpm.registry.config import config_path
    from skillpm.registry.configure import add_registry, remove_registry

    if index_key is not None and url.startswith("oci://"):
        raise click.UsageError("--index-key pins a static registry's index key; an oci:// registry has no index to sign")
    added = add_registry(name, url, priority=priority, plain_http=plain_http)
    try:
        trusted = None if index_key is None else _pin(added.url, index_key)
    except BaseException:
        remove_registry(added.name)  # a key that cannot be pinned adds nothing
        raise
    text = f"added registry {added.name} -> {added.url} (priority {added.priority}) to {config_path()}"
    report(
        as_json,
        {"name": added.name, "url": added.url, "priority": added.priority,
         "index_key": None if trusted is None else trusted.fingerprint},
        text if trusted is None else f"{text}; trusting index key {trusted.fingerprint}",
    )


@click.command()
@click.argument("location")
@click.option(
    "--index-key",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Public key (PEM) to trust for the registry's index, replacing (and revoking) any pinned one.",
)
@click.option(
    "--forget",
    is_flag=True,
    help="Forget the pinned key (the next use trusts the registry's key, unless revoked) and how the registry "
    "was last read online (--offline refuses it until it is read online again).",
)
@json_option
def trust(location: str, index_key: Path | None, forget: bool, as_json: bool) -> None:
    """Pin (or forget) the key that signs LOCATION's index: a URL, a directory or a configured name.

    The keys --index-key replaces are revoked for LOCATION: no signed index brings one back.
    The registry's current index is checked with the key and becomes the oldest one accepted;
    when that cannot be done, a warning says why and the key is pinned all the same.
    """
    from skillpm.registry import seen
    from skillpm.registry.factory import registry_label
    from skillpm.registry.pins import PinStore

    if (index_key is None) == (not forget):
        raise click.UsageError("give --index-key PUBFILE or --forget")
    label = registry_label(location)
    if index_key is not None:
        trusted = _pin(label, index_key)
        data = {"registry": label, "index_key": trusted.fingerprint, "version": trusted.version,
                "verified": trusted.verified, "revoked": list(trusted.revoked)}
        report(as_json, data, f"trusting index key {trusted.fingerprint} for {label}")
        return
    # How it was read online is forgotten first: should forgetting the pin then fail, offline reads
    # refuse more than before, never less.
    read = seen.forget(label)
    forgotten = PinStore().forget(label)
    text = f"forgot the index key of {label}" if forgotten else f"no index key was pinned for {label}"
    if read:
        text += "; forgot how it was last read online: --offline refuses it until it is read online again"
    report(as_json, {"registry": label, "forgotten": forgotten, "online_read_forgotten": read}, text)


def _pin(label: str, public_key: Path) -> Trusted:
    """Trust ``public_key`` for the index of the registry ``label``, checked against its current index.

    Says on stderr which keys it no longer trusts, and whether the registry's current snapshot
    verified with the key (its version is then the newest a mirror may serve no older than).
    """
    from skillpm.reading import MAX_KEY_SIZE, problem, read_at_most
    from skillpm.registry.factory import index_guard
    from skillpm.registry.trust import pin_key

    try:
        pem = read_at_most(public_key, MAX_KEY_SIZE)
    except (OSError, ValueError) as error:
        raise click.ClickException(f"cannot read {public_key}: {problem(error)}") from None
    guard = index_guard(label)
    trusted = pin_key(label, pem) if guard is None else guard.trust(pem)
    if trusted.revoked:
        notice(f"no longer trusting index key {', '.join(fp[:16] + '...' for fp in trusted.revoked)} for {label}")
    if trusted.verified:
        notice(f"the registry's current index (version {trusted.version}) is signed by it; older ones are refused")
    elif trusted.problem is not None:
        notice(
            "warning: the key is pinned, but the registry's current index could not be checked with it: "
            f"{trusted.problem}; the newest index version seen stays {trusted.version}"
        )
    return trusted


@click.command(name="remove")
@click.argument("name")
@json_option
def remove(name: str, as_json: bool) -> None:
    """Forget the configured registry NAME (its cached documents stay until cleared)."""
    from skillpm.registry.config import config_path
    from skillpm.registry.configure import remove_registry

    removed = remove_registry(name)
    report(
        as_json,
        {"name": removed.name, "url": removed.url, "priority": removed.priority},
        f"removed registry {removed.name} ({removed.url}) from {config_path()}",
    )
