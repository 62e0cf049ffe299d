"""Where each file of a registry goes, and reading them to write (writing them: :mod:`.journal`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from skillpm.archive import MAX_ARCHIVE_SIZE
from skillpm.errors import RegistryError
from skillpm.index.model import archive_name
from skillpm.reading import Hashing, open_regular, problem, read_at_most
from skillpm.registry.directory import LocalRegistry


def dump(data: Any) -> bytes:
    """Index documents as written: two-space indented JSON, keys in model order."""
    return (json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode()


def artifact_path(name: str, version: str, target: str) -> str:
    """Where an artifact lives in the registry, relative to its root."""
    return f"artifacts/{name}/{version}/{archive_name(name, version, target)}"


def attestation_path(name: str, version: str, target: str, kind: str, digest: str, signer: str) -> str:
    """Where a bundle lives: one file per statement (``digest``: its sha256) and signer (``signer``: the key's
    fingerprint, or the sha256 of the keyless identity), so that each signer's bundle of a statement is kept.

    Registries written before hold ``<kind>-<statement>.sigstore.json``; a bundle is read by the path its
    index lists, whichever form it has.
    """
    name_of = archive_name(name, version, target)
    return f"attestations/{name}/{version}/{name_of}.{kind}-{digest[:16]}-{signer[:16]}.sigstore.json"


def read_file(path: Path, limit: int = MAX_ARCHIVE_SIZE) -> bytes | None:
    """The bytes of the file at ``path``; ``None`` when there is none.

    RegistryError when it is not a regular file of at most ``limit`` bytes.
    """
    try:
        return read_at_most(path, limit)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise RegistryError(f"cannot read {path}: {problem(error)}") from None


def file_digest(path: Path, limit: int = MAX_ARCHIVE_SIZE) -> str | None:
    """The sha256 of the file at ``path``, read in steps; ``None`` when there is none.

    RegistryError when it is not a regular file of at most ``limit`` bytes.
    """
    try:
        with open_regular(path) as stream:
            return Hashing(stream, limit).drain()
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise RegistryError(f"cannot read {path}: {problem(error)}") from None


def open_for_writing(root: Path) -> LocalRegistry:
    """The registry at ``root``, to write; IndexFormatError when it holds none."""
    registry = LocalRegistry(root.resolve(), root.resolve().as_uri(), verify=False)
    registry.config()
    return registry
