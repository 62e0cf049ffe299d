"""Sigstore bundles holding a signed statement: key-based (offline) and keyless (Sigstore).

Both kinds are Sigstore bundle v0.3 JSON (https://github.com/sigstore/protobuf-specs)
with a ``dsseEnvelope``. They differ in ``verificationMaterial``:

- key-based: ``{"publicKey": {"hint": <key fingerprint>}, "tlogEntries": []}``; the
  public key is delivered out of band (the trust policy or ``--key``);
- keyless: the Fulcio certificate of an OIDC identity and a Rekor log entry, as
  sigstore-python's ``Signer.sign_dsse`` writes them.

``sigstore`` is imported only on the keyless path.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Callable, Literal, Sequence, TypeVar

from skillpm.attest import AttestationError, quiet_sigstore
from skillpm.attest.dsse import PAYLOAD_TYPE, Envelope, Signature
from skillpm.attest.statement import Statement
from skillpm.records import Record

if TYPE_CHECKING:
    from sigstore.dsse import Statement as SigstoreStatement
    from sigstore.oidc import IdentityToken
    from sigstore.sign import SigningContext

    from skillpm.attest.keys import SigningKey
    from skillpm.registry.transport import Deadline

_T = TypeVar("_T")

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
#: Media types of Sigstore bundles that may carry a DSSE envelope (0.1 and 0.2 are read for keyless only).
MEDIA_TYPES = (
    BUNDLE_MEDIA_TYPE,
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
)
#: Where the ``sigstore`` command and ``--bundle`` conventions put a bundle: ``<artifact>.sigstore.json``.
BUNDLE_SUFFIX = ".sigstore.json"

KEY = "key"
SIGSTORE = "sigstore"
#: A Sigstore trust config (JSON: a trusted root and a signing config, as sigstore-python's ``--trust-config`` takes)
#: to sign keyless bundles with, for a private Sigstore instance.
TRUST_CONFIG_ENV = "SKILLPM_SIGSTORE_TRUST_CONFIG"


class ParsedBundle(Record):
    """A bundle read from JSON, not yet verified."""

    kind: Literal["key", "sigstore"]
    envelope: Envelope
    key_hint: str | None
    data: dict[str, Any]


def sign_with_key(statement: Statement, key: SigningKey) -> bytes:
    """Sign ``statement`` with ``key`` into a key-based bundle (JSON bytes)."""
    payload = statement.to_bytes()
    envelope = Envelope(payload, PAYLOAD_TYPE, ())
    signature = Signature(sig=key.sign(envelope.pae()), keyid=key.fingerprint)
    envelope = Envelope(payload, PAYLOAD_TYPE, (signature,))
    bundle = {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": key.fingerprint}, "tlogEntries": []},
        "dsseEnvelope": envelope.to_json(),
    }
    return (json.dumps(bundle, indent=2) + "\n").encode()


def to_sigstore_statement(statement: Statement) -> SigstoreStatement:
    """The statement as sigstore-python's ``dsse.Statement``, over the very bytes a key signature covers."""
    quiet_sigstore()
    from sigstore.dsse import Statement as SigstoreStatement
    from sigstore.errors import Error

    try:
        return SigstoreStatement(statement.to_bytes())
    except Error as error:
        raise AttestationError(f"sigstore refuses the statement: {error}") from None


def sign_keyless(
    statements: Sequence[Statement], *, identity_token: str | None = None, staging: bool = False
) -> list[bytes]:
    """Sign each of ``statements`` with Sigstore; returns their bundles' JSON, in order.

    They are signed under one identity, one trust root and one Fulcio certificate (of one ephemeral key),
    each with a Rekor entry of its own. ``identity_token`` is an OIDC token; without one, an ambient
    credential (GitHub Actions, GitLab, Buildkite, Google Cloud...) is looked for (:mod:`skillpm.attest.ambient`).
    Needs the network: Sigstore's trust root and signing config are refreshed by the command's deadline, as for
    verifying (:func:`skillpm.attest.trustroot.refreshed_config`), or read from ``$SKILLPM_SIGSTORE_TRUST_CONFIG``
    (a private instance); the certificate and every log entry are asked for by the same deadline. No statements:
    nothing is asked for.
    """
    if not statements:
        return []
    if staging and os.environ.get(TRUST_CONFIG_ENV):  # before any identity is looked for or instance asked
        raise AttestationError(f"--staging and ${TRUST_CONFIG_ENV} name two Sigstore instances: Sigstore's staging one "
                               "and a private one", hint=f"drop --staging, or unset ${TRUST_CONFIG_ENV}")
    quiet_sigstore()
    from sigstore.errors import Error
    from sigstore.oidc import IdentityToken

    from skillpm.attest.ambient import ambient_credential
    from skillpm.registry.settings import command_deadline

    sigstore_statements = [to_sigstore_statement(statement) for statement in statements]
    try:
        raw = identity_token or ambient_credential()
        if not raw:
            raise AttestationError(
                "keyless signing needs an OIDC identity token, and none was found in this environment",
                hint="pass one, or sign in CI with an ambient identity (GitHub Actions: 'permissions: id-token: write')",
            )
        token = IdentityToken(raw)  # checked locally first: a malformed token costs no network call
        context = _signing_context(staging)
        return _by(command_deadline(), lambda: _signed(context, token, sigstore_statements))
    except (Error, OSError) as error:  # requests' errors are OSErrors
        raise AttestationError(f"keyless signing failed: {error}", hint="Sigstore must be reachable") from None


def _signing_context(staging: bool) -> SigningContext:
    """sigstore-python's signing context of the instance ``$SKILLPM_SIGSTORE_TRUST_CONFIG`` names, else of Sigstore's
    public instance (or its staging one), its trust root refreshed by the command's deadline."""
    from sigstore.errors import Error
    from sigstore.models import ClientTrustConfig
    from sigstore.sign import SigningContext

    from skillpm.attest.trustroot import refreshed_config, tuf_url
    from skillpm.display import clean
    from skillpm.reading import MAX_DOCUMENT_SIZE, read_at_most

    path = os.environ.get(TRUST_CONFIG_ENV)
    if not path:
        trust = refreshed_config(tuf_url(staging))
        if isinstance(trust, str):
            raise AttestationError(f"keyless signing failed: cannot refresh Sigstore's trust root: {trust}",
                                   hint="Sigstore must be reachable")
        return SigningContext.from_trust_config(trust)
    try:
        return SigningContext.from_trust_config(ClientTrustConfig.from_json(read_at_most(path, MAX_DOCUMENT_SIZE)))
    except (OSError, ValueError, Error) as error:  # no such file, too large, or not a trust config sigstore reads
        raise AttestationError(f"cannot read the Sigstore trust config {clean(path, 200)} (${TRUST_CONFIG_ENV}): "
                               f"{clean(str(error) or type(error).__name__, 300)}",
                               hint="it is a ClientTrustConfig JSON, as sigstore-python's --trust-config takes") from None


def _signed(context: SigningContext, token: IdentityToken, statements: Sequence[SigstoreStatement]) -> list[bytes]:
    """``statements`` signed in ``context`` for ``token``: one certificate from the instance's Fulcio (sigstore-python's
    signer asks for it once, for an ephemeral key it keeps: ``cache=True``), a Rekor entry for each.

    AttestationError for whatever sigstore-python raises: beside its ``Error`` and requests' errors, its Fulcio and
    Rekor clients raise errors of their own, and KeyError or ValueError on an answer that is none of theirs.
    """
    from skillpm.display import clean

    try:
        with context.signer(token, cache=True) as signer:
            return [(signer.sign_dsse(statement).to_json() + "\n").encode() for statement in statements]
    except Exception as error:  # what the instance's services answered, as sigstore-python took it
        raise AttestationError(f"keyless signing failed: {clean(_failure(error), 300)}",
                               hint="the Sigstore instance must be reachable and answer as Sigstore does") from None


def _failure(error: Exception) -> str:
    """What ``error``, raised by sigstore-python while signing, says of the instance's answer, in a few words:
    a model's validation errors (pydantic's wording, many lines) and a JSON parser's position say only that."""
    if type(error).__module__.partition(".")[0] in ("pydantic", "pydantic_core") or isinstance(error, json.JSONDecodeError):
        return f"the instance answered what sigstore-python cannot read ({type(error).__name__})"
    if isinstance(error, KeyError):
        return f"the instance's answer has no {error}"
    reason = str(error) or type(error).__name__
    return f"{reason} ({error.__cause__})" if error.__cause__ is not None and str(error.__cause__) else reason


def _by(deadline: Deadline, work: Callable[[], _T]) -> _T:
    """What ``work()`` returns (or raises) when it ends by ``deadline``; AttestationError when it does not.

    sigstore-python asks Fulcio and Rekor with no timeout: a server that accepts and never answers held keyless
    signing for ever. ``work`` runs in a thread of its own, left behind at the deadline (a daemon thread: it ends
    with the process); nothing is written before it returns.
    """
    import threading

    from skillpm.registry.settings import unanswered_by

    signed: list[_T] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            signed.append(work())
        except BaseException as error:  # handed to the caller's thread, as if raised there
            failed.append(error)

    worker = threading.Thread(target=run, name="skillpm-keyless-signing", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline.remaining()))
    if failed:
        raise failed[0]
    if not signed:
        raise AttestationError(f"keyless signing failed: {unanswered_by(deadline)}", hint="Sigstore must be reachable")
    return signed[0]


def keyless_signer(data: bytes) -> str:
    """Who signed the keyless bundle ``data``: the sha256 of its certificate's OIDC issuer and identities,
    a line each, the same for every certificate Sigstore gives that signer; AttestationError when it names none,
    its reason cleaned and bounded (the certificate is the instance's text)."""
    import hashlib

    quiet_sigstore()
    from sigstore.errors import Error
    from sigstore.models import Bundle

    from skillpm.attest.keyless import certificate_identity
    from skillpm.display import clean

    try:
        issuer, identities = certificate_identity(Bundle.from_json(data).signing_certificate)
    except (Error, ValueError, TypeError, KeyError) as error:
        reason = clean(str(error) or type(error).__name__, 300)
        raise AttestationError(f"the keyless bundle names no signer: {reason}") from None
    return hashlib.sha256("\n".join([issuer or "", *identities]).encode()).hexdigest()


def read_bundle(data: bytes) -> ParsedBundle:
    """Read a bundle's JSON and its DSSE envelope; raise AttestationError on anything malformed."""
    from skillpm.jsonfile import parse_json

    try:
        document = parse_json(data)
    except ValueError as error:
        raise AttestationError(f"the bundle is {error}") from None
    if not isinstance(document, dict):
        raise AttestationError("the bundle is not a JSON object")
    media_type = document.get("mediaType")
    if media_type not in MEDIA_TYPES:
        raise AttestationError(f"not a Sigstore bundle (mediaType {str(media_type)[:100]!r})")
    material = document.get("verificationMaterial")
    if not isinstance(material, dict):
        raise AttestationError("the bundle has no verificationMaterial")
    if "dsseEnvelope" not in document:
        raise AttestationError("the bundle holds no DSSE envelope, so no attestation")
    envelope = Envelope.from_json(document["dsseEnvelope"])
    public_key = material.get("publicKey")
    if isinstance(public_key, dict):
        hint = public_key.get("hint")
        return ParsedBundle(KEY, envelope, hint if isinstance(hint, str) else None, document)
    if "certificate" in material or "x509CertificateChain" in material:
        return ParsedBundle(SIGSTORE, envelope, None, document)
    raise AttestationError("the bundle's verificationMaterial names neither a public key nor a certificate")
