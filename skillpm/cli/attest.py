"""Commands for signed evidence: keygen, publish, attest, verify."""

from __future__ import annotations

from pathlib import Path

import click

from skillpm.cli.common import arch_option, json_option, links_within_option, plain_http_option, registry_option
from skillpm.cli.output import emit_json, notice, say, table, warn_of
from skillpm.display import clean

#: How much of a check's detail the verify table shows (--json has all of it).
DETAIL = 600


def signing_options(command):
    """``--sign``, ``--identity-token`` and ``--staging``: how publish and attest sign evidence."""
    for option in reversed([
        click.option("--sign", "sign", metavar="key:PATH|sigstore", help="Sign the evidence with a key file, or keyless with Sigstore."),
        click.option("--identity-token", envvar="SIGSTORE_ID_TOKEN", metavar="TOKEN", help="OIDC token for --sign sigstore (default: $SIGSTORE_ID_TOKEN, else an ambient CI identity)."),
        click.option("--staging", is_flag=True, help="With --sign sigstore: use Sigstore's staging instance."),
    ]):
        command = option(command)
    return command


@click.command()
@click.option("-o", "--output", "path", required=True, type=click.Path(path_type=Path), help="Private key file to write.")
@click.option(
    "--algorithm",
    type=click.Choice(["ed25519", "p256"]),
    default="ed25519",
    show_default=True,
    help="Ed25519, or ECDSA P-256 with SHA-256.",
)
@json_option
def keygen(path: Path, algorithm: str, as_json: bool) -> None:
    """Make a signing key pair: PATH (private, mode 0600) and PATH.pub.

    \b
    skillpm keygen -o ~/.skillpm/keys/me
    SKILLPM_SIGNING_KEY_PASSPHRASE=... skillpm keygen -o keys/ci --algorithm p256

    An existing file is never overwritten. The private key is encrypted with $SKILLPM_SIGNING_KEY_PASSPHRASE when it is set.
    Give PATH.pub (or its fingerprint) to whoever installs what you sign.
    """
    from skillpm.attest.keys import ECDSA_P256, ED25519, passphrase_from_env
    from skillpm.attest.keys import keygen as generate

    passphrase = passphrase_from_env()
    made = generate(path.expanduser(), algorithm=ED25519 if algorithm == "ed25519" else ECDSA_P256, passphrase=passphrase)
    if as_json:
        emit_json({"private": str(made.private_path), "public": str(made.public_path),
                   "algorithm": made.algorithm, "fingerprint": made.fingerprint, "encrypted": passphrase is not None})
        return
    say(f"wrote {made.private_path} ({made.algorithm}, {'encrypted' if passphrase else 'not encrypted'})")
    say(f"wrote {made.public_path}")
    say(f"fingerprint {made.fingerprint}")


@click.command()
@click.argument("source", type=click.Path(path_type=Path, file_okay=False))
@click.option("--registry", "registry", required=True, metavar="DIR|oci://HOST/NAMESPACE|NAME", help="Registry to publish into: a directory, an OCI registry, or the name of a configured OCI registry.")
@click.option("--evidence", "evidence", multiple=True, type=click.Path(path_type=Path), help="An eval, bench or static-kernel evidence file (repeatable).")
@signing_options
@links_within_option
@plain_http_option
@json_option
def publish(
    source: Path,
    registry: str,
    evidence: tuple[Path, ...],
    sign: str | None,
    identity_token: str | None,
    staging: bool,
    links_within: Path | None,
    as_json: bool,
) -> None:
    """Pack SOURCE and publish its variants into a registry, with signed evidence.

    \b
    skillpm publish my-skill --registry ./myreg
    skillpm publish my-skill --registry ./myreg --evidence eval.json --evidence bench.json --sign key:~/.skillpm/keys/me
    skillpm publish my-skill --registry ./myreg --evidence eval.json --sign sigstore   # keyless, online
    skillpm publish my-skill --registry oci://ghcr.io/my-org/skills --evidence eval.json --sign key:me.key

    SOURCE is a skill source or a plain SKILL.md folder (packed as 'skillpm pack'
    does, --links-within too). Each evidence file names the archive it is about
    (skill.target and skill.artifact_sha256); evidence that matches no variant is
    refused. Nothing is written unless everything is valid and signed. Publishing a
    version again with the same archives adds new attestations to it; other archives
    are refused. An oci:// registry gets blobs, manifests and evidence first and the
    version's tag last (docs/oci.md).
    """
    from skillpm.publish import parse_signer, publish_to_oci
    from skillpm.publish import publish as publish_source

    from skillpm.registry.factory import oci_url

    signer = parse_signer(sign, identity_token=identity_token, staging=staging) if sign else None
    if oci_url(registry):
        result = publish_to_oci(source, registry, evidence=list(evidence), signer=signer, progress=notice,
                                links_within=links_within, warn=warn_of)
    else:
        result = publish_source(source, Path(registry), evidence=list(evidence), signer=signer,
                                links_within=links_within, warn=warn_of)
    if as_json:
        emit_json(result.to_json())
        return
    for item in result.added:
        state = "published" if item.new else "already published:"
        say(f"{state} {item.name} {item.version} ({item.target}) sha256:{item.sha256}")
        for attestation in item.attestations:
            say(f"  attested {attestation.path} ({result.signer})")
    if not evidence:
        notice("note: no evidence given; the variants carry no attestations")


@click.command("attest")
@click.argument("requirement", metavar="NAME==VERSION")
@click.option("--target", required=True, metavar="TARGET", help="The published variant the evidence is about.")
@click.option("--evidence", "evidence", required=True, type=click.Path(path_type=Path, dir_okay=False), help="An eval, bench or static-kernel evidence file about that variant's archive.")
@signing_options
@click.option("--registry", "registry", required=True, metavar="DIR|oci://HOST/NAMESPACE|NAME", help="Registry holding the published version: a directory, an OCI registry, or the name of a configured OCI registry.")
@plain_http_option
@json_option
def attest(
    requirement: str,
    target: str,
    evidence: Path,
    sign: str | None,
    identity_token: str | None,
    staging: bool,
    registry: str,
    as_json: bool,
) -> None:
    """Add signed evidence about a published variant to a registry, without republishing it.

    \b
    skillpm attest my-skill==1.0.0 --target sm_90 --evidence bench.json --sign key:~/.skillpm/keys/me --registry ./myreg
    skillpm attest my-skill==1.0.0 --target sm_90 --evidence bench.json --sign sigstore --registry ./myreg
    skillpm attest my-skill==1.0.0 --target sm_90 --evidence bench.json --sign key:me.key --registry oci://ghcr.io/my-org/skills

    The evidence must name the variant's archive as the index lists it (skill.name,
    version, target, artifact_sha256); the archive's bytes are checked against that
    digest. Install and verify weigh the statement by its signer, as they weigh
    evidence attached by publish: a signer the user does not trust is a warning.
    In an oci:// registry the new bundle becomes a referrer of the variant's
    manifest and the version's tag moves last, to an index listing it too.
    """
    from skillpm.attest import AttestationError
    from skillpm.attest.attach import attach, attach_to_oci
    from skillpm.attest.statement import VariantRef
    from skillpm.errors import RequirementError
    from skillpm.publish import parse_signer
    from skillpm.registry.factory import oci_url
    from skillpm.requirements import parse_requirement

    parsed = parse_requirement(requirement)
    pinned = list(parsed.specifier) if parsed.specifier is not None else []
    if len(pinned) != 1 or pinned[0].operator != "==" or "*" in pinned[0].version:
        raise RequirementError(f"{requirement!r} does not name one version", hint="write NAME==VERSION, e.g. my-skill==1.0.0")
    if not sign:
        raise AttestationError("evidence must be signed", hint="pass --sign key:PATH or --sign sigstore")
    signer = parse_signer(sign, identity_token=identity_token, staging=staging)
    variant = VariantRef(parsed.name, pinned[0].version, target)
    if oci_url(registry):
        done = attach_to_oci(registry, variant, evidence, signer, progress=notice)
    else:
        done = attach(Path(registry), variant, evidence, signer)
    if as_json:
        emit_json(done.to_json())
        return
    shown = f"{done.variant.name} {done.variant.version} ({done.variant.target}) sha256:{done.sha256}"
    if done.attestation is None:
        say(f"already attested: {shown} carries this statement by this signer")
    else:
        say(f"attested {shown}")
        say(f"  {done.attestation.path} ({done.signer})")


@click.command()
@click.argument("requirement")
@click.option("--target", metavar="TARGET", help="Verify this variant only (default: every variant).")
@arch_option()
@registry_option
@click.option("--key", "keys", multiple=True, type=click.Path(path_type=Path, dir_okay=False), help="Trust this public key file (repeatable).")
@click.option("--identity", "identities", multiple=True, metavar="ISSUER=IDENTITY", help="Trust this Sigstore signer (repeatable).")
@json_option
def verify(
    requirement: str,
    target: str | None,
    arch: str | None,
    registry: str | None,
    keys: tuple[Path, ...],
    identities: tuple[str, ...],
    as_json: bool,
) -> None:
    """Verify the attestations of NAME[==VERSION]'s variants, showing every check.

    \b
    skillpm verify my-skill --registry ./myreg --key me.pub
    skillpm verify 'my-skill==1.0.0' --target sm_90a --json

    The version verified is the one 'install REQUIREMENT' would install for --arch
    (or this machine's GPU): the highest release that is not yanked and has a variant
    for it. NAME==VERSION verifies that version, yanked or a pre-release too.
    Trusted signers: the user's policy.toml, --key and --identity, and for the
    embedded registry its shipped key; a project's .skillpm/policy.toml can only
    narrow them. Exit 1 when any check fails, a variant carries no attestations
    (nothing vouches for it), or the policy requires evidence a variant lacks.
    """
    from skillpm.attest.batch import verify_variants
    from skillpm.attest.variants import (
        effective_policy,
        identity_policy,
        key_policy,
    )
    from skillpm.errors import ResolutionError
    from skillpm.project import find_project_root
    from skillpm.registry.factory import open_registry

    source, name, entry, chosen_for = _version(open_registry(registry), requirement, arch)
    variants = [v for v in entry.variants if target is None or v.target == target]
    if not variants:
        raise ResolutionError(f"{name} {entry.version} has no variant {target} (variants: "
                              f"{', '.join(v.target for v in entry.variants)})")
    extra = key_policy(keys).combined(identity_policy(identities))
    policy = effective_policy(source.label, project_root=find_project_root(Path.cwd()), extra=extra)
    reports = verify_variants(source, name, [(entry.version, variant) for variant in variants], policy=policy,
                              archive=lambda variant: _artifact(source, variant))
    ok = all(report.ok for report in reports)
    if as_json:
        from skillpm.attest.measured import measured

        emit_json({"registry": source.label, "name": name, "version": entry.version, "ok": ok,
                   "variants": [{**report.to_json(), "measured": dict(measured(report))} for report in reports]})
    else:
        notice(f"verifying {clean(name)} {clean(entry.version)}{chosen_for}")
        _print_reports(reports)
    if not ok:
        raise click.exceptions.Exit(1)


def _version(source, requirement: str, arch: str | None):
    """The registry serving ``requirement``'s package, its name, the version to verify, and why that one.

    ``NAME==VERSION``: that version, yanked or a pre-release too. Otherwise the version
    ``install`` resolves for ``arch`` (else this machine's GPU), by install's own resolver.
    """
    from skillpm.cli.common import choose_capability
    from skillpm.errors import ResolutionError
    from skillpm.requirements import parse_requirement
    from skillpm.resolve import matching_versions, resolve

    parsed = parse_requirement(requirement)
    source, listing = source.locate(parsed.name)
    if parsed.pinned_version is None:
        capability = choose_capability(arch, quiet=True)
        chosen = resolve(listing, parsed, capability).version
        gpu = "a machine with no GPU (--arch picks one)" if capability is None else f"capability {capability}"
        entry = listing.read(chosen)
        return source, listing.name, entry, f": what 'install' would choose for {gpu}"
    matching = matching_versions(listing, parsed)
    if not matching:
        raise ResolutionError(f"no version of {parsed.name} matches {requirement!r} in {source.label}")
    return source, listing.name, matching[-1], ""


def _artifact(source, variant) -> bytes:
    """The archive (cached, else fetched); ``b""`` when neither has it, which the artifact-digest check reports."""
    from skillpm.attest.variants import archive_at_hand

    return archive_at_hand(source, variant) or b""


def _print_reports(reports) -> None:
    rows = []
    for report in reports:
        if not report.attestations:
            rows.append((report.target, "-", "attested", "FAIL", "no attestations: nothing vouches for this variant"))
        for attestation in report.attestations:
            for check in attestation.checks:
                state = "ok" if check.ok else ("FAIL" if check.required else "no")
                rows.append((report.target, attestation.kind, check.name, state, check.detail))
        for reason in report.missing:
            rows.append((report.target, "-", "policy", "FAIL", reason))
    table(["target", "evidence", "check", "result", "detail"], rows, limit=DETAIL)
    from skillpm.attest.measured import measured

    table(["target", "evidence", "shows"], [(r.target, kind, text) for r in reports for kind, text in measured(r)], limit=DETAIL)
    notice(_summary(reports))


def _summary(reports) -> str:
    """One line: how many variants failed, and how many carry no attestations; or that all verified."""
    failed = sum(1 for report in reports if report.attested and not report.ok)
    bare = sum(1 for report in reports if not report.attested)
    said = [f"{failed} of {len(reports)} variant(s) failed verification"] if failed else []
    if bare:
        said.append(f"{bare} of {len(reports)} variant(s) carry no attestations: nothing vouches for them")
    return "; ".join(said) or f"{len(reports)} of {len(reports)} variant(s) carry attestations, all verified"
