"""Copying packages between a static registry and an OCI registry, digests unchanged, both ways.

:func:`push_packages` pushes a static registry's versions (``skillpm registry push``, and
``publish`` to an ``oci://`` registry); :func:`pull_packages` writes an OCI registry's
versions into a static registry through :mod:`skillpm.registry.store`, all or nothing
(``skillpm registry pull``). A version is immutable on both sides: a tag that already holds
other archives is refused; one holding the same archives gains the attestations it lacks
(as ``publish`` adds evidence to a static registry's published version).
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from skillpm.errors import IndexFormatError, RegistryError
from skillpm.index.limits import document_problem
from skillpm.reading import MAX_BUNDLE_SIZE

if TYPE_CHECKING:
    from skillpm.attest.keys import SigningKey
    from skillpm.index.model import Variant, VersionEntry
    from skillpm.registry.oci.registry import OciRegistry
    from skillpm.registry.source import Registry
    from skillpm.registry.store import Added, NewAttestation
    from skillpm.registry.store.entries import Item
    from skillpm.registry.store.incoming import Incoming


#: The end of a bundle's file name in a static registry (store.attestation_path): ``<kind>-<16 hex>-<16 hex>.sigstore.json``
#: (statement, signer), or ``<kind>-<16 hex>.sigstore.json`` as registries written before the signer was named hold it.
_BUNDLE_NAME = re.compile(r"[a-z][a-z-]{0,40}-[0-9a-f]{16}(-[0-9a-f]{16})?\.sigstore\.json")


@dataclass(frozen=True)
class Pushed:
    """One version :func:`push_packages` handled: pushed new, its tag moved (new attestations, new yanks), or
    already there (nothing pushed)."""

    name: str
    version: str
    targets: tuple[str, ...]
    new: bool  # the tag did not exist
    attached: frozenset[str]  # attestation paths the tag did not list before
    yanked: tuple[str, ...]  # targets the tag did not mark yanked before

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "version": self.version, "targets": list(self.targets), "new": self.new,
                "attached": sorted(self.attached), "yanked": list(self.yanked)}


def merged(existing: VersionEntry | None, entry: VersionEntry, where: str) -> VersionEntry | None:
    """What ``entry`` becomes on top of what its tag holds (``existing``); None when nothing is to push.

    RegistryError when the tag holds other archives. The same archives keep what the tag has,
    gaining ``entry``'s attestations it lacks and its yanks.
    """
    if existing is None:
        return entry
    ours = {variant.target: variant for variant in entry.variants}
    if {(v.target, v.sha256) for v in existing.variants} != {(v.target, v.sha256) for v in entry.variants}:
        raise RegistryError(
            f"{where} is already published with other content; published versions are immutable",
            hint="bump the version in skillpm.toml and publish again",
        )
    variants = []
    for variant in existing.variants:
        mine = ours[variant.target]
        listed = {key for item in variant.attestations for key in (item.path, item.sha256)}
        added = tuple(item for item in mine.attestations if not {item.path, item.sha256} & listed)
        variants.append(variant._replace(yanked=variant.yanked or mine.yanked,
                                         attestations=variant.attestations + added))
    result = existing._replace(variants=tuple(variants))
    problem = document_problem([result])
    if problem is not None:
        raise RegistryError(f"{where}: {problem}; nothing was pushed")
    return None if result == existing else result


def push_packages(
    static: Registry, oci: OciRegistry, names: Iterable[str], progress: Callable[[str], None] = lambda _line: None
) -> list[Pushed]:
    """Push every version of each of ``names`` from ``static`` to ``oci``, versions in order.

    Every version is checked against its tag before the first is pushed, so a refused
    version pushes nothing; each version is then pushed tag last (:func:`push_version`).
    """
    from skillpm.registry.oci.registry import push_version

    plans: list[tuple[str, VersionEntry, VersionEntry | None, VersionEntry | None]] = []
    for name in names:
        for entry in static.require_package(name).versions:
            existing = oci.version_entry(name, entry.version)
            plans.append((name, entry, existing, merged(existing, entry, f"{oci.label}/{name}:{entry.version}")))
    done = []
    for name, entry, existing, planned in plans:
        if planned is not None:
            push_version(oci, name, planned, _files(planned, static, oci), progress)
        before = _attestation_paths(existing) if existing else frozenset()
        attached = _attestation_paths(planned) - before if planned else frozenset()
        was_yanked = _yanked(existing) if existing else ()
        yanked = tuple(target for target in _yanked(planned) if target not in was_yanked) if planned else ()
        done.append(Pushed(name, entry.version, tuple(v.target for v in entry.variants), existing is None, attached,
                           yanked))
    return done


def _attestation_paths(entry: VersionEntry) -> frozenset[str]:
    return frozenset(item.path for variant in entry.variants for item in variant.attestations)


def _yanked(entry: VersionEntry) -> tuple[str, ...]:
    return tuple(variant.target for variant in entry.variants if variant.yanked)


def _files(entry: VersionEntry, static: Registry, oci: OciRegistry) -> dict[str, bytes]:
    """Each archive and bundle of ``entry``: from the static registry, else (a bundle only the tag has) the OCI one."""
    from skillpm.archive import archive_limit, sha256_bytes

    files = {}
    for variant in entry.variants:
        files[variant.path] = static.artifact(variant.path, limit=archive_limit(variant.path, variant.size))
        for item in variant.attestations:
            try:
                data: bytes | None = static.artifact(item.path, limit=MAX_BUNDLE_SIZE)
            except RegistryError:
                data = None
            files[item.path] = (data if data and sha256_bytes(data) == item.sha256
                                else oci.artifact(item.path, limit=MAX_BUNDLE_SIZE))
    return files


def pull_packages(
    oci: OciRegistry, root: Path, names: Iterable[str], *, keys: tuple[SigningKey, ...] = (),
    progress: Callable[[str], None] = lambda _line: None,
) -> list[Added]:
    """Write every version of each of ``names`` in ``oci`` into the static registry at ``root``
    (:func:`pull_versions` of them all)."""
    versions = [(name, entry) for name in names for entry in oci.require_package(name).versions]
    return pull_versions(oci, root, versions, keys=keys, progress=progress)


def pull_versions(
    oci: OciRegistry, root: Path, versions: Iterable[tuple[str, VersionEntry]], *, keys: tuple[SigningKey, ...] = (),
    progress: Callable[[str], None] = lambda _line: None,
) -> list[Added]:
    """Write ``versions`` (each a package's name and one of its versions in ``oci``) into the static
    registry at ``root``.

    Everything is downloaded and checked (digests as each file arrives, archive contents, where each
    file goes) before the registry's files are touched; then one :func:`skillpm.registry.store.add`
    writes it all or nothing. Nothing pulled is held in memory: each archive and bundle streams into a
    file of ``root``'s own incoming folder (:mod:`skillpm.registry.store.incoming`), which the write's
    journal moves in; an archive is read back once, scanned and hashed in the one pass that every check
    of it (here and ``add``'s) uses. ``root`` is created as a registry when it holds none (and emptied,
    or removed when it was not there, again when the pull fails).
    """
    from skillpm.registry.store.incoming import INCOMING, Incoming, remove_abandoned

    existed = root.exists()
    created = not (root / "config.json").exists()
    if created and existed:
        if root.is_dir():
            remove_abandoned(root)  # what a killed pull into it left
        if not root.is_dir() or any(entry.name != INCOMING for entry in root.iterdir()):
            raise RegistryError(f"{root} holds no registry and is not empty",
                                hint="pull into a static registry, a new folder or an empty one")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RegistryError(f"cannot create a registry in {root}: {error.strerror or error}") from None
    try:
        with Incoming(root) as incoming:
            archives, bundles, yanked = _download(oci, list(versions), incoming, progress)
            return _write(root, archives, bundles, yanked, keys=keys, created=created, existed=existed)
    except BaseException:
        if not existed:
            with contextlib.suppress(OSError):
                root.rmdir()  # made for this pull, and empty again
        raise


def _write(
    root: Path, archives: list[Item], bundles: list[NewAttestation], yanked: list[tuple[str, str, str]], *,
    keys: tuple[SigningKey, ...], created: bool, existed: bool,
) -> list[Added]:
    """:func:`skillpm.registry.store.add` of what was pulled, into a registry :func:`skillpm.registry.store.init`
    makes first when ``created``; what init made is removed again when the write fails."""
    from skillpm.registry import store

    made = False
    try:
        if created:
            store.init(root, keys=keys)
            made = True
        return store.add(root, archives, attestations=bundles, yanked=yanked, keys=keys)
    except BaseException:
        # only what init made (the folder was new or empty), never a registry another process made meanwhile
        if created and (made or not (root / "config.json").exists()):
            shutil.rmtree(root, ignore_errors=True)
            if existed:
                root.mkdir()
        raise


def _download(
    oci: OciRegistry, versions: list[tuple[str, VersionEntry]], incoming: Incoming, progress: Callable[[str], None]
) -> tuple[list[Item], list[NewAttestation], list[tuple[str, str, str]]]:
    """Each version's archives (received into ``incoming``, and read), attestation bundles (received), and
    its yanked variants."""
    from skillpm.archive import archive_limit
    from skillpm.index.model import archive_name
    from skillpm.registry.store.entries import read_received

    archives: list[Item] = []
    bundles: list[NewAttestation] = []
    yanked: list[tuple[str, str, str]] = []
    for name, entry in versions:
        for variant in entry.variants:
            progress(f"pulling {name} {entry.version} ({variant.target})")
            limit = archive_limit(variant.path, variant.size)
            received = incoming.receive(partial(oci.save_artifact, variant.path, limit=limit))
            shown = f"the {variant.target} archive of {oci.label}/{name}:{entry.version}"
            archive, held = read_received(received, shown=shown)
            if (held.name, held.version, held.target) != (name, entry.version, variant.target):
                raise IndexFormatError(f"{oci.label}/{name}:{entry.version} lists an archive of "
                                       f"{held.name} {held.version} ({held.target}) as its {variant.target}")
            archives.append((archive, held))
            if variant.yanked:
                yanked.append((name, entry.version, variant.target))
            prefix = f"attestations/{name}/{entry.version}/{archive_name(name, entry.version, variant.target)}."
            for item in variant.attestations:
                rest = item.path.removeprefix(prefix)
                if rest == item.path or ".." in item.path.split("/") or not _BUNDLE_NAME.fullmatch(rest):
                    raise IndexFormatError(f"{oci.label}/{name}:{entry.version}: attestation path "
                                           f"{item.path[:120]!r} is not where a static registry keeps it")
                bundle = _checked_bundle(oci, incoming, name, entry.version, variant, held.test_set, item.path,
                                         progress)
                if bundle is not None:
                    bundles.append(bundle)
    return archives, bundles, yanked


def _checked_bundle(
    oci: OciRegistry, incoming: Incoming, name: str, version: str, variant: Variant, test_set: str | None, path: str,
    progress: Callable[[str], None],
) -> NewAttestation | None:
    """The bundle at ``path`` (received into ``incoming``) as an attestation to copy, when it holds a statement
    about ``variant``'s archive that publish would have signed (its predicate type is the statement's);
    None, said in a warning, when not.

    A registry can list any bytes as an attestation; copied into a static registry (whose attestations
    are append-only) one that fails its checks would make every install of the variant fail.
    """
    from skillpm.attest import AttestationError
    from skillpm.attest.statement import VariantRef
    from skillpm.attest.prechecks import bundle_statement
    from skillpm.display import clean
    from skillpm.reading import read_at_most
    from skillpm.registry.store import NewAttestation

    received = incoming.receive(partial(oci.save_artifact, path, limit=MAX_BUNDLE_SIZE))
    expected = VariantRef(name, version, variant.target)
    try:
        statement = bundle_statement(read_at_most(received.path, MAX_BUNDLE_SIZE), expected, variant.sha256,
                                     test_set=test_set, what=path)
    except AttestationError as error:
        progress(f"warning: not copied from {oci.label}: {clean(error.message, 400)}")
        return None
    return NewAttestation(name, version, variant.target, path, received, statement.predicate_type)
