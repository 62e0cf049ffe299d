"""``skillpm registry push`` and ``pull``: copy packages between a static registry and an OCI registry."""

from __future__ import annotations

from pathlib import Path

import click

from skillpm.cli.common import json_option, plain_http_option
from skillpm.cli.output import emit_json, notice, say


@click.command()
@click.argument("source", metavar="STATIC")
@click.argument("destination", metavar="oci://HOST/NAMESPACE|NAME")
@click.argument("names", nargs=-1, metavar="[NAME...]")
@plain_http_option
@json_option
def push(source: str, destination: str, names: tuple[str, ...], as_json: bool) -> None:
    """Copy packages (all, or NAMEs) from a static registry to an OCI registry, digests unchanged.

    \b
    skillpm registry push ./myreg oci://ghcr.io/my-org/skills
    skillpm registry push embedded oci://127.0.0.1:5000/skills kernel-builder-cuda

    STATIC is a directory, a URL or a configured name. Each version goes up blobs first
    and its tag last; a tag that already holds other archives is refused before anything
    is pushed, one with the same archives gains the attestations it lacks.
    """
    from skillpm.registry.factory import open_locked_registry, open_oci_registry
    from skillpm.registry.oci.mirror import push_packages

    static = open_locked_registry(source)
    oci = open_oci_registry(destination)
    chosen = list(names) or [entry.name for entry in static.search_entries()]
    pushed = push_packages(static, oci, chosen, progress=notice)
    if as_json:
        emit_json({"registry": oci.label, "versions": [item.to_json() for item in pushed]})
        return
    for item in pushed:
        where = f"{oci.label}/{item.name}"
        changes = [f"yanked {', '.join(item.yanked)}"] if item.yanked else []
        if item.attached:
            changes.append(f"{len(item.attached)} new attestation{'s' if len(item.attached) > 1 else ''}")
        if item.new:
            say(f"pushed {item.name} {item.version} ({', '.join(item.targets)}) -> {where}")
        elif changes:
            say(f"updated the tag of {item.name} {item.version} ({'; '.join(changes)}) -> {where}")
        else:
            say(f"already pushed: {item.name} {item.version} ({', '.join(item.targets)}) -> {where}")


@click.command()
@click.argument("source", metavar="oci://HOST/NAMESPACE|NAME")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.argument("names", nargs=-1, metavar="[NAME...]")
@click.option(
    "--key", "key_paths", multiple=True, type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Private key that signs DIRECTORY's index snapshot (default: $SKILLPM_INDEX_KEY).",
)
@plain_http_option
@json_option
def pull(source: str, directory: Path, names: tuple[str, ...], key_paths: tuple[Path, ...], as_json: bool) -> None:
    """Copy packages (all, or NAMEs) from an OCI registry into a static registry DIRECTORY, digests unchanged.

    \b
    skillpm registry pull oci://ghcr.io/my-org/skills ./mirror my-skill other-skill
    skillpm registry pull oci://127.0.0.1:5000/skills ./mirror     # every package it lists

    Everything is downloaded (streamed into DIRECTORY/.skillpm-incoming, not held in memory)
    and checked before DIRECTORY's registry is written, then written all or nothing (a new or
    empty DIRECTORY becomes a registry). Without NAMEs, the packages are the
    repositories under NAMESPACE the registry lists (not every registry lists them:
    ghcr.io does not; name them there).
    """
    from skillpm.registry.factory import open_oci_registry
    from skillpm.registry.oci.mirror import pull_packages
    from skillpm.registry.store import load_index_keys

    oci = open_oci_registry(source)
    chosen = list(names) or oci.package_names()
    added = pull_packages(oci, directory, chosen, keys=load_index_keys(key_paths, registry=directory), progress=notice)
    if as_json:
        emit_json({"directory": str(directory), "variants": [item._asdict() for item in added]})
        return
    for item in added:
        state = "added" if item.new else "already present:"
        say(f"{state} {item.name} {item.version} {item.target}  sha256:{item.sha256}")
        if not item.new:  # new evidence for a version the mirror had: say what was attached
            for attestation in item.attestations:
                say(f"  attached {attestation.path}  ({attestation.predicate_type})")
