"""Signing keys: generation, files and their modes, fingerprints, passphrases, sign and verify."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from skillpm.attest import AttestationError
from skillpm.attest.keys import (
    ALGORITHMS,
    ECDSA_P256,
    ED25519,
    PASSPHRASE_ENV,
    generate,
    keygen,
    load_public_key,
    load_signing_key,
    parse_public_key,
    passphrase_from_env,
)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_keygen_writes_a_private_key_0600_and_a_public_key(tmp_path: Path, algorithm: str) -> None:
    made = keygen(tmp_path / "keys" / "signing.pem", algorithm=algorithm)
    assert made.public_path == tmp_path / "keys" / "signing.pem.pub"
    assert stat.S_IMODE(made.private_path.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in made.private_path.read_bytes()
    assert not list((tmp_path / "keys").glob(".*tmp"))
    key = load_signing_key(made.private_path)
    public = load_public_key(made.public_path)
    assert key.public.algorithm == public.algorithm == made.algorithm == algorithm
    assert key.fingerprint == public.fingerprint == made.fingerprint


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_sign_and_verify(algorithm: str) -> None:
    key = generate(algorithm)
    signature = key.sign(b"data")
    assert key.public.verify(signature, b"data")
    assert not key.public.verify(signature, b"datA")
    assert not generate(algorithm).public.verify(signature, b"data")
    assert not key.public.verify(b"\x00" * len(signature), b"data")


def test_fingerprint_is_sha256_of_the_der_subject_public_key_info() -> None:
    key = generate(ECDSA_P256)
    der = key.key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert key.fingerprint == hashlib.sha256(der).hexdigest()
    assert parse_public_key(key.public.pem()).fingerprint == key.fingerprint


def test_fingerprint_is_stable_for_a_fixed_key() -> None:
    # RFC 8032 section 7.1, TEST 1: a fixed Ed25519 public key.
    raw = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    prefix = bytes.fromhex("302a300506032b6570032100")  # SubjectPublicKeyInfo header of an Ed25519 key
    pem = serialization.load_der_public_key(prefix + raw).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    expected = hashlib.sha256(prefix + raw).hexdigest()
    assert parse_public_key(pem).fingerprint == expected


def test_keygen_never_overwrites(tmp_path: Path) -> None:
    keygen(tmp_path / "k.pem")
    before = (tmp_path / "k.pem").read_bytes()
    with pytest.raises(AttestationError, match="already exists"):
        keygen(tmp_path / "k.pem")
    (tmp_path / "other.pem.pub").write_text("x")
    with pytest.raises(AttestationError, match="already exists"):
        keygen(tmp_path / "other.pem")
    assert (tmp_path / "k.pem").read_bytes() == before
    assert not (tmp_path / "other.pem").exists()


def test_passphrase_protected_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    made = keygen(tmp_path / "k.pem", passphrase=passphrase_from_env())
    assert b"ENCRYPTED PRIVATE KEY" in made.private_path.read_bytes()
    assert load_signing_key(made.private_path, passphrase=b"correct horse").fingerprint == made.fingerprint
    with pytest.raises(AttestationError, match="cannot decrypt") as caught:
        load_signing_key(made.private_path)
    assert PASSPHRASE_ENV in (caught.value.hint or "")
    with pytest.raises(AttestationError, match="passphrase is wrong"):
        load_signing_key(made.private_path, passphrase=b"wrong")


def test_passphrase_from_env() -> None:
    assert passphrase_from_env({}) is None
    assert passphrase_from_env({PASSPHRASE_ENV: ""}) is None
    assert passphrase_from_env({PASSPHRASE_ENV: "s3cret"}) == b"s3cret"


def test_unsupported_keys_and_files_are_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    with pytest.raises(AttestationError, match="unknown key algorithm 'rsa'"):
        generate("rsa")
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    pem = p384.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(AttestationError, match="unsupported key type"):
        parse_public_key(pem)
    with pytest.raises(AttestationError, match="not a PEM public key"):
        parse_public_key(b"garbage")
    (tmp_path / "bad.pem").write_text("garbage")
    (tmp_path / "bad.pem").chmod(0o600)
    with pytest.raises(AttestationError, match="not a PEM private key"):
        load_signing_key(tmp_path / "bad.pem")
    with pytest.raises(AttestationError, match="cannot read"):
        load_public_key(tmp_path / "missing.pub")


def test_default_algorithm_is_ed25519(tmp_path: Path) -> None:
    assert keygen(tmp_path / "k.pem").algorithm == ED25519


def test_a_private_key_others_can_read_or_write_is_refused(tmp_path: Path) -> None:
    path = keygen(tmp_path / "k.pem").private_path
    for mode in (0o644, 0o640, 0o602):
        path.chmod(mode)
        with pytest.raises(AttestationError, match="can be read or written by other users"):
            load_signing_key(path)
    path.chmod(0o600)
    assert load_signing_key(path).public.algorithm == ED25519
