"""in-toto Statement v1 over a variant archive, with skillpm's evidence predicates.

Pure logic, no I/O. A statement's subject is the variant archive (its file name
and sha256); its predicate is one evidence document, unchanged. The predicate
type says which kind of evidence it is (its predicate declares the matching ``schema``):

- ``https://skillpm.dev/attestations/eval/v1``: ``https://skillpm.dev/evidence/eval/v1``
- ``https://skillpm.dev/attestations/bench/v1``: ``https://skillpm.dev/evidence/bench/v1``
- ``https://skillpm.dev/attestations/static-kernel/v1``: ``https://skillpm.dev/evidence/static-kernel/v1``

See https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Mapping

from skillpm.attest import AttestationError
from skillpm.records import CheckedRecord, Record

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
EVAL_PREDICATE = "https://skillpm.dev/attestations/eval/v1"
BENCH_PREDICATE = "https://skillpm.dev/attestations/bench/v1"
EVAL_EVIDENCE = "https://skillpm.dev/evidence/eval/v1"
BENCH_EVIDENCE = "https://skillpm.dev/evidence/bench/v1"
STATIC_KERNEL_PREDICATE = "https://skillpm.dev/attestations/static-kernel/v1"
STATIC_KERNEL_EVIDENCE = "https://skillpm.dev/evidence/static-kernel/v1"

#: predicate type -> (the evidence ``schema`` its predicate must declare, the JSON Schema file)
PREDICATES: dict[str, tuple[str, str]] = {
    EVAL_PREDICATE: (EVAL_EVIDENCE, "eval-evidence.schema.json"),
    BENCH_PREDICATE: (BENCH_EVIDENCE, "bench-evidence.schema.json"),
    STATIC_KERNEL_PREDICATE: (STATIC_KERNEL_EVIDENCE, "static-kernel-evidence.schema.json"),
}

#: 64 lowercase hex digits: a sha256 digest, or a key fingerprint.
SHA256_RE = re.compile(r"[0-9a-f]{64}")


class _SubjectFields(Record):
    name: str
    sha256: str


class Subject(CheckedRecord, _SubjectFields):
    """What a statement is about: one artifact, by file name and sha256."""

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> Subject:
        subject = super().__new__(cls, *args, **kwargs)
        if not SHA256_RE.fullmatch(subject.sha256):
            raise AttestationError(f"subject digest {subject.sha256[:80]!r} is not 64 lowercase hex digits")
        return subject


class VariantRef(Record):
    """The variant evidence must describe: package name, version and GPU target."""

    name: str
    version: str
    target: str


class Statement(Record):
    """An in-toto Statement v1."""

    subjects: tuple[Subject, ...]
    predicate_type: str
    predicate: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "_type": STATEMENT_TYPE,
            "subject": [{"name": s.name, "digest": {"sha256": s.sha256}} for s in self.subjects],
            "predicateType": self.predicate_type,
            "predicate": dict(self.predicate),
        }

    def to_bytes(self) -> bytes:
        """The payload a signer signs: compact JSON with sorted keys, UTF-8. A statement holding
        NaN or infinity is refused, however it was built: it is never signed."""
        data = self.to_json()
        _refuse_non_finite(data, "the statement")
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.encode()


def parse_statement(payload: bytes) -> Statement:
    """Read a statement from a DSSE payload; raise AttestationError saying what is wrong."""
    from skillpm.jsonfile import parse_json

    try:
        data = parse_json(payload)
    except ValueError as error:
        raise AttestationError(f"the signed payload is {error}") from None
    if not isinstance(data, dict):
        raise AttestationError("the signed payload is not a JSON object")
    _refuse_non_finite(data, "the statement")
    if data.get("_type") != STATEMENT_TYPE:
        raise AttestationError(f"the payload is not an in-toto Statement v1 (_type {data.get('_type')!r})")
    subjects = data.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise AttestationError("the statement has no subject")
    parsed = []
    for item in subjects:
        digest = item.get("digest") if isinstance(item, dict) else None
        name = item.get("name", "") if isinstance(item, dict) else None
        if not isinstance(digest, dict) or not isinstance(name, str):
            raise AttestationError("a statement subject is malformed")
        sha256 = digest.get("sha256")
        if isinstance(sha256, str):  # subjects named only by other digests cannot be ours
            parsed.append(Subject(name, sha256))
    if not parsed:
        raise AttestationError("no statement subject has a sha256 digest")
    predicate_type = data.get("predicateType")
    predicate = data.get("predicate", {})
    if not isinstance(predicate_type, str) or not isinstance(predicate, dict):
        raise AttestationError("the statement's predicateType or predicate is malformed")
    return Statement(tuple(parsed), predicate_type, predicate)


def predicate_type_for(evidence: Mapping[str, Any]) -> str:
    """The predicate type for an evidence document, from its ``schema``."""
    schema = evidence.get("schema")
    for predicate_type, (evidence_schema, _) in PREDICATES.items():
        if schema == evidence_schema:
            return predicate_type
    known = ", ".join(evidence for evidence, _ in PREDICATES.values())
    raise AttestationError(f"evidence schema {schema!r} is not one skillpm attests (known: {known})")


def statement_for_evidence(
    evidence: Mapping[str, Any], *, artifact_name: str, artifact_sha256: str
) -> Statement:
    """A statement whose subject is the artifact and whose predicate is ``evidence``.

    Refuses evidence that names another artifact: what is signed must be true of
    the subject.
    """
    predicate_type = predicate_type_for(evidence)
    _refuse_non_finite(evidence, "the evidence")
    claimed = _skill(evidence).get("artifact_sha256")
    if claimed != artifact_sha256:
        raise AttestationError(
            f"the evidence is for artifact {str(claimed)[:80]!r}, not {artifact_name} ({artifact_sha256})",
            hint="attest each variant with the evidence gathered for that variant",
        )
    return Statement((Subject(artifact_name, artifact_sha256),), predicate_type, dict(evidence))


def subject_mismatch(statement: Statement, *, artifact_name: str, artifact_sha256: str) -> str | None:
    """Why the statement is not about this artifact, or ``None`` when one subject matches it."""
    for subject in statement.subjects:
        if subject.sha256 == artifact_sha256:
            if subject.name != artifact_name:
                return f"the subject with this digest is named {subject.name!r}, not {artifact_name!r}"
            return None
    listed = ", ".join(f"{s.name} ({s.sha256[:12]}...)" for s in statement.subjects)
    return f"no subject has digest {artifact_sha256}; the statement is about {listed}"


def evidence_mismatches(
    predicate: Mapping[str, Any], *, expected: VariantRef, artifact_sha256: str
) -> list[str]:
    """Every field of the evidence's ``skill`` that disagrees with the variant (empty when all agree)."""
    skill = _skill(predicate)
    wanted = {
        "name": expected.name,
        "version": expected.version,
        "target": expected.target,
        "artifact_sha256": artifact_sha256,
    }
    return [
        f"skill.{key} is {skill.get(key)!r}, expected {value!r}"
        for key, value in wanted.items()
        if skill.get(key) != value
    ]


def is_finite_number(value: object) -> bool:
    """Whether ``value`` can be a measurement: an int or float that is a finite float (not a bool,
    NaN, infinity, or an integer too large for a float)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def non_finite_at(data: object) -> str | None:
    """Where in the JSON-like ``data`` a float is NaN or infinite (``models[0].lift``), or ``None``.

    However the number arrived (a ``NaN`` token, ``1e999`` read as infinity, a float built in
    Python, an integer too large for a float), it is no measurement: it would pass or fail every
    comparison.
    """
    stack: list[tuple[str, object]] = [("", data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not is_finite_number(value):
            return where or "(top)"
        if isinstance(value, dict):
            stack.extend((f"{where}.{key}" if where else str(key), item) for key, item in value.items())
        elif isinstance(value, (list, tuple)):
            stack.extend((f"{where}[{index}]", item) for index, item in enumerate(value))
    return None


def _refuse_non_finite(data: object, what: str) -> None:
    where = non_finite_at(data)
    if where is not None:
        raise AttestationError(
            f"{what} holds a number that is not finite (NaN or infinity) at {where}",
            hint="a measurement that could not be made is left out (null), never NaN or infinity",
        )


def _skill(evidence: Mapping[str, Any]) -> Mapping[str, Any]:
    skill = evidence.get("skill")
    return skill if isinstance(skill, dict) else {}
