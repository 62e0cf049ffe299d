"""Publish a skill source into a registry directory, with signed evidence for its variants.

``publish`` validates and packs every variant, matches each evidence file to the
variant whose archive it names (``skill.target`` and ``skill.artifact_sha256``),
checks each statement as ``verify`` will (subject, predicate schema, variant),
signs it (a key, or Sigstore), and hands archives and bundles to the store in one
call, which writes them and the index or nothing at all. docs/attestations.md
describes the formats; docs/user-guide.md the command.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from skillpm.attest import AttestationError
from skillpm.attest.statement import (
    PREDICATES,
    Statement,
    VariantRef,
    predicate_type_for,
    statement_for_evidence,
)
from skillpm.jsonfile import read_json
from skillpm.reading import MAX_BUNDLE_SIZE, MAX_EVIDENCE_SIZE, problem
from skillpm.records import Record

if TYPE_CHECKING:
    from skillpm.archive import BuiltArchive
    from skillpm.attest.keys import SigningKey
    from skillpm.registry.store import Added, NewAttestation
    from skillpm.validation import Finding


class KeySigner(Record):
    """Sign with a private key (offline); ``path``: the key file it was read from."""

    key: SigningKey
    path: Path | None = None

    def sign_all(self, statements: Sequence[Statement]) -> list[bytes]:
        """Each of ``statements`` signed with the key, a bundle each, in order."""
        from skillpm.attest.bundle import sign_with_key

        return [sign_with_key(statement, self.key) for statement in statements]

    def describe(self) -> str:
        return f"key {self.key.fingerprint}"

    def signer_id(self, bundle: bytes) -> str:
        """Who signed ``bundle`` (which :meth:`sign_all` made), for its file name: the key's fingerprint."""
        return self.key.fingerprint


class SigstoreSigner(Record):
    """Sign keyless with Sigstore (Fulcio and Rekor; needs the network and an OIDC identity)."""

    identity_token: str | None = None
    staging: bool = False

    def sign_all(self, statements: Sequence[Statement]) -> list[bytes]:
        """Each of ``statements`` signed keyless, a bundle and a log entry each, in order: one identity, one trust
        root and one certificate for them all (:func:`skillpm.attest.bundle.sign_keyless`)."""
        from skillpm.attest.bundle import sign_keyless

        return sign_keyless(statements, identity_token=self.identity_token, staging=self.staging)

    def describe(self) -> str:
        return "Sigstore" + (" (staging)" if self.staging else "")

    def signer_id(self, bundle: bytes) -> str:
        """Who signed ``bundle`` (which :meth:`sign_all` made), for its file name: the identity's sha256."""
        from skillpm.attest.bundle import keyless_signer

        return keyless_signer(bundle)


Signer = KeySigner | SigstoreSigner


def parse_signer(text: str, *, identity_token: str | None = None, staging: bool = False) -> Signer:
    """``key:PATH`` (passphrase from ``$SKILLPM_SIGNING_KEY_PASSPHRASE``) or ``sigstore``."""
    if text == "sigstore":
        return SigstoreSigner(identity_token, staging)
    if text.startswith("key:") and len(text) > 4:
        from skillpm.attest.keys import load_signing_key, passphrase_from_env

        path = Path(text[4:]).expanduser()
        return KeySigner(load_signing_key(path, passphrase=passphrase_from_env()), path)
    raise AttestationError(f"--sign {text!r} is neither key:PATH nor sigstore", hint="e.g. --sign key:~/.skillpm/keys/me")


def refuse_signer_inside(signer: Signer | None, registry_root: Path) -> None:
    """Refuse a key signer whose key file lies inside the registry being written, as the index key is."""
    if isinstance(signer, KeySigner) and signer.path is not None:
        from skillpm.attest.keys import refuse_inside_registry

        refuse_inside_registry(signer.path, registry_root, "the signing key")


class Published(Record):
    """What :func:`publish` did: each variant, whether it was new, and the attestations it attached."""

    registry: Path | str  # a directory, or an oci:// URL
    added: tuple[Added, ...]
    signer: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "registry": str(self.registry),
            "signer": self.signer,
            "variants": [
                {
                    "name": item.name,
                    "version": item.version,
                    "target": item.target,
                    "sha256": item.sha256,
                    "path": item.path,
                    "new": item.new,
                    "attestations": [attestation.to_json() for attestation in item.attestations],
                }
                for item in self.added
            ],
        }


def publish(
    source_dir: Path,
    registry_root: Path,
    *,
    evidence: Sequence[Path] = (),
    signer: Signer | None = None,
    links_within: Path | None = None,
    warn: Callable[[Finding], None] | None = None,
) -> Published:
    """Pack ``source_dir`` and publish its variants, with ``evidence`` signed by ``signer``, into ``registry_root``.

    ``source_dir`` is a skill source or a plain SKILL.md folder, ``links_within`` a folder its
    links to files may lead into, and ``warn`` is told pack's warnings (see :func:`skillpm.pack.pack`).

    Everything is checked, and every statement signed, before the registry is
    touched; the store then writes all of it or nothing. A version already
    published with the same archives gains the new attestations; other archives
    for it are refused (versions are immutable).
    """
    from skillpm.pack import pack
    from skillpm.registry import store

    store.open_for_writing(registry_root)
    refuse_signer_inside(signer, registry_root)
    if evidence and signer is None:
        raise AttestationError("evidence must be signed", hint="pass --sign key:PATH or --sign sigstore")
    documents = [read_evidence(path) for path in evidence]
    with tempfile.TemporaryDirectory(prefix="skillpm-publish-") as work:
        archives = pack(source_dir, Path(work), links_within=links_within, warn=warn)
        statements = [_statement(path, document, archives) for path, document in zip(evidence, documents)]
        bundles = sign_bundles(statements, signer) if signer else []
        added = store.add(registry_root, [archive.path for archive in archives], attestations=bundles)
    return Published(registry_root, tuple(added), signer.describe() if signer else None)


def publish_to_oci(
    source_dir: Path,
    location: str,
    *,
    evidence: Sequence[Path] = (),
    signer: Signer | None = None,
    progress: Callable[[str], None] = lambda _line: None,
    links_within: Path | None = None,
    warn: Callable[[Finding], None] | None = None,
) -> Published:
    """:func:`publish` into the OCI registry at ``location`` (``oci://HOST/NAMESPACE``).

    The version is published into a temporary static registry first (every check and
    signature as for a directory), then pushed: blobs, manifests, referrers, the index,
    the tag last. A tag holding other archives is refused before anything is pushed; one
    holding the same archives gains the new attestations.
    """
    from skillpm.registry import store
    from skillpm.registry.directory import LocalRegistry
    from skillpm.registry.factory import open_oci_registry
    from skillpm.registry.oci.mirror import push_packages

    oci = open_oci_registry(location)
    with tempfile.TemporaryDirectory(prefix="skillpm-publish-oci-") as work:
        root = Path(work) / "registry"
        store.init(root, name="publish", keys=(), expires_days=1)
        staged = publish(source_dir, root, evidence=evidence, signer=signer, links_within=links_within, warn=warn)
        static = LocalRegistry(root, root.as_uri(), verify=False)
        pushed = push_packages(static, oci, sorted({item.name for item in staged.added}), progress)
    (version,) = pushed
    added = tuple(
        item._replace(new=version.new, attestations=tuple(a for a in item.attestations if a.path in version.attached))
        for item in staged.added
    )
    return Published(oci.label, added, staged.signer)


def read_evidence(path: Path) -> dict:
    """The evidence file ``path`` as strict JSON (no NaN or Infinity can come in as a measure)."""
    try:
        document = read_json(path, MAX_EVIDENCE_SIZE)
    except (OSError, ValueError) as error:
        raise AttestationError(f"cannot read evidence {path}: {problem(error)}") from None
    if not isinstance(document, dict):
        raise AttestationError(f"evidence {path} is not a JSON object")
    return document


def _statement(path: Path, document: dict, archives: list[BuiltArchive]) -> tuple[Statement, VariantRef]:
    """The statement for one evidence file, about the archive it names; refuse anything verify would refuse."""
    predicate_type_for(document)  # refuses evidence of a kind skillpm does not attest
    skill = document.get("skill") if isinstance(document.get("skill"), dict) else {}
    claimed = skill.get("artifact_sha256")
    archive = next((a for a in archives if a.sha256 == claimed and a.metadata.target == skill.get("target")), None)
    _refuse_another_test_set(path, document, archives)
    if archive is None:
        packed = ", ".join(f"{a.metadata.target} {a.sha256}" for a in archives)
        raise AttestationError(
            f"evidence {path} is for target {skill.get('target')!r} artifact {str(claimed)[:80]!r}, "
            f"which matches no variant packed from this source ({packed})",
            hint="evidence must be gathered for the archive being published: run eval/bench on this version's archive",
        )
    metadata = archive.metadata
    expected = VariantRef(metadata.name, metadata.version, metadata.target)
    return checked_statement(path, document, expected, archive.sha256, test_set=metadata.test_set), expected


def checked_statement(path: Path, document: dict, expected: VariantRef, sha256: str, *, test_set: str | None) -> Statement:
    """The statement of ``document`` about the archive of ``expected`` with digest ``sha256``; AttestationError
    when verify would refuse it (evidence about another artifact, invalid against its schema, NaN, measured on
    test cases other than ``test_set``, the test-set digest the archive records)."""
    from skillpm.index.model import archive_name
    from skillpm.attest.prechecks import require_statement

    name = archive_name(expected.name, expected.version, expected.target)
    statement = statement_for_evidence(document, artifact_name=name, artifact_sha256=sha256)
    require_statement(statement, expected, sha256, test_set=test_set, what=f"evidence {path}")
    return statement


def _refuse_another_test_set(path: Path, document: dict, archives: list[BuiltArchive]) -> None:
    """Eval evidence whose test set is not the one its variant has now (the cases changed since, or
    the results came from other cases): say so, rather than only that the archive differs."""
    from skillpm.attest.statement import EVAL_PREDICATE
    from skillpm.attest.verify import test_set_check

    if predicate_type_for(document) != EVAL_PREDICATE:
        return
    target = document["skill"].get("target") if isinstance(document.get("skill"), dict) else None
    archive = next((a for a in archives if a.metadata.target == target), None)
    if archive is None:
        return
    check = test_set_check(document, archive.metadata.test_set)
    if not check.ok:
        raise AttestationError(f"evidence {path}: the {target} variant: {check.detail}",
                               hint="run 'skillpm eval' again on this version's test cases")


def sign_bundles(statements: Sequence[tuple[Statement, VariantRef]], signer: Signer) -> list[NewAttestation]:
    """Each statement signed by ``signer`` in one go (one identity and certificate when keyless), as a bundle to
    attach to its variant; AttestationError for a bundle larger than readers read (a Sigstore instance's certificate
    and log entry are its own, of any size)."""
    from skillpm.attest.variants import KINDS
    from skillpm.registry.store import NewAttestation, attestation_path

    bundles = signer.sign_all([statement for statement, _ in statements])
    signed: list[NewAttestation] = []
    for (statement, variant), bundle in zip(statements, bundles):
        if len(bundle) > MAX_BUNDLE_SIZE:
            raise AttestationError(f"the signed bundle is {len(bundle)} bytes, more than the {MAX_BUNDLE_SIZE} bytes "
                                   "verify, info and install read; nothing was written")
        digest = hashlib.sha256(statement.to_bytes()).hexdigest()
        kind = KINDS[statement.predicate_type] if statement.predicate_type in PREDICATES else "other"
        path = attestation_path(variant.name, variant.version, variant.target, kind, digest, signer.signer_id(bundle))
        signed.append(NewAttestation(variant.name, variant.version, variant.target, path, bundle,
                                     statement.predicate_type))
    return signed
