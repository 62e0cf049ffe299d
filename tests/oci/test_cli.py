"""The OCI backend through the CLI, against a real docker-registry: publish, install, sync, verify, push, pull.

The embedded kernel-builder-cuda goes static -> OCI -> static with every digest unchanged and
its evidence verifying on both sides, and installs from OCI and from the static index give the
same tree. Refusals are one ``error:`` line: a blob that fails its digest, a tag moved to other
content under a lockfile, a version republished with other archives, a registry without the
credentials it wants; a registry that goes away mid-publish is left with no tag.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from skillpm.attest.variants import EMBEDDED_KEY
from skillpm.index.model import shard_path
from skillpm.registry.directory import LocalRegistry
from skillpm.registry.factory import embedded_registry_path
from skillpm.registry.oci import layout, tags
from skillpm.registry.oci.registry import OciRegistry, push_version

from conftest import build_source, tree_bytes
from test_publish import digests, make_evidence, one_error, skillpm, write_json, write_key

from .conftest import PASSWORD, RunningRegistry, login_env

KERNEL = "kernel-builder-cuda"
NAME = "layer-norm"
VARIANTS = {"generic": {}, "sm_90a": {"references/hopper.md": "Hopper notes.\n"}}


def _url(running: RunningRegistry, namespace: str = "skills") -> str:
    return f"oci://{running.host}/{namespace}"


def _ok(*args: Any) -> str:
    result = skillpm(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


def _kept(root: Path) -> dict[str, bytes]:
    """The archives and bundles of a static registry, by path."""
    return {path: data for path, data in tree_bytes(root).items() if path.startswith(("artifacts/", "attestations/"))}


def _verified(*args: Any) -> dict[str, Any]:
    """``verify ARGS --json``: its report (exit 1 when a variant carries no attestations, as its ``ok`` says)."""
    result = skillpm("verify", *args, "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == (0 if report["ok"] else 1), result.output
    return report


def _attestation_count(report: dict[str, Any]) -> int:
    """How many attestations the report lists, every one verified."""
    assert all(item["ok"] for item in report["variants"] if item["attested"]), report
    return sum(len(item["attestations"]) for item in report["variants"])


def test_the_embedded_kernel_builder_round_trips_static_oci_static(
    isolated, oci_registry: RunningRegistry, tmp_path: Path
) -> None:
    """registry/ as it is now (every variant carries static-kernel evidence signed by the build's key)."""
    embedded, url, mirror = embedded_registry_path(), _url(oci_registry), tmp_path / "mirror"
    assert "pushed kernel-builder-cuda" in _ok("registry", "push", "embedded", url, KERNEL)
    assert "already pushed:" in _ok("registry", "push", "embedded", url, KERNEL)
    _ok("registry", "pull", url, mirror)  # no NAME: the packages the registry's catalog lists
    assert _kept(mirror) == _kept(embedded)
    document = f"index/{shard_path(KERNEL)}"
    assert json.loads((mirror / document).read_text()) == json.loads((embedded / document).read_text())
    counts = {
        str(where): _attestation_count(json.loads(_ok("verify", KERNEL, "--registry", where, "--key", EMBEDDED_KEY,
                                                      "--json")))
        for where in ("embedded", url, mirror)
    }
    assert len(set(counts.values())) == 1 and counts["embedded"] >= 1, counts
    oci = OciRegistry(url)
    entry = oci.require_package(KERNEL).versions[-1]
    manifests = oci.manifests(KERNEL, entry.version)
    for variant in entry.variants:  # each bundle is also a referrer of its variant's manifest
        referrers = oci.client.referrers(oci.location.repository(KERNEL), manifests[variant.target].digest)
        assert {item.artifact_type for item in referrers} <= {layout.BUNDLE_TYPE}
        assert len(referrers) == len(variant.attestations)


def test_installs_from_oci_and_from_the_static_index_give_identical_trees(
    oci_registry: RunningRegistry, isolated
) -> None:
    url = _url(oci_registry)
    _ok("registry", "push", "embedded", url)
    trees, locks = [], []
    for where in ("embedded", url):
        folder = isolated.tmp / "projects" / str(len(trees))
        _ok("install", KERNEL, "--arch", "h100", "--registry", where, "--dir", folder / "skills",
            "--require-attestations", "--trusted-key", EMBEDDED_KEY)
        trees.append(tree_bytes(folder / "skills" / KERNEL))
        lock = (folder / "skills" / "skills.lock").read_text()  # --dir outside the project keeps its own
        locks.append([line for line in lock.splitlines() if not line.startswith(("registry", "directory"))])
    assert trees[0] and trees[0] == trees[1]
    assert locks[0] == locks[1]  # the same name, version, target and sha256


def test_yanks_travel_static_oci_static(source: dict[str, Any], oci_registry: RunningRegistry, tmp_path: Path) -> None:
    url, static, mirror = _url(oci_registry), tmp_path / "static", tmp_path / "mirror"
    _ok("registry", "init", static)
    _ok("publish", source["source"], "--registry", static)
    _ok("registry", "yank", static, f"{NAME}==1.0.0", "--target", "generic")
    _ok("registry", "push", static, url)
    _ok("registry", "pull", url, mirror, NAME)
    document = f"index/{shard_path(NAME)}"
    assert json.loads((mirror / document).read_text()) == json.loads((static / document).read_text())
    assert '"yanked": true' in (mirror / document).read_text()


def test_a_yank_is_made_and_taken_back_on_the_oci_registry_itself(
    source: dict[str, Any], oci_registry: RunningRegistry, tmp_path: Path
) -> None:
    """A yank pushed from a static registry is never taken back by a push (tags only gain);
    'registry yank oci://... --undo' takes it back, moving only the tag: manifests and evidence stay."""
    url, static = _url(oci_registry), _published(source, tmp_path, "--evidence", source["eval"],
                                                 "--sign", f"key:{source['key']}")
    _ok("registry", "yank", static, f"{NAME}==1.0.0", "--target", "generic")
    _ok("registry", "push", static, url)
    def manifests() -> dict[str, str]:
        return {target: found.digest for target, found in OciRegistry(url).manifests(NAME, "1.0.0").items()}

    before = manifests()

    def yanked() -> dict[str, bool]:
        entry = OciRegistry(url).version_entry(NAME, "1.0.0")
        return {variant.target: variant.yanked for variant in entry.variants}

    assert yanked() == {"generic": True, "sm_90a": False}
    _ok("registry", "yank", static, f"{NAME}==1.0.0", "--undo")
    _ok("registry", "push", static, url)
    assert yanked() == {"generic": True, "sm_90a": False}  # a push never un-yanks

    report = json.loads(_ok("registry", "yank", url, f"{NAME}==1.0.0", "--undo", "--target", "generic", "--json"))
    assert report == {"name": NAME, "version": "1.0.0", "targets": ["generic"], "yanked": False}
    assert yanked() == {"generic": False, "sm_90a": False}
    assert "yanked layer-norm 1.0.0: sm_90a" in _ok("registry", "yank", url, f"{NAME}==1.0.0", "--target", "sm_90a")
    assert yanked() == {"generic": False, "sm_90a": True}
    assert manifests() == before  # the same variant manifests, so the same referrers (evidence)
    checked = _verified(f"{NAME}==1.0.0", "--registry", url, "--key", source["pub"])
    assert _attestation_count(checked) == 1

    assert one_error(skillpm("registry", "yank", url, f"{NAME}==1.0.0", "--target", "sm_80")) == (
        f"error: {NAME} 1.0.0 has no variant sm_80 (variants: generic, sm_90a)"
    )
    assert "not in the registry" in one_error(skillpm("registry", "yank", url, f"{NAME}==9.9.9"))
    assert "not signed" in one_error(skillpm("registry", "yank", url, f"{NAME}==1.0.0", "--key", source["key"]))


def test_a_push_says_how_it_moved_a_tag_it_had_pushed_before(
    source: dict[str, Any], oci_registry: RunningRegistry, tmp_path: Path
) -> None:
    """A push that moves a version's tag to carry a yank or new evidence says so; "already pushed" only when
    it moved nothing, and --json says which targets it yanked and which attestations it attached."""
    url, static = _url(oci_registry), _published(source, tmp_path)
    where = f"{url}/{NAME}"
    assert _ok("registry", "push", static, url) == f"pushed {NAME} 1.0.0 (generic, sm_90a) -> {where}\n"
    _ok("registry", "yank", static, f"{NAME}==1.0.0", "--target", "generic")
    assert _ok("registry", "push", static, url) == f"updated the tag of {NAME} 1.0.0 (yanked generic) -> {where}\n"

    _ok("registry", "yank", static, f"{NAME}==1.0.0", "--target", "sm_90a")
    attested = json.loads(_ok("attest", f"{NAME}==1.0.0", "--target", "sm_90a", "--evidence", source["eval"],
                              "--sign", f"key:{source['key']}", "--registry", static, "--json"))
    (version,) = json.loads(_ok("registry", "push", static, url, "--json"))["versions"]
    assert version == {"name": NAME, "version": "1.0.0", "targets": ["generic", "sm_90a"], "new": False,
                       "attached": [attested["attestation"]["path"]], "yanked": ["sm_90a"]}

    assert _ok("registry", "push", static, url) == f"already pushed: {NAME} 1.0.0 (generic, sm_90a) -> {where}\n"
    (version,) = json.loads(_ok("registry", "push", static, url, "--json"))["versions"]
    assert (version["new"], version["attached"], version["yanked"]) == (False, [], [])


def test_a_yank_refuses_a_tag_that_holds_another_version(
    source: dict[str, Any], oci_registry: RunningRegistry, tmp_path: Path
) -> None:
    """A tag 2.0.0 holding 1.0.0's index: yanking 2.0.0 must not yank 1.0.0 (and so move its tag)."""
    url = _url(oci_registry)
    _ok("registry", "push", _published(source, tmp_path), url)
    oci = OciRegistry(url)
    repository = oci.location.repository(NAME)
    index, _ = oci.client.manifest(repository, "1.0.0", layout.INDEX_TYPE)
    oci.client.push_manifest(repository, "2.0.0", index, layout.INDEX_TYPE)
    assert "the tag holds version '1.0.0'" in one_error(skillpm("registry", "yank", url, f"{NAME}==2.0.0"))
    assert not any(variant.yanked for variant in OciRegistry(url).version_entry(NAME, "1.0.0").variants)


def test_search_lists_what_the_catalog_holds_as_a_static_index_does(
    source: dict[str, Any], oci_registry: RunningRegistry, tmp_path: Path
) -> None:
    url, static = _url(oci_registry), _published(source, tmp_path)
    _ok("registry", "push", static, url)
    _ok("registry", "push", "embedded", url, KERNEL)
    found = {where: json.loads(_ok("search", NAME, "--registry", where, "--json")) for where in (static, url)}
    assert found[url] == found[static] and [entry["name"] for entry in found[url]] == [NAME]
    assert found[url][0]["targets"] == ["generic", "sm_90a"]
    kernels = json.loads(_ok("search", "cuda", "--registry", url, "--json"))
    assert [entry["name"] for entry in kernels] == [KERNEL]


class _NoCatalog(BaseHTTPRequestHandler):
    """An OCI registry that does not list its repositories (as ghcr.io): /v2/_catalog is 404."""

    def do_GET(self) -> None:
        status = 200 if self.path == "/v2/" else 404
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def test_search_says_a_registry_without_a_catalog_cannot_be_searched(isolated) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoCatalog)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = skillpm("search", "cuda", "--registry", f"oci://127.0.0.1:{server.server_port}/skills")
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, result.output
    assert "does not list its packages, so search cannot see them" in result.stderr
    assert "no package matches 'cuda'" in result.stderr


def _published(source: dict[str, Any], tmp_path: Path, *options: Any) -> Path:
    """A new static registry at ``tmp_path / "static"`` with the source published into it (with ``options``)."""
    static = tmp_path / "static"
    _ok("registry", "init", static)
    _ok("publish", source["source"], "--registry", static, *options)
    return static


@pytest.fixture
def source(isolated, tmp_path: Path) -> dict[str, Any]:
    """layer-norm 1.0.0, a key, and eval evidence about its sm_90a archive."""
    built = build_source(tmp_path, NAME, VARIANTS)
    sums = digests(built, tmp_path)
    key = write_key(tmp_path / "keys" / "me")
    evidence = write_json(tmp_path / "eval.json", make_evidence("eval", target="sm_90a", sha256=sums["sm_90a"]))
    return {"source": built, "sums": sums, "key": key, "pub": key.with_name("me.pub"), "eval": evidence}


def _other_version(tmp_path: Path) -> Path:
    """layer-norm 1.0.0 again, with other content: other archives under the same version."""
    return build_source(tmp_path / "other", NAME, {"generic": {"references/extra.md": "Changed.\n"}})


def test_publish_pushes_signed_evidence_and_refuses_other_content_under_a_tag(
    source: dict[str, Any], oci_registry: RunningRegistry, tmp_path: Path
) -> None:
    url = _url(oci_registry)
    published = json.loads(_ok("publish", source["source"], "--registry", url, "--evidence", source["eval"],
                               "--sign", f"key:{source['key']}", "--json"))
    assert published["registry"] == url
    assert {item["target"]: item["sha256"] for item in published["variants"]} == source["sums"]
    assert all(item["new"] for item in published["variants"])
    _ok("registry", "add-remote", "team", url)
    again = _ok("publish", source["source"], "--registry", "team")  # a configured name works as the URL
    assert "already published: layer-norm 1.0.0" in again
    bench = write_json(tmp_path / "bench.json", make_evidence("bench", target="sm_90a", sha256=source["sums"]["sm_90a"]))
    attested = _ok("publish", source["source"], "--registry", url, "--evidence", bench, "--sign", f"key:{source['key']}")
    assert "already published: layer-norm 1.0.0 (sm_90a)" in attested and "attested attestations/" in attested
    tags_before = OciRegistry(url).client.tags(f"skills/{NAME}")
    refused = skillpm("publish", _other_version(tmp_path), "--registry", url)
    assert "already published with other content" in one_error(refused)
    assert OciRegistry(url).client.tags(f"skills/{NAME}") == tags_before
    info = json.loads(_ok("info", NAME, "--registry", url, "--json"))
    (entry,) = info["versions"]
    assert {v["target"]: v["sha256"] for v in entry["variants"]} == source["sums"]
    report = _verified(NAME, "--registry", url, "--key", source["pub"])
    assert _attestation_count(report) == 2 and [item["attested"] for item in report["variants"]] == [False, True]
    _ok("install", NAME, "--arch", "h100", "--registry", url, "--require-attestations",
        "--trusted-key", source["pub"])


def test_attest_adds_signed_evidence_to_a_version_in_an_oci_registry_without_republishing_it(
    source: dict[str, Any], oci_registry: RunningRegistry, tmp_path: Path
) -> None:
    """Someone else's benchmark of a published archive, signed with their own key, attached by the owner."""
    url = _url(oci_registry)
    _ok("publish", source["source"], "--registry", url, "--evidence", source["eval"], "--sign", f"key:{source['key']}")
    repository = f"skills/{NAME}"
    client = OciRegistry(url).client
    before = client.manifest(repository, tags.tag_for("1.0.0"), layout.INDEX_TYPE)[0]
    theirs = write_key(tmp_path / "keys" / "benchmarker")
    bench = write_json(tmp_path / "bench.json", make_evidence("bench", target="sm_90a", sha256=source["sums"]["sm_90a"]))
    args = ("attest", f"{NAME}==1.0.0", "--target", "sm_90a", "--evidence", bench, "--sign", f"key:{theirs}",
            "--registry", url)
    attested = json.loads(_ok(*args, "--json"))
    assert attested["sha256"] == source["sums"]["sm_90a"] and attested["attestation"]["path"].startswith("attestations/")
    assert "already attested" in _ok(*args)  # the same statement again: nothing pushed
    after = OciRegistry(url)
    entry = after.version_entry(NAME, "1.0.0")
    assert {v.target: v.sha256 for v in entry.variants} == source["sums"]  # the archives are the published ones
    assert [len(v.attestations) for v in sorted(entry.variants, key=lambda v: v.target)] == [0, 2]
    attached = client.manifest(repository, tags.tag_for("1.0.0"), layout.INDEX_TYPE)[0]
    assert attached != before
    report = _verified(f"{NAME}==1.0.0", "--registry", url, "--key", source["pub"],
                       "--key", theirs.with_name("benchmarker.pub"))
    assert _attestation_count(report) == 2
    wrong = write_json(tmp_path / "wrong.json", make_evidence("bench", target="sm_90a", sha256="0" * 64))
    refused = skillpm("attest", f"{NAME}==1.0.0", "--target", "sm_90a", "--evidence", wrong, "--sign",
                      f"key:{theirs}", "--registry", url)
    assert "is not about layer-norm 1.0.0 (sm_90a)" in one_error(refused)
    gone = skillpm("attest", f"{NAME}==2.0.0", "--target", "sm_90a", "--evidence", bench, "--sign", f"key:{theirs}",
                   "--registry", url)
    assert "layer-norm 2.0.0 is not published" in one_error(gone)
    assert client.manifest(repository, tags.tag_for("1.0.0"), layout.INDEX_TYPE)[0] == attached  # refused: unmoved


def test_sync_installs_the_locked_digest_or_refuses_after_the_tag_moved(
    source: dict[str, Any], oci_registry: RunningRegistry, isolated, tmp_path: Path
) -> None:
    url = _url(oci_registry)
    _ok("publish", source["source"], "--registry", url)
    _ok("install", NAME, "--arch", "h100", "--registry", url)
    installed = isolated.skills / NAME  # the one copy (.claude/skills/NAME links to it)
    tree, lock = tree_bytes(installed), (isolated.project / "skills.lock").read_bytes()
    other = tmp_path / "other-reg"
    _ok("registry", "init", other)
    _ok("publish", _other_version(tmp_path), "--registry", other)
    moved = LocalRegistry(other, other.as_uri()).require_package(NAME).versions[0]
    files = {variant.path: (other / variant.path).read_bytes() for variant in moved.variants}
    push_version(OciRegistry(url), NAME, moved, files)  # someone moves the tag to other archives
    shutil.rmtree(installed)
    refused = skillpm("sync")
    assert "locked but no longer in" in one_error(refused) or "digest mismatch" in refused.stderr
    assert not installed.exists() and (isolated.project / "skills.lock").read_bytes() == lock
    assert tree  # what sync would have installed is the locked tree, never the moved tag's


def test_an_archive_blob_failing_its_digest_is_refused(
    oci_registry: RunningRegistry, isolated, tmp_path: Path
) -> None:
    url = _url(oci_registry)
    _ok("registry", "push", "embedded", url)
    sha256 = json.loads(_ok("resolve", KERNEL, "--arch", "h100", "--registry", url, "--json"))["sha256"]
    blob = oci_registry.storage / "docker/registry/v2/blobs/sha256" / sha256[:2] / sha256 / "data"
    data = bytearray(blob.read_bytes())
    data[-1] ^= 1
    blob.write_bytes(bytes(data))  # the registry's storage corrupted (or the blob substituted)
    refused = skillpm("install", KERNEL, "--arch", "h100", "--registry", url)
    assert "does not match its digest" in one_error(refused)
    assert not (isolated.project / ".claude" / "skills" / KERNEL).exists()
    pulled = skillpm("registry", "pull", url, tmp_path / "mirror", KERNEL)
    assert "does not match its digest" in one_error(pulled)
    assert not (tmp_path / "mirror").exists()  # all or nothing: not even an empty registry


def test_tls_with_htpasswd_through_the_cli(
    source: dict[str, Any], oci_registry_tls: RunningRegistry, monkeypatch: pytest.MonkeyPatch, isolated
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(isolated.tmp / "no-docker"))
    url = _url(oci_registry_tls)
    refused = skillpm("publish", source["source"], "--registry", url)
    assert "needs credentials" in one_error(refused) and "docker login" in refused.stderr
    for variable, value in login_env(oci_registry_tls.host).items():
        monkeypatch.setenv(variable, value)
    published = skillpm("publish", source["source"], "--registry", url)
    assert published.exit_code == 0, published.output
    installed = skillpm("install", NAME, "--arch", "h100", "--registry", url)
    assert installed.exit_code == 0, installed.output
    assert PASSWORD not in published.output + installed.output
    assert 'registry = "oci://' in (isolated.project / "skills.lock").read_text()


class _Cutter:
    """A TCP relay in front of a registry that kills it at the ``nth`` PUT whose path holds ``marker``."""

    def __init__(self, running: RunningRegistry, marker: bytes, nth: int) -> None:
        self.running, self.marker, self.nth, self.seen = running, marker, nth, 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.host = f"127.0.0.1:{self.server.getsockname()[1]}"
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", int(self.running.host.rsplit(":", 1)[1])), timeout=10)
        except OSError:
            client.close()
            return
        threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()
        self._pump(client, upstream, True)

    def _pump(self, source: socket.socket, sink: socket.socket, requests: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if requests and chunk.startswith(b"PUT ") and self.marker in chunk.split(b"\r\n", 1)[0]:
                    with self.lock:
                        self.seen += 1
                        if self.seen == self.nth:
                            self.running.stop()  # the registry goes away mid-request
                            raise OSError("cut")
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            source.close()
            sink.close()

    def close(self) -> None:
        self.server.close()


@pytest.fixture(params=[2, 4], ids=["at-the-second-variant", "at-the-tag"])
def cutter(oci_registry: RunningRegistry, request: pytest.FixtureRequest) -> Iterator[_Cutter]:
    """Manifest PUTs: variant 1, variant 2, the index by digest, the tag; the registry goes at one of them."""
    relay = _Cutter(oci_registry, b"/manifests/", request.param)
    yield relay
    relay.close()


def test_a_registry_that_goes_away_mid_publish_is_left_with_no_tag(
    source: dict[str, Any], oci_registry: RunningRegistry, cutter: _Cutter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILLPM_HTTP_RETRIES", "1")
    refused = skillpm("publish", source["source"], "--registry", f"oci://{cutter.host}/skills")
    one_error(refused)
    assert cutter.seen == cutter.nth
    oci_registry.restart()
    reader = OciRegistry(_url(oci_registry))
    assert reader.client.tags(f"skills/{NAME}") == []
    for sha256 in source["sums"].values():  # what was pushed before the cut is there, unreferenced
        assert reader.client.blob(f"skills/{NAME}", f"sha256:{sha256}")
    assert reader.package(NAME) is None
    assert "no package named" in one_error(skillpm("info", NAME, "--registry", _url(oci_registry)))


def test_pull_refuses_a_bundle_path_outside_the_attestations_folder(
    source: dict[str, Any], oci_registry: RunningRegistry, tmp_path: Path
) -> None:
    """A hostile OCI registry cannot make pull write a registry's config, keys or index through a bundle path."""
    from skillpm.archive import sha256_bytes
    from skillpm.index.model import Attestation

    url, static = _url(oci_registry), _published(source, tmp_path)
    entry = LocalRegistry(static, static.as_uri()).require_package(NAME).versions[0]
    bundle = b'{"not": "a bundle"}'
    evil = Attestation("config.json", sha256_bytes(bundle), "https://skillpm.dev/attestations/eval/v1")
    hostile = entry._replace(variants=(entry.variants[0]._replace(attestations=(evil,)), *entry.variants[1:]))
    files = {variant.path: (static / variant.path).read_bytes() for variant in entry.variants}
    push_version(OciRegistry(url), NAME, hostile, {**files, "config.json": bundle})
    mirror = tmp_path / "mirror"
    _ok("registry", "init", mirror)
    before = tree_bytes(mirror)
    refused = skillpm("registry", "pull", url, mirror, NAME)
    assert "is not where a static registry keeps it" in one_error(refused)
    assert tree_bytes(mirror) == before


def test_pull_never_writes_into_or_removes_a_folder_that_is_not_a_registry(
    oci_registry: RunningRegistry, tmp_path: Path
) -> None:
    url = _url(oci_registry)
    _ok("registry", "push", "embedded", url)
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    assert "holds no registry and is not empty" in one_error(skillpm("registry", "pull", url, folder, KERNEL))
    assert tree_bytes(folder) == {"notes.txt": b"mine"}
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = skillpm("registry", "pull", url, empty, "no-such-skill")
    assert "no package named" in one_error(refused)
    assert empty.is_dir() and not any(empty.iterdir())
