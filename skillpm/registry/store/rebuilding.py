"""Regenerating the index from the artifacts on disk."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from skillpm.index.model import PackageDocument, search_document
from skillpm.registry.store.entries import (
    existing_variants,
    group,
    package_write,
    read_archives,
    variant_of,
    version_entry,
)
from skillpm.registry.store.files import dump
from skillpm.registry.store.journal import commit, sweep, writing
from skillpm.registry.store.signing import load_index_keys, signed

if TYPE_CHECKING:
    from skillpm.attest.keys import SigningKey


def rebuild(
    root: Path, *, keys: Sequence[SigningKey] = (), expires_days: int | None = None
) -> list[PackageDocument]:
    """Regenerate every package document and search.json from the artifacts on disk (and re-sign the snapshot).

    Yanked flags and attestations recorded in the existing documents are kept. The index is signed as
    it is rebuilt, whatever the snapshot on disk said, and every temporary file killed writes left is removed.
    """
    keys = keys or load_index_keys(registry=root)
    with writing(root) as registry:
        sweep(root)
        found = read_archives(_archives(root))
        documents: dict[str, PackageDocument] = {}
        for (name, version), items in sorted(group(found).items()):
            previous = existing_variants(registry, name, version)
            variants = tuple(
                variant_of(metadata, held.sha256, held.size, previous.get(metadata.target)) for held, metadata in items
            )
            entry = version_entry(items[0][1], variants)
            documents[name] = documents.get(name, PackageDocument(name)).with_version(entry)
        stale = [path for path in (root / "index").rglob("*.json") if path.stem not in documents]
        writes = [package_write(document) for document in documents.values()]
        entries = [document.search_entry() for document in documents.values()]
        writes.append(("search.json", dump(search_document(entries))))
        removed = {path.relative_to(root).as_posix() for path in stale}
        writes += signed(
            root, registry.config(), writes, keys=keys, expires_days=expires_days, removed=removed, check=False
        )
        commit(root, writes, removed=sorted(removed), pages="all")
    return list(documents.values())


def _archives(root: Path) -> list[Path]:
    """Every ``artifacts/NAME/VERSION/*.tar.gz`` of the registry at ``root``, through its own folders only:
    RegistryError at an archive, or a folder on the way, that is a link (``artifacts/x -> ~/elsewhere``),
    whose archives every reader of the registry refuses, and which a rebuild must not index and sign."""
    from skillpm.containment import real_folder
    from skillpm.errors import RegistryError

    found = sorted((root / "artifacts").glob("*/*/*.tar.gz"))
    for path in found:
        if path.is_symlink() or real_folder(root, path.parent.relative_to(root).as_posix()) is None:
            raise RegistryError(f"{path} is reached through a link; a registry's archives are in its own folders",
                                hint="replace the link with the folder it points to, then rebuild")
    return found
