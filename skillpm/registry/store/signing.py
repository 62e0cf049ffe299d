"""Signing the index: the snapshot every write re-signs, and the keys that sign it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from skillpm.errors import IndexFormatError, RegistryError
from skillpm.index import snapshot as snapshots
from skillpm.index.model import RegistryConfig
from skillpm.index.snapshot import Snapshot, SnapshotSignature, signatures_document
from skillpm.jsonfile import read_json
from skillpm.reading import MAX_DOCUMENT_SIZE, problem
from skillpm.registry.store.files import dump, read_file
from skillpm.registry.store.incoming import Content

if TYPE_CHECKING:
    from skillpm.attest.keys import SigningKey


#: The private keys that sign the index snapshot (paths separated by os.pathsep), when ``--key`` is not given.
INDEX_KEY_ENV = "SKILLPM_INDEX_KEY"


def load_index_keys(paths: Sequence[Path] = (), *, registry: Path) -> tuple[SigningKey, ...]:
    """The index signing keys at ``paths``, else those ``$SKILLPM_INDEX_KEY`` names; none: unsigned.

    ``$SKILLPM_INDEX_KEY`` holds one path, or several separated by ``os.pathsep`` (while a key
    rotation is under way). An encrypted key's passphrase comes from ``$SKILLPM_SIGNING_KEY_PASSPHRASE``.
    A key inside ``registry``, the folder they sign (which is served and copied whole), is refused.
    """
    if not paths:
        paths = [Path(named) for named in os.environ.get(INDEX_KEY_ENV, "").split(os.pathsep) if named]
    if not paths:  # an unsigned registry: no need of cryptography
        return ()
    from skillpm.attest.keys import load_signing_key, passphrase_from_env, refuse_inside_registry

    for path in paths:
        refuse_inside_registry(path, registry, "the index key")
    return tuple(load_signing_key(path.expanduser(), passphrase=passphrase_from_env()) for path in paths)


def signed(
    root: Path,
    config: RegistryConfig,
    writes: Sequence[tuple[str, Content]],
    *,
    keys: Sequence[SigningKey],
    expires_days: int | None,
    removed: Iterable[str] = (),
    check: bool = True,
) -> list[tuple[str, bytes]]:
    """The writes that re-sign the index after ``writes``: none for an unsigned registry.

    ``config`` is the registry's config after ``writes``. A registry whose config
    lists index keys is signed by exactly those keys: a write without one of them,
    or with another, is refused. Keys given for an unsigned registry make it signed
    from now on. The snapshot names the keys, each published at
    :func:`snapshots.key_path`, and the newest is also at ``keys/index.pub``. It expires
    ``expires_days`` from now, by default :func:`snapshots.default_expires_days`: sooner
    while a key rotation is under way. With ``check`` (all but ``rebuild``), the index on
    disk must first be what its signed snapshot lists (:func:`check_index`).
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
        extra.append(("config.json", dump(config.to_json())))
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
    extra += [(relative, pem) for relative, pem in published if read_file(root / relative) != pem]
    documents = _documents_on_disk(root)
    if check:
        _check_on_disk(root, documents, keys)
    for relative, data in [*writes, *extra]:
        if snapshots.is_document(relative):
            assert isinstance(data, bytes), relative  # made in memory: only archives and bundles are files
            documents[relative] = data
    for relative in removed:
        documents.pop(relative, None)
    snapshot = snapshots.build(
        documents,
        version=_snapshot_version(root) + 1,
        expires_days=snapshots.default_expires_days(config.index_keys) if expires_days is None else expires_days,
        keys=config.index_keys,
    )
    body = dump(snapshot.to_json())
    payload = snapshots.signed_bytes(body)
    signatures = [SnapshotSignature(fp, given[fp].sign(payload)) for fp in config.index_keys]
    return [*extra, (snapshots.SNAPSHOT, body), (snapshots.SIGNATURE, dump(signatures_document(signatures)))]


def check_index(root: Path, keys: Sequence[SigningKey]) -> None:
    """RegistryError unless the index on disk is what its snapshot lists, signed by those of ``keys`` its
    config names (nothing to check in an unsigned registry, or without its keys).

    So the owner's key never signs documents changed outside a skillpm write (by hand, by a copy
    from elsewhere, by an older skillpm killed half-way): 'registry rebuild' signs such an index on purpose.
    """
    _check_on_disk(root, _documents_on_disk(root), keys)


def _check_on_disk(root: Path, documents: dict[str, bytes], keys: Sequence[SigningKey]) -> None:
    from skillpm.jsonfile import parse_json

    try:
        listed = RegistryConfig.from_json(parse_json(documents["config.json"]), "config.json").index_keys
    except (KeyError, ValueError, IndexFormatError):
        listed = ()  # no registry yet (init), or one open_for_writing refuses
    held = [key for key in keys if key.fingerprint in listed]
    wrong = _snapshot_problem(root, documents, held) if held else None
    if wrong is not None:
        raise RegistryError(
            f"the index of {root} is not what its signed snapshot lists ({wrong}); nothing was written",
            hint="it was changed outside a skillpm write (by hand, a copy from elsewhere, or an older skillpm "
            f"killed half-way); check it, then regenerate and sign it with 'skillpm registry rebuild {root}'",
        )


def _snapshot_problem(root: Path, documents: dict[str, bytes], keys: Sequence[SigningKey]) -> str | None:
    """Why the snapshot on disk, signed by ``keys``, does not list exactly ``documents``; None when it does."""
    import hashlib

    from skillpm.jsonfile import parse_json

    body = read_file(root / snapshots.SNAPSHOT, MAX_DOCUMENT_SIZE)
    if body is None:
        return f"there is no {snapshots.SNAPSHOT}"
    try:
        snapshot = Snapshot.from_json(parse_json(body))
        signatures = snapshots.parse_signatures(read_json(root / snapshots.SIGNATURE, MAX_DOCUMENT_SIZE))
    except IndexFormatError as error:
        return error.message
    except (OSError, ValueError) as error:
        return f"{snapshots.SNAPSHOT} or its signature cannot be read: {problem(error)}"
    payload = snapshots.signed_bytes(body)
    for key in keys:
        if not any(item.keyid == key.fingerprint and key.public.verify(item.sig, payload) for item in signatures):
            return f"{snapshots.SIGNATURE} holds no valid signature of it by {key.fingerprint[:16]}..."
    digests = {relative: hashlib.sha256(data).hexdigest() for relative, data in documents.items()}
    for relative in sorted(digests.keys() | snapshot.documents.keys()):
        if relative not in snapshot.documents:
            return f"{relative} is not listed in it"
        if digests.get(relative) != snapshot.documents[relative]:
            return f"{relative} is {'missing' if relative not in digests else 'not the one it lists'}"
    return None


def _documents_on_disk(root: Path) -> dict[str, bytes]:
    found = {name: root / name for name in ("config.json", "search.json")}
    found.update({path.relative_to(root).as_posix(): path for path in sorted((root / "index").rglob("*.json"))})
    documents = {relative: read_file(path, MAX_DOCUMENT_SIZE) for relative, path in found.items()}
    return {relative: data for relative, data in documents.items() if data is not None}


def _snapshot_version(root: Path) -> int:
    """The version of the snapshot on disk; 0 when there is none (or it is unreadable)."""
    try:
        return Snapshot.from_json(read_json(root / snapshots.SNAPSHOT, MAX_DOCUMENT_SIZE)).version
    except (OSError, ValueError, IndexFormatError):
        return 0
