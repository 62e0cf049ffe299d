"""Key-based attestations end to end: real keys and signatures, every check, every refusal."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from skillpm.archive import archive_name
from skillpm.attest import AttestationError
from skillpm.attest.bundle import BUNDLE_MEDIA_TYPE, KEY, read_bundle, sign_with_key
from skillpm.attest.keys import ALGORITHMS, ED25519, SigningKey, generate
from skillpm.attest.policy import Policy, Requirements, TrustedKey
from skillpm.attest.statement import EVAL_PREDICATE, Statement, Subject, VariantRef, statement_for_evidence
from skillpm.attest.verify import (
    TEST_SET_NOT_CHECKED,
    UNKNOWN,
    Check,
    attested_statement,
    default_schema_dir,
    failures,
    require_verified,
    verify_attestation,
)

ASSETS = Path(__file__).parent / "assets" / "attest"
SCHEMAS = default_schema_dir()  # the repository's schemas/
ARTIFACT = b"pretend this is a variant archive\n"
DIGEST = hashlib.sha256(ARTIFACT).hexdigest()
VARIANT = VariantRef("layer-norm", "1.0.0", "sm_90a")
NAME = archive_name(VARIANT.name, VARIANT.version, VARIANT.target)
#: The test set the evidence in tests/assets/attest/ ran, as the archive it is about would record it.
TEST_SET = json.loads((ASSETS / "eval-evidence.json").read_text(encoding="utf-8"))["test_set"]["digest"]
ALL_CHECKS = [
    "bundle", "artifact-digest", "signature", "signer", "payload-type", "statement", "subject",
    "predicate-type", "predicate-schema", "figures", "evidence-variant",
]


def evidence(kind: str = "eval", *, sha256: str = DIGEST, **skill: str) -> dict[str, Any]:
    """The evidence document in tests/assets/attest/, made about this variant and artifact."""
    data = json.loads((ASSETS / f"{kind}-evidence.json").read_text(encoding="utf-8"))
    data["skill"] = {"name": VARIANT.name, "version": VARIANT.version, "target": VARIANT.target,
                     "artifact_sha256": sha256} | skill
    return data


def sign(key: SigningKey, document: dict[str, Any], *, name: str = NAME, sha256: str = DIGEST) -> bytes:
    return sign_with_key(statement_for_evidence(document, artifact_name=name, artifact_sha256=sha256), key)


def trusting(*keys: SigningKey, **requirements: Any) -> Policy:
    return Policy(keys=tuple(TrustedKey(k.fingerprint) for k in keys), requirements=Requirements(**requirements))


def verify(bundle: bytes, policy: Policy, *keys: SigningKey, **overrides: Any) -> dict[str, Check]:
    arguments: dict[str, Any] = dict(
        artifact_name=NAME, artifact_sha256=DIGEST, expected=VARIANT, policy=policy, artifact=ARTIFACT,
        test_set=TEST_SET, keys=[key.public for key in keys], schema_dir=SCHEMAS,
    )
    checks = verify_attestation(bundle, **(arguments | overrides))
    assert len({check.name for check in checks}) == len(checks)
    return {check.name: check for check in checks}


def failed(checks: dict[str, Check]) -> list[str]:
    return [check.name for check in failures(list(checks.values()))]


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return generate(ED25519)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("kind", ["eval", "bench"])
def test_round_trip(algorithm: str, kind: str) -> None:
    key = generate(algorithm)
    checks = verify(sign(key, evidence(kind)), trusting(key), key)
    extra = ["gpu-evidence"] if kind == "bench" else ["test-set"]
    assert list(checks) == [*ALL_CHECKS, *extra, "requirements"]
    assert failed(checks) == [] and all(check.ok for check in checks.values())
    assert checks["signature"].detail == f"valid signature by key {key.fingerprint}"
    assert checks["predicate-type"].detail == f"https://skillpm.dev/attestations/{kind}/v1"


def test_the_policy_can_carry_the_public_key(key: SigningKey) -> None:
    policy = Policy(keys=(TrustedKey(key.fingerprint, key.public.pem()),))
    assert failed(verify(sign(key, evidence()), policy)) == []


def test_attested_statement_and_a_variant_given_as_a_tuple(key: SigningKey) -> None:
    bundle = sign(key, evidence())
    checks = verify_attestation(
        bundle, artifact_name=NAME, artifact_sha256=DIGEST, expected=("layer-norm", "1.0.0", "sm_90a"),
        policy=trusting(key), keys=[key.public], test_set=TEST_SET,
    )
    assert failures(checks) == []
    assert attested_statement(bundle).predicate_type == EVAL_PREDICATE


@pytest.mark.parametrize(
    ("known", "ok", "says"),
    [
        ({}, False, f"{TEST_SET_NOT_CHECKED}: the evidence ran test set {TEST_SET}, but the variant's archive, which"),
        ({"test_set": None}, False, "the variant's archive records no test set"),
        ({"test_set": "2" * 64}, False, "it was measured on other test cases"),
        ({"test_set": TEST_SET}, True, f"the variant's test set {TEST_SET}"),
    ],
    ids=["unknown", "none", "another", "the-same"],
)
def test_eval_evidence_verifies_only_against_a_known_test_set(
    key: SigningKey, known: dict, ok: bool, says: str
) -> None:
    """Without the archive (its bytes here are no archive) nor its test set, the evidence is not verified."""
    checks = verify(sign(key, evidence()), trusting(key), key, **({"test_set": UNKNOWN} | known))
    assert checks["test-set"].ok is ok and says in checks["test-set"].detail
    assert failed(checks) == ([] if ok else ["test-set"])
    bench = verify(sign(key, evidence("bench")), trusting(key), key, test_set=UNKNOWN)
    assert "test-set" not in bench and failed(bench) == []


def test_bundle_format(key: SigningKey) -> None:
    data = json.loads(sign(key, evidence()))
    assert data["mediaType"] == BUNDLE_MEDIA_TYPE
    assert data["verificationMaterial"] == {"publicKey": {"hint": key.fingerprint}, "tlogEntries": []}
    envelope = data["dsseEnvelope"]
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    assert envelope["signatures"][0]["keyid"] == key.fingerprint
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["subject"] == [{"name": NAME, "digest": {"sha256": DIGEST}}]
    parsed = read_bundle(sign(key, evidence()))
    assert parsed.kind == KEY and parsed.key_hint == key.fingerprint


def test_sigstore_models_read_the_key_bundle_but_sigstore_bundle_needs_a_certificate(key: SigningKey) -> None:
    """Standard tooling's protobuf model accepts our bundle; sigstore-python's Bundle only keyless ones."""
    from sigstore.models import Bundle, InvalidBundle
    from sigstore_models.bundle.v1 import Bundle as BundleModel

    bundle = sign(key, evidence())
    model = BundleModel.from_json(bundle)
    assert model.verification_material.public_key.hint == key.fingerprint
    assert model.dsse_envelope.signatures[0].sig == key.sign(read_bundle(bundle).envelope.pae())  # Ed25519 is deterministic
    assert read_bundle(bundle).envelope.payload == model.dsse_envelope.payload
    with pytest.raises(InvalidBundle, match="expected certificate"):
        Bundle.from_json(bundle)


# -- refusals ----------------------------------------------------------------------------------


def test_tampered_artifact(key: SigningKey) -> None:
    bundle = sign(key, evidence())
    checks = verify(bundle, trusting(key), key, artifact=ARTIFACT + b"evil")
    assert failed(checks) == ["artifact-digest"]
    assert "but the index lists" in checks["artifact-digest"].detail
    # a verifier that trusts the tampered bytes' own digest is stopped by the statement
    tampered = hashlib.sha256(ARTIFACT + b"evil").hexdigest()
    checks = verify(bundle, trusting(key), key, artifact=ARTIFACT + b"evil", artifact_sha256=tampered)
    assert failed(checks) == ["subject", "evidence-variant"]
    assert f"no subject has digest {tampered}" in checks["subject"].detail


def _edit(bundle: bytes, change: Any) -> bytes:
    data = json.loads(bundle)
    change(data["dsseEnvelope"])
    return json.dumps(data).encode()


def _tamper_payload(envelope: dict[str, Any]) -> None:
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["models"][0]["with_skill"]["pass_rate"] = 1.0
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()


def _flip_signature(envelope: dict[str, Any]) -> None:
    raw = bytearray(base64.b64decode(envelope["signatures"][0]["sig"]))
    raw[-1] ^= 1
    envelope["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    "change, expect_failed",
    [
        (_tamper_payload, ["signature", "signer", "figures"]),  # 18 of 20 passed is no pass rate of 1.0 either
        (_flip_signature, ["signature", "signer"]),
        (lambda envelope: envelope.update(payloadType="application/json"), ["signature", "signer", "payload-type"]),
    ],
    ids=["statement", "signature", "payload-type"],
)
def test_tampered_statement_or_envelope(key: SigningKey, change: Any, expect_failed: list[str]) -> None:
    checks = verify(_edit(sign(key, evidence()), change), trusting(key), key)
    assert failed(checks) == expect_failed
    assert "was altered" in checks["signature"].detail
    assert checks["signer"].detail == "no valid signature, so no signer to trust"


def test_signature_by_an_untrusted_key(key: SigningKey) -> None:
    stranger = generate(ED25519)
    checks = verify(sign(stranger, evidence()), trusting(key), key, stranger)
    assert failed(checks) == ["signer"]
    assert checks["signer"].detail == f"key {stranger.fingerprint} is not trusted by the policy"


def test_signature_by_an_unknown_key(key: SigningKey) -> None:
    stranger = generate(ED25519)
    checks = verify(sign(stranger, evidence()), trusting(key, stranger), key)
    assert failed(checks) == ["signature", "signer"]
    assert checks["signature"].detail == (
        f"signed by an unknown key {stranger.fingerprint}: no public key with that fingerprint is known"
    )


def test_a_forged_key_hint_does_not_help(key: SigningKey) -> None:
    stranger = generate(ED25519)
    bundle = json.loads(sign(stranger, evidence()))
    bundle["verificationMaterial"]["publicKey"]["hint"] = key.fingerprint
    bundle["dsseEnvelope"]["signatures"][0]["keyid"] = key.fingerprint
    checks = verify(json.dumps(bundle).encode(), trusting(key), key)
    assert failed(checks) == ["signature", "signer"]


def test_subject_digest_of_another_artifact(key: SigningKey) -> None:
    other = "c" * 64
    checks = verify(sign(key, evidence(sha256=other), sha256=other), trusting(key), key)
    assert failed(checks) == ["subject", "evidence-variant"]
    assert checks["subject"].detail.startswith(f"no subject has digest {DIGEST}")


def test_subject_with_another_name(key: SigningKey) -> None:
    checks = verify(sign(key, evidence(), name="other-1.0.0-sm_90a.tar.gz"), trusting(key), key)
    assert failed(checks) == ["subject"]


@pytest.mark.parametrize("field, value", [("name", "rms-norm"), ("version", "0.9.0"), ("target", "sm_80")])
def test_evidence_for_another_variant(key: SigningKey, field: str, value: str) -> None:
    checks = verify(sign(key, evidence(**{field: value})), trusting(key), key)
    assert failed(checks) == ["evidence-variant"]
    assert checks["evidence-variant"].detail == f"skill.{field} is {value!r}, expected {getattr(VARIANT, field)!r}"


def test_predicate_that_fails_its_schema(key: SigningKey) -> None:
    document = evidence()
    document["models"][0]["with_skill"]["pass_rate"] = 2
    del document["models"][0]["lift"]
    checks = verify(sign(key, document), trusting(key), key)
    assert failed(checks) == ["predicate-schema", "figures"]
    detail = checks["predicate-schema"].detail
    assert detail.startswith("invalid against eval-evidence.schema.json: ")
    assert 'at models.0: "lift" is a required property' in detail
    assert "at models.0.with_skill.pass_rate: 2 is greater than the maximum of 1" in detail


def test_the_test_evidence_is_valid_against_the_repository_schemas() -> None:
    import jsonschema

    for kind in ("eval", "bench"):
        schema = json.loads((SCHEMAS / f"{kind}-evidence.schema.json").read_text(encoding="utf-8"))
        jsonschema.validate(evidence(kind), schema, cls=jsonschema.Draft202012Validator)


def test_predicate_declaring_another_schema(key: SigningKey) -> None:
    statement = Statement((Subject(NAME, DIGEST),), EVAL_PREDICATE, evidence("bench"))
    checks = verify(sign_with_key(statement, key), trusting(key), key)
    assert "predicate-schema" in failed(checks)
    assert "declares schema 'https://skillpm.dev/evidence/bench/v1'" in checks["predicate-schema"].detail


def test_unknown_predicate_type(key: SigningKey) -> None:
    statement = Statement((Subject(NAME, DIGEST),), "https://slsa.dev/provenance/v1", {})
    checks = verify(sign_with_key(statement, key), trusting(key), key)
    assert failed(checks) == ["predicate-type"]
    assert list(checks)[-1] == "predicate-type"


def test_a_missing_schema_never_passes(key: SigningKey, tmp_path: Path) -> None:
    checks = verify(sign(key, evidence()), trusting(key), key, schema_dir=tmp_path)
    assert failed(checks) == ["predicate-schema"]
    assert "is missing, so the predicate cannot be validated" in checks["predicate-schema"].detail


def test_every_shipped_evidence_schema_is_itself_valid() -> None:
    """verify does not check the schemas skillpm ships against their meta-schema (it would cost every
    install of signed evidence a fifth of its start-up): this test does, for each predicate type."""
    import jsonschema

    from skillpm.attest.verify import PREDICATES

    assert len(PREDICATES) >= 3
    for _, filename in PREDICATES.values():
        schema = json.loads((SCHEMAS / filename).read_text(encoding="utf-8"))
        jsonschema.validators.validator_for(schema).check_schema(schema)


def test_a_schema_from_elsewhere_that_is_itself_invalid_never_passes(key: SigningKey, tmp_path: Path) -> None:
    """A schema outside the shipped folder is still checked against its meta-schema before use."""
    schema = json.loads((SCHEMAS / "eval-evidence.schema.json").read_text(encoding="utf-8"))
    (tmp_path / "eval-evidence.schema.json").write_text(json.dumps(schema | {"type": 12}), encoding="utf-8")
    checks = verify(sign(key, evidence()), trusting(key), key, schema_dir=tmp_path)
    assert failed(checks) == ["predicate-schema"]
    assert "is itself invalid" in checks["predicate-schema"].detail


def test_bench_without_gpu_is_reported_and_only_fails_when_policy_requires_gpu(key: SigningKey) -> None:
    document = evidence("bench") | {"gpu_evidence": False}
    checks = verify(sign(key, document), trusting(key), key)
    gpu = checks["gpu-evidence"]
    assert (gpu.ok, gpu.required, gpu.detail) == (False, False, "not GPU evidence (gpu_evidence is not true)")
    assert failed(checks) == []
    checks = verify(sign(key, document), trusting(key, gpu_evidence=True), key)
    assert failed(checks) == ["gpu-evidence"]


def test_policy_requirements(key: SigningKey) -> None:
    checks = verify(sign(key, evidence()), trusting(key, min_pass_rate=0.8, min_lift=0.25), key)
    assert failed(checks) == []
    checks = verify(sign(key, evidence()), trusting(key, min_pass_rate=0.86, min_lift=0.3), key)
    assert failed(checks) == ["requirements"]
    assert checks["requirements"].detail == (
        "the lowest pass rate with the skill, 0.85, is below the policy's minimum 0.86; "
        "the lowest lift, 0.25, is below the policy's minimum 0.3"
    )


@pytest.mark.parametrize(
    "bundle, message",
    [
        (b"{", "the bundle is not valid JSON"),
        (b"[]", "not a JSON object"),
        (b'{"mediaType": "application/json"}', "not a Sigstore bundle"),
        (json.dumps({"mediaType": BUNDLE_MEDIA_TYPE}).encode(), "no verificationMaterial"),
        (json.dumps({"mediaType": BUNDLE_MEDIA_TYPE, "verificationMaterial": {}}).encode(), "no DSSE envelope"),
        (
            json.dumps({"mediaType": BUNDLE_MEDIA_TYPE, "verificationMaterial": {},
                        "dsseEnvelope": {"payload": "YQ==", "payloadType": "t", "signatures": [{"sig": "YQ=="}]}}).encode(),
            "neither a public key nor a certificate",
        ),
    ],
)
def test_malformed_bundles(key: SigningKey, bundle: bytes, message: str) -> None:
    checks = verify(bundle, trusting(key), key)
    assert list(checks) == ["bundle"]
    assert message in checks["bundle"].detail


def test_require_verified(key: SigningKey) -> None:
    good = list(verify(sign(key, evidence()), trusting(key), key).values())
    require_verified(good)
    bad = list(verify(sign(key, evidence(target="sm_80")), Policy(), key).values())
    with pytest.raises(AttestationError) as caught:
        require_verified(bad)
    assert caught.value.message == (
        f"attestation check 'signer' failed: key {key.fingerprint} is not trusted by the policy"
        " (and 1 more failed checks)"
    )
    assert "\n" not in caught.value.message


def test_check_json() -> None:
    assert Check("gpu-evidence", False, "why", required=False).to_json() == {
        "check": "gpu-evidence", "ok": False, "required": False, "detail": "why",
    }


def test_default_schema_dir_is_the_repository_schemas() -> None:
    assert default_schema_dir() == Path(__file__).resolve().parent.parent / "schemas"


def test_a_predicate_nested_deeper_than_json_documents_may_be_is_refused_before_its_schema(key: SigningKey) -> None:
    """skillpm's JSON reader stops at 64 levels, long before jsonschema-rs would (a few hundred)."""
    document = evidence()
    document["models"] = json.loads("[" * 600 + "]" * 600)
    checks = verify(sign(key, document), trusting(key), key)
    assert failed(checks) == ["statement"]
    assert "nested more than 64 levels" in checks["statement"].detail


def test_a_bundle_s_statement_is_checked_as_publish_checks_one_without_its_signer(key: SigningKey) -> None:
    """bundle_statement: what registry pull copies (an untrusted signer is the installing user's to judge)."""
    from skillpm.attest.prechecks import bundle_statement

    recorded = evidence()["test_set"]["digest"]  # what the pulled archive records

    def statement_of(bundle: bytes, *, sha256: str = DIGEST, test_set: str | None = recorded) -> Statement:
        return bundle_statement(bundle, VARIANT, sha256, test_set=test_set, what="b.sigstore.json")

    assert statement_of(sign(key, evidence())).predicate_type == EVAL_PREDICATE
    for bundle, message in [
        (b'{"mediaType": "junk"}', "not a Sigstore bundle"),
        (_edit(sign(key, evidence()), lambda envelope: envelope.update(payloadType="text/plain")), "not an in-toto"),
        (sign(key, evidence(sha256="ab" * 32), sha256="ab" * 32), "check 'subject' failed"),
        (sign(key, evidence(target="generic")), "check 'evidence-variant' failed"),
    ]:
        with pytest.raises(AttestationError, match=f"^b.sigstore.json: .*{message}"):
            statement_of(bundle)
    with pytest.raises(AttestationError, match="check 'test-set' failed"):
        statement_of(sign(key, evidence()), test_set=None)  # the archive records no test set
    with pytest.raises(AttestationError, match="test set not checked"):
        statement_of(sign(key, evidence()), test_set=UNKNOWN)
