"""Keyless (Sigstore) attestations, verified offline with sigstore-python's own verifier.

Sigstore's services cannot be reached from the tests, so the keyless bundles here
are built in the test run on a synthetic Sigstore instance: a CA, a CT log and a
Rekor log, each with a key generated in memory, and a trusted root naming them.
Every signature in the bundle (certificate, SCT, checkpoint, SET, DSSE) is real
and checked by sigstore-python's ``Verifier``; nothing is mocked. The construction
follows sigstore-python's offline RSA fixtures (test/unit/verify/
test_verifier_rsa_bundle.py, Apache-2.0), written anew here for an ECDSA P-256
Fulcio-style certificate and a dsse/0.0.1 log entry.

Signing against the real Sigstore needs the network and an OIDC identity:
``test_online_keyless_round_trip`` runs only when ``SKILLPM_ONLINE_TESTS=1`` and
``SIGSTORE_ID_TOKEN`` are set (docs/attestations.md).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

import pytest
import rfc8785
from cryptography import x509
from cryptography.hazmat import asn1
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID
from sigstore.models import TrustedRoot
from sigstore_models.trustroot.v1 import TrustedRoot as TrustedRootModel

from skillpm.attest import AttestationError
from skillpm.attest.bundle import SIGSTORE, keyless_signer, read_bundle, sign_keyless, to_sigstore_statement
from skillpm.attest.dsse import PAYLOAD_TYPE, pae
from skillpm.attest.keyless import certificate_identity
from skillpm.attest.policy import Policy, TrustedIdentity
from skillpm.attest.statement import statement_for_evidence
from skillpm.attest.verify import Check, SigstoreTrust, failures, verify_attestation

from test_attest_verify import ARTIFACT, DIGEST, NAME, SCHEMAS, VARIANT, evidence

SIGNED_AT = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)
IDENTITY = "release@acme.example"
ISSUER = "https://issuer.acme.example"
#: Fulcio's OIDC issuer extensions: v1 holds the issuer's raw text, v2 a DER UTF8String.
ISSUER_V1, ISSUER_V2 = "1.3.6.1.4.1.57264.1.1", "1.3.6.1.4.1.57264.1.8"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass
class Instance:
    """A synthetic Sigstore instance: CA, CT log and Rekor log keys, and the trusted root naming them."""

    ca_key: ec.EllipticCurvePrivateKey
    ca: x509.Certificate
    ct_key: ec.EllipticCurvePrivateKey
    log_key: ec.EllipticCurvePrivateKey

    @classmethod
    def create(cls) -> Instance:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "skillpm test CA")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(ca_key.public_key())
            .serial_number(1)
            .not_valid_before(SIGNED_AT - timedelta(days=30))
            .not_valid_after(SIGNED_AT + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        return cls(ca_key, ca, ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1()))

    def trusted_root(self) -> TrustedRoot:
        def log(key: ec.EllipticCurvePrivateKey, url: str) -> dict[str, Any]:
            return {
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "logId": {"keyId": _b64(hashlib.sha256(_spki(key)).digest())},
                "publicKey": {
                    "rawBytes": _b64(_spki(key)),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": "2020-01-01T00:00:00Z"},
                },
            }

        root = {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(self.log_key, "https://rekor.acme.example")],
            "ctlogs": [log(self.ct_key, "https://ct.acme.example")],
            "certificateAuthorities": [
                {
                    "subject": {"commonName": "skillpm test CA", "organization": "skillpm"},
                    "uri": "https://fulcio.acme.example",
                    "certChain": {"certificates": [{"rawBytes": _b64(self.ca.public_bytes(serialization.Encoding.DER))}]},
                    "validFor": {"start": "2020-01-01T00:00:00Z"},
                }
            ],
        }
        return TrustedRoot(TrustedRootModel.from_json(json.dumps(root)))

    def certificate(
        self, key: ec.EllipticCurvePublicKey, identity: str = IDENTITY, issuer: str = ISSUER,
        issuers: Sequence[tuple[str, bytes]] | None = None, at: datetime = SIGNED_AT,
    ) -> x509.Certificate:
        """A Fulcio-style leaf of ``key`` for ``identity`` from ``issuer``, with an SCT from the CT log, valid for
        five minutes either side of ``at``.

        ``issuers``: the issuer extensions (OID, raw value) in their order, instead of the v1 one of ``issuer``.
        """
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.ca.subject)
            .public_key(key)
            .serial_number(2)
            .not_valid_before(at - timedelta(minutes=5))
            .not_valid_after(at + timedelta(minutes=5))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(identity)]), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()), critical=False)
        )
        for oid, value in [(ISSUER_V1, issuer.encode())] if issuers is None else issuers:
            builder = builder.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value), critical=False)
        # RFC 6962 3.2: the CT log signs the precertificate's TBS (without the SCT list).
        tbs = builder.sign(self.ca_key, hashes.SHA256()).tbs_certificate_bytes
        millis = int(at.timestamp() * 1000)
        signed = (
            struct.pack("!BBQH", 0, 0, millis, 1)
            + hashlib.sha256(_spki(self.ca_key)).digest()
            + len(tbs).to_bytes(3, "big")
            + tbs
            + b"\x00\x00"
        )
        sct_signature = self.ct_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        sct = (
            b"\x00"
            + hashlib.sha256(_spki(self.ct_key)).digest()
            + struct.pack("!QH", millis, 0)
            + struct.pack("!BBH", 4, 3, len(sct_signature))
            + sct_signature
        )
        sct_list = struct.pack("!HH", len(sct) + 2, len(sct)) + sct
        extension = x509.UnrecognizedExtension(ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS, asn1.encode_der(sct_list))
        return builder.add_extension(extension, critical=False).sign(self.ca_key, hashes.SHA256())

    def sign(
        self, payload: bytes, *, identity: str = IDENTITY, issuer: str = ISSUER,
        issuers: Sequence[tuple[str, bytes]] | None = None,
    ) -> bytes:
        """A keyless bundle for ``payload``, as ``Signer.sign_dsse`` would return it (Rekor v1, dsse/0.0.1)."""
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = self.certificate(key.public_key(), identity, issuer, issuers)
        signature = key.sign(pae(PAYLOAD_TYPE, payload), ec.ECDSA(hashes.SHA256()))
        envelope = {"payload": _b64(payload), "payloadType": PAYLOAD_TYPE, "signatures": [{"sig": _b64(signature)}]}
        entry = self.log_entry(dsse_entry(envelope, _b64(certificate.public_bytes(serialization.Encoding.PEM))))
        bundle = {
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {"rawBytes": _b64(certificate.public_bytes(serialization.Encoding.DER))},
                "tlogEntries": [
                    {
                        "logIndex": "0",
                        "logId": {"keyId": _b64(bytes.fromhex(entry["logID"]))},
                        "kindVersion": {"kind": "dsse", "version": "0.0.1"},
                        "integratedTime": str(entry["integratedTime"]),
                        "canonicalizedBody": entry["body"],
                        "inclusionPromise": {"signedEntryTimestamp": entry["verification"]["signedEntryTimestamp"]},
                        "inclusionProof": {
                            "logIndex": "0",
                            "rootHash": _b64(bytes.fromhex(entry["verification"]["inclusionProof"]["rootHash"])),
                            "treeSize": "1",
                            "hashes": [],
                            "checkpoint": {"envelope": entry["verification"]["inclusionProof"]["checkpoint"]},
                        },
                    }
                ],
            },
            "dsseEnvelope": envelope,
        }
        return json.dumps(bundle).encode()

    def log_entry(self, body: bytes, at: datetime = SIGNED_AT) -> dict[str, Any]:
        """``body`` (a canonical Rekor entry) as the one entry of a log of one, integrated ``at``, as Rekor's v1 API
        answers a new entry (``POST /api/v1/log/entries``, but for the UUID it is keyed by): checkpoint and
        promise signed."""
        log_id = hashlib.sha256(_spki(self.log_key)).digest()
        leaf = hashlib.sha256(b"\x00" + body).digest()
        note = f"rekor.acme.example\n1\n{_b64(leaf)}\n"
        note_signature = self.log_key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        checkpoint = note + f"\n\u2014 rekor.acme.example {_b64(log_id[:4] + note_signature)}\n"
        integrated = int(at.timestamp())
        promise = rfc8785.dumps({"body": _b64(body), "integratedTime": integrated, "logID": log_id.hex(), "logIndex": 0})
        return {
            "body": _b64(body), "integratedTime": integrated, "logID": log_id.hex(), "logIndex": 0,
            "verification": {
                "inclusionProof": {"logIndex": 0, "rootHash": leaf.hex(), "treeSize": 1, "hashes": [],
                                   "checkpoint": checkpoint},
                "signedEntryTimestamp": _b64(self.log_key.sign(promise, ec.ECDSA(hashes.SHA256()))),
            },
        }


def dsse_entry(envelope: dict[str, Any], verifier: str) -> bytes:
    """The canonical Rekor entry (dsse/0.0.1) of a DSSE ``envelope`` of one signature, whose certificate (PEM,
    base64) is ``verifier``: what Rekor makes of the entry a signer proposes."""
    payload = base64.b64decode(envelope["payload"])
    return rfc8785.dumps({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hashlib.sha256(json.dumps(envelope).encode()).hexdigest()},
            "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
            "signatures": [{"signature": envelope["signatures"][0]["sig"], "verifier": verifier}],
        },
    })


@pytest.fixture(scope="module")
def instance() -> Instance:
    return Instance.create()


def payload(document: dict[str, Any] | None = None) -> bytes:
    statement = statement_for_evidence(document or evidence(), artifact_name=NAME, artifact_sha256=DIGEST)
    return statement.to_bytes()


TRUSTED = Policy(identities=(TrustedIdentity(ISSUER, IDENTITY),))


def verify(bundle: bytes, policy: Policy, trust: SigstoreTrust) -> dict[str, Check]:
    checks = verify_attestation(
        bundle, artifact_name=NAME, artifact_sha256=DIGEST, expected=VARIANT, policy=policy,
        artifact=ARTIFACT, test_set=evidence()["test_set"]["digest"], schema_dir=SCHEMAS, sigstore=trust,
    )
    return {check.name: check for check in checks}


def failed(checks: dict[str, Check]) -> list[str]:
    return [check.name for check in failures(list(checks.values()))]


def test_keyless_round_trip(instance: Instance) -> None:
    bundle = instance.sign(payload())
    assert read_bundle(bundle).kind == SIGSTORE
    checks = verify(bundle, TRUSTED, SigstoreTrust(trusted_root=instance.trusted_root()))
    assert failed(checks) == []
    assert checks["bundle"].detail == "Sigstore keyless bundle"
    assert checks["signature"].detail == f"valid Sigstore signature by {IDENTITY} (issuer {ISSUER})"
    assert checks["signer"].detail == f"{IDENTITY} from {ISSUER} is trusted by the policy"


@pytest.mark.parametrize(
    "trusted",
    [
        TrustedIdentity(ISSUER, "intruder@acme.example"),
        TrustedIdentity("https://accounts.google.com", IDENTITY),
    ],
    ids=["identity", "issuer"],
)
def test_identity_or_issuer_that_does_not_match(instance: Instance, trusted: TrustedIdentity) -> None:
    bundle = instance.sign(payload())
    checks = verify(bundle, Policy(identities=(trusted,)), SigstoreTrust(trusted_root=instance.trusted_root()))
    assert failed(checks) == ["signer"]
    assert checks["signer"].detail == f"identity {IDENTITY} from issuer {ISSUER} is not trusted by the policy"


def test_a_certificate_for_another_identity_is_refused(instance: Instance) -> None:
    bundle = instance.sign(payload(), identity="intruder@acme.example", issuer="https://evil.example")
    checks = verify(bundle, TRUSTED, SigstoreTrust(trusted_root=instance.trusted_root()))
    assert failed(checks) == ["signer"]


def test_tampered_keyless_statement(instance: Instance) -> None:
    data = json.loads(instance.sign(payload()))
    data["dsseEnvelope"]["payload"] = _b64(payload(evidence(target="sm_80")))
    checks = verify(json.dumps(data).encode(), TRUSTED, SigstoreTrust(trusted_root=instance.trusted_root()))
    assert failed(checks) == ["signature", "signer", "evidence-variant"]
    assert checks["signature"].detail.startswith("Sigstore verification failed: ")


@pytest.mark.parametrize(
    ("at", "extra"), [(0, "----"), (8, "-_-_"), (-4, "-")], ids=["first", "inside", "near-the-end"]
)
def test_a_payload_whose_base64_sigstore_reads_otherwise_is_not_signed(instance: Instance, at: int, extra: str) -> None:
    """sigstore's base64 drops '-' and '_', which skillpm reads as URL-safe base64: the signature sigstore
    verified is over other bytes than skillpm would read, so it counts for nothing."""
    data = json.loads(instance.sign(payload()))
    text = data["dsseEnvelope"]["payload"]
    data["dsseEnvelope"]["payload"] = text[:at] + extra + text[at:]
    checks = verify(json.dumps(data).encode(), TRUSTED, SigstoreTrust(trusted_root=instance.trusted_root()))
    assert checks["signature"].ok is False and checks["signer"].ok is False
    assert checks["signature"].detail.startswith("Sigstore verified other payload bytes than the envelope's payload")


def test_a_bundle_from_another_sigstore_instance_is_refused(instance: Instance) -> None:
    bundle = Instance.create().sign(payload())
    checks = verify(bundle, TRUSTED, SigstoreTrust(trusted_root=instance.trusted_root()))
    assert failed(checks) == ["signature", "signer"]
    assert "failed to build timestamp certificate chain" in checks["signature"].detail


def test_the_public_good_instance_refuses_a_synthetic_bundle(
    instance: Instance, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default trust (Sigstore's production root, offline: the copy shipped in sigstore-python)."""
    for variable in ("XDG_CACHE_HOME", "XDG_DATA_HOME", "HOME"):
        monkeypatch.setenv(variable, str(tmp_path))
    checks = verify(instance.sign(payload()), TRUSTED, SigstoreTrust(offline=True))
    assert failed(checks) == ["signature", "signer"]
    assert checks["signature"].detail.startswith("Sigstore verification failed: ")


@pytest.mark.parametrize("material", [
    {"certificate": {"rawBytes": _b64(b"not a certificate")}},
    {"x509CertificateChain": {"certificates": [{"rawBytes": _b64(b"not a certificate")}]}},
], ids=["certificate", "chain"])
def test_a_bundle_whose_certificate_is_not_der_fails_its_signature_check(instance: Instance, material) -> None:
    """A registry's bundle (v0.3, or v0.1 with a chain) whose certificate bytes are not DER: sigstore-python
    raises cryptography's ValueError, not its own Error, and the check must fail rather than the command."""
    data = json.loads(instance.sign(payload()))
    data["verificationMaterial"] = {**material, "tlogEntries": data["verificationMaterial"].get("tlogEntries", [])}
    if "x509CertificateChain" in material:
        data["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.1"
    checks = verify(json.dumps(data).encode(), TRUSTED, SigstoreTrust(trusted_root=instance.trusted_root()))
    assert failed(checks) == ["signature", "signer"]
    assert checks["signature"].detail.startswith("not a valid Sigstore bundle: ")


def test_certificate_identity(instance: Instance) -> None:
    certificate = instance.certificate(ec.generate_private_key(ec.SECP256R1()).public_key(), IDENTITY, ISSUER)
    assert certificate_identity(certificate) == (ISSUER, [IDENTITY])


def test_a_keyless_bundle_is_named_by_its_signer_s_identity_not_its_one_time_certificate(instance: Instance) -> None:
    """Where a bundle is kept names its signer (store.attestation_path): one identity, one name, whatever
    certificate Sigstore gave it each time; another identity or issuer, another name; no certificate, refused."""
    first, again = (keyless_signer(instance.sign(payload())) for _ in range(2))
    assert first == again and len(first) == 64
    assert keyless_signer(instance.sign(payload(), identity="someone@acme.example")) != first
    assert keyless_signer(instance.sign(payload(), issuer="https://other.acme.example")) != first
    with pytest.raises(AttestationError, match="the keyless bundle names no signer"):
        keyless_signer(b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}')


def test_keyless_signing_signs_the_same_bytes_as_key_signing() -> None:
    statement = statement_for_evidence(evidence(), artifact_name=NAME, artifact_sha256=DIGEST)
    sigstore_statement = to_sigstore_statement(statement)
    assert sigstore_statement._pae() == pae(PAYLOAD_TYPE, statement.to_bytes())
    from sigstore.hashes import Hashed
    from sigstore_models.common.v1 import HashAlgorithm

    assert sigstore_statement._matches_digest(Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(DIGEST)))


def test_keyless_signing_refuses_a_malformed_token_without_the_network() -> None:
    statement = statement_for_evidence(evidence(), artifact_name=NAME, artifact_sha256=DIGEST)
    with pytest.raises(AttestationError, match="keyless signing failed"):
        sign_keyless([statement], identity_token="not-a-jwt")


@pytest.mark.skipif(
    os.environ.get("SKILLPM_ONLINE_TESTS") != "1" or not os.environ.get("SIGSTORE_ID_TOKEN"),
    reason="needs Sigstore's services and an OIDC token: set SKILLPM_ONLINE_TESTS=1 and SIGSTORE_ID_TOKEN",
)
def test_online_keyless_round_trip() -> None:
    """Sign with Sigstore (staging unless SKILLPM_SIGSTORE_PRODUCTION=1) and verify against its trust root."""
    import jwt

    token = os.environ["SIGSTORE_ID_TOKEN"]
    claims = jwt.decode(token, options={"verify_signature": False})
    staging = os.environ.get("SKILLPM_SIGSTORE_PRODUCTION") != "1"
    statement = statement_for_evidence(evidence(), artifact_name=NAME, artifact_sha256=DIGEST)
    (bundle,) = sign_keyless([statement], identity_token=token, staging=staging)
    identity = os.environ.get("SKILLPM_SIGSTORE_IDENTITY") or claims.get("email") or claims["sub"]
    policy = Policy(identities=(TrustedIdentity(claims["iss"], identity),))
    checks = verify(bundle, policy, SigstoreTrust(staging=staging))
    assert failed(checks) == [], checks
