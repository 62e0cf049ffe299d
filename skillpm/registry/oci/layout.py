"""How a skillpm registry is laid out in an OCI registry: pure mapping, no I/O.

One repository per skill (``NAMESPACE/NAME``). Each version is an image index tagged
with the version (:func:`skillpm.registry.oci.tags.tag_for`); it lists one image manifest per variant. A variant's
manifest has ``artifactType`` :data:`VARIANT_TYPE`, the variant's metadata as its config
and one layer: the variant's archive, byte for byte the file the static index serves, so
the layer's digest is the variant's ``sha256``. Signed evidence is attached to a variant's
manifest as referrers (OCI 1.1 ``subject``), each with one layer holding the Sigstore
bundle; registries without the referrers API get the fallback tag ``sha256-<hex>``.

The version index repeats, in its descriptors' annotations, what resolution needs (target,
archive digest and size, attestations), so resolving a version reads one document. The
layout is described in docs/oci.md (OCI image-spec v1.1 ``manifest.md``, ``image-index.md``,
``descriptor.md``; distribution-spec v1.1 "Listing Referrers" and "Referrers Tag Schema").

Everything read here came from a registry: documents are parsed strictly and malformed ones
raise :class:`~skillpm.errors.IndexFormatError`.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Mapping

from skillpm.errors import IndexFormatError
from skillpm.index.model import Attestation, Variant, VersionEntry
from skillpm.records import Record

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_JSON = b"{}"

SKILL_TYPE = "application/vnd.skillpm.skill.v1"
VARIANT_TYPE = "application/vnd.skillpm.variant.v1"
VARIANT_CONFIG_TYPE = "application/vnd.skillpm.variant.config.v1+json"
ARCHIVE_TYPE = "application/vnd.skillpm.variant.archive.v1.tar+gzip"
BUNDLE_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"

TITLE = "org.opencontainers.image.title"
VERSION = "org.opencontainers.image.version"
DESCRIPTION = "org.opencontainers.image.description"
LICENSES = "org.opencontainers.image.licenses"
NAME = "dev.skillpm.name"
TARGET = "dev.skillpm.target"
ARCHIVE_SHA256 = "dev.skillpm.archive.sha256"
ARCHIVE_SIZE = "dev.skillpm.archive.size"
ARCHIVE_PATH = "dev.skillpm.archive.path"
YANKED = "dev.skillpm.yanked"
ATTESTATIONS = "dev.skillpm.attestations"
KEYWORDS = "dev.skillpm.keywords"
AGENTS = "dev.skillpm.agents"
PREDICATE_TYPE = "dev.skillpm.predicate-type"

#: distribution-spec: a repository name's components are ``[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`` joined by ``/``.
_REPOSITORY_RE = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*")
_DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")
#: The most manifests one version index may list, and referrers one variant may have.
MAX_ENTRIES = 1024


class Descriptor(Record):
    """An OCI content descriptor: what a blob or manifest is, by digest and size."""

    media_type: str
    digest: str
    size: int
    annotations: Mapping[str, str] = {}
    artifact_type: str | None = None

    @classmethod
    def of(cls, media_type: str, data: bytes, annotations: Mapping[str, str] | None = None,
           artifact_type: str | None = None) -> Descriptor:
        """The descriptor of ``data``."""
        return cls(media_type, digest_of(data), len(data), dict(annotations or {}), artifact_type)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.artifact_type:
            data["artifactType"] = self.artifact_type
        if self.annotations:
            data["annotations"] = dict(sorted(self.annotations.items()))
        return data

    @classmethod
    def from_json(cls, data: object, where: str) -> Descriptor:
        if not isinstance(data, dict):
            raise IndexFormatError(f"{where}: a descriptor is not a JSON object")
        media_type, digest, size = data.get("mediaType"), data.get("digest"), data.get("size")
        if not isinstance(media_type, str) or not isinstance(digest, str) or not _DIGEST_RE.fullmatch(digest):
            raise IndexFormatError(f"{where}: a descriptor's mediaType or digest is malformed")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise IndexFormatError(f"{where}: a descriptor's size is not a non-negative integer")
        annotations = data.get("annotations", {})
        if not isinstance(annotations, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in annotations.items()
        ):
            raise IndexFormatError(f"{where}: a descriptor's annotations are not strings")
        artifact_type = data.get("artifactType")
        if artifact_type is not None and not isinstance(artifact_type, str):
            raise IndexFormatError(f"{where}: a descriptor's artifactType is not a string")
        return cls(media_type, digest, size, annotations, artifact_type)


def digest_of(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def canonical(document: Mapping[str, Any]) -> bytes:
    """A document's bytes as skillpm pushes them: compact, keys sorted, so equal documents digest alike."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def check_repository(repository: str) -> str:
    """``repository`` when it is a valid OCI repository name, else IndexFormatError."""
    if len(repository) > 255 or not _REPOSITORY_RE.fullmatch(repository):
        raise IndexFormatError(f"{repository[:80]!r} is not a valid OCI repository name")
    return repository


def variant_config(name: str, version: str, variant: Variant) -> bytes:
    """A variant manifest's config blob: the variant's metadata."""
    return canonical({"name": name, "version": version, "target": variant.target,
                      "sha256": variant.sha256, "size": variant.size, "path": variant.path})


def variant_manifest(name: str, version: str, variant: Variant) -> bytes:
    """A variant's image manifest: its config and its archive as the one layer."""
    config = variant_config(name, version, variant)
    layer = Descriptor(ARCHIVE_TYPE, f"sha256:{variant.sha256}", variant.size,
                       {TITLE: variant.path.rsplit("/", 1)[-1]})
    return canonical({
        "schemaVersion": 2, "mediaType": MANIFEST_TYPE, "artifactType": VARIANT_TYPE,
        "config": Descriptor.of(VARIANT_CONFIG_TYPE, config).to_json(),
        "layers": [layer.to_json()],
        "annotations": {NAME: name, VERSION: version, TARGET: variant.target},
    })


def version_index(name: str, entry: VersionEntry, manifests: Mapping[str, bytes]) -> bytes:
    """A version's image index; ``manifests`` maps each target to its variant manifest's bytes."""
    descriptors = []
    for variant in entry.variants:
        annotations = {
            TARGET: variant.target, ARCHIVE_SHA256: variant.sha256, ARCHIVE_SIZE: str(variant.size),
            ARCHIVE_PATH: variant.path,
        }
        if variant.yanked:
            annotations[YANKED] = "true"
        if variant.attestations:
            annotations[ATTESTATIONS] = canonical_list([item.to_json() for item in variant.attestations])
        descriptors.append(Descriptor.of(MANIFEST_TYPE, manifests[variant.target], annotations, VARIANT_TYPE).to_json())
    annotations = {NAME: name, VERSION: entry.version, DESCRIPTION: entry.description}
    if entry.license is not None:
        annotations[LICENSES] = entry.license
    if entry.keywords:
        annotations[KEYWORDS] = canonical_list(list(entry.keywords))
    if entry.agents:
        annotations[AGENTS] = canonical_list(list(entry.agents))
    return canonical({"schemaVersion": 2, "mediaType": INDEX_TYPE, "artifactType": SKILL_TYPE,
                      "manifests": descriptors, "annotations": annotations})


def canonical_list(items: list[Any]) -> str:
    """A list as an annotation value (annotations are strings)."""
    return json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def referrer_manifest(subject: Descriptor, bundle: bytes, *, predicate_type: str, title: str) -> bytes:
    """A manifest attaching a Sigstore bundle to ``subject`` (a variant manifest) as a referrer."""
    layer = Descriptor.of(BUNDLE_TYPE, bundle, {TITLE: title})
    return canonical({
        "schemaVersion": 2, "mediaType": MANIFEST_TYPE, "artifactType": BUNDLE_TYPE,
        "config": Descriptor.of(EMPTY_TYPE, EMPTY_JSON).to_json(),
        "layers": [layer.to_json()],
        "subject": Descriptor(subject.media_type, subject.digest, subject.size).to_json(),
        "annotations": {PREDICATE_TYPE: predicate_type},
    })


def referrers_index(referrers: list[Descriptor]) -> bytes:
    """The image index the referrers fallback tag points to."""
    return canonical({"schemaVersion": 2, "mediaType": INDEX_TYPE,
                      "manifests": [item.to_json() for item in referrers]})


def parse_document(data: bytes, where: str, media_type: str) -> dict[str, Any]:
    """A manifest or index read strictly, when its ``mediaType`` is ``media_type``."""
    from skillpm.jsonfile import parse_json

    try:
        document = parse_json(data)
    except ValueError as error:
        raise IndexFormatError(f"{where}: {error}") from None
    if not isinstance(document, dict) or document.get("schemaVersion") != 2:
        raise IndexFormatError(f"{where}: not an OCI document (schemaVersion 2)")
    if document.get("mediaType") != media_type:
        raise IndexFormatError(f"{where}: expected an {media_type} document")
    return document


def descriptors(document: Mapping[str, Any], key: str, where: str) -> list[Descriptor]:
    """The descriptors listed under ``key`` (``manifests`` or ``layers``), at most :data:`MAX_ENTRIES`."""
    items = document.get(key)
    if not isinstance(items, list) or len(items) > MAX_ENTRIES:
        raise IndexFormatError(f"{where}: {key!r} is not a list of at most {MAX_ENTRIES} descriptors")
    return [Descriptor.from_json(item, f"{where} {key}[{number}]") for number, item in enumerate(items)]


def read_version_index(data: bytes, *, name: str, where: str) -> tuple[VersionEntry, dict[str, Descriptor]]:
    """A version index as the static index's version entry, and each target's manifest descriptor."""
    document = parse_document(data, where, INDEX_TYPE)
    annotations = Descriptor.from_json(
        {"mediaType": INDEX_TYPE, "digest": digest_of(b""), "size": 0, "annotations": document.get("annotations", {})},
        where,
    ).annotations
    if annotations.get(NAME) != name or document.get("artifactType") != SKILL_TYPE:
        raise IndexFormatError(f"{where}: not a version of {name}")
    variants, manifests = [], {}
    for descriptor in descriptors(document, "manifests", where):
        if descriptor.media_type != MANIFEST_TYPE or descriptor.artifact_type != VARIANT_TYPE:
            continue  # another tool's manifest in the index: not a skillpm variant
        meta = descriptor.annotations
        size = meta.get(ARCHIVE_SIZE, "")
        variant_json = {
            "target": meta.get(TARGET), "sha256": meta.get(ARCHIVE_SHA256),
            "size": int(size) if size.isascii() and size.isdigit() and len(size) <= 19 else -1,  # not "²"
            "path": meta.get(ARCHIVE_PATH), "yanked": meta.get(YANKED) == "true",
            "attestations": _json_list(meta.get(ATTESTATIONS, "[]"), where),
        }
        variant = Variant.from_json(variant_json, where)
        variants.append(variant.to_json())
        manifests[variant.target] = descriptor
    fields = {
        "version": annotations.get(VERSION), "description": annotations.get(DESCRIPTION, ""),
        "variants": variants,
        "keywords": _json_list(annotations.get(KEYWORDS, "[]"), where),
        "agents": _json_list(annotations.get(AGENTS, "[]"), where),
    }
    if LICENSES in annotations:  # a version without a licence (skillpm init's skeleton) has none
        fields["license"] = annotations[LICENSES]
    entry = VersionEntry.from_json(fields, where)
    return entry, manifests


def _json_list(text: str, where: str) -> list[Any]:
    from skillpm.jsonfile import parse_json

    try:
        value = parse_json(text)
    except ValueError as error:
        raise IndexFormatError(f"{where}: an annotation is {error}") from None
    if not isinstance(value, list) or len(value) > MAX_ENTRIES:
        raise IndexFormatError(f"{where}: an annotation is not a list")
    return value


def read_variant_manifest(data: bytes, *, variant: Variant, where: str) -> Descriptor:
    """A variant manifest's archive layer, checked against what the version index says."""
    document = parse_document(data, where, MANIFEST_TYPE)
    layers = descriptors(document, "layers", where)
    if document.get("artifactType") != VARIANT_TYPE or len(layers) != 1:
        raise IndexFormatError(f"{where}: not a skillpm variant manifest")
    layer = layers[0]
    if layer.digest != f"sha256:{variant.sha256}" or layer.size != variant.size:
        raise IndexFormatError(f"{where}: the archive layer disagrees with the version index")
    return layer


def attestation_titles(variant: Variant) -> dict[str, Attestation]:
    """A variant's attestations by bundle file name (the referrer layer's title)."""
    return {item.path.rsplit("/", 1)[-1]: item for item in variant.attestations}
