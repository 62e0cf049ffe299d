"""An OCI repository of more version tags than a package may list: what reads every version stops first.

A version's entry is its tag's index, a request apiece, so reading a package whole (``info NAME``,
``registry pull``, ``search``) costs a request per tag: 100,000 tags (the most a tag list may hold)
would take hours. Reading more versions than a document may list variants (10,000) is refused before
any index is read; a command that names its versions reads those alone. tests/oci/test_many_versions.py
counts what install, resolve, sync and the others read from a real registry.
"""

from __future__ import annotations

from skillpm.index.limits import MAX_VARIANTS
from skillpm.index.model import Variant, VersionEntry

from oci.hostile_registry import HostileRegistry

NAME = "demo-skill"


def _index_reads(registry: HostileRegistry) -> list[str]:
    """The references of the manifests ``registry`` was asked for (version indexes, by tag)."""
    prefix = f"GET /v2/{registry.namespace}/{NAME}/manifests/"
    return [request.removeprefix(prefix) for request in registry.requests if request.startswith(prefix)]


def test_reading_more_versions_than_a_package_may_list_is_refused_before_any_is_read(hostile) -> None:
    with HostileRegistry() as registry:
        variant = Variant("generic", "0" * 64, 1, f"artifacts/{NAME}/1.0.5/{NAME}-1.0.5-generic.tar.gz")
        registry.put_version(NAME, VersionEntry("1.0.5", "One of very many.", (variant,)), {})
        registry.tags[f"{registry.namespace}/{NAME}"] = [f"1.0.{n}" for n in range(MAX_VARIANTS + 1)]
        before = hostile.state()
        for command in (("info", NAME), ("registry", "pull", registry.url, hostile.work / "mirror", NAME)):
            registry.requests.clear()
            hostile.refused(hostile.run(*command, "--registry", registry.url) if command[0] == "info"
                            else hostile.run(*command),
                            f"{MAX_VARIANTS + 1} versions to read, more than the {MAX_VARIANTS} skillpm reads")
            assert _index_reads(registry) == [], command
        assert hostile.changed_outside(before, hostile.cache) == []
        for command in (("info", f"{NAME}==1.0.5"), ("resolve", f"{NAME}==1.0.5")):
            registry.requests.clear()
            hostile.ok(hostile.run(*command, "--registry", registry.url))
            assert _index_reads(registry) == ["1.0.5"], command
