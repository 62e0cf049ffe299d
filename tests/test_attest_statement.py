"""in-toto statements over variant archives, and evidence checked against a variant."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from skillpm.attest import AttestationError
from skillpm.attest.statement import (
    BENCH_PREDICATE,
    EVAL_PREDICATE,
    STATEMENT_TYPE,
    Statement,
    Subject,
    VariantRef,
    evidence_mismatches,
    parse_statement,
    predicate_type_for,
    statement_for_evidence,
    subject_mismatch,
)

DIGEST = "a" * 64
OTHER = "b" * 64
NAME = "layer-norm-1.0.0-sm_90a.tar.gz"
VARIANT = VariantRef("layer-norm", "1.0.0", "sm_90a")


def evidence(kind: str = "eval", **skill: str) -> dict:
    fields = {"name": "layer-norm", "version": "1.0.0", "target": "sm_90a", "artifact_sha256": DIGEST}
    return {"schema": f"https://skillpm.dev/evidence/{kind}/v1", "skill": fields | skill, "results": {}}


def test_statement_for_eval_evidence() -> None:
    statement = statement_for_evidence(evidence(), artifact_name=NAME, artifact_sha256=DIGEST)
    assert statement.predicate_type == EVAL_PREDICATE
    assert statement.to_json() == {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": NAME, "digest": {"sha256": DIGEST}}],
        "predicateType": EVAL_PREDICATE,
        "predicate": evidence(),
    }


def test_bench_evidence_gets_the_bench_predicate_type() -> None:
    assert predicate_type_for(evidence("bench")) == BENCH_PREDICATE


def test_round_trip_through_bytes_is_exact_and_canonical() -> None:
    statement = statement_for_evidence(evidence(), artifact_name=NAME, artifact_sha256=DIGEST)
    payload = statement.to_bytes()
    assert parse_statement(payload) == statement
    assert payload == json.dumps(json.loads(payload), sort_keys=True, separators=(",", ":")).encode()


@pytest.mark.parametrize("schema", [None, "https://skillpm.dev/evidence/other/v1", 3])
def test_unknown_evidence_is_refused(schema: object) -> None:
    with pytest.raises(AttestationError, match="not one skillpm attests"):
        statement_for_evidence({"schema": schema}, artifact_name=NAME, artifact_sha256=DIGEST)


def test_evidence_for_another_artifact_is_not_signed() -> None:
    with pytest.raises(AttestationError, match="the evidence is for artifact 'bbbb"):
        statement_for_evidence(evidence(artifact_sha256=OTHER), artifact_name=NAME, artifact_sha256=DIGEST)


def test_subject_digest_must_be_sha256_hex() -> None:
    with pytest.raises(AttestationError, match="not 64 lowercase hex"):
        Subject(NAME, "A" * 64)


def test_a_subject_copied_with_another_digest_is_checked_too() -> None:
    with pytest.raises(AttestationError, match="not 64 lowercase hex"):
        Subject(NAME, DIGEST)._replace(sha256="A" * 64)


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"not json", "not valid JSON"),
        (b"[]", "not a JSON object"),
        (b'{"_type": "https://in-toto.io/Statement/v0.1"}', "not an in-toto Statement v1"),
        (json.dumps({"_type": STATEMENT_TYPE, "subject": []}).encode(), "no subject"),
        (json.dumps({"_type": STATEMENT_TYPE, "subject": ["x"]}).encode(), "malformed"),
        (
            json.dumps({"_type": STATEMENT_TYPE, "subject": [{"name": "x", "digest": {"sha512": "ab"}}]}).encode(),
            "no statement subject has a sha256",
        ),
        (
            json.dumps(
                {"_type": STATEMENT_TYPE, "subject": [{"name": "x", "digest": {"sha256": DIGEST}}], "predicate": {}}
            ).encode(),
            "predicateType or predicate",
        ),
    ],
)
def test_malformed_statements_are_refused(payload: bytes, message: str) -> None:
    with pytest.raises(AttestationError, match=message):
        parse_statement(payload)


def test_subject_mismatch() -> None:
    statement = Statement((Subject(NAME, DIGEST),), EVAL_PREDICATE, {})
    assert subject_mismatch(statement, artifact_name=NAME, artifact_sha256=DIGEST) is None
    assert "no subject has digest" in subject_mismatch(statement, artifact_name=NAME, artifact_sha256=OTHER)
    assert "named" in subject_mismatch(statement, artifact_name="other.tar.gz", artifact_sha256=DIGEST)


@pytest.mark.parametrize(
    "field, value",
    [("name", "rms-norm"), ("version", "1.0.1"), ("target", "sm_80"), ("artifact_sha256", OTHER)],
)
def test_evidence_for_another_variant(field: str, value: str) -> None:
    wrong = evidence_mismatches(evidence(**{field: value}), expected=VARIANT, artifact_sha256=DIGEST)
    assert wrong == [f"skill.{field} is {value!r}, expected {getattr(VARIANT, field, DIGEST)!r}"]
    assert evidence_mismatches(evidence(), expected=VARIANT, artifact_sha256=DIGEST) == []


def test_pure_modules_import_no_crypto_or_schema_libraries() -> None:
    code = (
        "import sys, skillpm.attest.statement, skillpm.attest.policy, skillpm.attest.dsse, skillpm.attest.bundle\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'cryptography', 'sigstore', 'jsonschema'})\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 10**400])
def test_a_statement_with_a_non_finite_number_is_never_signed(value: object) -> None:
    """However the NaN got in (a float built in Python, here), the payload a signer signs is refused."""
    from skillpm.attest.statement import Statement, Subject

    statement = Statement((Subject("a.tar.gz", "0" * 64),), EVAL_PREDICATE, {"models": [{"lift": value}]})
    with pytest.raises(AttestationError, match=r"not finite \(NaN or infinity\) at predicate.models\[0\].lift"):
        statement.to_bytes()
