"""Index entries made from variant archives: reading and grouping them, package documents, search.json."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable

from packaging.version import InvalidVersion, Version

from skillpm.archive import MAX_ARCHIVE_SIZE, VariantMetadata, scan
from skillpm.errors import ArchiveError, IndexFormatError, RegistryError, TargetError
from skillpm.index.limits import document_problem
from skillpm.index.model import (
    PackageDocument,
    Variant,
    VersionEntry,
    check_name,
    search_document,
    shard_path,
    version_order,
)
from skillpm.reading import Hashing, open_regular
from skillpm.registry.directory import LocalRegistry
from skillpm.registry.store.files import artifact_path, dump
from skillpm.registry.store.incoming import Hashed
from skillpm.targets import parse_target

#: One archive read for the index: the file with its sha256 and size, and its metadata.
Item = tuple[Hashed, VariantMetadata]


def read_archives(paths: Iterable[Path]) -> list[Item]:
    """Each archive at ``paths`` (:func:`read_archive`)."""
    return [read_archive(path) for path in paths]


def read_archive(path: Path, *, shown: Path | str | None = None, copy: Callable[[bytes], None] | None = None) -> Item:
    """The archive at ``path`` (named ``shown`` in errors), read once in bounded steps (never held whole):
    scanned and hashed in the same pass, so its digest is that of the bytes scanned, and with ``copy``
    each chunk handed to it as it is read (:class:`skillpm.reading.Hashing`); RegistryError for one that
    is not a variant archive."""
    shown = shown or path
    try:
        with open_regular(path) as stream:
            if os.fstat(stream.fileno()).st_size > MAX_ARCHIVE_SIZE:
                raise RegistryError(f"{shown} is larger than {MAX_ARCHIVE_SIZE} bytes; not a skillpm variant archive")
            read = Hashing(stream, MAX_ARCHIVE_SIZE, copy)
            metadata = scan(read)
            sha256 = read.drain()
        check_name(metadata.name, str(shown))
        Version(metadata.version)
        parse_target(metadata.target)
    except OSError as error:
        raise RegistryError(f"cannot read {shown}: {error.strerror or error}") from None
    except (ArchiveError, IndexFormatError, TargetError) as error:
        raise RegistryError(f"{shown}: not a skillpm variant archive: {error.message}") from None
    except InvalidVersion:
        raise RegistryError(f"{shown}: version {metadata.version!r} is not PEP 440") from None
    except ValueError as error:  # grew past the limit while it was read
        raise RegistryError(f"{shown} is {error}; not a skillpm variant archive") from None
    return Hashed(path, sha256, read.size), metadata


def read_received(archive: Hashed, *, shown: Path | str) -> Item:
    """The archive a writer received (:mod:`.incoming`), read as :func:`read_archive` reads it, in one pass;
    RegistryError when the bytes read are not those received (the file changed while it was read)."""
    held, metadata = read_archive(archive.path, shown=shown)
    if held.sha256 != archive.sha256:
        raise RegistryError(f"{shown} changed in {archive.path.parent} while it was read; nothing was written")
    return held, metadata


def group(items: list[Item]) -> dict[tuple[str, str], list[Item]]:
    """``items`` by (name, version), each sorted by target; RegistryError when a version's archives disagree.

    Versions are compared as PEP 440 has them: ``1.0`` and ``1.0.0`` are one version, which must be
    spelled one way (an index lists a version once).
    """
    versions: dict[tuple[str, Version], list[Item]] = {}
    for item in items:
        metadata = item[1]
        versions.setdefault((metadata.name, Version(metadata.version)), []).append(item)
    groups: dict[tuple[str, str], list[Item]] = {}
    for (name, _), members in versions.items():
        spellings = sorted({metadata.version for _, metadata in members})
        if len(spellings) > 1:
            raise RegistryError(
                f"archives of {name} spell one version several ways ({', '.join(map(repr, spellings))})",
                hint="an index spells a version one way: add (or pull) the archives of one spelling only",
            )
        groups[(name, spellings[0])] = members
    for (name, version), members in groups.items():
        targets = [metadata.target for _, metadata in members]
        if len(set(targets)) != len(targets):
            raise RegistryError(f"two archives of {name} {version} are for the same target")
        members.sort(key=lambda item: item[1].target)
        first = version_entry(members[0][1], ())
        if any(version_entry(metadata, ()) != first for _, metadata in members[1:]):
            raise RegistryError(f"archives of {name} {version} disagree on its description or metadata")
    return groups


def variant_of(metadata: VariantMetadata, sha256: str, size: int, previous: Variant | None) -> Variant:
    """One variant archive's index entry; the yank flag and attestations of ``previous`` kept for the same bytes."""
    return Variant(
        target=metadata.target,
        sha256=sha256,
        size=size,
        path=artifact_path(metadata.name, metadata.version, metadata.target),
        yanked=previous.yanked if previous and previous.sha256 == sha256 else False,
        attestations=previous.attestations if previous and previous.sha256 == sha256 else (),
    )


def version_entry(metadata: VariantMetadata, variants: tuple[Variant, ...]) -> VersionEntry:
    """The version's index entry, described by ``metadata``, with ``variants``."""
    return VersionEntry(
        version=metadata.version,
        description=metadata.description,
        variants=variants,
        license=metadata.license,
        keywords=metadata.keywords,
        agents=metadata.agents,
    )


def existing_variants(registry: LocalRegistry, name: str, version: str) -> dict[str, Variant]:
    """The variants the registry lists for ``name`` ``version`` by target; none when its document is unreadable."""
    try:
        document = registry.package(name)
    except IndexFormatError:
        return {}
    entry = next((e for e in document.versions if e.version == version), None) if document else None
    return {v.target: v for v in entry.variants} if entry else {}


def package_write(document: PackageDocument) -> tuple[str, bytes]:
    """The write of a package document, its versions in order; RegistryError when it would break a limit
    readers enforce (:mod:`skillpm.index.limits`), so no write leaves a document every client refuses."""
    problem = document_problem(document.versions)
    if problem is not None:
        raise RegistryError(f"{document.name}: {problem}; nothing was written")
    ordered = document._replace(versions=tuple(sorted(document.versions, key=version_order)))
    return f"index/{shard_path(document.name)}", dump(ordered.to_json())


def search_bytes(registry: LocalRegistry, changed: Iterable[PackageDocument]) -> bytes:
    """search.json with the entries of ``changed`` packages replaced."""
    entries = {entry.name: entry for entry in registry.search_entries()}
    for document in changed:
        entries.pop(document.name, None)
        if document.versions:
            entries[document.name] = document.search_entry()
    return dump(search_document(list(entries.values())))
