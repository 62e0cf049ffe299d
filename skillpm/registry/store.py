"""Maintaining a registry in a local directory: init, add, yank, rebuild, and rotating its index key.

Writes are serialised with a lock file and made atomic file by file: artifacts
and attestation bundles first, then the package documents that name them, then
``search.json``. Every check runs before the first write, so a refused ``add``
changes nothing, and a write that fails midway is undone (each file written is
restored or removed), so the registry is left byte for byte as it was.
Published versions are immutable: a version's variants are fixed by the
``add`` that first publishes it; attestations may be added to them later.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from packaging.version import InvalidVersion, Version

from skillpm.archive import (
    MAX_ARCHIVE_SIZE,
    VariantMetadata,
    archive_name,
    scan,
    sha256_bytes,
)
from skillpm.atomic import atomic_write
from skillpm.errors import ArchiveError, IndexFormatError, RegistryError, TargetError
from skillpm.index import snapshot as snapshots
from skillpm.index.model import (
    Attestation,
    PackageDocument,
    RegistryConfig,
    SearchEntry,
    Variant,
    VersionEntry,
    check_name,
    search_document,
    shard_path,
)
from skillpm.index.snapshot import Snapshot, SnapshotSignature, signatures_document
from skillpm.locks import lock_for
from skillpm.jsonfile import read_json
from skillpm.pages.writer import update_pages
from skillpm.reading import MAX_DOCUMENT_SIZE, problem, read_at_most, read_regular_file
from skillpm.registry.directory import LocalRegistry
from skillpm.targets import parse_target

if TYPE_CHECKING:
    from skillpm.attest.keys import SigningKey

#: The private keys that sign the index snapshot (paths separated by os.pathsep), when ``--key`` is not given.
INDEX_KEY_ENV = "SKILLPM_INDEX_KEY"


def _dump(data: Any) -> bytes:
    """Index documents as written: two-space indented JSON, keys in model order."""
    return (json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode()


def artifact_path(name: str, version: str, target: str) -> str:
    """Where an artifact lives in the registry, relative to its root."""
    return f"artifacts/{name}/{version}/{archive_name(name, version, target)}"


def init(
    root: Path,
    *,
    name: str | None = None,
    keys: Sequence[SigningKey] = (),
    expires_days: int = snapshots.DEFAULT_EXPIRES_DAYS,
) -> RegistryConfig:
    """Create an empty registry in ``root`` (created if needed; must not hold one already).

    With ``keys`` (or ``$SKILLPM_INDEX_KEY``) the index is signed: config.json lists the
    keys' fingerprints, ``keys/`` holds their public halves, and every write signs
    a new ``snapshot.json``.
    """
    if (root / "config.json").exists():
        raise RegistryError(f"{root} already holds a registry")
    keys = keys or load_index_keys()
    config = RegistryConfig(
        name=name or root.resolve().name or "skillpm-registry",
        index_keys=tuple(dict.fromkeys(key.fingerprint for key in keys)),
    )
    (root / "index").mkdir(parents=True, exist_ok=True)
    writes = [("search.json", _dump(search_document([]))), ("config.json", _dump(config.to_json()))]
    writes += _signed(root, config, writes, keys=keys, expires_days=expires_days)
    _commit(root, writes)
    update_pages(root)
    return config


def load_index_keys(paths: Sequence[Path] = ()) -> tuple[SigningKey, ...]:
    """The index signing keys at ``paths``, else those ``$SKILLPM_INDEX_KEY`` names; none: unsigned.

    ``$SKILLPM_INDEX_KEY`` holds one path, or several separated by ``os.pathsep`` (while a key
    rotation is under way). An encrypted key's passphrase comes from ``$SKILLPM_SIGNING_KEY_PASSPHRASE``.
    """
    if not paths:
        paths = [Path(named) for named in os.environ.get(INDEX_KEY_ENV, "").split(os.pathsep) if named]
    from skillpm.attest.keys import load_signing_key, passphrase_from_env

    return tuple(load_signing_key(path.expanduser(), passphrase=passphrase_from_env()) for path in paths)


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
    attestations: tuple[Attestation, ...] = ()  # those this add attached


@dataclass(frozen=True)
class NewAttestation:
    """A signed attestation bundle to attach to the variant ``name`` ``version`` ``target``."""

    name: str
    version: str
    target: str
    path: str  # where the bundle goes, relative to the registry root
    data: bytes
    predicate_type: str


def attestation_path(name: str, version: str, target: str, kind: str, digest: str) -> str:
    """Where a bundle lives: beside nothing else, one file per statement (``digest`` names the statement)."""
    return f"attestations/{name}/{version}/{archive_name(name, version, target)}.{kind}-{digest[:16]}.sigstore.json"


def add(
    root: Path,
    archives: Iterable[Path],
    *,
    attestations: Iterable[NewAttestation] = (),
    keys: Sequence[SigningKey] = (),
    expires_days: int = snapshots.DEFAULT_EXPIRES_DAYS,
) -> list[Added]:
    """Publish variant archives, and attestation bundles for them, into the registry at ``root``.

    Archives of one version must be added together; adding exactly the same
    archives again is a no-op, anything else for a published version is refused.
    Attestations are attached to the variants they name (which must be among the
    archives given); one already attached at the same path is kept as it is.
    A signed registry needs its ``keys`` (or ``$SKILLPM_INDEX_KEY``) to re-sign the snapshot.
    """
    registry = open_for_writing(root)
    signers = keys or load_index_keys()
    with lock_for(root):
        groups = _group(_read_archives(archives))
        plans = [_plan_version(registry, key, items) for key, items in sorted(groups.items())]
        pending: dict[tuple[str, str, str], list[NewAttestation]] = {}
        for item in attestations:
            pending.setdefault((item.name, item.version, item.target), []).append(item)
        results: list[Added] = []
        writes: list[tuple[str, bytes]] = []
        documents: dict[str, PackageDocument] = {}
        for document, entry, items, new in plans:
            variants = {variant.target: variant for variant in entry.variants}
            changed = new
            for data, metadata, sha256 in items:
                path = artifact_path(metadata.name, metadata.version, metadata.target)
                if new:
                    writes.append((path, data))
                key = (metadata.name, metadata.version, metadata.target)
                variant, attached = _attach(variants[metadata.target], pending.pop(key, []), writes)
                variants[metadata.target] = variant
                changed = changed or bool(attached)
                results.append(
                    Added(metadata.name, metadata.version, metadata.target, sha256, len(data), path, new, attached)
                )
            if changed:
                base = documents.get(document.name, document)
                documents[document.name] = base.with_version(entry._replace(variants=tuple(variants.values())))
        if pending:
            name, version, target = next(iter(pending))
            raise RegistryError(f"an attestation names {name} {version} ({target}), which is not among the archives")
        for document in documents.values():
            writes.append(_package_write(document))
        if documents:
            writes.append(("search.json", _search_bytes(registry, documents.values())))
            writes += _signed(root, registry.config(), writes, keys=signers, expires_days=expires_days)
        _commit(root, writes)
        if documents:
            update_pages(root, documents)
    return results


def _attach(
    variant: Variant, new: list[NewAttestation], writes: list[tuple[str, bytes]]
) -> tuple[Variant, tuple[Attestation, ...]]:
    """``variant`` with the ``new`` attestations not yet attached; queues their bundles in ``writes``."""
    listed = {item.path for item in variant.attestations}
    attached = []
    for item in new:
        if item.path in listed:
            continue
        listed.add(item.path)
        writes.append((item.path, item.data))
        attached.append(Attestation(item.path, sha256_bytes(item.data), item.predicate_type))
    return variant._replace(attestations=variant.attestations + tuple(attached)), tuple(attached)


def _commit(root: Path, writes: list[tuple[str, bytes]]) -> None:
    """Write every file (paths relative to ``root``), in order, or none of them.

    On any failure each file already written gets its old bytes back (or is removed
    when it is new), and the folders made for them are removed.
    """
    done: list[tuple[Path, bytes | None]] = []
    made: list[Path] = []
    try:
        for relative, data in writes:
            path = root.joinpath(*relative.split("/"))
            missing = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
            made += reversed(missing)
            previous = _read(path)
            atomic_write(path, data)
            done.append((path, previous))
    except BaseException:
        for path, previous in reversed(done):
            if previous is None:
                path.unlink(missing_ok=True)
            else:
                atomic_write(path, previous)
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:
                pass
        raise


def yank(
    root: Path,
    name: str,
    version: str,
    *,
    target: str | None = None,
    undo: bool = False,
    keys: Sequence[SigningKey] = (),
    expires_days: int = snapshots.DEFAULT_EXPIRES_DAYS,
) -> list[str]:
    """Mark a version's variants (or one of them) yanked, or not yanked with ``undo``."""
    registry = open_for_writing(root)
    keys = keys or load_index_keys()
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
        writes = [_package_write(updated), ("search.json", _search_bytes(registry, [updated]))]
        writes += _signed(root, registry.config(), writes, keys=keys, expires_days=expires_days)
        _commit(root, writes)
        update_pages(root, [name])
    return [v.target for v in chosen]


def rebuild(
    root: Path, *, keys: Sequence[SigningKey] = (), expires_days: int = snapshots.DEFAULT_EXPIRES_DAYS
) -> list[PackageDocument]:
    """Regenerate every package document and search.json from the artifacts on disk (and re-sign the snapshot).

    Yanked flags and attestations recorded in the existing documents are kept.
    """
    registry = open_for_writing(root)
    keys = keys or load_index_keys()
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
        stale = [path for path in (root / "index").rglob("*.json") if path.stem not in documents]
        writes = [_package_write(document) for document in documents.values()]
        entries = [_search_entry(document) for document in documents.values()]
        writes.append(("search.json", _dump(search_document(entries))))
        removed = {path.relative_to(root).as_posix() for path in stale}
        writes += _signed(root, registry.config(), writes, keys=keys, expires_days=expires_days, removed=removed)
        _commit(root, writes)
        for path in stale:
            path.unlink()
        update_pages(root)
    return list(documents.values())


def add_index_key(
    root: Path,
    new: SigningKey,
    *,
    keys: Sequence[SigningKey] = (),
    expires_days: int = snapshots.DEFAULT_EXPIRES_DAYS,
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

    return _rekey(root, listed, (*(keys or load_index_keys()), new), expires_days)


def retire_index_key(
    root: Path,
    fingerprint: str,
    *,
    keys: Sequence[SigningKey] = (),
    expires_days: int = snapshots.DEFAULT_EXPIRES_DAYS,
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

    signers = tuple(key for key in keys or load_index_keys() if key.fingerprint != fingerprint)
    return _rekey(root, listed, signers, expires_days)


def _rekey(
    root: Path,
    listed: Callable[[RegistryConfig], tuple[str, ...]],
    keys: Sequence[SigningKey],
    expires_days: int,
) -> RegistryConfig:
    """Write the index keys ``listed`` makes of the current config, signed by ``keys``; the new config.

    The public key files of the keys no longer listed are removed.
    """
    registry = open_for_writing(root)
    with lock_for(root):
        previous = registry.config()
        config = previous._replace(index_keys=listed(previous))
        writes = [("config.json", _dump(config.to_json()))]
        writes += _signed(root, config, writes, keys=keys, expires_days=expires_days)
        _commit(root, writes)
        for fingerprint in set(previous.index_keys) - set(config.index_keys):
            (root / snapshots.key_path(fingerprint)).unlink(missing_ok=True)
    return config


def _signed(
    root: Path,
    config: RegistryConfig,
    writes: list[tuple[str, bytes]],
    *,
    keys: Sequence[SigningKey],
    expires_days: int,
    removed: Iterable[str] = (),
) -> list[tuple[str, bytes]]:
    """The writes that re-sign the index after ``writes``: none for an unsigned registry.

    ``config`` is the registry's config after ``writes``. A registry whose config
    lists index keys is signed by exactly those keys: a write without one of them,
    or with another, is refused. Keys given for an unsigned registry make it signed
    from now on. The snapshot names the keys, each published at
    :func:`snapshots.key_path`, and the newest is also at ``keys/index.pub``.
    """
    if not keys:
        if config.index_keys:
            raise RegistryError(
                f"the index of {root} is signed (key {config.index_keys[0][:16]}...); "
                "a write must re-sign its snapshot",
                hint=f"set ${INDEX_KEY_ENV} to the index key's path (the 'skillpm registry' commands also take --key)",
            )
        return []
    given = {key.fingerprint: key for key in keys}
    extra: list[tuple[str, bytes]] = []
    if not config.index_keys:
        config = config._replace(index_keys=tuple(given))
        extra.append(("config.json", _dump(config.to_json())))
    stranger = next((fp for fp in given if fp not in config.index_keys), None)
    if stranger is not None:
        raise RegistryError(
            f"the key {stranger[:16]}... is not an index key of {root} "
            f"(config.json lists {', '.join(fp[:16] + '...' for fp in config.index_keys)})",
            hint="sign with the registry's index key",
        )
    missing = [fp for fp in config.index_keys if fp not in given]
    if missing:
        raise RegistryError(
            f"the index of {root} must be signed by each of its {len(config.index_keys)} index keys; "
            f"{missing[0][:16]}... is not among those given",
            hint=f"list every key's path in ${INDEX_KEY_ENV}, separated by {os.pathsep!r} "
            "(the 'skillpm registry' commands also take --key once for each)",
        )
    newest = given[config.index_keys[-1]].public.pem()
    published = [(snapshots.key_path(fp), given[fp].public.pem()) for fp in config.index_keys]
    published.append((snapshots.INDEX_KEY, newest))
    extra += [(relative, pem) for relative, pem in published if _read(root / relative) != pem]
    documents = _documents_on_disk(root)
    for relative, data in [*writes, *extra]:
        if snapshots.is_document(relative):
            documents[relative] = data
    for relative in removed:
        documents.pop(relative, None)
    snapshot = snapshots.build(
        documents, version=_snapshot_version(root) + 1, expires_days=expires_days, keys=config.index_keys
    )
    body = _dump(snapshot.to_json())
    payload = snapshots.signed_bytes(body)
    signatures = [SnapshotSignature(fp, given[fp].sign(payload)) for fp in config.index_keys]
    return [*extra, (snapshots.SNAPSHOT, body), (snapshots.SIGNATURE, _dump(signatures_document(signatures)))]


def _read(path: Path, limit: int = MAX_ARCHIVE_SIZE) -> bytes | None:
    """The bytes of the file at ``path``; ``None`` when there is none.

    RegistryError when it is not a regular file of at most ``limit`` bytes.
    """
    try:
        return read_at_most(path, limit)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise RegistryError(f"cannot read {path}: {problem(error)}") from None


def _documents_on_disk(root: Path) -> dict[str, bytes]:
    found = {name: root / name for name in ("config.json", "search.json")}
    found.update({path.relative_to(root).as_posix(): path for path in sorted((root / "index").rglob("*.json"))})
    documents = {relative: _read(path, MAX_DOCUMENT_SIZE) for relative, path in found.items()}
    return {relative: data for relative, data in documents.items() if data is not None}


def _snapshot_version(root: Path) -> int:
    """The version of the snapshot on disk; 0 when there is none (or it is unreadable)."""
    try:
        return Snapshot.from_json(read_json(root / snapshots.SNAPSHOT, MAX_DOCUMENT_SIZE)).version
    except (OSError, ValueError, IndexFormatError):
        return 0


def open_for_writing(root: Path) -> LocalRegistry:
    """The registry at ``root``, to write; IndexFormatError when it holds none."""
    registry = LocalRegistry(root.resolve(), root.resolve().as_uri(), verify=False)
    registry.config()
    return registry


Item = tuple[bytes, VariantMetadata, str]


def _read_archives(paths: Iterable[Path]) -> list[Item]:
    items = []
    for path in paths:
        try:
            data = read_regular_file(path, MAX_ARCHIVE_SIZE)
        except OSError as error:
            raise RegistryError(f"cannot read {path}: {error.strerror or error}") from None
        if len(data) > MAX_ARCHIVE_SIZE:
            raise RegistryError(f"{path} is larger than {MAX_ARCHIVE_SIZE} bytes; not a skillpm variant archive")
        try:
            metadata = scan(data)
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


def _package_write(document: PackageDocument) -> tuple[str, bytes]:
    ordered = document._replace(versions=tuple(sorted(document.versions, key=lambda e: Version(e.version))))
    return f"index/{shard_path(document.name)}", _dump(ordered.to_json())


def _search_bytes(registry: LocalRegistry, changed: Iterable[PackageDocument]) -> bytes:
    """search.json with the entries of ``changed`` packages replaced."""
    entries = {entry.name: entry for entry in registry.search_entries()}
    for document in changed:
        entries.pop(document.name, None)
        if document.versions:
            entries[document.name] = _search_entry(document)
    return _dump(search_document(list(entries.values())))


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
