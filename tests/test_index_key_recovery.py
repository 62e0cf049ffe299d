"""Recovering from a stolen index key: what ``skillpm registry trust --index-key`` replaces stays out.

The owner whose index key was stolen rotates to a new key and retires the old one at once
(docs/security.md, "Rotating the index key"); a client that missed the overlap pins the new
key by hand. The thief, holding the old key and serving the registry as a mirror, then
replays the overlap's snapshot (signed by both keys, naming both) or signs an index of its
own. Each step runs the real console script, from the directory and over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from test_http_server import Served
from test_index_integrity import assert_refused, install, resolve, skillpm, snapshot_of
from test_index_integrity import fast_retries, fresh_session, index_key, registry, served, where  # noqa: F401 (fixtures)
from test_index_key_rotation import new_key, newer, ok, pinned, retire, sign, start_rotation  # noqa: F401 (new_key)

from skillpm.attest.keys import generate, load_signing_key
from skillpm.index import snapshot as snapshots
from skillpm.registry.pins import Pin, PinStore

def pin_record(isolated) -> dict:
    """The trust record of the one registry the test reads, as stored."""
    (pin,) = (isolated.home / ".local" / "share" / "skillpm" / "index-trust").glob("*.json")
    return json.loads(pin.read_text())


def serve(registry: Path, copy: Path) -> None:
    """Make the registry's folder hold ``copy`` (what a mirror serves in its place)."""
    shutil.rmtree(registry)
    shutil.copytree(copy, registry)


def trust(where: str, public_key: Path, *args: str):
    return skillpm("registry", "trust", where, "--index-key", public_key, *args)


def days_left(registry: Path) -> int:
    expires = datetime.strptime(snapshot_of(registry)["expires"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return round((expires - datetime.now(timezone.utc)).total_seconds() / 86400)


def test_a_replayed_rotation_overlap_brings_back_neither_the_stolen_key_nor_an_old_index(
    isolated, where: str, registry: Path, index_key, new_key, tmp_path: Path
) -> None:
    old, new = index_key.fingerprint, new_key.fingerprint
    ok(resolve(where))  # pinned to the key that is then stolen
    start_rotation(registry, new_key)
    overlap = shutil.copytree(registry, tmp_path / "overlap")  # the thief's mirror keeps a copy
    retire(registry, old, new_key)
    ok(skillpm("registry", "rebuild", registry, "--key", new_key.private_path))
    current = snapshot_of(registry)["version"]
    assert_refused(install(where), isolated, "INDEX KEY HAS CHANGED")  # this client missed the overlap
    trusted = trust(where, new_key.public_path, "--json")
    ok(trusted)
    owners = shutil.copytree(registry, tmp_path / "owners")

    serve(registry, overlap)  # signed by the old and the new key, naming both, valid for weeks
    assert_refused(install(where), isolated, f"older than version {current}", "rolled-back")
    assert pinned(isolated) == {new}
    sign(registry, newer(registry, version=current + 5, keys=[old]), index_key)  # the thief's own index
    assert_refused(install(where), isolated, "INDEX KEY HAS CHANGED")
    assert pinned(isolated) == {new}
    serve(registry, owners)
    ok(install(where))  # the owner's registry is the one still trusted

    label = json.loads(trusted.stdout)["registry"]
    assert json.loads(trusted.stdout) == {
        "registry": label, "index_key": new, "version": current, "verified": True, "revoked": [old],
    }
    assert f"no longer trusting index key {old[:16]}..." in trusted.stderr
    assert f"current index (version {current}) is signed by it" in trusted.stderr


def test_a_key_replaced_by_hand_is_not_added_back_by_a_snapshot_that_names_it(
    isolated, where: str, registry: Path, index_key, new_key
) -> None:
    """The mirror already serves the overlap when the user pins the new key: it verifies, but the old key stays out."""
    old, new = index_key.fingerprint, new_key.fingerprint
    ok(resolve(where))
    start_rotation(registry, new_key)
    ok(trust(where, new_key.public_path))
    ok(resolve(where))
    assert pinned(isolated) == {new}
    sign(registry, newer(registry, keys=[old]), index_key)
    assert_refused(install(where), isolated, "INDEX KEY HAS CHANGED")
    both = (index_key, load_signing_key(new_key.private_path))
    sign(registry, newer(registry, keys=[old]), *both)  # signed by the new key too, naming only the old
    assert_refused(install(where), isolated, f"names the index key {old[:16]}...", "revoked")
    assert pinned(isolated) == {new}


@pytest.mark.parametrize("why", ["unreachable", "signed-by-another-key"])
def test_trust_keeps_the_newest_version_seen_when_it_cannot_check_the_key(
    isolated, served: Served, registry: Path, index_key, new_key, why: str
) -> None:
    ok(install(served.url))
    seen = pin_record(isolated)["version"]
    assert seen == snapshot_of(registry)["version"] > 0
    if why == "unreachable":
        served.stop()
    else:
        ok(skillpm("registry", "rebuild", registry))  # a newer index, still signed by the old key alone
    result = trust(served.url, new_key.public_path, "--json")
    ok(result)
    assert json.loads(result.stdout)["verified"] is False
    assert f"the newest index version seen stays {seen}" in result.stderr and "warning: " in result.stderr
    record = pin_record(isolated)
    assert [item["fingerprint"] for item in record["keys"]] == [new_key.fingerprint]
    assert record["version"] == seen and record["revoked"] == [index_key.fingerprint]


def test_forget_keeps_the_revoked_keys_and_only_the_users_word_trusts_one_again(
    isolated, where: str, registry: Path, index_key, new_key
) -> None:
    ok(resolve(where))
    ok(trust(where, new_key.public_path))  # the registry is still signed by the old key: a warning
    forgotten = skillpm("registry", "trust", where, "--forget")
    ok(forgotten)
    assert "forgot the index key" in forgotten.stdout
    assert_refused(install(where), isolated, snapshots.INDEX_KEY, "revoked")  # trust on first use, of a revoked key
    ok(trust(where, registry / snapshots.INDEX_KEY))
    ok(install(where))
    assert pinned(isolated) == {index_key.fingerprint} and "revoked" not in pin_record(isolated)


def test_a_snapshot_naming_two_keys_expires_sooner_unless_told(registry: Path, index_key, new_key) -> None:
    assert days_left(registry) == snapshots.DEFAULT_EXPIRES_DAYS
    start_rotation(registry, new_key)
    assert days_left(registry) == snapshots.ROTATION_EXPIRES_DAYS == 30
    keys = ["--key", os.environ["SKILLPM_INDEX_KEY"], "--key", new_key.private_path]
    ok(skillpm("registry", "rebuild", registry, *keys))
    assert days_left(registry) == 30
    ok(skillpm("registry", "rebuild", registry, *keys, "--expires-days", "90"))
    assert days_left(registry) == 90
    retire(registry, index_key.fingerprint, new_key)
    assert days_left(registry) == 365


def test_a_trust_record_keeps_revoked_keys_and_reads_one_written_before_them(tmp_path: Path) -> None:
    store = PinStore(tmp_path)
    key, revoked = generate().public, "ab" * 32
    store.save(Pin("https://skills.example", {key.fingerprint: key.pem()}, 7, (revoked,)))
    pinned = Pin("https://skills.example", {key.fingerprint: key.pem()}, 7, (revoked,))
    assert store.load("https://skills.example") == pinned
    assert store.forget("https://skills.example") is True
    assert store.load("https://skills.example") == Pin("https://skills.example", {}, 0, (revoked,))
    assert store.forget("https://skills.example") is False
    (path,) = tmp_path.glob("*.json")
    path.write_text(json.dumps({"registry": "https://skills.example", "version": 3,
                                "keys": [{"fingerprint": key.fingerprint, "pem": key.pem().decode()}]}))
    assert store.load("https://skills.example") == Pin("https://skills.example", {key.fingerprint: key.pem()}, 3, ())


@pytest.mark.parametrize(("keys", "days"), [((), 365), (("a",), 365), (("a", "b"), 30)])
def test_default_expires_days(keys: tuple[str, ...], days: int) -> None:
    assert snapshots.default_expires_days(keys) == days
