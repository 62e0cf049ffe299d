"""Signing keys for offline attestations: generate, store, load, fingerprint, sign, verify.

Ed25519 by default, ECDSA P-256 (SHA-256) on request: the two key types Sigstore
bundles name ``PKIX_ED25519`` and ``PKIX_ECDSA_P256_SHA_256``. Private keys are
PKCS#8 PEM files of mode 0600, encrypted when a passphrase is given; public keys
are SubjectPublicKeyInfo PEM. A key's fingerprint is the sha256 of its DER
SubjectPublicKeyInfo, in hex: the same for a key and for its public half.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives._serialization import Encoding, PublicFormat
from cryptography.hazmat.primitives.asymmetric import ed25519

from skillpm.atomic import atomic_write
from skillpm.attest import AttestationError, read_small_file
from skillpm.reading import MAX_KEY_SIZE, open_to_others, problem
from skillpm.records import Record

ED25519 = "ed25519"
ECDSA_P256 = "ecdsa-p256"
ALGORITHMS = (ED25519, ECDSA_P256)
PASSPHRASE_ENV = "SKILLPM_SIGNING_KEY_PASSPHRASE"

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

    _PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    _PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


def _ecdsa_sha256() -> ec.ECDSA:
    """ECDSA with SHA-256. Its modules load only for P-256 keys: Ed25519, the default and the
    embedded registry's, never needs them (a few milliseconds of every signed install)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.ECDSA(hashes.SHA256())


def _algorithm(key: _PrivateKey | _PublicKey, where: str) -> str:
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return ED25519
    from cryptography.hazmat.primitives.asymmetric import ec

    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        if isinstance(key.curve, ec.SECP256R1):
            return ECDSA_P256
    raise AttestationError(f"{where}: unsupported key type (skillpm signs with {' or '.join(ALGORITHMS)})")


class PublicKey(Record):
    """A public key that verifies signatures, and its fingerprint."""

    key: _PublicKey
    algorithm: str
    fingerprint: str

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` is this key's signature of ``data``."""
        try:
            if isinstance(self.key, ed25519.Ed25519PublicKey):
                self.key.verify(signature, data)
            else:
                self.key.verify(signature, data, _ecdsa_sha256())
        except InvalidSignature:
            return False
        return True

    def pem(self) -> bytes:
        return self.key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


class SigningKey(Record):
    """A private key that signs, with its public half."""

    key: _PrivateKey
    public: PublicKey

    @property
    def fingerprint(self) -> str:
        return self.public.fingerprint

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.key, ed25519.Ed25519PrivateKey):
            return self.key.sign(data)
        return self.key.sign(data, _ecdsa_sha256())


def fingerprint(key: _PublicKey) -> str:
    """sha256 of the key's DER SubjectPublicKeyInfo, lowercase hex."""
    der = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _public(key: _PublicKey, where: str) -> PublicKey:
    return PublicKey(key, _algorithm(key, where), fingerprint(key))


def _signing(key: _PrivateKey, where: str) -> SigningKey:
    _algorithm(key, where)
    return SigningKey(key, _public(key.public_key(), where))


def generate(algorithm: str = ED25519) -> SigningKey:
    """A new key pair in memory."""
    if algorithm == ED25519:
        return _signing(ed25519.Ed25519PrivateKey.generate(), "new key")
    if algorithm == ECDSA_P256:
        from cryptography.hazmat.primitives.asymmetric import ec

        return _signing(ec.generate_private_key(ec.SECP256R1()), "new key")
    raise AttestationError(f"unknown key algorithm {algorithm!r} (choose {' or '.join(ALGORITHMS)})")


def passphrase_from_env(environ: Mapping[str, str] | None = None) -> bytes | None:
    """The passphrase in ``$SKILLPM_SIGNING_KEY_PASSPHRASE``, or ``None`` when it is unset or empty."""
    value = (os.environ if environ is None else environ).get(PASSPHRASE_ENV)
    return value.encode() if value else None


def private_pem(key: SigningKey, *, passphrase: bytes | None = None) -> bytes:
    """The private key as PKCS#8 PEM, encrypted with ``passphrase`` when one is given."""
    from cryptography.hazmat.primitives import serialization

    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    return key.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


class GeneratedKey(Record):
    """What :func:`keygen` wrote."""

    private_path: Path
    public_path: Path
    algorithm: str
    fingerprint: str


def keygen(
    private_path: Path,
    *,
    algorithm: str = ED25519,
    passphrase: bytes | None = None,
    public_path: Path | None = None,
) -> GeneratedKey:
    """Generate a key pair: the private key at ``private_path`` (mode 0600, never overwritten)
    and the public key at ``public_path`` (default: the same path plus ``.pub``).

    The public half is written first and removed when the private half cannot be written (or on
    Ctrl-C): a failed run leaves no half of a pair, which a second run would call "already exists".
    """
    public_path = public_path or private_path.with_name(private_path.name + ".pub")
    for path in (private_path, public_path):
        if path.exists() or path.is_symlink():
            raise AttestationError(f"{path} already exists; skillpm never overwrites a key", hint="choose another path")
    key = generate(algorithm)
    private = private_pem(key, passphrase=passphrase)
    atomic_write(public_path, key.public.pem())
    try:
        _write_private(private_path, private)
    except BaseException:
        public_path.unlink(missing_ok=True)
        raise
    return GeneratedKey(private_path, public_path, key.public.algorithm, key.fingerprint)


def _write_private(path: Path, data: bytes) -> None:
    """Write a secret: a 0600 temporary file in the same directory, linked into place only if absent."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise AttestationError(f"{path} already exists; skillpm never overwrites a key") from None
    finally:
        Path(temporary).unlink(missing_ok=True)


def refuse_inside_registry(path: Path, registry: Path, role: str) -> None:
    """RegistryError when the private key at ``path`` (``~`` expanded, links followed) lies inside
    ``registry``, the folder it signs for, whose every file is served and copied."""
    from skillpm.errors import RegistryError

    if path.expanduser().resolve().is_relative_to(registry.resolve()):
        raise RegistryError(
            f"{role} {path} is inside the registry {registry}, whose every file is served and copied; refused",
            hint="keep private keys outside the registry, e.g. in ~/.skillpm/keys (and replace one that was served)",
        )


def load_signing_key(path: Path, *, passphrase: bytes | None = None) -> SigningKey:
    """Read a PEM private key; an encrypted one needs ``passphrase``."""
    from cryptography.hazmat.primitives import serialization

    data = _read(path)
    try:
        shared = open_to_others(path)
    except OSError as error:
        raise AttestationError(f"cannot read the key file {path}: {problem(error)}") from None
    if shared:
        raise AttestationError(
            f"{path} can be read or written by other users; refusing to sign with the private key in it",
            hint=f"run 'chmod 600 {path}', then replace the key if others may have read it",
        )
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError:
        hint = f"set ${PASSPHRASE_ENV}" if passphrase is None else "the key is not encrypted; unset the passphrase"
        raise AttestationError(f"{path}: cannot decrypt the private key", hint=hint) from None
    except (ValueError, UnsupportedAlgorithm):
        raise AttestationError(
            f"{path}: not a PEM private key, or the passphrase is wrong", hint=f"check ${PASSPHRASE_ENV}"
        ) from None
    return _signing(key, str(path))  # type: ignore[arg-type]


def parse_public_key(data: bytes, *, where: str = "public key") -> PublicKey:
    """Read a PEM SubjectPublicKeyInfo."""
    # What cryptography.hazmat.primitives.serialization.load_pem_public_key is, without importing that
    # package: its __init__ loads the SSH, cipher and bcrypt modules (a third of an install's start-up
    # budget), which verifying a signature never needs.
    from cryptography.hazmat.bindings._rust import openssl as rust_openssl

    try:
        key = rust_openssl.keys.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise AttestationError(f"{where}: not a PEM public key") from None
    public = _public(key, where)  # type: ignore[arg-type]
    if _pem_body(data) != key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo):
        raise AttestationError(
            f"{where}: the public key is not in its usual encoding (a compressed point, or explicit curve "
            "parameters), so its fingerprint would not be the sha256 of the file's DER",
            hint="re-encode it: openssl ec -pubin -in KEY.pub -pubout -conv_form uncompressed -param_enc named_curve -out NEW.pub",
        )
    return public


def _pem_body(data: bytes) -> bytes | None:
    """The DER of the first ``PUBLIC KEY`` block of ``data`` (what a PEM reader reads), or ``None``."""
    import binascii  # not base64, which costs start-up (struct) on every signed install
    import re

    found = re.search(rb"-----BEGIN PUBLIC KEY-----(.*?)-----END PUBLIC KEY-----", data, re.S)
    try:
        return binascii.a2b_base64(b"".join(found[1].split())) if found else None
    except binascii.Error:
        return None


def load_public_key(path: Path) -> PublicKey:
    """Read a PEM public key file."""
    return parse_public_key(_read(path), where=str(path))


def _read(path: Path) -> bytes:
    return read_small_file(path, MAX_KEY_SIZE, "the key file")
