"""Index integrity against a hostile HTTP index cache: one that someone else can write (a shared CI cache,
a restored cache key), but not the user's data folder nor the registry's key.

The signed registry of test_index_integrity is served on 127.0.0.1 by 'registry serve', which answers
304 to an exact ETag. Planting a validator is what such an attacker does to make the real server
vouch for the cached bytes: the server's current ETag is public.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tomllib
import urllib.request
from pathlib import Path

import pytest
import test_http_server
from conftest import build_source, publish_source
from test_http_cli import assert_one_error
from test_index_integrity import DOCUMENT, KERNEL, fresh_session, index_key, install, publish_version, registry, resolve, skillpm  # noqa: F401

from skillpm.attest.keys import keygen
from skillpm.index import snapshot as snapshots
from skillpm.registry import pins, store

Served = test_http_server.Served
served = test_http_server.served
fast_retries = test_http_server.fast_retries


def cached(isolated, relative: str) -> Path:
    """The index cache's copy of ``relative`` (of the one registry the test reads)."""
    [path] = isolated.cache.glob(f"index/*/{relative}")
    return path


def plant(path: Path, body: bytes) -> None:
    """Put ``body`` in the cache entry at ``path``, its .meta's sha256 to match and its validators kept."""
    path.write_bytes(body)
    meta = path.with_name(path.name + ".meta")
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "sha256": hashlib.sha256(body).hexdigest()}))


def plant_current_etags(isolated, url: str) -> None:
    """Give every cached entry the server's current ETag of its file: the server then vouches for it (304)."""
    [root] = isolated.cache.glob("index/*")
    for meta in root.rglob("*.meta"):
        relative = meta.relative_to(root).as_posix().removesuffix(".meta")
        with urllib.request.urlopen(f"{url}/{relative}") as response:
            etag = response.headers["ETag"]
        meta.write_text(json.dumps({**json.loads(meta.read_text()), "etag": etag, "last-modified": None}))


def locked_version(project: Path) -> str:
    return tomllib.loads((project / "skills.lock").read_text())["skill"][0]["version"]


@pytest.fixture
def planted(isolated, served: Served, registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh runner (nothing pinned) whose cache was filled from the attacker's registry at the same URL.

    The attacker's registry is signed by their key and holds kernel-helper 6.6.6; it is served in
    place of the real one to fill the cache, then the real one is back with the cached validators
    set to its current ETags. Returns the victim's fresh project, the current folder.
    """
    genuine = Path(shutil.copytree(registry, tmp_path / "genuine"))
    shutil.rmtree(registry)
    monkeypatch.setenv(store.INDEX_KEY_ENV, str(keygen(tmp_path / "evil" / "index").private_path))
    store.init(registry, name="signed")
    publish_source(registry, build_source(tmp_path / "evil", KERNEL, {"generic": {}, "sm_90a": {}}, version="6.6.6"),
                   tmp_path / "evil" / "dist")
    assert install(served.url).returncode == 0
    shutil.rmtree(pins.trust_root())
    shutil.rmtree(registry)
    shutil.copytree(genuine, registry)
    plant_current_etags(isolated, served.url)
    victim = tmp_path / "victim"
    (victim / ".git").mkdir(parents=True)
    monkeypatch.chdir(victim)
    return victim


def test_first_use_pins_the_registry_s_own_key_whatever_the_cache_holds(planted: Path, served: Served, index_key) -> None:
    result = install(served.url)
    assert result.returncode == 0, result.stderr
    assert locked_version(planted) == "1.0.0"
    assert "6.6.6" not in (planted / ".agents" / "skills" / KERNEL / "SKILL.md").read_text()
    assert pins.PinStore().load(served.url).keys.keys() == {index_key.fingerprint}


def test_first_use_offline_refuses_to_pin_a_key_from_the_cache(planted: Path, served: Served) -> None:
    served.stop()
    result = skillpm("install", KERNEL, "--arch", "9.0", "--registry", served.url, "--offline")
    assert_one_error(result, "not pinned yet", "never from the cache")
    assert f"'skillpm registry trust {served.url} --index-key KEY.pub'" in result.stderr
    assert not (planted / "skills.lock").exists() and pins.PinStore().load(served.url) is None


def test_planted_validators_do_not_freeze_a_signed_registry(isolated, served: Served, registry: Path, tmp_path: Path) -> None:
    assert install(served.url).returncode == 0
    publish_version(registry, "2.0.0", tmp_path)
    plant_current_etags(isolated, served.url)  # the old snapshot and documents, vouched for by today's ETags
    result = resolve(served.url)
    assert result.returncode == 0 and "2.0.0" in result.stdout, result.stdout + result.stderr


def test_a_cached_document_altered_in_place_is_fetched_again_once(isolated, served: Served, registry: Path) -> None:
    assert install(served.url).returncode == 0
    entry = cached(isolated, DOCUMENT)
    plant(entry, entry.read_bytes().replace(b"1.0.0", b"1.0.1"))  # its genuine validators kept: the server says 304
    since = len(served.script.log)
    for _ in range(2):
        result = skillpm("info", KERNEL, "--registry", served.url)
        assert result.returncode == 0, result.stderr
    asked = [(status, "if-none-match" in headers) for _, status, headers in served.script.requests(DOCUMENT, since=since)]
    assert asked == [(304, True), (200, False), (304, True)]
    assert entry.read_bytes() == (registry / DOCUMENT).read_bytes()


@pytest.mark.parametrize("tampering", ["document", "rollback"])
def test_offline_a_cache_that_fails_the_checks_is_named_with_how_to_refresh_it(
    isolated, served: Served, registry: Path, tmp_path: Path, tampering: str
) -> None:
    older = {name: (registry / name).read_bytes() for name in (snapshots.SNAPSHOT, snapshots.SIGNATURE)}
    publish_version(registry, "2.0.0", tmp_path)
    assert install(served.url).returncode == 0
    served.stop()
    if tampering == "document":
        entry = cached(isolated, DOCUMENT)
        plant(entry, entry.read_bytes().replace(b"1.0.0", b"1.0.1"))
    else:
        for name, body in older.items():
            plant(cached(isolated, name), body)
    result = skillpm("resolve", KERNEL, "--arch", "9.0", "--registry", served.url, "--offline")
    assert_one_error(result, "offline: refusing the index cache of " + served.url)
    [hint] = [line for line in result.stderr.splitlines() if line.startswith("hint: ")]
    assert "run the command once without --offline" in hint and str(isolated.cache / "index") in hint


def test_offline_an_unreadable_trust_record_is_not_blamed_on_the_cache(isolated, served: Served) -> None:
    assert install(served.url).returncode == 0
    served.stop()
    [record] = pins.trust_root().glob("*.json")
    record.write_text("not a trust record")
    result = skillpm("resolve", KERNEL, "--arch", "9.0", "--registry", served.url, "--offline")
    assert_one_error(result, "the trust record for", "is unreadable")
    assert "index cache" not in result.stderr
