"""A static registry's versions pushed to a real OCI registry read back identically, archives byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillpm.errors import RegistryUnreachable
from skillpm.registry.oci import layout
from skillpm.registry.oci.registry import OciRegistry, push_version
from skillpm.registry.directory import LocalRegistry

from .conftest import RunningRegistry


def _push_all(static: LocalRegistry, oci: OciRegistry, name: str) -> None:
    document = static.require_package(name)
    for entry in document.versions:
        paths = [variant.path for variant in entry.variants]
        paths += [item.path for variant in entry.variants for item in variant.attestations]
        push_version(oci, name, entry, {path: static.artifact(path) for path in paths})


def test_a_pushed_package_reads_back_as_the_static_index_has_it(registry: Path, oci_registry: RunningRegistry) -> None:
    static = LocalRegistry(registry, registry.as_uri())
    oci = OciRegistry(f"oci://{oci_registry.host}/skills")
    _push_all(static, oci, "kernel-helper")
    pulled = OciRegistry(f"oci://{oci_registry.host}/skills")
    assert pulled.require_package("kernel-helper") == static.require_package("kernel-helper")
    for variant in static.require_package("kernel-helper").versions[0].variants:
        assert pulled.artifact(variant.path) == static.artifact(variant.path)
    assert pulled.package("doc-writer") is None


def test_a_registry_that_goes_away_mid_push_is_left_with_no_tag(
    registry: Path, oci_registry: RunningRegistry
) -> None:
    """Blobs and manifests go first and the tag last, so a push cut off half-way publishes nothing."""
    static = LocalRegistry(registry, registry.as_uri())
    oci = OciRegistry(f"oci://{oci_registry.host}/skills")
    entry = static.require_package("kernel-helper").versions[0]
    files = {variant.path: static.artifact(variant.path) for variant in entry.variants}
    pushed: list[str] = []

    def progress(line: str) -> None:
        pushed.append(line)
        if len(pushed) == 2:
            oci_registry.stop()  # the registry goes away after the first variant is up

    with pytest.raises(RegistryUnreachable):
        push_version(oci, "kernel-helper", entry, files, progress=progress)
    oci_registry.restart()
    reader = OciRegistry(f"oci://{oci_registry.host}/skills")
    assert reader.package("kernel-helper") is None
    first = entry.variants[0]
    assert reader.client.blob(reader.location.repository("kernel-helper"), f"sha256:{first.sha256}") == files[first.path]


def test_a_registry_that_is_gone_is_unreachable(oci_registry: RunningRegistry) -> None:
    oci_registry.stop()
    with pytest.raises(RegistryUnreachable, match="cannot be reached"):
        OciRegistry(f"oci://{oci_registry.host}/skills").package("kernel-helper")


def test_tags_that_are_not_versions_are_ignored(registry: Path, oci_registry: RunningRegistry) -> None:
    static = LocalRegistry(registry, registry.as_uri())
    oci = OciRegistry(f"oci://{oci_registry.host}/skills")
    _push_all(static, oci, "kernel-helper")
    repository = oci.location.repository("kernel-helper")
    index = oci.client.manifest(repository, "1.0.0", layout.INDEX_TYPE)
    assert index is not None
    oci.client.push_manifest(repository, "latest", index[0], layout.INDEX_TYPE)
    assert [entry.version for entry in OciRegistry(oci.location).require_package("kernel-helper").versions] == ["1.0.0"]


def test_the_skeleton_skillpm_init_makes_publishes_to_oci_and_installs_back(
    isolated, oci_registry: RunningRegistry
) -> None:
    """The skeleton has no licence: its version read back from OCI was refused ('field license has the wrong type')."""
    from test_publish import skillpm

    url = f"oci://{oci_registry.host}/skills"
    assert skillpm("init", isolated.tmp / "demo").exit_code == 0
    published = skillpm("publish", isolated.tmp / "demo", "--registry", url)
    assert published.exit_code == 0, published.output
    assert OciRegistry(url).require_package("demo").versions[0].license is None
    installed = skillpm("install", "demo", "--registry", url)
    assert installed.exit_code == 0, installed.output
    assert (isolated.project / ".agents" / "skills" / "demo" / "SKILL.md").is_file()
