"""The OCI layout: a version round-trips through its image index; malformed documents are refused."""

from __future__ import annotations

import json

import pytest

from skillpm.errors import IndexFormatError
from skillpm.index.model import Attestation, Variant, VersionEntry
from skillpm.registry.oci import layout, tags

SHA = "ab" * 32
BUNDLE_SHA = "cd" * 32


def _entry() -> VersionEntry:
    attestation = Attestation("attestations/demo/1.0.0+cu13/x.sigstore.json", BUNDLE_SHA,
                              "https://skillpm.dev/attestations/eval/v1")
    return VersionEntry(
        version="1.0.0+cu13", description="Demo: it does things", license="MIT",
        keywords=("cuda", "gpu"), agents=("claude-code",),
        variants=(
            Variant("generic", SHA, 123, "artifacts/demo/1.0.0+cu13/demo-1.0.0+cu13-generic.tar.gz"),
            Variant("sm_90", "ef" * 32, 456, "artifacts/demo/1.0.0+cu13/demo-1.0.0+cu13-sm_90.tar.gz",
                    yanked=True, attestations=(attestation,)),
        ),
    )


def _index(entry: VersionEntry) -> bytes:
    manifests = {variant.target: layout.variant_manifest("demo", entry.version, variant) for variant in entry.variants}
    return layout.version_index("demo", entry, manifests)


@pytest.mark.parametrize("license", ["MIT", None], ids=["licence", "no-licence"])
def test_a_version_round_trips_through_its_image_index(license: str | None) -> None:
    """A version without a licence (skillpm init's skeleton) read back ('field license has the wrong type', before)."""
    entry = _entry()._replace(license=license)
    parsed, manifests = layout.read_version_index(_index(entry), name="demo", where="demo:1.0.0_cu13")
    assert parsed == entry
    sm90 = entry.variants[1]
    manifest = layout.variant_manifest("demo", entry.version, sm90)
    assert manifests["sm_90"].digest == layout.digest_of(manifest)
    layer = layout.read_variant_manifest(manifest, variant=sm90, where="m")
    assert layer.digest == f"sha256:{sm90.sha256}" and layer.size == 456


def test_pushed_documents_are_canonical_so_equal_versions_digest_alike() -> None:
    assert _index(_entry()) == _index(_entry())
    assert json.loads(_index(_entry()))["artifactType"] == layout.SKILL_TYPE


def test_tags_replace_the_plus_of_a_local_version() -> None:
    assert tags.tag_for("1.0.0+cu13") == "1.0.0_cu13"
    assert tags.tag_for("2.0rc1") == "2.0rc1"
    with pytest.raises(IndexFormatError):
        tags.tag_for("1" * 200)


def test_referrers_tag_follows_the_distribution_spec_schema() -> None:
    assert tags.referrers_tag(f"sha256:{SHA}") == f"sha256-{SHA}"


def test_a_layer_that_disagrees_with_the_index_is_refused() -> None:
    entry = _entry()
    other = entry.variants[0]._replace(sha256="00" * 32)
    manifest = layout.variant_manifest("demo", entry.version, entry.variants[0])
    with pytest.raises(IndexFormatError, match="disagrees"):
        layout.read_variant_manifest(manifest, variant=other, where="m")


@pytest.mark.parametrize(
    "mutate, phrase",
    [
        (lambda doc: doc.update(mediaType=layout.MANIFEST_TYPE), "expected an"),
        (lambda doc: doc["annotations"].update({layout.NAME: "other"}), "not a version of demo"),
        (lambda doc: doc["manifests"][0].update(size=-1), "size"),
        (lambda doc: doc["manifests"][0].update(digest="sha256:xyz"), "digest"),
        (lambda doc: doc["manifests"][0]["annotations"].update({layout.ARCHIVE_SIZE: "1e9"}), "negative"),
        # str.isdigit() takes "²", which int() refuses: read as no size at all, not a crash
        (lambda doc: doc["manifests"][0]["annotations"].update({layout.ARCHIVE_SIZE: "\u00b2"}), "negative"),
        (lambda doc: doc["manifests"][0]["annotations"].update({layout.ARCHIVE_SHA256: "00"}), "sha256"),
        (lambda doc: doc["manifests"][1]["annotations"].update({layout.ATTESTATIONS: "NaN"}), "not finite"),
        (lambda doc: doc["manifests"][0]["annotations"].update({layout.ARCHIVE_PATH: "../../etc/passwd"}), "path"),
        (lambda doc: doc.update(manifests=[doc["manifests"][0]] * 2), "twice"),
    ],
)
def test_hostile_version_indexes_are_refused(mutate, phrase: str) -> None:
    document = json.loads(_index(_entry()))
    mutate(document)
    with pytest.raises(IndexFormatError, match=phrase):
        layout.read_version_index(json.dumps(document).encode(), name="demo", where="demo:1.0.0_cu13")


def test_other_tools_manifests_in_an_index_are_ignored() -> None:
    document = json.loads(_index(_entry()))
    document["manifests"].append({"mediaType": layout.MANIFEST_TYPE, "digest": f"sha256:{SHA}", "size": 3})
    parsed, _ = layout.read_version_index(json.dumps(document).encode(), name="demo", where="x")
    assert len(parsed.variants) == 2


def test_a_referrer_points_at_its_subject_and_carries_the_bundle() -> None:
    subject = layout.Descriptor.of(layout.MANIFEST_TYPE, b"manifest")
    referrer = json.loads(layout.referrer_manifest(subject, b"{bundle}", predicate_type="p", title="x.sigstore.json"))
    assert referrer["subject"] == {"mediaType": layout.MANIFEST_TYPE, "digest": subject.digest, "size": 8}
    assert referrer["layers"][0]["digest"] == layout.digest_of(b"{bundle}")
    assert referrer["config"]["mediaType"] == layout.EMPTY_TYPE
