"""Attestations of a registry's variants: fetch their bundles, verify them, enforce a policy.

``verify`` and ``info`` report with :func:`verify_variant`; ``install``, ``sync`` and
``update`` call :func:`check_before_install` after an archive is fetched and its
digest checked, before anything is written. The effective policy
(:func:`effective_policy`) is the user's and the project's policy files, the command
line's (:class:`InstallOptions`), and the registry's own trust: the embedded
registry's public key, shipped with skillpm, is trusted for the embedded registry.

Importing this module loads neither ``cryptography``, ``sigstore`` nor
a JSON Schema validator: a variant without attestations, under a policy that requires none,
is installed without them.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence

from skillpm.attest import AttestationError, quiet_sigstore
from skillpm.attest.policy import Policy, Requirements, TrustedIdentity, TrustedKey, missing_evidence
from skillpm.attest.policyfile import load_policy
from skillpm.attest.statement import BENCH_PREDICATE, EVAL_PREDICATE, STATIC_KERNEL_PREDICATE
from skillpm.reading import MAX_BUNDLE_SIZE
from skillpm.records import Record
from skillpm.stderr import to_stderr

if TYPE_CHECKING:
    from skillpm.attest.keys import PublicKey
    from skillpm.attest.verify import Check, SigstoreTrust
    from skillpm.cache import ArtifactCache
    from skillpm.index.model import Attestation, Variant

EMBEDDED = "embedded"  # the label of the registry shipped with skillpm (skillpm.registry.directory.EMBEDDED)
#: The public key the embedded registry's attestations are signed with.
EMBEDDED_KEY = Path(__file__).resolve().parent.parent / "trust" / "embedded-registry.pub"
#: A Sigstore trusted root (JSON) to verify keyless bundles against, for a private Sigstore instance.
TRUSTED_ROOT_ENV = "SKILLPM_SIGSTORE_TRUSTED_ROOT"
KINDS = {EVAL_PREDICATE: "eval", BENCH_PREDICATE: "bench", STATIC_KERNEL_PREDICATE: "static-kernel"}


class Registry(Protocol):
    """What this module reads of a registry: its label and files by relative path."""

    label: str

    def artifact(self, relative: str, *, limit: int = ...) -> bytes: ...


class InstallOptions(Record):
    """The install policy given on the command line, added to the policy files.

    ``trusted_keys`` are public key files whose signatures are trusted for any
    registry. ``warn`` prints a warning (default: a line on stderr).
    """

    requirements: Requirements = Requirements()
    trusted_keys: tuple[Path, ...] = ()
    warn: Callable[[str], None] | None = None

    def warning(self, line: str) -> None:
        """Print the warning ``line`` with ``warn``, or on stderr."""
        if self.warn is not None:
            self.warn(line)
        else:
            to_stderr(line)


class AttestationReport(Record):
    """Every check of one attestation of a variant."""

    path: str
    predicate_type: str
    checks: tuple[Check, ...]
    statement: Any = None  # the statement, when every required check passed

    @property
    def ok(self) -> bool:
        return all(check.ok or not check.required for check in self.checks)

    @property
    def kind(self) -> str:
        return KINDS.get(self.predicate_type, self.predicate_type)

    def first_failure(self) -> Check | None:
        return next((check for check in self.checks if check.required and not check.ok), None)

    def untrusted_signer(self) -> str | None:
        """Who signed it, when the only checks that failed say the signer is not trusted; else ``None``.

        An unknown key (no public key with its fingerprint is known) or a key or Sigstore
        identity the policy does not trust, on an attestation that is otherwise intact.
        """
        failed = [check for check in self.checks if check.required and not check.ok]
        unknown = [check for check in failed if check.name == "signature" and check.detail.startswith("signed by an unknown key")]
        if not failed or any(check.name != "signer" and check not in unknown for check in failed):
            return None
        if unknown:
            return f"an unknown {self.signer()}"
        return self.signer().replace("Sigstore signature by ", "the Sigstore identity ", 1)

    def signer(self) -> str:
        """Who signed it, as verified (``key <fingerprint>`` or ``Sigstore signature by ...``)."""
        signature = next((check for check in self.checks if check.name == "signature"), None)
        if signature is None or not signature.ok:
            bundle = next((check.detail for check in self.checks if check.name == "bundle"), "")
            hint = bundle.partition("(key hint ")[2].rstrip(")")
            return f"key {hint}" if hint else "an unknown signer"
        return signature.detail.removeprefix("valid signature by ").removeprefix("valid ")

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "predicate-type": self.predicate_type,
            "ok": self.ok,
            "checks": [check.to_json() for check in self.checks],
        }


class VariantReport(Record):
    """The attestations of one variant, and what the policy requires that none of them shows.

    ``ok`` only when it carries attestations and every one verifies: a variant with none is
    not verified (``attested`` false), whatever the policy requires.
    """

    name: str
    version: str
    target: str
    sha256: str
    attestations: tuple[AttestationReport, ...]
    missing: tuple[str, ...]

    @property
    def attested(self) -> bool:
        return bool(self.attestations)

    @property
    def ok(self) -> bool:
        return self.attested and not self.missing and all(report.ok for report in self.attestations)

    def describe(self) -> str:
        return f"{self.name} {self.version} ({self.target})"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "target": self.target,
            "sha256": self.sha256,
            "ok": self.ok,
            "attested": self.attested,
            "attestations": [report.to_json() for report in self.attestations],
            "missing": list(self.missing),
        }


def registry_policy(label: str) -> Policy:
    """The trust a registry brings with it: the embedded registry's shipped key, for it alone."""
    if label != EMBEDDED or not EMBEDDED_KEY.is_file():
        return Policy()
    from skillpm.attest.keys import load_public_key

    key = load_public_key(EMBEDDED_KEY)
    return Policy(keys=(TrustedKey(key.fingerprint, key.pem(), (EMBEDDED,)),))


def effective_policy(
    label: str,
    *,
    project_root: Path | None,
    extra: Policy = Policy(),
    user_path: Path | None = None,
) -> Policy:
    """The policy files, the registry's own trust and ``extra``, for variants from ``label``."""
    policy = load_policy(project_root=project_root, user_path=user_path)
    return policy.combined(registry_policy(label)).combined(extra).for_registry(label)


def key_policy(paths: Sequence[Path]) -> Policy:
    """A policy trusting the public keys in ``paths``."""
    if not paths:
        return Policy()
    from skillpm.attest.keys import load_public_key

    keys = [load_public_key(path) for path in paths]
    return Policy(keys=tuple(TrustedKey(key.fingerprint, key.pem()) for key in keys))


def identity_policy(pairs: Sequence[str]) -> Policy:
    """A policy trusting Sigstore signers given as ``ISSUER=IDENTITY``."""
    identities = []
    for pair in pairs:
        issuer, _, identity = pair.partition("=")
        if not issuer or not identity:
            raise AttestationError(f"{pair!r} is not ISSUER=IDENTITY", hint="e.g. https://accounts.google.com=me@example.com")
        identities.append(TrustedIdentity(issuer, identity))
    return Policy(identities=tuple(identities))


def sigstore_trust() -> SigstoreTrust:
    """Sigstore's production instance (its trust root not refreshed under ``--offline`` or
    ``$SKILLPM_OFFLINE``), or the trusted root named by ``$SKILLPM_SIGSTORE_TRUSTED_ROOT``."""
    from skillpm.attest.verify import SigstoreTrust
    from skillpm.registry.settings import offline

    path = os.environ.get(TRUSTED_ROOT_ENV)
    if not path:
        return SigstoreTrust(offline=offline())
    quiet_sigstore()
    from sigstore.models import TrustedRoot

    try:
        return SigstoreTrust(trusted_root=TrustedRoot.from_file(path))
    except (OSError, ValueError) as error:
        raise AttestationError(f"cannot read the Sigstore trusted root {path} (${TRUSTED_ROOT_ENV}): {error}") from None


def fetch_bundle(registry: Registry, attestation: Attestation, *, cache: ArtifactCache | None = None) -> bytes:
    """An attestation's bundle, checked against the sha256 the index lists.

    Bundles are cached by that sha256 beside the archives (``cache``, default the
    user's), so ``--offline`` installs of attested variants work.
    """
    from skillpm.cache import ArtifactCache
    from skillpm.errors import SkillpmError

    cache = cache or ArtifactCache()
    cached = cache.get(attestation.sha256, limit=MAX_BUNDLE_SIZE)
    if cached is not None:
        return cached
    try:
        data = registry.artifact(attestation.path, limit=MAX_BUNDLE_SIZE)
    except SkillpmError as error:
        raise AttestationError(f"cannot fetch {attestation.path}: {error.message}") from None
    if len(data) > MAX_BUNDLE_SIZE:
        raise AttestationError(f"{attestation.path} is larger than {MAX_BUNDLE_SIZE} bytes")
    actual = hashlib.sha256(data).hexdigest()
    if actual != attestation.sha256:
        raise AttestationError(
            f"{attestation.path} has sha256 {actual}, but the index lists {attestation.sha256}: the bundle was altered"
        )
    cache.put(attestation.sha256, data)  # a cache that cannot take it fails nothing
    return data


def archive_at_hand(registry: Registry, variant: Variant, *, fetch: bool = True) -> bytes | None:
    """The variant's archive, to check evidence against: from the download cache (which keeps only
    bytes matching their digest), else, with ``fetch``, from ``registry``; ``None`` when neither has it."""
    from skillpm.archive import archive_limit
    from skillpm.cache import ArtifactCache
    from skillpm.errors import SkillpmError

    limit = archive_limit(variant.path, variant.size)  # an index's word over the limit: refused, nothing read
    cached = ArtifactCache().get(variant.sha256, size=limit)
    if cached is not None or not fetch:
        return cached
    try:
        return registry.artifact(variant.path, limit=limit)
    except SkillpmError:
        return None


def has_eval_evidence(variant: Variant) -> bool:
    """Whether the index lists eval evidence for ``variant``: its ``test-set`` check needs the archive."""
    return any(attestation.predicate_type == EVAL_PREDICATE for attestation in variant.attestations)


def verify_variant(
    registry: Registry,
    *,
    name: str,
    version: str,
    variant: Variant,
    policy: Policy,
    artifact: bytes | None = None,
    keys: Sequence[PublicKey] = (),
    sigstore: SigstoreTrust | None = None,
) -> VariantReport:
    """Every check of every attestation of ``variant`` (``artifact``: its bytes, to check too).

    Without ``artifact``, eval evidence fails its ``test-set`` check: nothing says it ran the variant's tests.
    """
    from skillpm.index.model import archive_name
    from skillpm.attest.verify import Check, attested_statement, verify_attestation

    reports = []
    trust = sigstore or sigstore_trust()
    for attestation in variant.attestations:
        try:
            bundle = fetch_bundle(registry, attestation)
        except AttestationError as error:
            checks = [Check("bundle-file", False, error.message)]
        else:
            checks = [Check("bundle-file", True, f"{attestation.path} has the sha256 the index lists")]
            checks += verify_attestation(
                bundle,
                artifact_name=archive_name(name, version, variant.target),
                artifact_sha256=variant.sha256,
                expected=(name, version, variant.target),
                policy=policy,
                artifact=artifact,
                keys=keys,
                sigstore=trust,
            )
        report = AttestationReport(attestation.path, attestation.predicate_type, tuple(checks))
        if report.ok:
            report = AttestationReport(report.path, report.predicate_type, report.checks, attested_statement(bundle))
        reports.append(report)
    verified = [report.statement.predicate_type for report in reports if report.statement is not None]
    missing = missing_evidence(policy.requirements, verified)
    return VariantReport(name, version, variant.target, variant.sha256, tuple(reports), tuple(missing))


def enforce(report: VariantReport, *, label: str) -> None:
    """Raise a one-line AttestationError when an attestation fails or the policy's requirements are unmet."""
    for attestation in report.attestations:
        failed = attestation.first_failure()
        if failed is not None:
            raise AttestationError(
                f"{report.describe()} from {label}: {attestation.kind} attestation check {failed.name!r} failed: "
                f"{failed.detail}; nothing was installed",
                hint=_hint(failed),
            )
    if report.missing:
        raise AttestationError(
            f"{report.describe()} from {label}: {report.missing[0]}; nothing was installed",
            hint="install a variant with verified evidence, or relax --require-attestations and the minimums",
        )


def _hint(check: Check) -> str:
    if check.name == "signer" or "unknown key" in check.detail:
        return "trust the signer with --trusted-key PUBFILE or in your own policy.toml ([[trust.keys]], [[trust.sigstore]])"
    return "see every check with 'skillpm verify NAME==VERSION --target TARGET --json'; tell the registry's owner"


def check_before_install(
    registry: Registry,
    *,
    name: str,
    version: str,
    variant: Variant,
    artifact: bytes,
    project_root: Path | None,
    options: InstallOptions | None = None,
    writes: bool = True,
) -> VariantReport | None:
    """Verify the variant's attestations under the effective policy; raise AttestationError on any failure.

    With no attestations and no requirement: ``None``, and the caller says so once
    for all it installs (:func:`unattested_warning`). ``writes``: whether the install
    writes the variant's tree; one already in place ("already up to date") is not
    verified again unless the policy requires evidence, as it decides nothing.
    """
    options = options or InstallOptions()
    if not variant.attestations or not writes:  # nothing to verify, or nothing it decides: no cryptography
        requirements = load_policy(project_root=project_root).requirements.stricter(options.requirements)
        if not writes and requirements == Requirements():
            return None
    if not variant.attestations:
        missing = missing_evidence(requirements, [])
        if missing:
            enforce(VariantReport(name, version, variant.target, variant.sha256, (), tuple(missing)), label=registry.label)
        return None
    extra = key_policy(options.trusted_keys).combined(Policy(requirements=options.requirements))
    policy = effective_policy(registry.label, project_root=project_root, extra=extra)
    report = verify_variant(registry, name=name, version=version, variant=variant, policy=policy, artifact=artifact)
    if policy.requirements == Requirements():  # nothing required: evidence nobody trusts is only noted
        kept = []
        for attestation in report.attestations:
            signer = attestation.untrusted_signer()
            if signer is None:
                kept.append(attestation)
            else:
                options.warning(f"warning: {report.describe()}: {attestation.kind} evidence signed by {signer} (not trusted); "
                     "installed without relying on it")
        report = report._replace(attestations=tuple(kept))
    enforce(report, label=registry.label)
    return report


def unattested_warning(installed: list[str]) -> str:
    """The one warning of a command that installed ``installed`` (``NAME VERSION (TARGET)``) without attestations."""
    verb = "has" if len(installed) == 1 else "have"
    return f"warning: {', '.join(installed)} {verb} no attestations: no signed evidence, installed unverified"
