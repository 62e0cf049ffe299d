"""Attach a signed statement to a variant already published in a directory or OCI registry.

This is how evidence from others arrives (``skillpm attest``): someone who owns an H100
benchmarks a published archive and signs the result with their own key or Sigstore
identity; the registry's owner adds the bundle without republishing anything. The
archive is named by the digest the index lists, and its bytes are checked against it;
evidence whose ``skill`` names another package, version, target or digest is refused,
as is any statement ``verify`` would refuse (schema, NaN). The store then writes the
bundle and the package document under the registry's lock, all or nothing. Whether the
statement counts is decided at install and verify time, by its signer, as for evidence
attached at publish time.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from skillpm.attest import AttestationError
from skillpm.attest.statement import VariantRef, evidence_mismatches

if TYPE_CHECKING:
    from skillpm.index.model import Attestation
    from skillpm.publish import Signer


@dataclass(frozen=True)
class Attached:
    """What :func:`attach` added: the variant, its archive's digest, the bundle and who signed it."""

    variant: VariantRef
    sha256: str
    attestation: Attestation | None  # None when the same statement was already attached
    signer: str

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.variant.name,
            "version": self.variant.version,
            "target": self.variant.target,
            "sha256": self.sha256,
            "signer": self.signer,
            "attestation": self.attestation.to_json() if self.attestation else None,
        }


def attach(registry_root: Path, variant: VariantRef, evidence: Path, signer: Signer) -> Attached:
    """Sign ``evidence`` about the published ``variant`` and add it to the registry at ``registry_root``."""
    from skillpm.archive import read_metadata
    from skillpm.publish import checked_statement, read_evidence, refuse_signer_inside, sign_bundles
    from skillpm.registry import store

    registry = store.open_for_writing(registry_root)
    refuse_signer_inside(signer, registry_root)
    variants = _published_version(registry, variant).variants
    chosen = next((v for v in variants if v.target == variant.target), None)
    if chosen is None:
        listed = ", ".join(v.target for v in variants)
        raise AttestationError(f"{variant.name} {variant.version} has no variant {variant.target} (variants: {listed})")
    document = read_evidence(evidence)
    wrong = evidence_mismatches(document, expected=variant, artifact_sha256=chosen.sha256)
    if wrong:
        raise AttestationError(
            f"evidence {evidence} is not about {variant.name} {variant.version} ({variant.target}): " + "; ".join(wrong),
            hint="evidence names the published archive it was measured on: skill.name, version, target, artifact_sha256",
        )
    with tempfile.TemporaryDirectory(prefix="skillpm-attest-") as work:
        archives = [_copy_checked(registry, published, Path(work)) for published in variants]
        recorded = read_metadata(archives[variants.index(chosen)].read_bytes()).test_set
        statement = checked_statement(evidence, document, variant, chosen.sha256, test_set=recorded)
        bundles = sign_bundles([(statement, variant)], signer)
        (added,) = [item for item in store.add(registry_root, archives, attestations=bundles) if item.target == variant.target]
    return Attached(variant, chosen.sha256, added.attestations[0] if added.attestations else None, signer.describe())


def attach_to_oci(
    location: str, variant: VariantRef, evidence: Path, signer: Signer,
    progress: Callable[[str], None] = lambda _line: None,
) -> Attached:
    """:func:`attach` for a variant published in the OCI registry at ``location`` (``oci://HOST/NAMESPACE``).

    The version is pulled into a temporary directory registry (every digest checked), the
    statement attached there with every check :func:`attach` makes, and the version pushed back
    as ``registry push`` pushes it: the archives unchanged, the new bundle a referrer of its
    variant's manifest, the tag last; a tag that meanwhile holds other archives is refused.
    """
    from skillpm.registry.directory import LocalRegistry
    from skillpm.registry.factory import open_oci_registry
    from skillpm.registry.oci.mirror import pull_versions, push_packages

    oci = open_oci_registry(location)
    entry = _published_version(oci, variant)
    with tempfile.TemporaryDirectory(prefix="skillpm-attest-oci-") as work:
        root = Path(work) / "registry"
        pull_versions(oci, root, [(variant.name, entry)], progress=progress)
        done = attach(root, variant, evidence, signer)
        if done.attestation is not None:
            push_packages(LocalRegistry(root, root.as_uri(), verify=False), oci, [variant.name], progress)
    return done


def _published_version(registry, variant: VariantRef):
    """The published version ``variant`` names; AttestationError when it is not published."""
    from skillpm.index.model import version_order, version_text_order

    document = registry.package(variant.name)
    wanted = version_text_order(variant.version)
    if wanted[0] == 0:
        raise AttestationError(f"{variant.version!r} is not a PEP 440 version")
    entry = next((e for e in document.versions if version_order(e) == wanted), None) if document else None
    if entry is None:
        raise AttestationError(
            f"{variant.name} {variant.version} is not published in {registry.label}",
            hint="attest adds evidence to a published version; publish it first with 'skillpm publish'",
        )
    return entry


def _copy_checked(registry, published, work: Path) -> Path:
    """The published archive, read from the registry, checked against the index's digest, copied to ``work``
    (the store adds the version's archives again, which it accepts only byte for byte)."""
    from skillpm.archive import archive_limit

    data = registry.artifact(published.path, limit=archive_limit(published.path, published.size))
    actual = hashlib.sha256(data).hexdigest()
    if actual != published.sha256:
        raise AttestationError(
            f"{published.path} has sha256 {actual}, but the index lists {published.sha256}: the archive was altered",
            hint="nothing was attested; rebuild the registry from its sources",
        )
    path = work / Path(published.path).name
    path.write_bytes(data)
    return path
