"""The signed snapshot of a registry's index: what it lists, and the checks a client makes.

Pure logic, no I/O and no cryptography: :mod:`skillpm.registry.trust` fetches the
snapshot, verifies its signature and remembers what was seen; the registry writer
(:mod:`skillpm.registry.store`) builds it. docs/security.md, "Index integrity",
gives the threat model and what each check stops.
"""

from __future__ import annotations

import binascii  # not base64, which costs every registry read ~2 ms of start-up for struct
import re
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any, Mapping

from skillpm.errors import IndexFormatError, RegistryError
from skillpm.index.model import (
    _REQUIRED,
    FORMAT_VERSION,
    _check_format_version,
    _Reader,
    _relative_path,
    _shown,
    check_sha256,
)
from skillpm.records import CheckedRecord, Record

SNAPSHOT = "snapshot.json"
SIGNATURE = "snapshot.json.sig"
#: Where a signed registry publishes the public key a client pins on first use (PEM): its newest index key.
INDEX_KEY = "keys/index.pub"
#: The DSSE payload type a snapshot signature covers (with the snapshot's bytes), so that a
#: signature made for anything else with the same key (an attestation) is never a snapshot's.
PAYLOAD_TYPE = "application/vnd.skillpm.snapshot+json"
DEFAULT_EXPIRES_DAYS = 365
#: The default lifetime of a snapshot that names more than one key (written while a rotation is under way):
#: such a snapshot lets whoever holds the old key, stolen perhaps, have it trusted again by a client that
#: replays it, until it expires.
ROTATION_EXPIRES_DAYS = 30
#: The most signatures a snapshot's signature document holds: one per index key, and a registry
#: has one key, two while it rotates (``skillpm registry rotate-key``).
MAX_SIGNATURES = 16

_RFC3339_UTC_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


class _SnapshotFields(Record):
    version: int
    expires: datetime  # aware, UTC, whole seconds
    documents: Mapping[str, str]  # path relative to the registry root -> sha256
    keys: tuple[str, ...] = ()


class Snapshot(CheckedRecord, _SnapshotFields):
    """``snapshot.json``: every index document's sha256, with a version and an expiry.

    Signed in ``snapshot.json.sig`` (:class:`SnapshotSignature`) by every key in
    ``keys``: the fingerprints of the registry's index keys, each published at
    :func:`key_path`; empty in older snapshots, which name no keys.
    docs/security.md, "Index integrity", says what each field stops.
    ``documents`` is held sorted and read-only, however the snapshot was made.
    """

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> Snapshot:
        snapshot = super().__new__(cls, *args, **kwargs)
        documents = MappingProxyType(dict(sorted(snapshot.documents.items())))
        return super().__new__(cls, snapshot.version, snapshot.expires, documents, snapshot.keys)

    @classmethod
    def from_json(cls, data: object, where: str = "snapshot.json") -> Snapshot:
        reader = _Reader(data, where)
        _check_format_version(reader)
        expires = reader.text("expires", _REQUIRED)
        if not _RFC3339_UTC_RE.fullmatch(expires):
            raise IndexFormatError(f"{where}: expires {_shown(expires)} is not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)")
        try:
            moment = datetime.strptime(expires, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            raise IndexFormatError(f"{where}: expires {_shown(expires)} is not a valid time") from None
        documents = reader._get("documents", dict, _REQUIRED)
        for relative, digest in documents.items():
            _relative_path(relative, where)
            if not isinstance(digest, str):
                raise IndexFormatError(f"{where}: the digest of {_shown(relative)} is not a string")
            check_sha256(digest, f"{where} {_shown(relative)}")
        keys = tuple(check_sha256(key, f"{where} keys") for key in reader.strings("keys"))
        return cls(version=reader.count("version"), expires=moment, documents=documents, keys=keys)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format-version": FORMAT_VERSION,
            "version": self.version,
            "expires": self.expires.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "documents": dict(self.documents),
        }
        if self.keys:
            data["keys"] = list(self.keys)
        return data


class SnapshotSignature(Record):
    """One signature in ``snapshot.json.sig``: ``keyid`` is the key's fingerprint (a hint)."""

    keyid: str
    sig: bytes

    @classmethod
    def from_json(cls, data: object, where: str) -> SnapshotSignature:
        reader = _Reader(data, where)
        keyid = reader.text("keyid", _REQUIRED)
        try:
            sig = binascii.a2b_base64(reader.text("sig", _REQUIRED).encode("ascii"), strict_mode=True)
        except (UnicodeEncodeError, ValueError):  # binascii.Error is a ValueError
            raise IndexFormatError(f"{where}: sig is not base64") from None
        return cls(keyid=keyid, sig=sig)

    def to_json(self) -> dict[str, Any]:
        return {"keyid": self.keyid, "sig": binascii.b2a_base64(self.sig, newline=False).decode("ascii")}


def parse_signatures(data: object, where: str = "snapshot.json.sig") -> tuple[SnapshotSignature, ...]:
    """Read the signature document of ``snapshot.json``: at most :data:`MAX_SIGNATURES`, one per key.

    A signature is checked only by a key the client trusts or the snapshot names, but each costs a
    verification: a mirror padding the document with copies under a pinned key's id would make every
    command spend seconds of CPU, cached offline too.
    """
    reader = _Reader(data, where)
    _check_format_version(reader)
    items = reader.objects("signatures")
    if len(items) > MAX_SIGNATURES:
        raise IndexFormatError(f"{where}: {len(items)} signatures; a snapshot has at most {MAX_SIGNATURES}")
    signatures = tuple(SnapshotSignature.from_json(item, f"{where} signature") for item in items)
    keyids = [item.keyid for item in signatures]
    twice = next((keyid for index, keyid in enumerate(keyids) if keyid in keyids[:index]), None)
    if twice is not None:
        raise IndexFormatError(f"{where}: the key {_shown(twice)} signs twice; a key signs a snapshot once")
    return signatures


def signatures_document(signatures: list[SnapshotSignature]) -> dict[str, Any]:
    """The signature document for ``signatures``."""
    return {"format-version": FORMAT_VERSION, "signatures": [item.to_json() for item in signatures]}


def key_path(fingerprint: str) -> str:
    """Where a registry publishes the index key (PEM) its snapshot names by ``fingerprint``."""
    return f"keys/{fingerprint}.pub"


def signed_bytes(snapshot: bytes) -> bytes:
    """What a snapshot signature signs: the DSSEv1 pre-authentication encoding of its bytes."""
    from skillpm.attest.dsse import pae

    return pae(PAYLOAD_TYPE, snapshot)


def is_document(relative: str) -> bool:
    """Whether ``relative`` is an index document a snapshot lists: config, search or a package's."""
    return relative in ("config.json", "search.json") or (relative.startswith("index/") and relative.endswith(".json"))


def default_expires_days(keys: tuple[str, ...]) -> int:
    """Days a snapshot naming ``keys`` lives unless its writer says: 365, or 30 while a rotation is under way."""
    return ROTATION_EXPIRES_DAYS if len(keys) > 1 else DEFAULT_EXPIRES_DAYS


def build(
    documents: Mapping[str, bytes],
    *,
    version: int,
    expires_days: int,
    keys: tuple[str, ...],
    now: datetime | None = None,
) -> Snapshot:
    """The snapshot of ``documents`` (relative path -> bytes) naming ``keys``, expiring ``expires_days`` after ``now``."""
    import hashlib

    moment = (now or datetime.now(timezone.utc)).replace(microsecond=0) + timedelta(days=expires_days)
    digests = {relative: hashlib.sha256(data).hexdigest() for relative, data in documents.items()}
    return Snapshot(version=version, expires=moment, documents=digests, keys=keys)


def check_fresh(snapshot: Snapshot, label: str, *, now: datetime | None = None) -> None:
    """Refuse an expired snapshot: a mirror that froze the index stops being believed at its expiry."""
    now = now or datetime.now(timezone.utc)
    if snapshot.expires <= now:
        raise RegistryError(
            f"{label}: the signed index snapshot (version {snapshot.version}) expired at "
            f"{snapshot.expires:%Y-%m-%dT%H:%M:%SZ}; refusing a possibly frozen index",
            hint="the registry (or a mirror of it) serves an old index; tell its owner to re-sign it "
            "('skillpm registry rebuild DIR --key KEY')",
        )


def check_not_older(snapshot: Snapshot, highest: int, label: str) -> None:
    """Refuse a snapshot older than one seen before: a rollback to an index that lacked fixes."""
    if snapshot.version < highest:
        raise RegistryError(
            f"{label}: the signed index snapshot is version {snapshot.version}, older than version "
            f"{highest} seen before; refusing a rolled-back index",
            hint="a mirror, proxy or CDN serves an old copy of the registry; try again later or tell its owner",
        )


def check_document(snapshot: Snapshot, label: str, relative: str, data: bytes | None) -> None:
    """Refuse a document whose sha256 is not the one the snapshot lists (or that it does not list).

    ``data`` ``None``: the registry has no such document, which is right only when
    the snapshot does not list it either.
    """
    listed = snapshot.documents.get(relative)
    if data is None:
        if listed is not None:
            raise RegistryError(
                f"{label}: {relative} is listed in the signed index snapshot (version {snapshot.version}) "
                "but the registry does not serve it",
                hint="the registry or a mirror is incomplete or mixes two publications; try again later",
            )
        return
    if listed is None:
        raise RegistryError(
            f"{label}: {relative} is not listed in the signed index snapshot (version {snapshot.version}); refused",
            hint="the registry or a mirror serves a document its owner did not sign; tell its owner",
        )
    import hashlib

    actual = hashlib.sha256(data).hexdigest()
    if actual != listed:
        raise RegistryError(
            f"{label}: {relative} has sha256 {actual[:16]}..., but the signed index snapshot "
            f"(version {snapshot.version}) lists {listed[:16]}...; refusing a document from another publication",
            hint="the registry or a mirror mixes documents of different times; try again later or tell its owner",
        )


def changed_key_error(label: str, pinned: tuple[str, ...], found: tuple[str, ...]) -> RegistryError:
    """The error for a registry whose index is now signed by a key other than the pinned one."""
    shown = ", ".join(key[:16] for key in found) or "no key"
    return RegistryError(
        f"{label}: THE INDEX KEY HAS CHANGED: trusted key {', '.join(key[:16] for key in pinned)}..., "
        f"the registry now names {shown}; refusing it (someone may be impersonating the registry)",
        hint="a client follows a key rotation only while the old and the new key both sign the index; "
        "if the owner really changed its key, check the new key with them, then run "
        f"'skillpm registry trust {label} --index-key NEW.pub' (or --forget to trust it on next use)",
    )
