"""The checks a statement must pass before skillpm signs it (``publish``, ``attest``) or copies it into a
mirror (``registry pull``): those of :func:`skillpm.attest.verify.statement_checks`, under no policy's
minimums, and without a signature, which whoever installs the variant judges by their own policy."""

from __future__ import annotations

from skillpm.attest import AttestationError
from skillpm.attest.bundle import read_bundle
from skillpm.attest.dsse import PAYLOAD_TYPE
from skillpm.attest.policy import Policy
from skillpm.attest.statement import Statement, VariantRef, parse_statement
from skillpm.attest.verify import statement_checks


def require_statement(statement: Statement, expected: VariantRef, sha256: str, *, test_set: str | None,
                      what: str) -> None:
    """AttestationError naming ``what`` at the first required check of :func:`statement_checks` that fails
    (under no policy's minimums): a statement ``publish`` and ``attest`` refuse to sign and ``registry pull``
    to copy. ``expected`` is the variant whose archive has digest ``sha256`` and records ``test_set``."""
    from skillpm.index.model import archive_name

    name = archive_name(expected.name, expected.version, expected.target)
    for check in statement_checks(statement, name, sha256, expected, Policy(), test_set=test_set):
        if check.required and not check.ok:
            raise AttestationError(f"{what}: check {check.name!r} failed: {check.detail}")


def bundle_statement(bundle: bytes, expected: VariantRef, sha256: str, *, test_set: str | None,
                     what: str) -> Statement:
    """The in-toto statement a Sigstore ``bundle`` carries, checked by :func:`require_statement`; AttestationError
    naming ``what`` when the bundle holds no statement or a check fails. The signature is not verified
    here: whose to trust is the policy of whoever installs the variant, and install verifies it."""
    try:
        parsed = read_bundle(bundle)
        payload_type = parsed.envelope.payload_type
        if payload_type != PAYLOAD_TYPE:
            raise AttestationError(f"the envelope holds {str(payload_type)[:80]!r}, not an in-toto statement")
        statement = parse_statement(parsed.envelope.payload)
    except AttestationError as error:
        raise AttestationError(f"{what}: {error.message}") from None
    require_statement(statement, expected, sha256, test_set=test_set, what=what)
    return statement
