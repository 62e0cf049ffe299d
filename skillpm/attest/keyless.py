"""Keyless (Sigstore) bundles: the ``signature`` and ``signer`` checks, and the verifier they use.

sigstore-python verifies the certificate, the transparency-log entry and the DSSE signature
against a trust root; skillpm reads the signer (the certificate's OIDC issuer and identities)
itself, so that the signer shown is the one matched against the policy.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from skillpm.attest import quiet_sigstore
from skillpm.attest.bundle import ParsedBundle
from skillpm.attest.policy import Policy
from skillpm.attest.verify import Check, SigstoreTrust

if TYPE_CHECKING:
    from cryptography.x509 import Certificate
    from sigstore.verify import Verifier

# Fulcio's certificate extensions naming the OIDC issuer: v1 holds raw text, v2 a DER UTF8String.
_ISSUER_V1 = "1.3.6.1.4.1.57264.1.1"
_ISSUER_V2 = "1.3.6.1.4.1.57264.1.8"
#: The other-name SAN Fulcio writes an identity in (a user name), the only other name sigstore reads.
_OTHER_NAME = "1.3.6.1.4.1.57264.1.7"


class _AnyCertificate:
    """A sigstore VerificationPolicy that accepts every identity: the ``signer`` check decides."""

    def verify(self, cert: Certificate) -> None:
        return None


def sigstore_checks(data: bytes, parsed: ParsedBundle, policy: Policy, trust: SigstoreTrust) -> list[Check]:
    """``signature`` and ``signer`` for a keyless bundle, with sigstore-python's verifier.

    Any error reading or verifying the bundle (sigstore's own, cryptography's ValueError on bytes that
    are not DER, an OSError or OverflowError from a timestamp out of range) fails the ``signature``
    check, never the command. The signature counts only for the payload skillpm reads (``parsed``):
    sigstore decodes the envelope's base64 on its own, leniently (it drops ``-`` and ``_``, which skillpm
    reads as URL-safe base64), so the (payloadType, payload) it verified must be the same. The signer is
    the certificate's (issuer, identities) as :func:`certificate_identity` reads them: what is shown is
    what is matched against the policy.
    """
    quiet_sigstore()
    from sigstore.models import Bundle

    try:
        bundle = Bundle.from_json(data)
    except Exception as error:  # a registry's bytes: whatever sigstore or cryptography raise on them
        return _unsigned(f"not a valid Sigstore bundle: {_reason(error)}")
    verifier = sigstore_verifier(trust)
    if isinstance(verifier, str):
        return _unsigned(verifier)
    try:
        verified = verifier.verify_dsse(bundle, _AnyCertificate())
    except Exception as error:  # the same bytes, read further
        return _unsigned(f"Sigstore verification failed: {_reason(error)}")
    if tuple(verified) != (parsed.envelope.payload_type, parsed.envelope.payload):
        return _unsigned("Sigstore verified other payload bytes than the envelope's payload reads as: its base64 "
                         "holds characters that decoders read differently; refused")
    try:
        issuer, sans = certificate_identity(bundle.signing_certificate)
    except Exception as error:  # ValueError of its own; cryptography's on extensions it cannot read
        return [Check("signature", True, "valid Sigstore signature by (an identity that cannot be read)"),
                Check("signer", False, f"the certificate's identity cannot be read: {_reason(error)}")]
    signature = Check("signature", True, f"valid Sigstore signature by {', '.join(sans)} (issuer {issuer})")
    for trusted in policy.identities:
        if trusted.issuer == issuer and trusted.identity in sans:
            return [signature, Check("signer", True, f"{trusted.identity} from {trusted.issuer} is trusted by the policy")]
    detail = f"identity {', '.join(sans)} from issuer {issuer} is not trusted by the policy"
    return [signature, Check("signer", False, detail)]


def _reason(error: Exception) -> str:
    from skillpm.display import clean

    return clean(str(error) or type(error).__name__, 200)


def _unsigned(detail: str) -> list[Check]:
    return [Check("signature", False, detail), Check("signer", False, "no valid signature, so no signer to trust")]


@functools.lru_cache(maxsize=8)
def sigstore_verifier(trust: SigstoreTrust) -> Verifier | str:
    """The verifier of keyless bundles under ``trust``, or why there is none: built once per process (a
    command), so that Sigstore's trust root is refreshed once however many bundles it verifies.

    Offline, sigstore-python's cached copy of the root (else the one shipped with it) is used
    unrefreshed. Online, its TUF refresh goes over the network outside skillpm's HTTP client and takes
    no timeout of skillpm's, so it runs in a child process killed at the command's deadline
    (``$SKILLPM_HTTP_DEADLINE``), on a copy of sigstore-python's folders (:mod:`skillpm.attest.trustroot`).
    """
    from sigstore.verify import Verifier

    if trust.trusted_root is not None:
        return Verifier(trusted_root=trust.trusted_root)
    if trust.offline:
        import logging

        # sigstore-python warns on stderr, in its own words, that it was asked to do what --offline asks
        logging.getLogger("sigstore._internal.tuf").setLevel(logging.ERROR)
        try:
            return (Verifier.staging if trust.staging else Verifier.production)(offline=True)
        except Exception as error:  # a cached root that is damaged, a data folder that cannot be written
            return f"cannot load Sigstore's cached trust root: {_reason(error)}"
    from skillpm.attest.trustroot import refreshed_config, tuf_url

    config = refreshed_config(tuf_url(trust.staging))
    if isinstance(config, str):
        return (f"cannot refresh Sigstore's trust root: {config} (use --offline or SKILLPM_OFFLINE=1 to verify "
                "against the copy cached or shipped with sigstore-python)")
    try:
        return Verifier(trusted_root=config.trusted_root)
    except Exception as error:  # a root sigstore read but cannot verify with
        return f"cannot use Sigstore's refreshed trust root: {_reason(error)}"


def certificate_identity(certificate: Certificate) -> tuple[str | None, list[str]]:
    """A Fulcio certificate's OIDC issuer and its identities (e-mail, URI and Sigstore other-name SANs).

    The issuer is read from Fulcio's v1 extension (raw text) and its v2 one (a DER UTF8String);
    ValueError when they disagree, or when either, or an identity, is not UTF-8.
    """
    from cryptography import x509

    issuers = set()
    for extension in certificate.extensions:
        if extension.oid.dotted_string in (_ISSUER_V1, _ISSUER_V2):
            raw = extension.value.value  # type: ignore[attr-defined]
            if extension.oid.dotted_string == _ISSUER_V2:
                raw = _utf8_string(raw)
            issuers.add(raw.decode())
    if len(issuers) > 1:
        raise ValueError(f"its OIDC issuer extensions disagree ({', '.join(sorted(map(repr, issuers)))})")
    issuer = issuers.pop() if issuers else None
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return issuer, []
    sans: list[str] = [*names.get_values_for_type(x509.RFC822Name), *names.get_values_for_type(x509.UniformResourceIdentifier)]
    sans += [other.value.decode() for other in names.get_values_for_type(x509.OtherName) if other.type_id.dotted_string == _OTHER_NAME]
    return issuer, sans


def _utf8_string(der: bytes) -> bytes:
    """The text of a DER UTF8String; ValueError when ``der`` is not one."""
    if der[:1] != b"\x0c" or len(der) < 2:
        raise ValueError("its v2 OIDC issuer extension is not a UTF8String")
    head = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    return der[head:]
