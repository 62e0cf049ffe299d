"""Attestations: signed statements that tie evaluation and benchmark evidence to a variant.

The pipeline, one module per step (docs/attestations.md describes the formats):

- :mod:`~skillpm.attest.statement` (pure): in-toto Statement v1 over a variant archive,
  with skillpm's eval and bench predicate types.
- :mod:`~skillpm.attest.dsse` (pure): DSSE envelopes and their PAE encoding.
- :mod:`~skillpm.attest.keys`: key pairs for offline signing (Ed25519, ECDSA P-256).
- :mod:`~skillpm.attest.bundle`: Sigstore bundles, key-based or keyless (sigstore-python).
- :mod:`~skillpm.attest.policy` (pure): who is trusted and what evidence is required.
- :mod:`~skillpm.attest.policyfile`: reading the user's and the project's policy files into one.
- :mod:`~skillpm.attest.verify`: every check of one bundle, each reported on its own.

Importing this package, ``statement`` or ``policy`` loads neither ``cryptography``,
``sigstore`` nor a JSON Schema validator.
"""

from __future__ import annotations

from pathlib import Path

from skillpm.errors import SkillpmError


class AttestationError(SkillpmError):
    """An attestation cannot be made, read, or verified, or a signing key cannot be used."""


def quiet_sigstore() -> None:
    """Drop sigstore-python's log records; called before skillpm uses sigstore.

    sigstore logs warnings ("this bundle contains a root CA, making it subject to misuse") and,
    with no handler configured, Python's last-resort handler prints them raw on stderr, beside
    skillpm's own cleaned lines, which already say what sigstore refused. (sigstore imports
    logging itself, so this costs no import.)
    """
    import logging

    logger = logging.getLogger("sigstore")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())


def read_small_file(path: Path, limit: int, what: str) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes; else AttestationError
    "cannot read WHAT PATH: why" (a fifo, device or directory is never read)."""
    from skillpm.reading import problem, read_at_most

    try:
        return read_at_most(path, limit)
    except (OSError, ValueError) as error:
        raise AttestationError(f"cannot read {what} {path}: {problem(error)}") from None
