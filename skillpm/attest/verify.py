"""Verify one attestation bundle against an artifact, a variant and a trust policy.

Every check runs and is reported on its own (``Check``): a failed check is a value,
not an exception, so ``verify --json`` can print them all. :func:`require_verified`
turns the first required failure into an :class:`AttestationError`.

The checks, in order (docs/attestations.md says what each one stops):

``bundle``            the bundle is a Sigstore bundle with a DSSE envelope
``artifact-digest``   the artifact's bytes have the digest the index lists (when bytes are given)
``signature``         a signature verifies: with a known public key, or Sigstore's certificate,
                      log entry and trust root
``signer``            that key's fingerprint, or the certificate's (issuer, identity), is trusted
``payload-type``      the envelope holds an in-toto statement
``statement``         the payload is an in-toto Statement v1
``subject``           a subject has the artifact's name and sha256
``predicate-type``    the predicate is skillpm eval or bench evidence
``predicate-schema``  the predicate is valid against its JSON Schema
``evidence-variant``  the evidence names this variant's name, version, target and digest
``test-set``          (eval) the evidence ran the test set the variant's archive records; failed
                      as "test set not checked" when the archive's bytes are not given
``gpu-evidence``      (bench) the benchmark ran on a GPU; required only when policy says so
``requirements``      the evidence meets the policy's minimums (pass rate, lift, percent of peak)
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from skillpm.attest import AttestationError
from skillpm.attest.bundle import KEY, ParsedBundle, read_bundle
from skillpm.attest.dsse import PAYLOAD_TYPE
from skillpm.attest.policy import Policy, shortfalls
from skillpm.attest.statement import (
    BENCH_PREDICATE,
    EVAL_PREDICATE,
    PREDICATES,
    Statement,
    VariantRef,
    evidence_mismatches,
    parse_statement,
    subject_mismatch,
)
from skillpm.records import Record
from skillpm.resources import shipped

if TYPE_CHECKING:
    from sigstore.models import TrustedRoot

    from skillpm.attest.keys import PublicKey

#: ``test_set`` of :func:`verify_attestation` and :func:`statement_checks` when the archive is not at
#: hand: the ``test-set`` check cannot be made, and fails.
UNKNOWN = "unknown"
#: How a ``test-set`` check that could not be made begins.
TEST_SET_NOT_CHECKED = "test set not checked"


class Check(Record):
    """One verification check: its name, whether it passed, and what it found.

    A check that is not ``required`` (``gpu-evidence`` unless policy requires GPU
    evidence) is reported but does not fail the verification.
    """

    name: str
    ok: bool
    detail: str
    required: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"check": self.name, "ok": self.ok, "required": self.required, "detail": self.detail}


class SigstoreTrust(Record):
    """Which Sigstore instance keyless bundles are verified against.

    ``trusted_root`` (a ``sigstore.models.TrustedRoot``) overrides the others; else
    production or ``staging``, refreshed over TUF unless ``offline`` (then the copy
    cached or shipped with sigstore-python is used).
    """

    staging: bool = False
    offline: bool = False
    trusted_root: TrustedRoot | None = None


def failures(checks: Sequence[Check]) -> list[Check]:
    """The required checks that failed."""
    return [check for check in checks if check.required and not check.ok]


def require_verified(checks: Sequence[Check]) -> None:
    """Raise AttestationError naming the first required check that failed."""
    failed = failures(checks)
    if failed:
        first = failed[0]
        more = f" (and {len(failed) - 1} more failed checks)" if len(failed) > 1 else ""
        raise AttestationError(
            f"attestation check {first.name!r} failed: {first.detail}{more}",
            hint="run 'skillpm verify --json' to see every check",
        )


def verify_attestation(
    bundle: bytes,
    *,
    artifact_name: str,
    artifact_sha256: str,
    expected: VariantRef | tuple[str, str, str],
    policy: Policy,
    artifact: bytes | None = None,
    test_set: str | None = UNKNOWN,
    keys: Sequence[PublicKey] = (),
    schema_dir: Path | None = None,
    sigstore: SigstoreTrust | None = None,
) -> list[Check]:
    """Every check of ``bundle`` as an attestation of the artifact ``artifact_name``.

    ``artifact_sha256`` is the digest the index lists for the variant ``expected``
    (name, version, target); ``artifact``, when given, are the bytes to check against it.
    ``test_set``: the test-set digest the variant's archive records (``None``: none), when it is
    known without the archive; the archive's own metadata decides when ``artifact`` is the archive.
    Eval evidence whose test set neither tells fails its ``test-set`` check ("test set not checked").
    ``keys`` are public keys beside those the policy carries. Nothing is raised for
    a failed check. The statement's checks run even when the signature fails, so that
    every problem is reported; they never make an unsigned statement pass.
    """
    expected = expected if isinstance(expected, VariantRef) else VariantRef(*expected)
    try:
        parsed = read_bundle(bundle)
    except AttestationError as error:
        return [Check("bundle", False, error.message)]
    kind = f"key-based bundle (key hint {parsed.key_hint})" if parsed.kind == KEY else "Sigstore keyless bundle"
    checks = [Check("bundle", True, kind)]
    if artifact is not None:
        actual = hashlib.sha256(artifact).hexdigest()
        detail = f"sha256 {actual}" + ("" if actual == artifact_sha256 else f", but the index lists {artifact_sha256}")
        checks.append(Check("artifact-digest", actual == artifact_sha256, detail))
    if parsed.kind == KEY:
        checks += _key_checks(parsed, policy, keys)
    else:
        from skillpm.attest.keyless import sigstore_checks

        checks += sigstore_checks(bundle, parsed, policy, sigstore or SigstoreTrust())
    payload_type = parsed.envelope.payload_type
    checks.append(Check("payload-type", payload_type == PAYLOAD_TYPE, f"payloadType {payload_type!r}"))
    try:
        statement = parse_statement(parsed.envelope.payload)
    except AttestationError as error:
        return [*checks, Check("statement", False, error.message)]
    checks.append(Check("statement", True, "in-toto Statement v1"))
    recorded = test_set
    if artifact is not None and hashlib.sha256(artifact).hexdigest() == artifact_sha256:
        from_archive = _recorded_test_set(artifact)
        recorded = recorded if from_archive == UNKNOWN else from_archive
    return checks + statement_checks(statement, artifact_name, artifact_sha256, expected, policy, schema_dir,
                                     test_set=recorded)


def attested_statement(bundle: bytes) -> Statement:
    """The statement ``bundle`` carries, read without verifying anything.

    Only for a bundle whose :func:`verify_attestation` checks passed (to learn, say,
    its predicate type for :func:`skillpm.attest.policy.missing_evidence`).
    """
    return parse_statement(read_bundle(bundle).envelope.payload)


def statement_checks(
    statement: Statement,
    artifact_name: str,
    artifact_sha256: str,
    expected: VariantRef,
    policy: Policy,
    schema_dir: Path | None = None,
    *,
    test_set: str | None = UNKNOWN,
) -> list[Check]:
    """The checks of a statement, signed or not: from ``subject`` on. ``publish`` runs them
    before signing, so that no invalid evidence is ever signed. ``test_set``: the test-set digest
    the variant's archive records (``None``: it records none), or UNKNOWN."""
    mismatch = subject_mismatch(statement, artifact_name=artifact_name, artifact_sha256=artifact_sha256)
    checks = [Check("subject", mismatch is None, mismatch or f"{artifact_name} sha256 {artifact_sha256}")]
    predicate_type, predicate = statement.predicate_type, statement.predicate
    if predicate_type not in PREDICATES:
        known = ", ".join(PREDICATES)
        checks.append(Check("predicate-type", False, f"{predicate_type!r} is not a skillpm predicate ({known})"))
        return checks
    checks.append(Check("predicate-type", True, predicate_type))
    checks.append(_schema_check(predicate_type, predicate, schema_dir or default_schema_dir()))
    checks.append(_figures_check(predicate_type, predicate))
    wrong = evidence_mismatches(predicate, expected=expected, artifact_sha256=artifact_sha256)
    variant = f"{expected.name} {expected.version} for {expected.target}"
    checks.append(Check("evidence-variant", not wrong, "; ".join(wrong) or f"evidence for {variant}"))
    if predicate_type == EVAL_PREDICATE:
        checks.append(test_set_check(predicate, test_set))
    if predicate_type == BENCH_PREDICATE:
        on_gpu = predicate.get("gpu_evidence") is True
        detail = "measured on a GPU" if on_gpu else "not GPU evidence (gpu_evidence is not true)"
        checks.append(Check("gpu-evidence", on_gpu, detail, required=policy.requirements.gpu_evidence))
    reasons = shortfalls(policy.requirements, predicate_type, predicate)
    checks.append(Check("requirements", not reasons, "; ".join(reasons) or "meets the policy's minimums"))
    return checks


def test_set_check(predicate: Any, recorded: str | None) -> Check:
    """``test-set``: eval evidence names the digest of the test set it ran, which must be the one
    the variant's archive records (docs/evaluation.md defines the digest). ``recorded`` UNKNOWN (the
    archive was not at hand) fails it too: evidence whose tests nobody checked is not verified."""
    test_set = predicate.get("test_set") if isinstance(predicate, dict) else None
    claimed = test_set.get("digest") if isinstance(test_set, dict) else None
    shown = str(claimed)[:80]
    if recorded == UNKNOWN:
        return Check("test-set", False, f"{TEST_SET_NOT_CHECKED}: the evidence ran test set {shown}, but the "
                     "variant's archive, which records its test set, was not at hand to compare")
    if recorded is None:
        return Check("test-set", False, f"the evidence ran test set {shown}, but the variant's archive records no "
                     "test set (it was packed without test cases), so the evidence cannot be tied to its tests")
    if claimed != recorded:
        return Check("test-set", False, f"the evidence ran test set {shown}, but the variant's test set is "
                     f"{recorded}: it was measured on other test cases")
    return Check("test-set", True, f"the variant's test set {recorded}")


def _recorded_test_set(artifact: bytes) -> str | None:
    """The test-set digest an archive's metadata records (``None``: it records none); UNKNOWN when
    the bytes are no archive (install then refuses them on their own)."""
    from skillpm.archive import read_metadata
    from skillpm.errors import ArchiveError

    try:
        return read_metadata(artifact).test_set
    except ArchiveError:
        return UNKNOWN


# -- signatures --------------------------------------------------------------------------------


def _key_checks(parsed: ParsedBundle, policy: Policy, extra: Sequence[PublicKey]) -> list[Check]:
    """``signature`` and ``signer`` for a key-based bundle: each signature is tried with each known key
    until one made by a trusted key is found (the envelope holds at most MAX_SIGNATURES)."""
    from skillpm.attest.keys import parse_public_key

    keyring: dict[str, PublicKey] = {key.fingerprint: key for key in extra}
    for trusted in policy.keys:
        if trusted.public_key is not None:
            key = parse_public_key(trusted.public_key, where=f"the policy's key {trusted.fingerprint[:16]}...")
            keyring.setdefault(key.fingerprint, key)
    envelope = parsed.envelope
    pae = envelope.pae()
    signers: list[str] = []
    for signature in envelope.signatures:
        signers += [key.fingerprint for key in keyring.values() if key.verify(signature.sig, pae)]
        if any(policy.trusts_key(fingerprint) for fingerprint in signers):
            break
    if signers:
        signature = Check("signature", True, f"valid signature by key {signers[0]}")
    else:
        named = [parsed.key_hint or "", *(s.keyid for s in envelope.signatures)]
        hint = next((name for name in named if name), "(none named)")
        if hint in keyring:
            detail = f"the signature does not verify with key {hint}: the statement or envelope was altered"
        else:
            detail = f"signed by an unknown key {hint}: no public key with that fingerprint is known"
        signature = Check("signature", False, detail)
    trusted = [fingerprint for fingerprint in signers if policy.trusts_key(fingerprint)]
    if trusted:
        signer = Check("signer", True, f"key {trusted[0]} is trusted by the policy")
    elif signers:
        signer = Check("signer", False, f"key {signers[0]} is not trusted by the policy")
    else:
        signer = Check("signer", False, "no valid signature, so no signer to trust")
    return [signature, signer]


# -- predicate schemas -------------------------------------------------------------------------


def default_schema_dir() -> Path:
    """The evidence schemas shipped with skillpm: in the wheel, or schemas/ of a source checkout."""
    return shipped("schemas")


def _figures_check(predicate_type: str, predicate: Any) -> Check:
    """``figures``: the derived figures policy reads (pass rates, lift, % of peak) agree with the
    counts and timings the evidence records (:mod:`skillpm.attest.figures`)."""
    from skillpm.attest.figures import figure_problems
    from skillpm.display import clean

    problems = figure_problems(predicate_type, predicate)
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    detail = "; ".join(clean(problem, 300) for problem in problems[:3]) + more
    return Check("figures", not problems, detail or "derived from the recorded counts and timings")


def _schema_check(predicate_type: str, predicate: Any, schema_dir: Path) -> Check:
    from skillpm import schemacheck

    evidence_schema, filename = PREDICATES[predicate_type]
    declared = predicate.get("schema")
    if declared != evidence_schema:
        return Check("predicate-schema", False, f"the evidence declares schema {declared!r}, not {evidence_schema!r}")
    try:
        errors = schemacheck.errors(schema_dir / filename, predicate)
    except schemacheck.SchemaUnusable as error:
        return Check("predicate-schema", False, f"{error}, so the predicate cannot be validated")
    if not errors:
        return Check("predicate-schema", True, f"valid against {filename}")
    problems = [f"at {error.where()}: {error.message[:200]}" for error in errors[:3]]
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return Check("predicate-schema", False, f"invalid against {filename}: " + "; ".join(problems) + more)
