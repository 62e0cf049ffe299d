"""An OCI registry read as a skillpm registry, and versions pushed to it.

:class:`OciRegistry` answers what install, resolve and info ask of any registry (a
package's versions and variants, an archive, an attestation bundle) from the layout in
:mod:`.layout`: the tags of ``NAMESPACE/NAME`` are its versions, each tag's image index
its variants, read only when asked for (:meth:`OciRegistry.listing`). The tag lists and
indexes it reads are kept (:mod:`.kept`), and ``--offline`` reads those alone.
:func:`push_version` writes a version in the order that leaves no tag pointing at missing
content: blobs, variant manifests, referrers, the version index by digest, and only then
the tag.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

from skillpm.errors import IndexFormatError, RegistryError, RegistryUnreachable, ResolutionError
from skillpm.index.limits import document_problem
from skillpm.index.model import PackageDocument, RegistryConfig, SearchEntry, VersionEntry
from skillpm.reading import MAX_ARTIFACT_SIZE, artifact_limit
from skillpm.registry.settings import DEADLINE_ENV, OFFLINE_HINT, offline
from skillpm.registry.oci import layout
from skillpm.registry.oci.tags import referrers_tag, tag_for, tag_listing
from skillpm.registry.oci.client import OciClient
from skillpm.registry.oci.kept import KeptReads
from skillpm.registry.oci.reference import OciLocation, parse_location

if TYPE_CHECKING:
    from skillpm.index.listing import Listing

#: Seconds from the command's start by which its requests must end (as for a static HTTP registry).


@dataclass(frozen=True)
class Blob:
    """Where a file of the static layout lives in the OCI registry: a repository and a digest."""

    repository: str
    digest: str


class OciRegistry:
    """A registry at ``oci://HOST[:PORT][/NAMESPACE]``: read-only, as install and resolve see it."""

    def __init__(self, location: str | OciLocation, *, plain_http: bool = False) -> None:
        self.location = location if isinstance(location, OciLocation) else parse_location(location,
                                                                                          plain_http=plain_http)
        self.label = self.location.url
        self._client: OciClient | None = None
        self._lock = threading.Lock()
        self._blobs: dict[str, Blob] = {}
        self._kept: KeptReads | None = None

    def __repr__(self) -> str:
        return f"OciRegistry({self.label!r})"

    @property
    def client(self) -> OciClient:
        with self._lock:
            if self._client is None:
                if offline():
                    raise RegistryUnreachable(  # not asked: sync may take the locked bytes from the cache
                        f"offline: {self.label} is an OCI registry; offline, skillpm reads only the versions it "
                        "kept from it, and neither searches nor writes it",
                        hint="run the command without --offline (and without SKILLPM_OFFLINE=1)")
                from skillpm import __version__
                from skillpm.registry.settings import command_deadline, request_timeout
                from skillpm.registry.transport import Transport

                transport = Transport(idle=request_timeout(), user_agent=f"skillpm/{__version__}")
                self._client = OciClient(self.location, transport, command_deadline())
            return self._client

    def config(self) -> RegistryConfig:
        return RegistryConfig(name=self.label)

    def listing(self, name: str) -> Listing | None:
        """``name``'s versions as its tags spell them (:func:`.tag_listing`), each version's index read
        when first asked for; None when the repository has no tag that is a version."""
        repository = self.location.repository(name)
        return tag_listing(name, self._tags(repository), lambda tag: self._version(repository, name, tag),
                                  where=f"oci://{self.location.host}/{repository}")

    def package(self, name: str) -> PackageDocument | None:
        """Every version of ``name`` (:meth:`listing`, every index read); None when the repository has none."""
        listing = self.listing(name)
        document = None if listing is None else listing.document()
        return document if document is not None and document.versions else None

    def require_package(self, name: str) -> PackageDocument:
        return self.package(name) or self._no_package(name)

    def locate(self, name: str) -> tuple[OciRegistry, Listing]:
        return self, self.listing(name) or self._no_package(name)

    def _no_package(self, name: str) -> NoReturn:
        raise ResolutionError(f"no package named {name!r} in registry {self.label}",
                              hint="check the name, or the namespace in the oci:// URL")

    def package_names(self) -> list[str]:
        """The packages under the namespace, from the registry's catalog; RegistryError when it keeps none."""
        from skillpm.index.model import is_valid_name

        prefix = f"{self.location.namespace}/" if self.location.namespace else ""
        listed = _guarded(self.label, self.client.catalog)
        names = [item.removeprefix(prefix) for item in listed if item.startswith(prefix)]
        return sorted(name for name in names if is_valid_name(name))

    def search_entries(self) -> tuple[SearchEntry, ...]:
        """Each package under the namespace, as search describes it (:meth:`PackageDocument.search_entry`), its
        versions' indexes read highest first down to the first that settles it (:meth:`Listing.search_entry`).

        The packages are those the registry's catalog lists, which is not part of the OCI
        distribution spec: a registry without one (ghcr.io) gets a warning and lists none, so
        that search still reads the other registries configured.
        """
        try:
            names = self.package_names()
        except RegistryUnreachable:
            raise
        except RegistryError as error:
            from skillpm.registry.settings import settings

            settings.warn(f"{self.label} does not list its packages, so search cannot see them "
                          f"({error.message}); 'skillpm info NAME --registry {self.label}' reads one by name")
            return ()
        listings = (self.listing(name) for name in names)
        shown = (listing.search_entry() for listing in listings if listing is not None)
        return tuple(entry for entry in shown if entry is not None)

    def artifact(self, relative: str, *, limit: int = MAX_ARTIFACT_SIZE) -> bytes:
        """The archive or attestation bundle the static layout would hold at ``relative``."""
        body = bytearray()
        self.save_artifact(relative, body.extend, limit=limit)
        return bytes(body)

    def save_artifact(self, relative: str, write: Callable[[bytes], None], *, limit: int = MAX_ARTIFACT_SIZE) -> None:
        """Hand :meth:`artifact`'s bytes to ``write`` as they arrive, checked as they are (``OciClient.save_blob``)."""
        blob = self._blobs.get(relative)
        if blob is None:
            raise RegistryError(f"{self.label} has no file {relative!r} in the versions read so far")
        if offline():
            raise RegistryUnreachable(f"offline: {relative} of {self.label} is not in the artifact cache",
                                      hint=OFFLINE_HINT)
        _guarded(self.label, lambda: self.client.save_blob(blob.repository, blob.digest, write,
                                                           limit=artifact_limit(limit)))

    def manifests(self, name: str, version: str) -> dict[str, layout.Descriptor]:
        """Each target's variant manifest descriptor in ``name`` ``version``'s index."""
        found = self.version_index(name, version)
        if found is None:
            raise ResolutionError(f"{self.label} has no version {version} of {name}")
        return found[1]

    def version_entry(self, name: str, version: str) -> VersionEntry | None:
        """``name`` ``version`` as its tag holds it now; None when there is no such tag."""
        return self._version(self.location.repository(name), name, tag_for(version))

    def version_index(self, name: str, version: str) -> tuple[VersionEntry, dict[str, layout.Descriptor]] | None:
        """``name`` ``version``'s index as its tag holds it now, and each target's variant manifest
        descriptor; None when there is no such tag. IndexFormatError when it holds another version."""
        return self._index(self.location.repository(name), name, tag_for(version))

    def _index(self, repository: str, name: str, tag: str) -> tuple[VersionEntry, dict[str, layout.Descriptor]] | None:
        body = self._tag_index(repository, tag)
        if body is None:
            return None
        entry, descriptors = layout.read_version_index(body, name=name, where=self._where(repository, tag))
        if tag_for(entry.version) != tag:
            raise IndexFormatError(f"{self._where(repository, tag)}: the tag holds version {entry.version[:80]!r}")
        return entry, descriptors

    def _version(self, repository: str, name: str, tag: str) -> VersionEntry | None:
        """The version ``tag`` holds, checked against the index limits as a static document's versions are."""
        found = self._index(repository, name, tag)
        if found is None:
            return None
        entry = found[0]
        problem = document_problem((entry,))
        if problem is not None:
            raise IndexFormatError(f"{self._where(repository, tag)}: {problem}")
        for variant in entry.variants:
            self._blobs[variant.path] = Blob(repository, f"sha256:{variant.sha256}")
            for attestation in variant.attestations:
                self._blobs[attestation.path] = Blob(repository, f"sha256:{attestation.sha256}")
        return entry

    def _tags(self, repository: str) -> list[str]:
        """``repository``'s tags, from the registry (and kept), or offline as last kept."""
        if offline():
            where = f"oci://{self.location.host}/{repository}"
            tags = self.kept.tags(repository, where=f"{where} tags kept for --offline")
            if tags is None:
                raise self._not_kept(where)
            return tags
        tags = _guarded(self.label, lambda: self.client.tags(repository))
        self.kept.keep_tags(repository, tags)
        return tags

    def _tag_index(self, repository: str, tag: str) -> bytes | None:
        """The index ``tag`` holds (None: no such tag), from the registry (and kept), or offline as last kept."""
        if offline():
            body = self.kept.index(repository, tag)
            if body is None:
                raise self._not_kept(self._where(repository, tag))
            return body or None
        found = _guarded(self.label, lambda: self.client.manifest(repository, tag, layout.INDEX_TYPE))
        self.kept.keep_index(repository, tag, found[0] if found else None)
        return found[0] if found else None

    @property
    def kept(self) -> KeptReads:
        """The tag lists and indexes read from this registry, kept for --offline."""
        if self._kept is None:
            from skillpm.cache import cache_root, registry_key

            self._kept = KeptReads(cache_root() / "oci" / registry_key(self.label))
        return self._kept

    def _not_kept(self, what: str) -> RegistryUnreachable:
        # RegistryUnreachable: not asked, so a sync may take the locked bytes from the cache
        return RegistryUnreachable(f"offline: {what} was never read online, so it is not in the cache",
                                   hint=OFFLINE_HINT)

    def _where(self, repository: str, tag: str) -> str:
        return f"oci://{self.location.host}/{repository}:{tag}"


def _guarded(label: str, call: Callable):  # type: ignore[no-untyped-def]
    """``call()``, with a registry that cannot be reached reported as RegistryUnreachable."""
    import httpcore

    try:
        return call()
    except httpcore.TimeoutException:
        raise RegistryUnreachable(f"{label} did not answer in time", hint="try again later, or set "
                                  f"{DEADLINE_ENV} to wait longer") from None
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.ProxyError) as error:
        from skillpm.registry.transport import failure_reason

        raise RegistryUnreachable(f"{label} cannot be reached ({failure_reason(error)})",
                                  hint="check the host and port, and that the registry is running") from None


def push_version(
    registry: OciRegistry, name: str, entry: VersionEntry, files: Mapping[str, bytes],
    progress: Callable[[str], None] = lambda _line: None,
) -> None:
    """Push ``entry`` of ``name``; ``files`` maps each variant's and attestation's path to its bytes.

    Order: every blob, each variant manifest (by digest), each attestation as a referrer of its
    variant's manifest (plus the fallback tag where the registry has no referrers API), the
    version index (by digest), and last the version's tag. A failure before the tag leaves only
    unreferenced content, which the registry's garbage collection removes.
    """
    client = registry.client
    repository = registry.location.repository(name)

    def run(call: Callable):  # type: ignore[no-untyped-def]
        return _guarded(registry.label, call)

    manifests: dict[str, bytes] = {}
    for variant in entry.variants:
        archive = files[variant.path]
        if layout.digest_of(archive) != f"sha256:{variant.sha256}" or len(archive) != variant.size:
            raise IndexFormatError(f"{variant.path}: the archive does not match its index entry")
        progress(f"pushing {variant.path.rsplit('/', 1)[-1]}")
        run(lambda: client.push_blob(repository, archive))
        config = layout.variant_config(name, entry.version, variant)
        run(lambda: client.push_blob(repository, config))
        manifest = layout.variant_manifest(name, entry.version, variant)
        run(lambda: client.push_manifest(repository, layout.digest_of(manifest), manifest, layout.MANIFEST_TYPE))
        manifests[variant.target] = manifest
        _push_referrers(registry, repository, variant, manifest, files, run)
    _push_index(registry, repository, name, entry, manifests)


def _push_index(registry: OciRegistry, repository: str, name: str, entry: VersionEntry,
                manifests: Mapping[str, bytes]) -> None:
    """Push ``entry``'s version index (by digest), then move its tag to it."""
    index = layout.version_index(name, entry, manifests)
    for reference in (layout.digest_of(index), tag_for(entry.version)):
        _guarded(registry.label, lambda: registry.client.push_manifest(repository, reference, index, layout.INDEX_TYPE))


def yank_version(registry: OciRegistry, name: str, version: str, *, target: str | None = None,
                 undo: bool = False) -> list[str]:
    """Yank ``name`` ``version``'s variants (or ``target``'s), or take the yank back with ``undo``; the targets changed.

    A yank is an annotation of the version's index, so only a new index is pushed and the tag
    moved to it: the variant manifests it lists (read back by digest) and their archives and
    evidence stay as they are.
    """
    repository = registry.location.repository(name)
    found = registry.version_index(name, version)
    if found is None:
        raise RegistryError(f"{name} {version} is not in the registry at {registry.label}")
    entry, descriptors = found
    try:
        changed, chosen = entry.with_yank(target, undo=undo)
    except LookupError as error:
        raise RegistryError(f"{name} {version} {error}") from None
    manifests = {}
    for variant in entry.variants:
        digest = descriptors[variant.target].digest
        read = _guarded(registry.label, lambda: registry.client.manifest(repository, digest, layout.MANIFEST_TYPE))
        if read is None:
            raise IndexFormatError(f"{registry._where(repository, tag_for(version))} lists a variant "
                                   "manifest it does not hold")
        manifests[variant.target] = read[0]
    _push_index(registry, repository, name, changed, manifests)
    return chosen


def _push_referrers(registry: OciRegistry, repository: str, variant, manifest: bytes,  # type: ignore[no-untyped-def]
                    files: Mapping[str, bytes], run: Callable) -> None:
    client = registry.client
    if not variant.attestations:
        return
    subject = layout.Descriptor.of(layout.MANIFEST_TYPE, manifest)
    run(lambda: client.push_blob(repository, layout.EMPTY_JSON))
    pushed: list[layout.Descriptor] = []
    indexed = True
    for attestation in variant.attestations:
        bundle = files[attestation.path]
        if layout.digest_of(bundle) != f"sha256:{attestation.sha256}":
            raise IndexFormatError(f"{attestation.path}: the bundle does not match its index entry")
        run(lambda: client.push_blob(repository, bundle))
        referrer = layout.referrer_manifest(subject, bundle, predicate_type=attestation.predicate_type,
                                            title=attestation.path.rsplit("/", 1)[-1])
        indexed = run(lambda: client.push_manifest(repository, layout.digest_of(referrer), referrer,
                                                   layout.MANIFEST_TYPE)) and indexed
        pushed.append(layout.Descriptor.of(layout.MANIFEST_TYPE, referrer,
                                           {layout.PREDICATE_TYPE: attestation.predicate_type}, layout.BUNDLE_TYPE))
    if indexed:
        return
    known = {item.digest: item for item in run(lambda: client.referrers(repository, subject.digest))}
    known.update({item.digest: item for item in pushed})
    merged = layout.referrers_index(sorted(known.values(), key=lambda item: item.digest))
    run(lambda: client.push_manifest(repository, referrers_tag(subject.digest), merged, layout.INDEX_TYPE))

