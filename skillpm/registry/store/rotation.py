"""Rotating the index key: adding a successor, then retiring the old key."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from skillpm.errors import RegistryError
from skillpm.index import snapshot as snapshots
from skillpm.index.model import RegistryConfig
from skillpm.registry.store.files import dump
from skillpm.registry.store.journal import commit, writing
from skillpm.registry.store.signing import load_index_keys, signed

if TYPE_CHECKING:
    from skillpm.attest.keys import SigningKey


def add_index_key(
    root: Path,
    new: SigningKey,
    *,
    keys: Sequence[SigningKey] = (),
    expires_days: int | None = None,
) -> RegistryConfig:
    """Start rotating the index key: list ``new`` beside the registry's ``keys`` (or ``$SKILLPM_INDEX_KEY``).

    The snapshot is signed by all of them and names them, so a client pinned to a
    current key pins ``new`` at its next read; ``keys/index.pub`` (what a client
    pins on first use) becomes ``new``. Until :func:`retire_index_key`, every
    write needs every key.
    """

    def listed(config: RegistryConfig) -> tuple[str, ...]:
        if not config.index_keys:
            raise RegistryError(
                f"the index of {root} is not signed: there is no index key to rotate",
                hint=f"sign it with 'skillpm registry rebuild {root} --key KEY'",
            )
        if new.fingerprint in config.index_keys:
            raise RegistryError(f"the key {new.fingerprint[:16]}... is already an index key of {root}")
        return (*config.index_keys, new.fingerprint)

    return _rekey(root, listed, (*(keys or load_index_keys(registry=root)), new), expires_days)


def retire_index_key(
    root: Path,
    fingerprint: str,
    *,
    keys: Sequence[SigningKey] = (),
    expires_days: int | None = None,
) -> RegistryConfig:
    """Finish a rotation: stop listing, and signing with, the index key ``fingerprint``.

    The snapshot is signed by the remaining ``keys`` (or those of ``$SKILLPM_INDEX_KEY``;
    the retired key among them is left out) and names only them: a client that
    followed the rotation drops the retired key from its pin.
    """

    def listed(config: RegistryConfig) -> tuple[str, ...]:
        if fingerprint not in config.index_keys:
            raise RegistryError(
                f"{fingerprint[:80]!r} is not an index key of {root} "
                f"(config.json lists {', '.join(config.index_keys) or 'none'})",
                hint="give the full fingerprint of the key to retire",
            )
        if len(config.index_keys) == 1:
            raise RegistryError(
                f"the key {fingerprint[:16]}... is the only index key of {root}; a signed registry keeps one",
                hint=f"add its successor first: 'skillpm registry rotate-key {root} --new-key NEW_KEY'",
            )
        return tuple(key for key in config.index_keys if key != fingerprint)

    signers = tuple(key for key in keys or load_index_keys(registry=root) if key.fingerprint != fingerprint)
    return _rekey(root, listed, signers, expires_days)


def _rekey(
    root: Path,
    listed: Callable[[RegistryConfig], tuple[str, ...]],
    keys: Sequence[SigningKey],
    expires_days: int | None,
) -> RegistryConfig:
    """Write the index keys ``listed`` makes of the current config, signed by ``keys``; the new config.

    The public key files of the keys no longer listed are removed.
    """
    with writing(root) as registry:
        previous = registry.config()
        config = previous._replace(index_keys=listed(previous))
        writes = [("config.json", dump(config.to_json()))]
        writes += signed(root, config, writes, keys=keys, expires_days=expires_days)
        retired = sorted(set(previous.index_keys) - set(config.index_keys))
        commit(root, writes, removed=[snapshots.key_path(fingerprint) for fingerprint in retired])
    return config
