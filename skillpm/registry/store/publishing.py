"""Creating a registry and publishing variant archives (and attestation bundles for them) into it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from packaging.version import Version

from skillpm.errors import RegistryError
from skillpm.index.model import (
    Attestation, PackageDocument, RegistryConfig, Variant, VersionEntry, search_document, version_order,
    version_text_order,
)
from skillpm.locks import lock_for
from skillpm.manifest import local_label_problem
from skillpm.records import Record
from skillpm.registry.directory import LocalRegistry
from skillpm.registry.store.entries import (
    Item,
    group,
    package_write,
    read_archive,
    search_bytes,
    variant_of,
    version_entry,
)
from skillpm.registry.store.files import artifact_path, dump
from skillpm.registry.store.incoming import Content, Hashed, Incoming, sha256_of
from skillpm.registry.store.journal import commit, recover, writing
from skillpm.registry.store.signing import check_index, load_index_keys, signed

if TYPE_CHECKING:
    from skillpm.attest.keys import SigningKey


def init(
    root: Path,
    *,
    name: str | None = None,
    keys: Sequence[SigningKey] = (),
    expires_days: int | None = None,
) -> RegistryConfig:
    """Create an empty registry in ``root`` (created if needed; must not hold one already).

    With ``keys`` (or ``$SKILLPM_INDEX_KEY``) the index is signed: config.json lists the
    keys' fingerprints, ``keys/`` holds their public halves, and every write signs
    a new ``snapshot.json``. Two inits of one folder at once: one creates the registry, the
    other is refused (the check is made under the registry's lock).
    """
    keys = keys or load_index_keys(registry=root)
    config = RegistryConfig(
        name=name or root.resolve().name or "skillpm-registry",
        index_keys=tuple(dict.fromkeys(key.fingerprint for key in keys)),
    )
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RegistryError(f"cannot create a registry in {root}: {error.strerror or error}") from None
    with lock_for(root):
        recover(root)  # a killed init's decided write is finished: then a registry is there
        if (root / "config.json").exists():
            raise RegistryError(f"{root} already holds a registry")
        (root / "index").mkdir(exist_ok=True)
        writes = [("search.json", dump(search_document([]))), ("config.json", dump(config.to_json()))]
        writes += signed(root, config, writes, keys=keys, expires_days=expires_days)
        commit(root, writes, pages="all")
    return config


class Added(Record):
    """One archive handled by :func:`add`: whether it was new or already published."""

    name: str
    version: str
    target: str
    sha256: str
    size: int
    path: str
    new: bool
    attestations: tuple[Attestation, ...] = ()  # those this add attached


class NewAttestation(Record):
    """A signed attestation bundle to attach to the variant ``name`` ``version`` ``target``."""

    name: str
    version: str
    target: str
    path: str  # where the bundle goes, relative to the registry root
    data: bytes | Hashed  # the bundle, or a file received in the registry's folder that holds it
    predicate_type: str


def add(
    root: Path,
    archives: Iterable[Path | Item],
    *,
    attestations: Iterable[NewAttestation] = (),
    yanked: Iterable[tuple[str, str, str]] = (),
    keys: Sequence[SigningKey] = (),
    expires_days: int | None = None,
) -> list[Added]:
    """Publish variant archives, and attestation bundles for them, into the registry at ``root``.

    Archives of one version must be added together; adding exactly the same
    archives again is a no-op, anything else for a published version is refused.
    Attestations are attached to the variants they name (which must be among the
    archives given); one already attached at the same path is kept as it is.
    The variants ``yanked`` names (name, version, target) are marked yanked in the
    same write (a mirror copying another registry's yanks).
    A signed registry needs its ``keys`` (or ``$SKILLPM_INDEX_KEY``) to re-sign the snapshot.

    No archive or bundle is held in memory: an archive at a path is read once, scanned and hashed as it
    is copied into the registry's folder (:mod:`.incoming`), so the bytes checked are the bytes published;
    one received there and read already (``registry pull`` downloads into it and reads it with
    :func:`.entries.read_received`) is not read again. The journal then moves them in.
    """
    signers = keys or load_index_keys(registry=root)
    with writing(root) as registry, Incoming(root) as incoming:
        groups = group([_read(archive, incoming) for archive in archives])
        plans = [_plan_version(registry, key, items) for key, items in sorted(groups.items())]
        pending: dict[tuple[str, str, str], list[NewAttestation]] = {}
        yanks = set(yanked)
        for item in attestations:
            pending.setdefault((item.name, item.version, item.target), []).append(item)
        results: list[Added] = []
        writes: list[tuple[str, Content]] = []
        documents: dict[str, PackageDocument] = {}
        for document, entry, items, new in plans:
            variants = {variant.target: variant for variant in entry.variants}
            changed = new
            for held, metadata in items:
                path = artifact_path(metadata.name, metadata.version, metadata.target)
                if new:
                    writes.append((path, held))
                key = (metadata.name, metadata.version, metadata.target)
                variant, attached = _attach(variants[metadata.target], pending.pop(key, []), writes)
                if key in yanks:
                    variant = variant._replace(yanked=True)
                changed = changed or bool(attached) or variant.yanked != variants[metadata.target].yanked
                variants[metadata.target] = variant
                results.append(
                    Added(metadata.name, metadata.version, metadata.target, held.sha256, held.size, path, new, attached)
                )
            if changed:
                base = documents.get(document.name, document)
                documents[document.name] = base.with_version(entry._replace(variants=tuple(variants.values())))
        if pending:
            name, version, target = next(iter(pending))
            raise RegistryError(f"an attestation names {name} {version} ({target}), which is not among the archives")
        for document in documents.values():
            writes.append(package_write(document))
        if documents:
            writes.append(("search.json", search_bytes(registry, documents.values())))
            writes += signed(root, registry.config(), writes, keys=signers, expires_days=expires_days)
        else:  # nothing to write: still say when the index is not what its snapshot lists
            check_index(root, signers)
        commit(root, writes, pages=tuple(documents) or None)
    return results


def _read(archive: Path | Item, incoming: Incoming) -> Item:
    """``archive`` copied into the registry's folder and read in the same pass (:func:`.entries.read_archive`),
    the copy the item; one received and read already as it is."""
    if not isinstance(archive, Path):
        return archive
    read: list[Item] = []
    copied = incoming.receive(lambda write: read.append(read_archive(archive, copy=write)))
    return copied, read[0][1]


def _attach(
    variant: Variant, new: list[NewAttestation], writes: list[tuple[str, Content]]
) -> tuple[Variant, tuple[Attestation, ...]]:
    """``variant`` with the ``new`` attestations not yet attached (at their path, or byte for byte at the
    path registries written before the signer was named give it); queues their bundles in ``writes``."""
    paths = {item.path for item in variant.attestations}
    digests = {item.sha256 for item in variant.attestations}
    attached = []
    for item in new:
        digest = sha256_of(item.data)
        if item.path in paths or digest in digests:
            continue
        paths.add(item.path)
        digests.add(digest)
        writes.append((item.path, item.data))
        attached.append(Attestation(item.path, digest, item.predicate_type))
    return variant._replace(attestations=variant.attestations + tuple(attached)), tuple(attached)


def _plan_version(
    registry: LocalRegistry, key: tuple[str, str], items: list[Item]
) -> tuple[PackageDocument, VersionEntry, list[Item], bool]:
    """Check one version against the index: returns (document, entry, items, is_new)."""
    name, version = key
    document = registry.package(name) or PackageDocument(name)
    variants = tuple(variant_of(metadata, held.sha256, held.size, None) for held, metadata in items)
    wanted = version_text_order(version)
    published = next((e for e in document.versions if version_order(e) == wanted), None)
    if published is None:
        if (problem := local_label_problem(Version(version))) is not None:
            raise RegistryError(f"{name}: {problem}", hint="change the version in skillpm.toml and pack again")
        return document, version_entry(items[0][1], variants), items, True
    if published.version != version:
        raise RegistryError(
            f"{name} {version} is published as {published.version}, one version spelled another way",
            hint="a version has one spelling: bump the version in skillpm.toml and pack again",
        )
    same = {(v.target, v.sha256) for v in published.variants} == {(v.target, v.sha256) for v in variants}
    if not same:
        raise RegistryError(
            f"{name} {published.version} is already published with other content; published versions are immutable",
            hint="bump the version in skillpm.toml and pack again",
        )
    return document, published, items, False
