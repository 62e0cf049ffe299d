"""Index integrity on the client: pin a registry's index key, verify its signed snapshot, check every document.

A signed registry lists its index key fingerprints in ``config.json``, publishes the
public key at ``keys/index.pub`` and signs ``snapshot.json`` (every index document's
sha256, a version and an expiry) in ``snapshot.json.sig``. :class:`IndexGuard` is
what a registry (local or HTTP) asks before it parses any document:

- the key is pinned on first use (or with ``skillpm registry trust``), per registry,
  in the user's data directory; a snapshot signed by another key is refused, as ssh
  refuses a changed host key;
- an expired snapshot (a frozen index) and one older than the newest seen (a
  rollback) are refused;
- a document whose sha256 differs from the snapshot's, or that it does not list,
  is refused (mix and match);
- a snapshot that names the registry's keys (skillpm's writer names them in
  every snapshot; older ones name none and leave the pin alone) replaces the pin
  with them, once a pinned key verified it: a key not pinned yet must be published
  at ``keys/<fingerprint>.pub`` with that fingerprint and must sign the snapshot
  too. So a rotation (the old and the new key both sign) is followed, and nothing
  but a snapshot signed by a pinned key can add a key;
- the keys ``skillpm registry trust`` replaced are revoked for the registry: never
  trusted again, whatever a snapshot names (a replayed rotation overlap, signed by
  the new key, names the old one), until the user pins one of them by hand.

An unsigned registry never pinned is read without these checks (offline, an HTTP
registry only if it was read unsigned online: :mod:`skillpm.registry.seen`). The embedded
registry never comes here: it ships inside skillpm and is trusted as part of it
(its index is not signed). ``cryptography`` is imported only when a signed
registry is read. docs/security.md, "Index integrity", says more.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable, Collection

from skillpm.errors import IndexFormatError, RegistryError, SkillpmError
from skillpm.records import Record
from skillpm.registry.documents import parse_json
from skillpm.index import snapshot as snapshots
from skillpm.index.model import RegistryConfig
from skillpm.index.snapshot import Snapshot, SnapshotSignature, parse_signatures
from skillpm.registry.pins import Pin, PinStore

if TYPE_CHECKING:
    from skillpm.attest.keys import PublicKey

Fetch = Callable[[str], "bytes | None"]

#: Verified snapshots of this process (one command), and the keys that signed them, by registry
#: label: each fetched once.
_session: dict[str, tuple[Snapshot, dict[str, PublicKey]]] = {}
_session_lock = threading.Lock()


def forget_session() -> None:
    """Drop the snapshots verified so far in this process (the next read fetches them again)."""
    with _session_lock:
        _session.clear()


class Trusted(Record):
    """What ``skillpm registry trust --index-key`` did: the key pinned, the keys it revoked, the version floor.

    ``verified``: the registry's current snapshot verified with the key, and its
    version is the floor; else ``problem`` says why not and the floor stayed.
    """

    fingerprint: str
    version: int
    verified: bool
    problem: str | None
    revoked: tuple[str, ...]


def pin_key(label: str, public_key_pem: bytes, *, store: PinStore | None = None) -> Trusted:
    """Trust the index key ``public_key_pem`` for ``label``, a registry with no signed index to check it against.

    As :meth:`IndexGuard.trust` without fetching anything: the pinned keys are revoked, the floor stays.
    """
    return IndexGuard(label, lambda relative: None, pins=store).trust(public_key_pem, check=False)


def _public_key(pem: bytes, where: str, *, given: bool = False) -> PublicKey:
    """The key ``pem``; RegistryError naming ``where`` if it is none. ``given``: a file the user gave, so the
    reader's hint (how to re-encode an unusual encoding) is theirs to follow; a registry's key is its owner's."""
    from skillpm.attest import AttestationError
    from skillpm.attest.keys import parse_public_key

    try:
        return parse_public_key(pem, where=where)
    except AttestationError as error:
        raise RegistryError(error.message, hint=error.hint if given else None) from None


class IndexGuard:
    """The signed-snapshot checks of one registry; ``fetch`` reads a file of it, unchecked (``None``: absent).

    ``pins``: where keys are pinned (default: the user's data dir). ``seen``: told once whether the index
    is signed, as soon as the guard knows (:func:`skillpm.registry.seen.sighting`); it may refuse.
    """

    def __init__(
        self, label: str, fetch: Fetch, *, pins: PinStore | None = None, seen: Callable[[bool], None] | None = None
    ) -> None:
        self.label = label
        self._fetch = fetch
        self._pins = pins or PinStore()
        self._seen = seen
        self._lock = threading.Lock()
        self._unsigned = False
        #: The trust record this guard's keys came from (see PinStore.save's ``over``; True: not read here).
        self._read: Pin | None | bool = True
        self._keys: dict[str, PublicKey] = {}
        self._revoked: tuple[str, ...] = ()

    def check(self, relative: str, data: bytes | None) -> None:
        """Refuse ``data`` (the bytes of index document ``relative``) unless the signed snapshot lists them."""
        if not snapshots.is_document(relative):
            return
        snapshot = self.snapshot(config=data if relative == "config.json" else None)
        if snapshot is None:
            return
        try:
            snapshots.check_document(snapshot, self.label, relative, data)
        except RegistryError:
            # Published meanwhile (documents are written before the snapshot)? Fetch it once more.
            fresh = self._refresh(snapshot)
            if fresh.version == snapshot.version:
                raise
            snapshots.check_document(fresh, self.label, relative, data)

    def snapshot(self, *, config: bytes | None = None) -> Snapshot | None:
        """The verified snapshot (fetched once per process), or ``None`` for an unsigned registry."""
        with self._lock:
            with _session_lock:
                cached = _session.get(self.label)
            if cached is not None:
                self._keys = cached[1]
                return cached[0]
            if self._unsigned:
                return None
            verified = self._first(config)
            if self._seen is not None:
                self._seen(verified is not None)
            if verified is None:
                self._unsigned = True
                return None
            with _session_lock:
                _session[self.label] = (verified, self._keys)
            return verified

    # --- deciding what to trust ----------------------------------------------------------------------------

    def trust(self, pem: bytes, *, check: bool = True) -> Trusted:
        """Pin the index key ``pem`` in place of the pinned keys, which are revoked for this registry.

        With ``check``, the registry's current snapshot must verify with the key (and be no
        older than the newest seen): its version becomes the floor, so a snapshot older than
        today's, such as a rotation's overlap, is refused as a rollback. The key is pinned
        all the same when the snapshot cannot be fetched or verified (the user checked it
        with the owner, and the keys it replaces must go): the floor stays, and the result
        says why. The newest version seen is never lowered.
        """
        key = _public_key(pem, f"the index key for {self.label}", given=True)
        try:
            current = self._pins.load(self.label)
        except RegistryError:
            current = None  # an unreadable record is what pinning a key replaces
        floor = 0 if current is None else current.version
        revoked = set() if current is None else {*current.revoked, *current.keys}
        revoked.discard(key.fingerprint)  # the user's own word un-revokes a key
        problem = None
        with self._lock:
            self._keys, self._revoked = {key.fingerprint: key}, tuple(sorted(revoked))
            if check:
                try:
                    floor = max(floor, self._verified(floor).version)
                except SkillpmError as error:
                    self._keys, problem = {key.fingerprint: key}, error.message
            pin = self._pin(floor)
        self._pins.save(pin)
        forget_session()
        return Trusted(key.fingerprint, floor, check and problem is None, problem, pin.revoked)

    def _first(self, config_bytes: bytes | None) -> Snapshot | None:
        pin = self._pins.load(self.label)
        if pin is None or not pin.keys:
            config = self._config(config_bytes)
            if not config.index_keys:
                return None  # unsigned, and never seen signed
            key = self._published_key(snapshots.INDEX_KEY, config.index_keys, "config.json")
            revoked = () if pin is None else pin.revoked
            if key.fingerprint in revoked:
                raise _revoked_error(self.label, key.fingerprint, snapshots.INDEX_KEY)
            read, pin = pin, Pin(self.label, {key.fingerprint: key.pem()}, 0, revoked)  # trusted on first use
        else:
            read = pin
        self._revoked = pin.revoked
        self._keys = {fp: _public_key(pem, f"the pinned index key of {self.label}") for fp, pem in pin.keys.items()}
        snapshot = self._verified(pin.version)
        self._read = self._pin(snapshot.version)
        self._pins.save(self._read, over=read)
        return snapshot

    def _published_key(self, relative: str, listed: Collection[str], lister: str) -> PublicKey:
        """The public key the registry serves at ``relative``, refused unless ``lister`` lists its fingerprint."""
        pem = self._fetch(relative)
        if pem is None:
            raise RegistryError(
                f"{self.label}: {lister} names index keys but {relative} is missing",
                hint="the registry is incomplete; tell its owner",
            )
        key = _public_key(pem, f"{self.label}: {relative}")
        if key.fingerprint not in listed:
            raise RegistryError(
                f"{self.label}: {relative} has fingerprint {key.fingerprint[:16]}..., "
                f"which {lister} does not list; refused",
                hint="the registry or a mirror serves another key than its owner published; tell its owner",
            )
        return key

    def _pin(self, version: int) -> Pin:
        """What to remember of this registry: the keys trusted now, and ``version``."""
        return Pin(self.label, {fp: key.pem() for fp, key in self._keys.items()}, version, self._revoked)

    def _config(self, data: bytes | None) -> RegistryConfig:
        data = self._fetch("config.json") if data is None else data
        if data is None:
            raise IndexFormatError(f"{self.label} is not a skillpm registry (no config.json)")
        return RegistryConfig.from_json(parse_json(self.label, "config.json", data), f"{self.label}: config.json")

    def _verified(self, highest: int) -> Snapshot:
        """Fetch the snapshot and its signature, run every check but the documents', and trust the keys it names."""
        body, signature = self._fetch(snapshots.SNAPSHOT), self._fetch(snapshots.SIGNATURE)
        if body is None or signature is None:
            missing = snapshots.SNAPSHOT if body is None else snapshots.SIGNATURE
            raise RegistryError(
                f"{self.label}: the index is signed (key {next(iter(self._keys))[:16]}...) but "
                f"{missing} is missing; refused",
                hint="the registry or a mirror serves an unsigned index in place of a signed one; tell its owner",
            )
        where = f"{self.label}: {snapshots.SIGNATURE}"
        signatures = parse_signatures(parse_json(self.label, snapshots.SIGNATURE, signature), where)
        payload = snapshots.signed_bytes(body)
        self._check_signature(signatures, payload)
        snapshot = Snapshot.from_json(
            parse_json(self.label, snapshots.SNAPSHOT, body), f"{self.label}: {snapshots.SNAPSHOT}"
        )
        snapshots.check_not_older(snapshot, highest, self.label)
        snapshots.check_fresh(snapshot, self.label)
        if snapshot.keys:
            self._keys = self._named_keys(snapshot, signatures, payload)
        return snapshot

    def _check_signature(self, signatures: tuple[SnapshotSignature, ...], payload: bytes) -> None:
        """Refuse a snapshot (``payload``: its signed bytes) that no pinned key signed."""
        ours = [item for item in signatures if item.keyid in self._keys]
        if any(self._keys[item.keyid].verify(item.sig, payload) for item in ours):
            return
        if not ours:
            raise snapshots.changed_key_error(self.label, tuple(self._keys), tuple(item.keyid for item in signatures))
        raise RegistryError(
            f"{self.label}: {snapshots.SNAPSHOT} does not match its signature by the index key "
            f"{ours[0].keyid[:16]}...; refusing a tampered index",
            hint="the registry or a mirror altered the index; tell its owner",
        )

    def _named_keys(
        self, snapshot: Snapshot, signatures: tuple[SnapshotSignature, ...], payload: bytes
    ) -> dict[str, PublicKey]:
        """The keys a verified ``snapshot`` names, each checked to have signed it: the keys trusted from now on.

        A revoked key is left out, whatever signed the snapshot; one naming only revoked keys is refused.
        """
        named: dict[str, PublicKey] = {}
        for fingerprint in snapshot.keys:
            if fingerprint in self._revoked:
                continue
            key = self._keys.get(fingerprint) or self._published_key(
                snapshots.key_path(fingerprint), (fingerprint,), "the signed index snapshot"
            )
            if not any(item.keyid == fingerprint and key.verify(item.sig, payload) for item in signatures):
                raise RegistryError(
                    f"{self.label}: the signed index snapshot (version {snapshot.version}) names the index key "
                    f"{fingerprint[:16]}..., which did not sign it; refused",
                    hint="every key a snapshot names must sign it (as 'skillpm registry rotate-key' does); "
                    "tell the registry's owner",
                )
            named[fingerprint] = key
        if not named:
            where = f"the signed index snapshot (version {snapshot.version})"
            raise _revoked_error(self.label, snapshot.keys[0], where)
        return named

    def _refresh(self, previous: Snapshot) -> Snapshot:
        with self._lock:
            fresh = self._verified(previous.version)
            with _session_lock:
                _session[self.label] = (fresh, self._keys)
            if fresh.version > previous.version:
                if self._pins.load(self.label) is not None:
                    pin = self._pin(fresh.version)
                    self._pins.save(pin, over=self._read)
                    self._read = pin
            return fresh


def _revoked_error(label: str, fingerprint: str, where: str) -> RegistryError:
    return RegistryError(
        f"{label}: {where} names the index key {fingerprint[:16]}..., which you replaced with "
        "'skillpm registry trust'; refusing a revoked key",
        hint="a mirror may be replaying an old index signed by a stolen key; if the owner really uses that key "
        f"again, check it with them and run 'skillpm registry trust {label} --index-key KEY.pub'",
    )

