"""An OCI repository of more version tags than a package may list: what reads every version stops first.

A version's entry is its tag's index, a request apiece, so reading a package whole (``info NAME``,
``registry pull``) costs a request per tag: 100,000 tags (the most a tag list may hold)
would take hours. Reading more versions than a document may list variants (10,000) is refused before
any index is read; a command that names its versions reads those alone. Resolution, which reads down
from the highest candidate, stops at the 10,001st read too (tags holding ``_`` are read as it reaches
them, as any other), and offline, where the kept reads answer and no deadline ends a walk, a walk past thousands
of gone versions costs one pass; the kept tag list is held to the 100,000 tags a registry's may hold.
tests/oci/test_many_versions.py counts what install, resolve, sync and the others read from a real
registry.
"""

from __future__ import annotations

import json

from skillpm.cache import registry_key
from skillpm.index.limits import MAX_VARIANTS
from skillpm.index.model import Variant, VersionEntry
from skillpm.registry.oci import layout

from oci.hostile_registry import HostileRegistry

NAME = "demo-skill"
#: The most tags a registry's tag list may hold (docs/oci.md), and so the kept one.
MAX_TAGS = 100_000


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


def _kept(hostile, host: str, gone: list[str]) -> str:
    """The kept reads of an OCI registry at ``host``, as its cache holds them: NAME 0.0.1 (generic), and each
    tag of ``gone`` listed but kept as "no such tag" (what a registry listing tags it does not serve leaves,
    or whoever writes the cache). The registry's URL."""
    url = f"oci://{host}/skills"
    folder = hostile.cache / "oci" / registry_key(url) / f"skills+{NAME}"
    (folder / "indexes").mkdir(parents=True)
    (folder / "tags.json").write_text(json.dumps(["0.0.1", *gone]))
    variant = Variant("generic", "0" * 64, 1, f"artifacts/{NAME}/0.0.1/{NAME}-0.0.1-generic.tar.gz")
    index = layout.version_index(NAME, VersionEntry("0.0.1", "The one kept.", (variant,)),
                                 {"generic": layout.variant_manifest(NAME, "0.0.1", variant)})
    (folder / "indexes" / "0.0.1").write_bytes(index)
    for tag in gone:
        (folder / "indexes" / tag).write_bytes(b"")
    return url


def test_versions_found_gone_cost_one_walk_offline(hostile) -> None:
    """9,000 kept tags whose indexes are gone: each gone version matched every version again, 9,000 x 9,000
    parses, minutes of CPU with no deadline offline (the harness's 30 s ended it before the change)."""
    url = _kept(hostile, "127.0.0.1:9", [f"1.0.{n}" for n in range(9_000)])  # nothing listens: offline asks none

    resolved = hostile.ok(hostile.run("resolve", NAME, "--arch", "h100", "--offline", "--registry", url))

    assert resolved.stdout.split()[:3] == [NAME, "0.0.1", "generic"]


def test_a_walk_reads_at_most_as_many_versions_as_a_package_may_list(hostile) -> None:
    """A walk down more than 10,000 versions, each gone (or yanked, or without a variant for the GPU), is
    refused at the 10,001st read, offline too, where no deadline would end it; online it was a request each."""
    url = _kept(hostile, "127.0.0.1:9", [f"1.0.{n}" for n in range(MAX_VARIANTS + 5)])

    hostile.refused(hostile.run("resolve", NAME, "--arch", "h100", "--offline", "--registry", url),
                    f"{MAX_VARIANTS + 1} versions to read, more than the {MAX_VARIANTS} skillpm reads")


def test_a_kept_tag_list_longer_than_a_registry_s_may_be_is_refused_offline(hostile) -> None:
    """Online a tag list of more than 100,000 tags is refused; the kept one was read whatever its length within
    its 16 MiB, 1.3 million short tags: one offline resolve parsed them all (37 s), with no deadline. Now both
    are refused in one line."""
    too_many = ["0.0.1", *(f"1.{n}" for n in range(MAX_TAGS))]
    with HostileRegistry() as registry:
        registry.tags[f"{registry.namespace}/{NAME}"] = too_many
        hostile.refused(hostile.run("resolve", f"{NAME}==0.0.1", "--registry", registry.url),
                        f"/skills/{NAME} tags: more than {MAX_TAGS} tags")
    url = _kept(hostile, "127.0.0.1:9", [])
    next((hostile.cache / "oci").rglob("tags.json")).write_text(json.dumps(too_many))

    hostile.refused(hostile.run("resolve", f"{NAME}==0.0.1", "--offline", "--registry", url),
                    f"error: oci://127.0.0.1:9/skills/{NAME} tags kept for --offline: more than {MAX_TAGS} tags")


def _local_tags(registry: HostileRegistry) -> None:
    """NAME 2.0.0, and 10,001 tags '1.0.N_local' (local versions, whatever their indexes say: never taken)."""
    variant = Variant("generic", "0" * 64, 1, f"artifacts/{NAME}/2.0.0/{NAME}-2.0.0-generic.tar.gz")
    registry.put_version(NAME, VersionEntry("2.0.0", "The one published.", (variant,)), {})
    registry.tags[f"{registry.namespace}/{NAME}"] += [f"1.0.{n}_local" for n in range(MAX_VARIANTS + 1)]


def test_tags_holding_an_underscore_are_read_only_as_a_walk_reaches_them(hostile) -> None:
    """A tag holding '_' had its index read with the tag list (only the index says which version it is):
    10,001 of them made one install read 10,001 indexes, what reading versions lazily was meant to stop, and
    then more than 10,000 were refused before any was read, whatever the command needed. Such a tag is now
    listed as it reads until its index is read: 10,001 tags '1.0.N_local' cost resolve the index of 2.0.0
    alone, and what must spell every version those tags may be as its index does (info NAME, or info 'NAME<2')
    is refused before reading more than 10,000."""
    with HostileRegistry() as registry:
        _local_tags(registry)
        before = hostile.state()
        resolved = hostile.ok(hostile.run("resolve", NAME, "--arch", "h100", "--registry", registry.url))
        assert resolved.stdout.startswith(f"{NAME} 2.0.0 generic ")
        assert _index_reads(registry) == ["2.0.0"]
        for requirement, count in ((NAME, MAX_VARIANTS + 2), (f"{NAME}<2", MAX_VARIANTS + 1)):
            registry.requests.clear()
            hostile.refused(hostile.run("info", requirement, "--registry", registry.url),
                            f"{count} versions to read, more than the {MAX_VARIANTS} skillpm reads")
            assert _index_reads(registry) == [], requirement
        assert hostile.changed_outside(before, hostile.cache) == []


def test_a_question_about_some_versions_reads_no_tag_that_cannot_be_one_of_them(hostile) -> None:
    """info NAME==VERSION and verify NAME==VERSION read every tag holding '_' first, to spell each version as its
    index does, whatever version was asked about: a registry adding 10,001 tags '1.0.N_local' had them refused
    (10,000 made each read 10,000 indexes), and after an install, which reads none of them, --offline refused
    them as never read online. Only a tag that may hold a version the requirement names is read now: a tag
    '1.0.7_local' holds 1.0.7+local or what is no version, so ==2.0.0 reads 2.0.0 alone, online or offline
    after resolve read it, and ==1.0.7 reads that one tag."""
    with HostileRegistry() as registry:
        _local_tags(registry)
        local = Variant("generic", "1" * 64, 1, f"artifacts/{NAME}/1.0.7+local/{NAME}-1.0.7+local-generic.tar.gz")
        registry.put_version(NAME, VersionEntry("1.0.7+local", "A local build.", (local,)), {})
        hostile.ok(hostile.run("resolve", NAME, "--registry", registry.url))
        for pinned, offline, versions, reads in (("2.0.0", ("--offline",), ["2.0.0"], []),
                                                 ("2.0.0", (), ["2.0.0"], ["2.0.0"]),
                                                 ("1.0.7", (), ["1.0.7+local"], ["1.0.7_local"])):
            registry.requests.clear()
            shown = hostile.ok(hostile.run("info", f"{NAME}=={pinned}", "--registry", registry.url, "--json", *offline))
            assert [version["version"] for version in json.loads(shown.stdout)["versions"]] == versions, pinned
            assert _index_reads(registry) == reads, (pinned, offline)
        registry.requests.clear()
        verified = hostile.run("verify", f"{NAME}==2.0.0", "--registry", registry.url, "--json")
        assert "Traceback" not in verified.stderr and json.loads(verified.stdout)["version"] == "2.0.0", verified.stderr
        assert _index_reads(registry) == ["2.0.0"]


def test_tags_of_long_local_versions_cost_a_short_key_each(hostile) -> None:
    """A tag holding '_' that is no version as it stands is a local version, and packaging holds the parts of
    its label: a tag of 128 characters, '7_a_a_..._a', costs 8 kB once compared. The listing held two parsed
    copies of every tag at once, so 75,000 such tags (a tag list of 10 MB) took resolve past the 1 GiB a
    hostile command may use: a MemoryError traceback, or a crash. With one copy it still took 766 MB of address
    space at 75,000 tags (measured), and 100,000 failed. Versions are ordered by a key of about 500 bytes now
    (skillpm.index.versionkey): the most tags a list may hold, each such a tag, took 155 MB (37 MB with one
    tag), and resolve runs here within MEMORY_NOW."""
    with HostileRegistry() as registry:
        variant = Variant("generic", "0" * 64, 1, f"artifacts/{NAME}/2.0.0/{NAME}-2.0.0-generic.tar.gz")
        registry.put_version(NAME, VersionEntry("2.0.0", "The one published.", (variant,)), {})
        registry.tags[f"{registry.namespace}/{NAME}"] += [f"{n}{'_a' * 60}"[:128] for n in range(MAX_TAGS - 1)]
        resolved = hostile.ok(hostile.run("resolve", NAME, "--registry", registry.url, code=_WITHIN_MEMORY_NOW))
        assert resolved.stdout.startswith(f"{NAME} 2.0.0 generic ")
        assert _index_reads(registry) == ["2.0.0"]


#: The address space the command above runs in (the old keys needed 422 MB at 40,000 tags).
MEMORY_NOW = 256 << 20
_WITHIN_MEMORY_NOW = (f"import resource, runpy\nresource.setrlimit(resource.RLIMIT_AS, ({MEMORY_NOW}, {MEMORY_NOW}))\n"
                      "runpy.run_module('skillpm', run_name='__main__')\n")
