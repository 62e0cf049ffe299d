"""Tests of skillpm.index.model: the index documents, read strictly and written back."""

from __future__ import annotations

import copy
import json
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillpm.errors import IndexFormatError
from skillpm.index.limits import document_problem
from skillpm.index.model import (
    FORMAT_VERSION,
    MAX_NAME_LENGTH,
    Attestation,
    PackageDocument,
    RegistryConfig,
    SearchEntry,
    Variant,
    VersionEntry,
    parse_search,
    search,
    search_document,
    shard_path,
)

SHA = "ab" * 32


def package_json() -> dict[str, Any]:
    """A valid package document with every field used."""
    return {
        "format-version": 1,
        "name": "kernel-builder-cuda",
        "versions": [
            {
                "version": "0.1.0",
                "description": "Build kernels.",
                "license": "Apache-2.0",
                "keywords": ["cuda"],
                "agents": ["claude-code"],
                "variants": [
                    {
                        "target": "sm_90a",
                        "sha256": SHA,
                        "size": 1234,
                        "path": "artifacts/kernel-builder-cuda/0.1.0/kernel-builder-cuda-0.1.0-sm_90a.tar.gz",
                        "yanked": False,
                        "attestations": [
                            {"path": "attestations/x.sigstore.json", "sha256": SHA, "predicate-type": "https://x"}
                        ],
                    },
                    {"target": "generic", "sha256": SHA, "size": 0, "path": "a/b.tar.gz", "yanked": True,
                     "attestations": []},
                ],
            }
        ],
    }


# --- shard_path ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("a", "1/a.json"),
        ("z", "1/z.json"),
        ("ab", "2/ab.json"),
        ("x1", "2/x1.json"),
        ("abc", "3/a/abc.json"),
        ("a-b", "3/a/a-b.json"),
        ("abcd", "ab/cd/abcd.json"),
        ("cargo", "ca/rg/cargo.json"),
        ("serde", "se/rd/serde.json"),
        ("a-bc", "a-/bc/a-bc.json"),
        ("kernel-builder-cuda", "ke/rn/kernel-builder-cuda.json"),
    ],
)
def test_shard_path(name: str, path: str) -> None:
    assert shard_path(name) == path


@settings(max_examples=50)
@given(name=st.from_regex(r"[a-z0-9]+(-[a-z0-9]+)*", fullmatch=True).filter(lambda n: len(n) <= 64))
def test_shard_path_properties(name: str) -> None:
    path = shard_path(name)
    assert path.endswith(f"/{name}.json")
    assert ".." not in path.split("/")
    depth = 2 if len(name) <= 2 else 3
    assert len(path.split("/")) == depth


# --- round trips --------------------------------------------------------------------------------


def test_package_round_trip() -> None:
    data = package_json()
    document = PackageDocument.from_json(data)
    assert document.to_json() == data
    assert PackageDocument.from_json(json.loads(json.dumps(document.to_json()))) == document
    variant = document.versions[0].variants[0]
    assert variant.attestations == (Attestation("attestations/x.sigstore.json", SHA, "https://x"),)
    assert document.versions[0].license == "Apache-2.0"


def test_optional_fields_take_defaults_and_license_is_left_out_when_absent() -> None:
    data = {
        "format-version": 1,
        "name": "x",
        "versions": [{"version": "1", "variants": [{"target": "generic", "sha256": SHA, "size": 1, "path": "p"}]}],
    }
    document = PackageDocument.from_json(data)
    entry = document.versions[0]
    assert (entry.description, entry.license, entry.keywords, entry.agents) == ("", None, (), ())
    assert entry.variants[0].yanked is False and entry.variants[0].attestations == ()
    assert "license" not in entry.to_json()
    assert PackageDocument.from_json(document.to_json()) == document
    assert PackageDocument.from_json({"format-version": 1, "name": "x"}).versions == ()


variants_st = st.builds(
    Variant,
    target=st.sampled_from(["generic", "sm_80", "sm_90a", "sm_100f"]),
    sha256=st.text("0123456789abcdef", min_size=64, max_size=64),
    size=st.integers(min_value=0, max_value=2**40),
    path=st.from_regex(r"[a-z0-9_.-]{1,8}(/[a-z0-9_-]{1,8}){0,3}", fullmatch=True).filter(
        lambda p: ".." not in p.split("/")
    ),
    yanked=st.booleans(),
    attestations=st.lists(
        st.builds(
            Attestation,
            path=st.sampled_from(["attestations/a.json", "x/y.sigstore.json"]),
            sha256=st.text("0123456789abcdef", min_size=64, max_size=64),
            predicate_type=st.sampled_from(["https://skillpm.dev/attestations/eval/v1"]),
        ),
        max_size=2,
    ).map(tuple),
)
entries_st = st.builds(
    VersionEntry,
    version=st.sampled_from(["0.1.0", "0.2.0", "1.0.0b1", "2.0"]),
    description=st.text(max_size=40),
    variants=st.lists(variants_st, max_size=4, unique_by=lambda v: v.target).map(tuple),
    license=st.none() | st.sampled_from(["MIT", "Apache-2.0"]),
    keywords=st.lists(st.text(max_size=10), max_size=3).map(tuple),
    agents=st.lists(st.sampled_from(["claude-code", "codex"]), max_size=2).map(tuple),
)


@settings(max_examples=50)
@given(
    name=st.from_regex(r"[a-z0-9]{1,10}(-[a-z0-9]{1,10}){0,2}", fullmatch=True),
    entries=st.lists(entries_st, max_size=4, unique_by=lambda e: e.version).map(tuple),
)
def test_package_round_trip_property(name: str, entries: tuple[VersionEntry, ...]) -> None:
    """A document reads back as written, unless it lists one attestation bundle twice (then it is refused)."""
    document = PackageDocument(name, entries)
    data = json.loads(json.dumps(document.to_json()))
    if document_problem(entries) is None:
        assert PackageDocument.from_json(data) == document
    else:
        with pytest.raises(IndexFormatError, match="listed twice"):
            PackageDocument.from_json(data)


def test_config_and_search_round_trip() -> None:
    config = RegistryConfig(name="mine")
    assert config.to_json() == {"format": "skillpm-index", "format-version": FORMAT_VERSION, "name": "mine"}
    assert RegistryConfig.from_json(config.to_json()) == config
    assert RegistryConfig.from_json({"format": "skillpm-index", "format-version": 1}).name == "skillpm-registry"
    entries = [
        SearchEntry("zeta", "1.0", "last", ("z",), ("generic",)),
        SearchEntry("alpha", "0.1", "first", (), ("sm_90a", "generic")),
    ]
    data = search_document(entries)
    assert [p["name"] for p in data["packages"]] == ["alpha", "zeta"]
    assert parse_search(json.loads(json.dumps(data))) == tuple(sorted(entries, key=lambda e: e.name))
    assert parse_search({"format-version": 1}) == ()


def test_with_version_adds_and_replaces() -> None:
    document = PackageDocument.from_json(package_json())
    new = VersionEntry("0.2.0", "two", ())
    assert [e.version for e in document.with_version(new).versions] == ["0.1.0", "0.2.0"]
    replaced = document.with_version(VersionEntry("0.1.0", "again", ()))
    assert [e.description for e in replaced.versions] == ["again"]
    assert document.versions[0].description == "Build kernels."  # frozen: the original is unchanged


def test_search_shows_a_public_version_rather_than_a_local_one() -> None:
    """Clients never install '1.0.1+evil' (skillpm.resolve); search must not show it as the package's version."""
    generic = (Variant("generic", SHA, 1, "p"),)
    document = PackageDocument("demo", (VersionEntry("1.0.0", "public", generic),
                                        VersionEntry("1.0.1+evil", "local", generic)))
    assert (document.search_entry().version, document.search_entry().description) == ("1.0.0", "public")
    only_local = PackageDocument("demo", (VersionEntry("1.0.1+evil", "local", generic),))
    assert only_local.search_entry().version == "1.0.1+evil"


@pytest.mark.parametrize(("flags", "yanked"), [((), True), ((True,), True), ((True, False), False), ((False,), False)])
def test_version_is_yanked_when_every_variant_is(flags: tuple[bool, ...], yanked: bool) -> None:
    variants = tuple(Variant(f"sm_8{i}", SHA, 1, "p", flag) for i, flag in enumerate(flags))
    assert VersionEntry("1", "", variants).yanked is yanked


@pytest.mark.parametrize(
    ("words", "found"),
    [
        ([], ["alpha", "zeta"]),
        (["ALPHA"], ["alpha"]),
        (["hopper"], ["alpha"]),
        (["wgmma"], ["zeta"]),
        (["kernel", "hopper"], ["alpha"]),
        (["kernel"], ["alpha", "zeta"]),
        (["missing"], []),
    ],
)
def test_search(words: list[str], found: list[str]) -> None:
    entries = (
        SearchEntry("alpha", "1", "Kernels for Hopper"),
        SearchEntry("zeta", "1", "kernel notes", ("WGMMA",)),
    )
    assert [e.name for e in search(entries, words)] == found


# --- malformed documents ------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _variant(data: dict[str, Any]) -> dict[str, Any]:
    return data["versions"][0]["variants"][0]


def _set(path: str, value: Any) -> Mutation:
    """Set a field: "" is the document, "v" its first version, "t" that version's first variant,
    "a" that variant's first attestation."""
    where, _, key = path.partition(".")

    def mutate(data: dict[str, Any]) -> None:
        target = {
            "": lambda: data,
            "v": lambda: data["versions"][0],
            "t": lambda: _variant(data),
            "a": lambda: _variant(data)["attestations"][0],
        }[where]()
        if value is KeyError:
            del target[key]
        else:
            target[key] = value

    return mutate


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


def _append_copy(where: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        items = data["versions"] if where == "versions" else data["versions"][0]["variants"]
        items.append(copy.deepcopy(items[0]))

    return mutate


def _append_version(text: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        extra = copy.deepcopy(data["versions"][0])
        extra["version"] = text
        data["versions"].append(extra)

    return mutate


MALFORMED: list[tuple[str, Mutation, str]] = [
    # document level
    ("no format-version", _set(".format-version", KeyError), "missing field 'format-version'"),
    ("format-version 2", _set(".format-version", 2), "format version 2 is not supported"),
    ("format-version 0", _set(".format-version", 0), "format version 0 is not supported"),
    ("format-version text", _set(".format-version", "1"), "'format-version' has the wrong type"),
    ("format-version bool", _set(".format-version", True), "'format-version' has the wrong type"),
    ("format-version float", _set(".format-version", 1.0), "'format-version' has the wrong type"),
    ("no name", _set(".name", KeyError), "missing field 'name'"),
    ("name number", _set(".name", 5), "'name' has the wrong type"),
    ("name too long", _set(".name", "a" * (MAX_NAME_LENGTH + 1)), "invalid package name"),
    ("name upper case", _set(".name", "Kernel"), "invalid package name"),
    ("name with slash", _set(".name", "../x"), "invalid package name"),
    ("name empty", _set(".name", ""), "invalid package name"),
    ("versions object", _set(".versions", {}), "'versions' has the wrong type"),
    ("versions nested deeply", _set(".versions", _nested(5000)), "expected a JSON object"),
    ("version a string", _set(".versions", ["0.1.0"]), "expected a JSON object"),
    ("duplicate version", _append_copy("versions"), "a version is listed twice"),
    ("duplicate version, other spelling", _append_version("0.1"), "a version is listed twice"),
    # version entry
    ("no version", _set("v.version", KeyError), "missing field 'version'"),
    ("version number", _set("v.version", 0.1), "'version' has the wrong type"),
    ("description list", _set("v.description", ["x"]), "'description' has the wrong type"),
    ("license null", _set("v.license", None), "'license' has the wrong type"),
    ("keywords string", _set("v.keywords", "cuda"), "'keywords' has the wrong type"),
    ("keywords numbers", _set("v.keywords", [1]), "'keywords' must list strings"),
    ("agents null item", _set("v.agents", [None]), "'agents' must list strings"),
    ("variants object", _set("v.variants", {"generic": {}}), "'variants' has the wrong type"),
    ("duplicate target", _append_copy("variants"), "a target is listed twice"),
    # variant
    ("no target", _set("t.target", KeyError), "missing field 'target'"),
    ("target number", _set("t.target", 90), "'target' has the wrong type"),
    ("no sha256", _set("t.sha256", KeyError), "missing field 'sha256'"),
    ("sha256 upper case", _set("t.sha256", SHA.upper()), "sha256 is not 64 lowercase hex digits"),
    ("sha256 short", _set("t.sha256", SHA[:-1]), "sha256 is not 64 lowercase hex digits"),
    ("sha256 long", _set("t.sha256", SHA + "0"), "sha256 is not 64 lowercase hex digits"),
    ("sha256 not hex", _set("t.sha256", "g" * 64), "sha256 is not 64 lowercase hex digits"),
    ("sha256 prefixed", _set("t.sha256", "sha256:" + SHA[7:]), "sha256 is not 64 lowercase hex digits"),
    ("sha256 number", _set("t.sha256", 1), "'sha256' has the wrong type"),
    ("no size", _set("t.size", KeyError), "missing field 'size'"),
    ("size negative", _set("t.size", -1), "'size' is negative"),
    ("size text", _set("t.size", "12"), "'size' has the wrong type"),
    ("size float", _set("t.size", 12.0), "'size' has the wrong type"),
    ("size bool", _set("t.size", True), "'size' has the wrong type"),
    ("yanked int", _set("t.yanked", 1), "'yanked' has the wrong type"),
    ("yanked text", _set("t.yanked", "false"), "'yanked' has the wrong type"),
    ("no path", _set("t.path", KeyError), "missing field 'path'"),
    ("path parent", _set("t.path", "../x"), "unsafe path"),
    ("path parent inside", _set("t.path", "artifacts/../../x"), "unsafe path"),
    ("path absolute", _set("t.path", "/abs"), "unsafe path"),
    ("path url", _set("t.path", "http://x"), "unsafe path"),
    ("path file url", _set("t.path", "file:///etc/passwd"), "unsafe path"),
    ("path drive", _set("t.path", "C:/x"), "unsafe path"),
    ("path backslash", _set("t.path", "a\\..\\x"), "unsafe path"),
    ("path nul", _set("t.path", "a\x00b"), "unsafe path"),
    ("path empty", _set("t.path", ""), "unsafe path"),
    ("path number", _set("t.path", 1), "'path' has the wrong type"),
    ("attestations object", _set("t.attestations", {}), "'attestations' has the wrong type"),
    ("attestation string", _set("t.attestations", ["x"]), "expected a JSON object"),
    # attestation
    ("attestation no path", _set("a.path", KeyError), "missing field 'path'"),
    ("attestation path parent", _set("a.path", "../x"), "unsafe path"),
    ("attestation bad sha256", _set("a.sha256", "0" * 63), "sha256 is not 64 lowercase hex digits"),
    ("attestation no predicate", _set("a.predicate-type", KeyError), "missing field 'predicate-type'"),
    ("attestation predicate bool", _set("a.predicate-type", False), "'predicate-type' has the wrong type"),
]


@pytest.mark.parametrize(("mutate", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_package_document(mutate: Mutation, message: str) -> None:
    data = package_json()
    mutate(data)
    with pytest.raises(IndexFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        PackageDocument.from_json(data)


@pytest.mark.parametrize("data", [None, [], "x", 1, True, _nested(3000)])
def test_package_document_not_an_object(data: Any) -> None:
    with pytest.raises(IndexFormatError, match="package document: expected a JSON object"):
        PackageDocument.from_json(data)


def test_errors_name_the_document_version_and_variant() -> None:
    data = package_json()
    _variant(data)["size"] = -5
    with pytest.raises(IndexFormatError) as raised:
        PackageDocument.from_json(data, "reg: index/ke/rn/kernel-builder-cuda.json")
    message = raised.value.message
    assert "'kernel-builder-cuda'" in message and "'0.1.0'" in message and "'sm_90a'" in message


def test_unknown_format_version_has_a_hint() -> None:
    data = package_json()
    data["format-version"] = 99
    with pytest.raises(IndexFormatError) as raised:
        PackageDocument.from_json(data)
    assert "upgrade skillpm" in (raised.value.hint or "")


def test_unknown_fields_are_ignored() -> None:
    """Readers skip fields they do not know; the writer never emits them."""
    data = package_json()
    data["extra"] = 1
    _variant(data)["extra"] = {"x": 1}
    assert "extra" not in PackageDocument.from_json(data).to_json()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"format-version": 1}, "missing field 'format'"),
        ({"format": "cargo", "format-version": 1}, "not a skillpm index"),
        ({"format": 1, "format-version": 1}, "'format' has the wrong type"),
        ({"format": "skillpm-index"}, "missing field 'format-version'"),
        ({"format": "skillpm-index", "format-version": 2}, "format version 2 is not supported"),
        ({"format": "skillpm-index", "format-version": True}, "'format-version' has the wrong type"),
        ({"format": "skillpm-index", "format-version": 1, "name": 3}, "'name' has the wrong type"),
        ([], "expected a JSON object"),
    ],
)
def test_malformed_config(data: Any, message: str) -> None:
    with pytest.raises(IndexFormatError, match=message) as raised:
        RegistryConfig.from_json(data)
    assert raised.value.message.startswith("config.json: ")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "missing field 'format-version'"),
        ({"format-version": 2, "packages": []}, "format version 2 is not supported"),
        ({"format-version": 1, "packages": {}}, "'packages' has the wrong type"),
        ({"format-version": 1, "packages": ["x"]}, "expected a JSON object"),
        ({"format-version": 1, "packages": [{"version": "1"}]}, "missing field 'name'"),
        ({"format-version": 1, "packages": [{"name": "x"}]}, "missing field 'version'"),
        ({"format-version": 1, "packages": [{"name": "X", "version": "1"}]}, "invalid package name"),
        ({"format-version": 1, "packages": [{"name": "x" * 65, "version": "1"}]}, "invalid package name"),
        ({"format-version": 1, "packages": [{"name": "x", "version": "1", "targets": [1]}]}, "'targets' must list"),
        ({"format-version": 1, "packages": [{"name": "x", "version": "1", "keywords": "k"}]}, "'keywords' has"),
        ({"format-version": 1, "packages": [{"name": "x", "version": 1}]}, "'version' has the wrong type"),
    ],
)
def test_malformed_search(data: Any, message: str) -> None:
    with pytest.raises(IndexFormatError, match=message) as raised:
        parse_search(data)
    assert raised.value.message.startswith("search.json")


def test_name_length_limit() -> None:
    longest = "a" * MAX_NAME_LENGTH
    assert PackageDocument.from_json({"format-version": 1, "name": longest}).name == longest
