"""The distribution API client against a real registry: push, pull, tags, referrers, digests, auth."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillpm.errors import IndexFormatError, RegistryError
from skillpm.registry.oci import layout, tags
from skillpm.registry.oci.client import OciClient, _next_page, _oci_error
from skillpm.registry.oci.reference import parse_location
from skillpm.registry.transport import Deadline, Reply, Transport

from .conftest import RunningRegistry, login_env


def _client(host: str, namespace: str = "skills") -> OciClient:
    transport = Transport(idle=10, user_agent="skillpm-test")
    return OciClient(parse_location(f"oci://{host}/{namespace}"), transport, Deadline.after(60, "test"))


def _push_artifact(client: OciClient, repository: str) -> tuple[bytes, str]:
    layer = b"archive bytes"
    config = b'{"target":"sm_90"}'
    client.push_blob(repository, layer)
    client.push_blob(repository, config)
    manifest = layout.canonical({
        "schemaVersion": 2, "mediaType": layout.MANIFEST_TYPE, "artifactType": layout.VARIANT_TYPE,
        "config": layout.Descriptor.of(layout.VARIANT_CONFIG_TYPE, config).to_json(),
        "layers": [layout.Descriptor.of(layout.ARCHIVE_TYPE, layer).to_json()],
    })
    digest = layout.digest_of(manifest)
    client.push_manifest(repository, digest, manifest, layout.MANIFEST_TYPE)
    client.push_manifest(repository, "1.0.0", manifest, layout.MANIFEST_TYPE)
    return manifest, digest


def test_pushed_content_reads_back_by_tag_and_digest(oci_registry: RunningRegistry) -> None:
    client = _client(oci_registry.host)
    repository = client.location.repository("demo")
    manifest, digest = _push_artifact(client, repository)
    assert client.location.scheme == "http"  # loopback without TLS: plain http, as docker allows
    assert client.tags(repository) == ["1.0.0"]
    assert client.manifest(repository, "1.0.0", layout.MANIFEST_TYPE) == (manifest, digest)
    assert client.blob(repository, layout.digest_of(b"archive bytes")) == b"archive bytes"
    assert client.manifest(repository, "2.0.0", layout.MANIFEST_TYPE) is None
    assert client.tags(client.location.repository("absent")) == []


def test_a_blob_whose_bytes_do_not_match_its_digest_is_refused(oci_registry: RunningRegistry) -> None:
    client = _client(oci_registry.host)
    repository = client.location.repository("demo")
    _push_artifact(client, repository)
    digest = layout.digest_of(b"archive bytes")
    hexdigest = digest.removeprefix("sha256:")
    data = oci_registry.storage / "docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest / "data"
    data.write_bytes(b"archive bytez")  # the registry's storage corrupted (or substituted)
    with pytest.raises(IndexFormatError, match="does not match its digest"):
        client.blob(repository, digest)


def test_referrers_fall_back_to_the_tag_schema_on_distribution_2_8(oci_registry: RunningRegistry) -> None:
    client = _client(oci_registry.host)
    repository = client.location.repository("demo")
    manifest, digest = _push_artifact(client, repository)
    subject = layout.Descriptor(layout.MANIFEST_TYPE, digest, len(manifest))
    assert client.referrers(repository, digest) == []
    bundle = b'{"bundle": 1}'
    client.push_blob(repository, bundle)
    client.push_blob(repository, layout.EMPTY_JSON)
    referrer = layout.referrer_manifest(subject, bundle, predicate_type="p", title="b.sigstore.json")
    indexed = client.push_manifest(repository, layout.digest_of(referrer), referrer, layout.MANIFEST_TYPE)
    assert indexed is False  # distribution 2.8 has no referrers API: the fallback tag is needed
    entry = layout.Descriptor.of(layout.MANIFEST_TYPE, referrer, artifact_type=layout.BUNDLE_TYPE)
    client.push_manifest(repository, tags.referrers_tag(digest), layout.referrers_index([entry]), layout.INDEX_TYPE)
    assert client.referrers(repository, digest) == [entry]


def test_tls_with_basic_auth_needs_the_credentials(
    oci_registry_tls: RunningRegistry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker"))
    client = _client(oci_registry_tls.host)
    repository = client.location.repository("demo")
    with pytest.raises(RegistryError, match="needs credentials"):
        client.tags(repository)
    for name, value in login_env(oci_registry_tls.host).items():
        monkeypatch.setenv(name, value)
    client = _client(oci_registry_tls.host)
    _push_artifact(client, repository)
    assert client.location.scheme == "https"
    assert client.tags(repository) == ["1.0.0"]


def test_credentials_from_docker_config(
    oci_registry_tls: RunningRegistry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import base64
    import json

    from .conftest import PASSWORD, USER

    folder = tmp_path / "docker"
    folder.mkdir()
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (folder / "config.json").write_text(json.dumps({"auths": {oci_registry_tls.host: {"auth": auth}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(folder))
    client = _client(oci_registry_tls.host)
    repository = client.location.repository("demo")
    _push_artifact(client, repository)
    assert client.tags(repository) == ["1.0.0"]


def test_pushing_a_blob_the_registry_already_has_uploads_nothing(oci_registry: RunningRegistry) -> None:
    """HEAD answers with the blob's size and no body: not a body over the limit (a second push used to fail)."""
    client = _client(oci_registry.host)
    repository = client.location.repository("demo")
    data = b"x" * 4096
    assert client.push_blob(repository, data) == client.push_blob(repository, data) == layout.digest_of(data)
    assert client.blob(repository, layout.digest_of(data)) == data


@pytest.mark.parametrize(
    "link",
    ['</v2/skills/demo/tags/list?last=1.0.0; rel="next"', '<http://[::1/v2/skills/demo/tags/list?n=1>; rel="next"'],
    ids=["no closing bracket", "an unclosed IPv6 host"],
)
def test_a_next_page_link_that_is_no_url_is_refused_in_one_line(link: str) -> None:
    """A registry's Link header (found by a hostile review: a traceback, ValueError, before)."""
    reply = Reply(200, {"link": link})
    with pytest.raises(RegistryError, match="the next page of a list is not a URL"):
        _next_page(reply, "https://registry.example/v2/skills/demo", "tags/list")


def test_an_error_body_nested_too_deep_is_shown_as_text() -> None:
    assert _oci_error(b"[" * 4000) == "[" * 120
    assert _oci_error(b'{"errors": [{"code": "DENIED", "message": "no"}]}') == "DENIED: no"
