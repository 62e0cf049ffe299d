"""Index integrity: a signed snapshot stops rollback, freeze and mix-and-match, from a directory and over HTTP.

The registry here is signed with a real Ed25519 key (``registry`` overrides the
conftest fixture, so ``served`` serves it on 127.0.0.1). Each attack is staged on
the registry's files after a first, good command pinned the key and the snapshot
version, then run through the real console script: one ``error:`` line, no
traceback, nothing installed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
import test_http_server
from conftest import build_source, publish_source
from test_http_cli import assert_one_error
from test_index_schemas import assert_valid, validator

from skillpm.attest.keys import generate, keygen, load_signing_key, private_pem
from skillpm.errors import RegistryError
from skillpm.index import snapshot as snapshots
from skillpm.registry import pins, store, trust

Served = test_http_server.Served
served = test_http_server.served
fast_retries = test_http_server.fast_retries

KERNEL = "kernel-helper"
DOCUMENT = f"index/ke/rn/{KERNEL}.json"


@pytest.fixture(autouse=True)
def fresh_session() -> Iterator[None]:
    trust.forget_session()
    yield
    trust.forget_session()


@pytest.fixture
def index_key(tmp_path: Path):
    generated = keygen(tmp_path / "keys" / "index")
    return load_signing_key(generated.private_path)


@pytest.fixture
def registry(tmp_path: Path, index_key, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A signed registry: kernel-helper 1.0.0 and doc-writer 0.2.0 (the writes sign with $SKILLPM_INDEX_KEY)."""
    monkeypatch.setenv(store.INDEX_KEY_ENV, str(tmp_path / "keys" / "index"))
    root = tmp_path / "registry"
    store.init(root, name="signed")
    base = tmp_path / "build"
    publish_source(root, build_source(base, KERNEL, {"generic": {}, "sm_90a": {}}), base / "dist1")
    publish_source(root, build_source(base, "doc-writer", version="0.2.0"), base / "dist2")
    return root


@pytest.fixture(params=["directory", "http"])
def where(request: pytest.FixtureRequest, registry: Path) -> str:
    """The registry argument: the directory, or the server on 127.0.0.1 that serves it."""
    return str(registry) if request.param == "directory" else request.getfixturevalue("served").url


def skillpm(*args: str | Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("skillpm")
    return subprocess.run([str(script), *map(str, args)], capture_output=True, text=True, timeout=60)


def resolve(where: str, name: str = KERNEL) -> subprocess.CompletedProcess[str]:
    return skillpm("resolve", name, "--arch", "9.0", "--registry", where)


def install(where: str) -> subprocess.CompletedProcess[str]:
    return skillpm("install", KERNEL, "--arch", "9.0", "--registry", where)


def files(root: Path, *relative: str) -> dict[str, bytes]:
    return {name: (root / name).read_bytes() for name in relative}


def restore(root: Path, saved: dict[str, bytes]) -> None:
    for name, data in saved.items():
        (root / name).write_bytes(data)


def publish_version(root: Path, version: str, tmp: Path) -> None:
    publish_source(root, build_source(tmp / version, KERNEL, {"generic": {}, "sm_90a": {}}, version=version), tmp / f"dist-{version}")


def assert_refused(result: subprocess.CompletedProcess[str], isolated, *contains: str) -> None:
    assert_one_error(result, *contains)
    assert not (isolated.skills / KERNEL).exists() and not isolated.lockfile.exists()


def snapshot_of(root: Path) -> dict:
    return json.loads((root / snapshots.SNAPSHOT).read_text())


# --- the writer --------------------------------------------------------------------------------------------


def test_every_write_signs_a_newer_snapshot_of_every_document(registry: Path, index_key, tmp_path: Path) -> None:
    config = json.loads((registry / "config.json").read_text())
    assert config["index-keys"] == [index_key.fingerprint]
    assert (registry / snapshots.INDEX_KEY).read_bytes() == index_key.public.pem()
    assert (registry / snapshots.key_path(index_key.fingerprint)).read_bytes() == index_key.public.pem()
    first = snapshot_of(registry)
    assert first["version"] == 3 and first["keys"] == [index_key.fingerprint]  # init, then two adds
    listed = set(first["documents"])
    assert listed == {"config.json", "search.json", DOCUMENT, "index/do/c-/doc-writer.json"}
    store.yank(registry, KERNEL, "1.0.0", target="generic")
    assert snapshot_of(registry)["version"] == 4
    store.rebuild(registry, expires_days=10)
    rebuilt = snapshot_of(registry)
    assert rebuilt["version"] == 5 and rebuilt["expires"] < first["expires"]


def test_a_signed_registry_is_not_written_without_its_key(registry: Path, monkeypatch, snapshot) -> None:
    before = snapshot(registry)
    monkeypatch.delenv(store.INDEX_KEY_ENV)
    with pytest.raises(RegistryError, match="is signed"):
        store.yank(registry, KERNEL, "1.0.0")
    with pytest.raises(RegistryError, match="is not an index key"):
        store.yank(registry, KERNEL, "1.0.0", keys=[generate()])
    assert snapshot(registry) == before


def test_publish_into_a_signed_registry_without_its_key_says_how_to_give_it(
    isolated, registry: Path, monkeypatch, snapshot, tmp_path: Path, run_skillpm
) -> None:
    """publish signs the index with $SKILLPM_INDEX_KEY (it has no --key): the hint names that."""
    source = build_source(tmp_path, "late-skill")
    before = snapshot(registry)
    monkeypatch.delenv(store.INDEX_KEY_ENV)
    result = run_skillpm("publish", str(source), "--registry", str(registry))
    assert_one_error(result, "is signed", "a write must re-sign its snapshot")
    assert "hint: set $SKILLPM_INDEX_KEY to the index key's path" in result.stderr
    assert snapshot(registry) == before


def test_a_key_makes_an_unsigned_registry_signed(isolated, tmp_path: Path, pristine_registry: Path, index_key) -> None:
    root = Path(shutil.copytree(pristine_registry, tmp_path / "plain"))
    assert not (root / snapshots.SNAPSHOT).exists()
    store.rebuild(root, keys=[index_key])
    assert json.loads((root / "config.json").read_text())["index-keys"] == [index_key.fingerprint]
    assert resolve(str(root)).returncode == 0


# --- the client: what passes -------------------------------------------------------------------------------


def test_a_valid_snapshot_passes_and_pins_the_key_on_first_use(isolated, where: str, index_key) -> None:
    first = install(where)
    assert first.returncode == 0, first.stderr
    (pin,) = (isolated.home / ".local" / "share" / "skillpm" / "index-trust").glob("*.json")
    recorded = json.loads(pin.read_text())
    assert recorded["version"] == 3 and recorded["keys"][0]["fingerprint"] == index_key.fingerprint
    assert resolve(where).returncode == 0


def test_one_command_fetches_the_snapshot_once(isolated, served: Served, run_cli) -> None:
    result = run_cli("install", KERNEL, "doc-writer", "--arch", "9.0", "--registry", served.url)
    assert result.exit_code == 0, result.output
    assert len(served.script.requests(snapshots.SNAPSHOT)) == 1
    assert len(served.script.requests(snapshots.SIGNATURE)) == 1


def test_a_publication_between_two_reads_is_followed(isolated, registry: Path, tmp_path: Path) -> None:
    from skillpm.registry.factory import open_registry

    opened = open_registry(str(registry))
    opened.config()
    publish_version(registry, "1.1.0", tmp_path)  # this process's snapshot is now older than the documents
    versions = [entry.version for entry in opened.require_package(KERNEL).versions]
    assert versions == ["1.0.0", "1.1.0"]


def test_an_unsigned_registry_still_works_and_imports_no_cryptography(isolated, pristine_registry: Path) -> None:
    code = (
        "import sys; from skillpm.registry.factory import open_registry; "
        f"r = open_registry({str(pristine_registry)!r}); assert r.require_package({KERNEL!r}); "
        "print('cryptography' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == "False"
    assert resolve(str(pristine_registry)).returncode == 0
    assert not (isolated.home / ".local" / "share" / "skillpm" / "index-trust").exists()


def test_the_embedded_registry_is_unsigned_and_read_without_the_trust_machinery(isolated) -> None:
    """It ships inside skillpm and is trusted as part of it: resolving from it loads no trust code or crypto."""
    from skillpm.registry.factory import embedded_registry_path

    root = embedded_registry_path()
    assert "index-keys" not in json.loads((root / "config.json").read_text())
    assert not (root / snapshots.SNAPSHOT).exists() and not (root / "keys").exists()
    code = (
        "import sys; from skillpm.cli import main; sys.argv = ['skillpm', 'resolve', 'kernel-builder-cuda', "
        "'--arch', '9.0', '--registry', 'embedded']\n"
        "try:\n    main()\nexcept SystemExit as done:\n    assert done.code == 0, done.code\n"
        "print(sorted(m for m in ('cryptography', 'skillpm.registry.trust') if m in sys.modules), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "[]"


# --- the client: what is refused ---------------------------------------------------------------------------


def test_a_tampered_snapshot_is_refused(isolated, where: str, registry: Path) -> None:
    assert resolve(where).returncode == 0
    data = snapshot_of(registry)
    data["expires"] = "2999-01-01T00:00:00Z"
    (registry / snapshots.SNAPSHOT).write_text(json.dumps(data, indent=2) + "\n")
    assert_refused(install(where), isolated, "does not match its signature", "tampered")


def test_a_signature_document_padded_with_copies_is_refused(isolated, where: str, registry: Path) -> None:
    """A mirror repeats a pinned key's id with bogus signatures, so that every command verifies each (found by a
    hostile review: 90,000 copies cost 20 to 40 s of CPU per command, offline too): refused as it is read."""
    assert resolve(where).returncode == 0
    document = json.loads((registry / snapshots.SIGNATURE).read_text())
    [real] = document["signatures"]
    document["signatures"] = [{"keyid": real["keyid"], "sig": "AAAA"}] * 3 + [real]
    (registry / snapshots.SIGNATURE).write_text(json.dumps(document))
    assert_refused(install(where), isolated, "signs twice")
    document["signatures"] = [{"keyid": f"{n:064x}", "sig": "AAAA"} for n in range(snapshots.MAX_SIGNATURES)] + [real]
    (registry / snapshots.SIGNATURE).write_text(json.dumps(document))
    assert_refused(install(where), isolated, f"{snapshots.MAX_SIGNATURES + 1} signatures")


@pytest.mark.parametrize("count", [1, 2, snapshots.MAX_SIGNATURES])
def test_up_to_the_most_signatures_one_per_key_are_read(count: int) -> None:
    document = {"format-version": 1, "signatures": [{"keyid": f"{n:064x}", "sig": "AAAA"} for n in range(count)]}
    assert [item.keyid for item in snapshots.parse_signatures(document)] == [f"{n:064x}" for n in range(count)]


def test_a_snapshot_signed_by_another_key_is_refused_as_a_key_change(isolated, where: str, registry: Path) -> None:
    assert resolve(where).returncode == 0
    config = json.loads((registry / "config.json").read_text())
    del config["index-keys"]
    (registry / "config.json").write_text(json.dumps(config))
    store.rebuild(registry, keys=[generate()])  # an impostor takes the registry over with its own key
    assert_refused(install(where), isolated, "INDEX KEY HAS CHANGED")


def test_another_spelling_of_the_registry_s_url_keeps_its_pin(isolated, registry: Path, served: Served) -> None:
    """The pin was kept per URL as typed (found in a hostile review): after an impostor's key was refused at the
    pinned spelling, the same registry spelt otherwise, or named so by a cloned skills.lock, trusted it anew."""
    assert resolve(served.url).returncode == 0
    config = json.loads((registry / "config.json").read_text())
    del config["index-keys"]
    (registry / "config.json").write_text(json.dumps(config))
    store.rebuild(registry, keys=[generate()])
    scheme, rest = served.url.split("://")
    for spelling in (f"{scheme.upper()}://{rest}", f"{served.url}/./", f"{served.url}//", f"{served.url}/x/../"):
        assert_refused(install(spelling), isolated, "INDEX KEY HAS CHANGED")
    assert len(list(pins.trust_root().glob("*.json"))) == 1


def test_an_install_in_flight_never_undoes_registry_trust(isolated, served: Served, tmp_path: Path, index_key) -> None:
    """An install that read the pin before the user re-pinned the registry ('registry trust --index-key') or
    forgot its key saved the old key back when it ended (found in a hostile review): the user's decision stands."""
    assert resolve(served.url).returncode == 0
    other = tmp_path / "other.pub"
    other.write_bytes(generate().public.pem())
    for change in (["--index-key", str(other)], ["--forget"]):
        served.script.arrived.clear()
        served.script.release.clear()
        served.script.faults["snapshot.json.sig"] = ["held"]
        script = Path(sys.executable).with_name("skillpm")
        in_flight = subprocess.Popen([str(script), "resolve", KERNEL, "--arch", "9.0", "--registry", served.url],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert served.script.arrived.wait(30)  # it has read the pin, and waits for the signature
            assert skillpm("registry", "trust", served.url, *change).returncode == 0
            decided = pins.PinStore().load(served.url)
        finally:
            served.script.release.set()
            in_flight.communicate(timeout=60)
        assert pins.PinStore().load(served.url) == decided
        owner = tmp_path / "owner.pub"  # for the next round: the registry's own key again, by the user's word
        owner.write_bytes(index_key.public.pem())
        assert skillpm("registry", "trust", served.url, "--index-key", owner).returncode == 0


def test_a_published_key_that_config_does_not_list_is_refused(isolated, where: str, registry: Path) -> None:
    (registry / snapshots.INDEX_KEY).write_bytes(generate().public.pem())
    assert_refused(install(where), isolated, "config.json does not list")


def test_an_explicitly_pinned_key_refuses_another_on_first_use(isolated, where: str, tmp_path: Path) -> None:
    other = tmp_path / "other.pub"
    other.write_bytes(generate().public.pem())
    pinned = skillpm("registry", "trust", where, "--index-key", other)
    assert pinned.returncode == 0, pinned.stderr
    assert_refused(install(where), isolated, "INDEX KEY HAS CHANGED")
    assert skillpm("registry", "trust", where, "--forget").returncode == 0
    assert install(where).returncode == 0  # trusted on first use again


def test_an_expired_snapshot_is_refused(isolated, where: str, registry: Path) -> None:
    assert resolve(where).returncode == 0
    store.rebuild(registry, expires_days=-1)
    assert_refused(install(where), isolated, "expired", "frozen")


def test_a_rollback_to_an_older_signed_snapshot_is_refused(isolated, where: str, registry: Path, tmp_path: Path) -> None:
    old = files(registry, "config.json", "search.json", DOCUMENT, snapshots.SNAPSHOT, snapshots.SIGNATURE)
    publish_version(registry, "1.1.0", tmp_path)
    assert resolve(where).returncode == 0  # version 4 seen
    restore(registry, old)  # a mirror serves the older, validly signed index
    assert_refused(install(where), isolated, "older than version 4", "rolled-back")


def test_a_new_snapshot_with_an_old_package_document_is_refused(isolated, where: str, registry: Path, tmp_path: Path) -> None:
    old = files(registry, DOCUMENT)
    publish_version(registry, "1.1.0", tmp_path)
    restore(registry, old)
    assert_refused(install(where), isolated, DOCUMENT, "another publication")


def test_an_old_snapshot_with_a_new_package_document_is_refused(isolated, where: str, registry: Path, tmp_path: Path) -> None:
    old = files(registry, "search.json", snapshots.SNAPSHOT, snapshots.SIGNATURE)
    publish_version(registry, "1.1.0", tmp_path)
    restore(registry, old)  # this client never saw version 4: only the digests can tell
    assert_refused(install(where), isolated, DOCUMENT, "another publication")


def test_a_document_the_snapshot_does_not_list_is_refused(isolated, where: str, registry: Path) -> None:
    planted = registry / "index" / "ev" / "il" / "evil-skill.json"
    planted.parent.mkdir(parents=True)
    document = json.loads((registry / DOCUMENT).read_text())
    planted.write_text(json.dumps({**document, "name": "evil-skill"}))
    result = skillpm("install", "evil-skill", "--arch", "9.0", "--registry", where)
    assert_one_error(result, "index/ev/il/evil-skill.json", "not listed")
    assert not (isolated.skills / "evil-skill").exists()


def test_a_document_the_snapshot_lists_but_the_registry_withholds_is_refused(
    isolated, where: str, registry: Path
) -> None:
    """Hiding a package the snapshot lists is no 'not found': a later registry in the chain must not get to serve it."""
    assert resolve(where).returncode == 0
    (registry / DOCUMENT).unlink()
    assert_refused(install(where), isolated, DOCUMENT, "does not serve it")


def test_a_pinned_registry_that_turns_unsigned_is_refused(isolated, where: str, registry: Path) -> None:
    assert resolve(where).returncode == 0
    config = json.loads((registry / "config.json").read_text())
    del config["index-keys"]
    (registry / "config.json").write_text(json.dumps(config))
    for name in (snapshots.SNAPSHOT, snapshots.SIGNATURE):
        (registry / name).unlink()
    assert_refused(install(where), isolated, "snapshot.json is missing")


def test_offline_reads_check_the_cached_snapshot(isolated, served: Served, registry: Path) -> None:
    """Offline, the cached documents are held to the cached signed snapshot: a poisoned cache is refused."""
    assert install(served.url).returncode == 0
    served.stop()
    offline = ("resolve", KERNEL, "--arch", "9.0", "--registry", served.url, "--offline")
    result = skillpm(*offline)
    assert result.returncode == 0, result.stderr
    [cached] = isolated.cache.rglob(DOCUMENT.rsplit("/", 1)[1])
    document = json.loads(cached.read_bytes())
    document["versions"][0]["variants"][0]["sha256"] = "0" * 64
    poisoned = json.dumps(document).encode()
    cached.write_bytes(poisoned)
    meta = cached.with_name(cached.name + ".meta")  # consistent with itself: only the snapshot can tell
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "sha256": hashlib.sha256(poisoned).hexdigest()}))
    assert_one_error(skillpm(*offline), DOCUMENT, "signed index snapshot")


def test_pins_are_read_without_a_trust_folder_and_refused_when_it_is_unreadable(tmp_path: Path) -> None:
    """No trust folder: nothing pinned. A file where the folder should be is an error, never 'no pin'."""
    assert pins.PinStore(tmp_path / "absent").load("https://skills.example") is None
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(RegistryError, match="trust record for https://skills.example .* is unreadable"):
        pins.PinStore(tmp_path / "file").load("https://skills.example")


def test_add_remote_pins_the_given_index_key(isolated, registry: Path, index_key, tmp_path: Path) -> None:
    other = tmp_path / "other.pub"
    other.write_bytes(generate().public.pem())
    added = skillpm("registry", "add-remote", "team", registry, "--index-key", other)
    assert added.returncode == 0 and "trusting index key" in added.stdout, added.stderr
    assert_refused(install("team"), isolated, "INDEX KEY HAS CHANGED")
    assert skillpm("registry", "trust", "team", "--index-key", tmp_path / "keys" / "index.pub").returncode == 0
    assert install("team").returncode == 0


def test_the_cli_signs_with_key_and_expires_days(isolated, tmp_path: Path, run_cli) -> None:
    key = tmp_path / "cli.key"
    key.write_bytes(private_pem(generate()))
    key.chmod(0o600)  # a private key others can read is refused
    root = tmp_path / "cli-registry"
    result = run_cli("registry", "init", root, "--key", key, "--expires-days", "2")
    assert result.exit_code == 0 and "index signed with key" in result.output, result.output
    assert snapshot_of(root)["version"] == 1
    refused = run_cli("registry", "rebuild", root)
    assert refused.exit_code == 1 and "is signed" in refused.exception.message
    assert run_cli("registry", "rebuild", root, "--key", key).exit_code == 0
    assert snapshot_of(root)["version"] == 2


def test_the_written_snapshot_and_config_match_their_schemas(registry: Path) -> None:
    for kind, document in (("snapshot", snapshots.SNAPSHOT), ("config", "config.json")):
        assert_valid(validator(kind), json.loads((registry / document).read_text()))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"expires": "2030-01-01"}, "RFC 3339"),
        ({"expires": "2030-02-30T00:00:00Z"}, "not a valid time"),
        ({"version": -1}, "negative"),
        ({"version": True}, "wrong type"),
        ({"documents": {"../x.json": "0" * 64}}, "unsafe path"),
        ({"documents": {"config.json": "ABC"}}, "sha256"),
        ({"format-version": 2}, "format version 2"),
        ({"keys": ["ABC"]}, "sha256"),
        ({"keys": "0" * 64}, "wrong type"),
    ],
)
def test_a_malformed_snapshot_is_refused(change: dict, message: str) -> None:
    from skillpm.errors import IndexFormatError
    from skillpm.index.snapshot import Snapshot

    good = {"format-version": 1, "version": 1, "expires": "2030-01-01T00:00:00Z", "documents": {}}
    with pytest.raises(IndexFormatError, match=message):
        Snapshot.from_json({**good, **change})
