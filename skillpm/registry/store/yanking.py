"""Yanking a version's variants, or taking the yank back."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from skillpm.errors import RegistryError
from skillpm.registry.store.entries import package_write, search_bytes
from skillpm.registry.store.journal import commit, writing
from skillpm.registry.store.signing import load_index_keys, signed

if TYPE_CHECKING:
    from skillpm.attest.keys import SigningKey


def yank(
    root: Path,
    name: str,
    version: str,
    *,
    target: str | None = None,
    undo: bool = False,
    keys: Sequence[SigningKey] = (),
    expires_days: int | None = None,
) -> list[str]:
    """Mark a version's variants (or one of them) yanked, or not yanked with ``undo``."""
    keys = keys or load_index_keys(registry=root)
    with writing(root) as registry:
        document = registry.package(name)
        entry = next((e for e in document.versions if e.version == version), None) if document else None
        if document is None or entry is None:
            raise RegistryError(f"{name} {version} is not in the registry at {root}")
        try:
            changed, chosen = entry.with_yank(target, undo=undo)
        except LookupError as error:
            raise RegistryError(f"{name} {version} {error}") from None
        updated = document.with_version(changed)
        writes = [package_write(updated), ("search.json", search_bytes(registry, [updated]))]
        writes += signed(root, registry.config(), writes, keys=keys, expires_days=expires_days)
        commit(root, writes, pages=(name,))
    return chosen
