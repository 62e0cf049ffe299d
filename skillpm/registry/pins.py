"""Trust records: what this user trusts of each signed registry (its index keys, the keys it revoked, the newest
index version seen), one JSON file per registry in the user's data folder, written under a lock so that one
command never undoes what another decided meanwhile. :mod:`skillpm.registry.trust` decides what goes in them."""

from __future__ import annotations

import json
import os
from pathlib import Path

from skillpm.errors import RegistryError
from skillpm.jsonfile import read_json
from skillpm.reading import MAX_DOCUMENT_SIZE
from skillpm.records import Record


class TrustRecordError(RegistryError):
    """This user's trust record of a registry cannot be read (the user's data, not anything a registry sent)."""


def trust_root() -> Path:
    """Where pinned index keys and the newest snapshot versions seen are kept: the user's data dir."""
    from skillpm.userdirs import user_path

    return user_path("data") / "index-trust"


class Pin(Record):
    """What this user trusts of one registry: its index keys (PEM by fingerprint) and the newest version seen.

    ``revoked``: the fingerprints of keys the user replaced, never to be trusted again for it.
    ``keys`` is empty only after ``registry trust --forget``, which keeps ``revoked``.
    """

    label: str
    keys: dict[str, bytes]
    version: int = 0
    revoked: tuple[str, ...] = ()


class PinStore:
    """Pins, one JSON file per registry (named like the HTTP index cache's folders)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or trust_root()

    def _path(self, label: str) -> Path:
        from skillpm.cache import registry_key

        return self.root / f"{registry_key(label)}.json"

    def load(self, label: str) -> Pin | None:
        try:
            os.lstat(self.root)
        except FileNotFoundError:
            return None  # nothing pinned by this user yet (and no label to hash)
        except OSError:
            pass  # reported below, against the record's path
        path = self._path(label)
        try:
            data = read_json(path, MAX_DOCUMENT_SIZE)
            keys = {item["fingerprint"]: item["pem"].encode() for item in data["keys"]}
            version = data["version"]
            revoked = tuple(data.get("revoked", ()))
            if not all(isinstance(fingerprint, str) for fingerprint in revoked):
                raise ValueError
            if data["registry"] != label or not (keys or revoked) or not isinstance(version, int):
                raise ValueError
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            raise TrustRecordError(
                f"the trust record for {label} ({path}) is unreadable",
                hint=f"pin the key again with 'skillpm registry trust {label} --index-key PUBFILE'",
            ) from None
        return Pin(label, keys, version, revoked)

    def save(self, pin: Pin, *, over: Pin | None | bool = True) -> None:
        """Write ``pin``, never lowering the version recorded by another process meanwhile. ``over``: the record
        this command read before it fetched anything (None: there was none); when another command has since
        changed what is trusted ('registry trust', '--forget'), that decision stands and ``pin`` is dropped.
        ``True`` (the user's own 'registry trust') writes whatever is there."""
        from skillpm.locks import lock_for

        self.root.mkdir(parents=True, exist_ok=True)
        with lock_for(self.root):
            try:
                current = self.load(pin.label)
            except RegistryError:
                current = None
            if over is not True and _trusted(current) != _trusted(over):  # type: ignore[arg-type]
                return
            if current is not None and current._replace(version=pin.version) == pin and current.version > pin.version:
                return
            self._write(pin)

    def _write(self, pin: Pin) -> None:
        from skillpm.atomic import atomic_write

        data = {
            "registry": pin.label,
            "keys": [{"fingerprint": fp, "pem": pem.decode()} for fp, pem in sorted(pin.keys.items())],
            "version": pin.version,
        }
        if pin.revoked:
            data["revoked"] = sorted(pin.revoked)
        atomic_write(self._path(pin.label), (json.dumps(data, indent=2) + "\n").encode())

    def forget(self, label: str) -> bool:
        """Forget the keys pinned for ``label`` and the newest version seen (not the revoked keys); whether any were."""
        try:
            current = self.load(label)
        except RegistryError:
            current = None
        path = self._path(label)
        existed = path.exists() and (current is None or bool(current.keys))
        if current is not None and current.revoked:
            self.save(Pin(label, {}, 0, current.revoked))
        else:
            path.unlink(missing_ok=True)
        return existed


def _trusted(pin: Pin | None) -> tuple[dict[str, bytes], tuple[str, ...]] | None:
    """What a record says to trust (its keys and revoked keys), not how new an index it saw."""
    return None if pin is None else (pin.keys, tuple(sorted(pin.revoked)))
