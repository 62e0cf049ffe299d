"""Maintaining a registry in a local directory: init, add, yank, rebuild.

Writes are serialised with a lock file and made atomic file by file: artifacts
first, then the package documents that name them, then ``search.json``. Every
check runs before the first write, so a refused ``add`` changes nothing.
Published versions are immutable: a version's variants are fixed by the
``add`` that first publishes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from packaging.version import InvalidVersion, Version

from skillpm.archive import VariantMetadata, archive_name, read_metadata, sha256_bytes
from skillpm.atomic import atomic_write
from skillpm.errors import ArchiveError, IndexFormatError, RegistryError, TargetError
from skillpm.locks import lock_for
from skillpm.index.model import (
    PackageDocument,
    RegistryConfig,
    SearchEntry,
    Variant,
    VersionEntry,
    check_name,
    search_document,
    shard_path,
)
from skillpm.registry.source import LocalRegistry
from skillpm.targets import parse_target

def _dump(data: Any) -> bytes:
    """Index documents as written: two-space indented JSON, keys in model order."""
    return (json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode()


def artifact_path(name: str, version: str, target: str) -> str:
    """Where an artifact lives in the registry, relative to its root."""
    return f"artifacts/{name}/{version}/{archive_name(name, version, target)}"


def init(root: Path, *, name: str | None = None) -> RegistryConfig:
    """Create an empty registry in ``root`` (created if needed; must not hold one already)."""
    if (root / "config.json").exists():
        raise RegistryError(f"{root} already holds a registry")
    config = RegistryConfig(name=name or root.resolve().name or "skillpm-registry")
    (root / "index").mkdir(parents=True, exist_ok=True)
    atomic_write(root / "search.json", _dump(search_document([])))
    atomic_write(root / "config.json", _dump(config.to_json()))
    return config


@dataclass(frozen=True)
class Added:
    """One archive handled by :func:`add`: whether it was new or already published."""

    name: str
    version: str
    target: str
    sha256: str
    size: int
    path: str
    new: bool


def add(root: Path, archives: Iterable[Path]) -> list[Added]:
    """Publish variant archives into the registry at ``root``.

    Archives of one version must be added together; adding exactly the same
    archives again is a no-op, anything else for a published version is refused.
    """
    registry = _open(root)
    with lock_for(root):
        groups = _group(_read_archives(archives))
        plans = [_plan_version(registry, key, items) for key, items in sorted(groups.items())]
        results: list[Added] = []
        documents: dict[str, PackageDocument] = {}
        for document, entry, items, new in plans:
            for data, metadata, sha256 in items:
                path = artifact_path(metadata.name, metadata.version, metadata.target)
                results.append(
                    Added(metadata.name, metadata.version, metadata.target, sha256, len(data), path, new)
                )
                if new:
                    atomic_write(root.joinpath(*path.split("/")), data)
            if new:
                base = documents.get(document.name, document)
                documents[document.name] = base.with_version(entry)
        for document in documents.values():
            _write_package(root, document)
        if documents:
            _write_search(root, registry, documents.values())
    return results


def yank(root: Path, name: str, version: str, *, target: str | None = None, undo: bool = False) -> list[str]:
    """Mark a version's variants (or one of them) yanked, or not yanked with ``undo``."""
    registry = _open(root)
    with lock_for(root):
        document = registry.package(name)
        entry = next((e for e in document.versions if e.version == version), None) if document else None
        if document is None or entry is None:
            raise RegistryError(f"{name} {version} is not in the registry at {root}")
        chosen = [v for v in entry.variants if target is None or v.target == target]
        if not chosen:
            listed = ", ".join(v.target for v in entry.variants)
            raise RegistryError(f"{name} {version} has no variant {target} (variants: {listed})")
        variants = tuple(
            v._replace(yanked=not undo) if v in chosen else v for v in entry.variants
        )
        updated = document.with_version(entry._replace(variants=variants))
        _write_package(root, updated)
        _write_search(root, registry, [updated])
    return [v.target for v in chosen]


def rebuild(root: Path) -> list[PackageDocument]:
    """Regenerate every package document and search.json from the artifacts on disk.

    Yanked flags and attestations recorded in the existing documents are kept.
    """
    registry = _open(root)
    with lock_for(root):
        found = _read_archives(sorted((root / "artifacts").glob("*/*/*.tar.gz")))
        documents: dict[str, PackageDocument] = {}
        for (name, version), items in sorted(_group(found).items()):
            previous = _existing_variants(registry, name, version)
            variants = tuple(
                _variant(metadata, sha256, len(data), previous.get(metadata.target))
                for data, metadata, sha256 in items
            )
            entry = _entry(items[0][1], variants)
            documents[name] = documents.get(name, PackageDocument(name)).with_version(entry)
        for stale in (root / "index").rglob("*.json"):
            if stale.stem not in documents:
                stale.unlink()
        for document in documents.values():
            _write_package(root, document)
        entries = [_search_entry(document) for document in documents.values()]
        atomic_write(root / "search.json", _dump(search_document(entries)))
    return list(documents.values())


def _open(root: Path) -> LocalRegistry:
    registry = LocalRegistry(root.resolve(), root.resolve().as_uri())
    registry.config()
    return registry


Item = tuple[bytes, VariantMetadata, str]


def _read_archives(paths: Iterable[Path]) -> list[Item]:
    items = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise RegistryError(f"cannot read {path}: {error.strerror}") from None
        try:
            metadata = read_metadata(data)
            check_name(metadata.name, str(path))
            Version(metadata.version)
            parse_target(metadata.target)
        except (ArchiveError, IndexFormatError, TargetError) as error:
            raise RegistryError(f"{path}: not a skillpm variant archive: {error.message}") from None
        except InvalidVersion:
            raise RegistryError(f"{path}: version {metadata.version!r} is not PEP 440") from None
        items.append((data, metadata, sha256_bytes(data)))
    return items


def _group(items: list[Item]) -> dict[tuple[str, str], list[Item]]:
    groups: dict[tuple[str, str], list[Item]] = {}
    for item in items:
        metadata = item[1]
        groups.setdefault((metadata.name, metadata.version), []).append(item)
    for (name, version), members in groups.items():
        targets = [metadata.target for _, metadata, _ in members]
        if len(set(targets)) != len(targets):
            raise RegistryError(f"two archives of {name} {version} are for the same target")
        members.sort(key=lambda item: item[1].target)
        first = _entry(members[0][1], ())
        if any(_entry(metadata, ()) != first for _, metadata, _ in members[1:]):
            raise RegistryError(f"archives of {name} {version} disagree on its description or metadata")
    return groups


def _plan_version(
    registry: LocalRegistry, key: tuple[str, str], items: list[Item]
) -> tuple[PackageDocument, VersionEntry, list[Item], bool]:
    """Check one version against the index: returns (document, entry, items, is_new)."""
    name, version = key
    document = registry.package(name) or PackageDocument(name)
    variants = tuple(_variant(metadata, sha256, len(data), None) for data, metadata, sha256 in items)
    published = next((e for e in document.versions if Version(e.version) == Version(version)), None)
    if published is None:
        return document, _entry(items[0][1], variants), items, True
    same = {(v.target, v.sha256) for v in published.variants} == {(v.target, v.sha256) for v in variants}
    if not same:
        raise RegistryError(
            f"{name} {published.version} is already published with other content; published versions are immutable",
            hint="bump the version in skillpm.toml and pack again",
        )
    return document, published, items, False


def _variant(metadata: VariantMetadata, sha256: str, size: int, previous: Variant | None) -> Variant:
    return Variant(
        target=metadata.target,
        sha256=sha256,
        size=size,
        path=artifact_path(metadata.name, metadata.version, metadata.target),
        yanked=previous.yanked if previous and previous.sha256 == sha256 else False,
        attestations=previous.attestations if previous and previous.sha256 == sha256 else (),
    )


def _entry(metadata: VariantMetadata, variants: tuple[Variant, ...]) -> VersionEntry:
    return VersionEntry(
        version=metadata.version,
        description=metadata.description,
        variants=variants,
        license=metadata.license,
        keywords=metadata.keywords,
        agents=metadata.agents,
    )


def _existing_variants(registry: LocalRegistry, name: str, version: str) -> dict[str, Variant]:
    try:
        document = registry.package(name)
    except IndexFormatError:
        return {}
    entry = next((e for e in document.versions if e.version == version), None) if document else None
    return {v.target: v for v in entry.variants} if entry else {}


def _write_package(root: Path, document: PackageDocument) -> None:
    ordered = document._replace(versions=tuple(sorted(document.versions, key=lambda e: Version(e.version))))
    atomic_write(root / "index" / Path(shard_path(document.name)), _dump(ordered.to_json()))


def _write_search(root: Path, registry: LocalRegistry, changed: Iterable[PackageDocument]) -> None:
    """Rewrite search.json with the entries of ``changed`` packages replaced."""
    entries = {entry.name: entry for entry in registry.search_entries()}
    for document in changed:
        entries.pop(document.name, None)
        if document.versions:
            entries[document.name] = _search_entry(document)
    atomic_write(root / "search.json", _dump(search_document(list(entries.values()))))


def _search_entry(document: PackageDocument) -> SearchEntry:
    """The package's entry in search.json: its highest version that is not wholly yanked."""
    live = [e for e in document.versions if not e.yanked] or list(document.versions)
    latest = max(live, key=lambda e: Version(e.version))
    return SearchEntry(
        name=document.name,
        version=latest.version,
        description=latest.description,
        keywords=latest.keywords,
        targets=tuple(v.target for v in latest.variants),
    )
