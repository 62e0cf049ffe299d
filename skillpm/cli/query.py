"""Commands that read a registry and change nothing: resolve, info, search."""

from __future__ import annotations

import click

from skillpm.cli.common import (
    arch_option,
    choose_capability,
    json_option,
    registry_option,
)
from skillpm.cli.output import emit_json, notice, say, table
from skillpm.display import clean

#: How much of a description (or a keyword list, or a problem) the text output shows.
DESCRIPTION = 500


@click.command()
@click.argument("requirement")
@arch_option()
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
    from skillpm.registry.factory import open_registry
    from skillpm.requirements import parse_requirement
    from skillpm.resolve import NoMatch
    from skillpm.resolve import resolve as resolve_variant

    parsed = parse_requirement(requirement)
    capability = choose_capability(arch, quiet=as_json)
    source, listing = open_registry(registry).locate(parsed.name)
    try:
        resolution = resolve_variant(listing, parsed, capability)
    except NoMatch as failure:
        if explain and as_json:
            failure.details["candidates"] = [candidate.to_json() for candidate in failure.candidates]
        elif explain:
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
    say(" ".join(clean(field) for field in (resolution.name, resolution.version, variant.target))
        + f"  sha256:{clean(variant.sha256)}")
    if explain:
        _print_candidates(resolution.candidates)


def _print_candidates(candidates) -> None:
    table(
        ["version", "target", "decision"],
        [(c.version, "-" if c.target is None else c.target, c.reason) for c in candidates],
    )


@click.command()
@click.argument("requirement", metavar="NAME[SPECIFIER]")
@registry_option
@json_option
def info(requirement: str, registry: str | None, as_json: bool) -> None:
    """Show a package's versions, variants and evidence.

    \b
    skillpm info kernel-builder-cuda
    skillpm info kernel-builder-cuda==0.1.0      # one version (or any PEP 440 specifier)
    skillpm info my-skill --registry ./myreg --json

    Each attestation is verified (with the policy files and the registry's own
    trust, as install does) and shown with what its evidence says and who signed it.
    Eval evidence is checked against the test set its archive records when the archive
    is at hand (the download cache, or a registry folder); else it is shown as not
    verified ('test set not checked': 'skillpm verify' fetches the archive).
    """
    from skillpm.attest.variants import KINDS
    from skillpm.errors import ResolutionError
    from skillpm.index.model import PackageDocument
    from skillpm.registry.factory import open_registry
    from skillpm.requirements import parse_requirement
    from skillpm.resolve import matching_versions

    parsed = parse_requirement(requirement)
    source, listing = open_registry(registry).locate(parsed.name)
    if parsed.specifier is None:
        document = listing.document()
    else:
        document = PackageDocument(listing.name, tuple(matching_versions(listing, parsed)))
        if not document.versions:
            raise ResolutionError(f"no version of {parsed.name} matches {requirement!r} in {source.label}")
    from skillpm.attest.measured import measured

    reports = _reports(source, document)
    evidence = _evidence(reports)
    shows = [{"version": r.version, "target": r.target, "kind": kind, "shows": text}
             for r in reports for kind, text in measured(r)]
    if as_json:
        emit_json({"registry": source.label, **document.to_json(), "evidence": evidence, "measured": shows})
        return
    latest = document.versions[-1] if document.versions else None
    say(f"{clean(document.name)}  ({clean(source.label)})")
    if latest is not None:
        say(f"  {clean(latest.description, DESCRIPTION)}")
        if latest.license:
            say(f"  license: {clean(latest.license)}")
        if latest.keywords:
            say(f"  keywords: {clean(', '.join(latest.keywords), DESCRIPTION)}")
    rows = [
        (
            entry.version,
            variant.target,
            variant.size,
            variant.sha256[:16],
            "yes" if variant.yanked else "",
            ", ".join(KINDS.get(a.predicate_type, "other") for a in variant.attestations) or "none yet",
        )
        for entry in document.versions
        for variant in entry.variants
    ]
    table(["version", "target", "bytes", "sha256", "yanked", "evidence"], rows)
    if not evidence:
        say("evidence: none yet (no variant carries a signed evaluation, benchmark or static kernel count)")
    for item in evidence:
        if item["verified"] and latest is not None and item["version"] == latest.version:
            continue  # the latest version's verified evidence is shown, with its signer, under "measured"
        state = "verified" if item["verified"] else f"NOT verified: {clean(item['problem'], DESCRIPTION)}"
        fields = (clean(item[key]) for key in ("version", "target", "summary", "signer"))
        say("  {} {} {}; signed by {} ({})".format(*fields, state))
    if latest is not None:
        say(f"measured ({clean(latest.version)}):")
        for item in shows:
            if item["version"] == latest.version:
                say(f"  {clean(item['target']):8} {item['kind']}: {clean(item['shows'], DESCRIPTION)}")


def _reports(source, document) -> list:
    """Each variant's attestations, verified under the effective policy (no policy is loaded when none has any)."""
    from skillpm.attest.variants import VariantReport

    if not any(variant.attestations for entry in document.versions for variant in entry.variants):
        return [VariantReport(document.name, entry.version, variant.target, variant.sha256, (), ())
                for entry in document.versions for variant in entry.variants]
    from pathlib import Path

    from skillpm.attest.batch import verify_variants
    from skillpm.attest.variants import archive_at_hand, effective_policy, has_eval_evidence
    from skillpm.project import find_project_root
    from skillpm.registry.directory import LocalRegistry

    policy = effective_policy(source.label, project_root=find_project_root(Path.cwd()))
    local = isinstance(source, LocalRegistry)  # its archives are files here: as cheap to read as the cache
    # eval evidence is checked against the test set its archive records
    return verify_variants(source, document.name, [(entry.version, variant) for entry in document.versions
                                                   for variant in entry.variants],
                           policy=policy, archive=lambda variant: archive_at_hand(source, variant, fetch=local),
                           wanted=has_eval_evidence)


def _evidence(reports) -> list[dict[str, object]]:
    """Each attestation of each variant: what it says, who signed it, whether it verifies."""
    from skillpm.attest.measured import summary
    from skillpm.attest.variants import KINDS

    items = []
    for report in reports:
        for attestation in report.attestations:
            failed = attestation.first_failure()
            statement = attestation.statement
            items.append({
                "version": report.version,
                "target": report.target,
                "path": attestation.path,
                "predicate-type": attestation.predicate_type,
                "summary": summary(statement) if statement else KINDS.get(attestation.predicate_type, "evidence"),
                "signer": attestation.signer(),
                "verified": attestation.ok,
                "problem": f"{failed.name}: {failed.detail}" if failed else None,
            })
    return items


@click.command()
@click.argument("words", nargs=-1, required=True)
@registry_option
@json_option
def search(words: tuple[str, ...], registry: str | None, as_json: bool) -> None:
    """Find packages whose name, description or keywords contain every one of WORDS.

    \b
    skillpm search cuda kernels
    skillpm search layernorm --registry team --json
    """
    from skillpm.index.model import search as search_index
    from skillpm.registry.factory import open_registry

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
        [(e.name, e.version, ",".join(e.targets), clean(e.description, 70)) for e in found],
    )
