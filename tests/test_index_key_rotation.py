"""Index-key rotation: a client follows a rotation that the old and the new key both sign, and nothing else adds a key.

The owner rotates with the real ``skillpm registry rotate-key`` (its current key comes from
``$SKILLPM_INDEX_KEY``, as the ``registry`` fixture of test_index_integrity sets it); the client
reads with the real ``skillpm resolve`` and ``install``, from the directory and over HTTP on
127.0.0.1 (``where``). Attacks are staged on the registry's files, as a mirror would serve them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import test_index_integrity as integrity
from test_http_cli import assert_one_error
from test_index_integrity import assert_refused, install, resolve, skillpm, snapshot_of
from test_index_schemas import assert_valid, validator

from skillpm.attest.keys import GeneratedKey, SigningKey, generate, keygen
from skillpm.errors import IndexFormatError
from skillpm.index import snapshot as snapshots
from skillpm.index.snapshot import SnapshotSignature, signatures_document
from skillpm.registry import store

fresh_session = integrity.fresh_session
index_key = integrity.index_key
registry = integrity.registry
where = integrity.where
served = integrity.served
fast_retries = integrity.fast_retries


@pytest.fixture
def new_key(tmp_path: Path) -> GeneratedKey:
    return keygen(tmp_path / "keys" / "new")


def ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr


def start_rotation(root: Path, new: GeneratedKey) -> None:
    ok(skillpm("registry", "rotate-key", root, "--new-key", new.private_path))


def retire(root: Path, old: str, new: GeneratedKey) -> None:
    ok(skillpm("registry", "rotate-key", root, "--retire", old, "--key", new.private_path))


def pinned(isolated) -> set[str]:
    """The fingerprints this user trusts for the one registry the test reads."""
    (pin,) = (isolated.home / ".local" / "share" / "skillpm" / "index-trust").glob("*.json")
    return {item["fingerprint"] for item in json.loads(pin.read_text())["keys"]}


def signers(root: Path) -> set[str]:
    return {item["keyid"] for item in json.loads((root / snapshots.SIGNATURE).read_text())["signatures"]}


def sign(root: Path, data: dict, *keys: SigningKey) -> None:
    """Write ``data`` as the snapshot, signed by ``keys`` (as whoever holds them would)."""
    body = (json.dumps(data, indent=2) + "\n").encode()
    payload = snapshots.signed_bytes(body)
    (root / snapshots.SNAPSHOT).write_bytes(body)
    signatures = [SnapshotSignature(key.fingerprint, key.sign(payload)) for key in keys]
    (root / snapshots.SIGNATURE).write_text(json.dumps(signatures_document(signatures)))


def newer(root: Path, **change: object) -> dict:
    """The registry's snapshot, one version on, with ``change``."""
    data = snapshot_of(root)
    return {**data, "version": data["version"] + 1, **change}


# --- the owner ---------------------------------------------------------------------------------------------


def test_rotate_key_signs_with_both_keys_then_with_the_new_one(registry: Path, index_key, new_key) -> None:
    old, new = index_key.fingerprint, new_key.fingerprint
    start_rotation(registry, new_key)
    assert json.loads((registry / "config.json").read_text())["index-keys"] == [old, new]
    assert snapshot_of(registry)["keys"] == [old, new] and signers(registry) == {old, new}
    assert_valid(validator("snapshot"), snapshot_of(registry))
    published = new_key.public_path.read_bytes()
    assert (registry / snapshots.key_path(new)).read_bytes() == published
    assert (registry / snapshots.INDEX_KEY).read_bytes() == published  # what a first use pins from now on
    retire(registry, old, new_key)
    assert json.loads((registry / "config.json").read_text())["index-keys"] == [new]
    assert snapshot_of(registry)["keys"] == [new] and signers(registry) == {new}
    assert not (registry / snapshots.key_path(old)).exists()


def test_every_write_during_a_rotation_needs_every_key(
    registry: Path, index_key, new_key, monkeypatch: pytest.MonkeyPatch, snapshot
) -> None:
    start_rotation(registry, new_key)
    before = snapshot(registry)
    refused = skillpm("registry", "rebuild", registry)  # $SKILLPM_INDEX_KEY names the old key only
    assert_one_error(refused, "each of its 2 index keys", new_key.fingerprint[:16], "not among those given")
    assert snapshot(registry) == before
    old_path = os.environ[store.INDEX_KEY_ENV]
    ok(skillpm("registry", "rebuild", registry, "--key", old_path, "--key", new_key.private_path))
    monkeypatch.setenv(store.INDEX_KEY_ENV, os.pathsep.join([old_path, str(new_key.private_path)]))
    ok(skillpm("registry", "yank", registry, "kernel-helper==1.0.0"))
    assert signers(registry) == {index_key.fingerprint, new_key.fingerprint}
    ok(skillpm("registry", "rotate-key", registry, "--retire", index_key.fingerprint))  # the retired key is left out
    assert signers(registry) == {new_key.fingerprint}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--new-key", "{old}"], "is already an index key"),
        (["--retire", "0" * 64], "is not an index key"),
        (["--retire", "{fingerprint}"], "is the only index key"),
        (["--new-key", "{new}", "--key", "{other}"], "is not an index key"),
        (["--new-key", "{new}", "--key", "{new}"], "not among those given"),  # the current key must sign the change
    ],
)
def test_rotate_key_refuses_and_changes_nothing(
    registry: Path, index_key, new_key, tmp_path: Path, args: list[str], message: str, snapshot
) -> None:
    before = snapshot(registry)
    values = {
        "old": os.environ[store.INDEX_KEY_ENV],
        "new": new_key.private_path,
        "other": keygen(tmp_path / "keys" / "other").private_path,
        "fingerprint": index_key.fingerprint,
    }
    assert_one_error(skillpm("registry", "rotate-key", registry, *(arg.format(**values) for arg in args)), message)
    assert snapshot(registry) == before


def test_rotate_key_refuses_an_unsigned_registry_and_a_wrong_call(
    registry: Path, new_key, pristine_registry: Path, tmp_path: Path
) -> None:
    unsigned = shutil.copytree(pristine_registry, tmp_path / "unsigned")
    assert_one_error(skillpm("registry", "rotate-key", unsigned, "--new-key", new_key.private_path), "not signed")
    for args in ([], ["--new-key", new_key.private_path, "--retire", new_key.fingerprint]):
        result = skillpm("registry", "rotate-key", registry, *args)
        assert result.returncode == 2 and "give --new-key KEYFILE or --retire FINGERPRINT" in result.stderr


# --- the client: following a rotation ----------------------------------------------------------------------


@pytest.mark.parametrize("first_read", ["before", "during"])
def test_a_client_follows_the_rotation(isolated, where: str, registry: Path, index_key, new_key, first_read: str) -> None:
    """Pinned to the old key before the rotation, or pinning on first use during it."""
    if first_read == "before":
        ok(resolve(where))
        assert pinned(isolated) == {index_key.fingerprint}
    start_rotation(registry, new_key)
    ok(resolve(where))
    assert pinned(isolated) == {index_key.fingerprint, new_key.fingerprint}
    retire(registry, index_key.fingerprint, new_key)
    ok(install(where))
    assert pinned(isolated) == {new_key.fingerprint}


def test_a_client_that_skipped_the_rotation_is_refused_with_a_hint_that_works(
    isolated, where: str, registry: Path, index_key, new_key
) -> None:
    ok(resolve(where))
    start_rotation(registry, new_key)
    retire(registry, index_key.fingerprint, new_key)
    refused = install(where)
    assert_refused(refused, isolated, "INDEX KEY HAS CHANGED")
    assert "only while the old and the new key both sign" in refused.stderr
    (command,) = re.findall(r"'(skillpm registry trust .+? --index-key) NEW\.pub'", refused.stderr)
    ok(skillpm(*command.split()[1:], new_key.public_path))  # the hint, with the key checked with the owner
    ok(install(where))


def test_a_retired_key_is_no_longer_trusted(isolated, where: str, registry: Path, index_key, new_key) -> None:
    ok(resolve(where))
    start_rotation(registry, new_key)
    ok(resolve(where))
    retire(registry, index_key.fingerprint, new_key)
    ok(resolve(where))
    sign(registry, newer(registry, keys=[index_key.fingerprint]), index_key)  # whoever kept the retired key
    assert_refused(install(where), isolated, "INDEX KEY HAS CHANGED")


def test_a_snapshot_that_names_no_keys_leaves_the_pin_as_it_is(
    isolated, where: str, registry: Path, index_key, new_key
) -> None:
    start_rotation(registry, new_key)
    ok(resolve(where))
    data = newer(registry)
    del data["keys"]
    sign(registry, data, index_key)  # as a skillpm older than rotation, holding the old key, writes it
    ok(install(where))
    assert pinned(isolated) == {index_key.fingerprint, new_key.fingerprint}


# --- the client: nothing else adds a key -------------------------------------------------------------------


@pytest.mark.parametrize("with_old", [False, True], ids=["itself", "itself-and-the-old-key"])
def test_a_snapshot_signed_only_by_an_unpinned_key_that_names_itself_is_refused(
    isolated, where: str, registry: Path, index_key, with_old: bool
) -> None:
    ok(resolve(where))
    impostor = generate()
    (registry / snapshots.key_path(impostor.fingerprint)).write_bytes(impostor.public.pem())
    named = [index_key.fingerprint, impostor.fingerprint] if with_old else [impostor.fingerprint]
    sign(registry, newer(registry, keys=named), impostor)
    assert_refused(install(where), isolated, "INDEX KEY HAS CHANGED")
    assert pinned(isolated) == {index_key.fingerprint}


def test_a_forged_key_file_is_refused(isolated, where: str, registry: Path, index_key, new_key) -> None:
    ok(resolve(where))
    start_rotation(registry, new_key)
    forged = snapshots.key_path(new_key.fingerprint)
    (registry / forged).write_bytes(generate().public.pem())
    assert_refused(install(where), isolated, forged, "which the signed index snapshot does not list")
    assert pinned(isolated) == {index_key.fingerprint}


def test_a_named_key_that_did_not_sign_the_snapshot_is_not_added(
    isolated, where: str, registry: Path, index_key, new_key
) -> None:
    ok(resolve(where))
    start_rotation(registry, new_key)
    signatures = json.loads((registry / snapshots.SIGNATURE).read_text())
    signatures["signatures"] = [item for item in signatures["signatures"] if item["keyid"] == index_key.fingerprint]
    (registry / snapshots.SIGNATURE).write_text(json.dumps(signatures))
    assert_refused(install(where), isolated, new_key.fingerprint[:16], "did not sign it")
    assert pinned(isolated) == {index_key.fingerprint}



@pytest.mark.parametrize("sig", ["not base64!", "QUJDRA", "QUJDRA==extra", "QUJD\nRA==", "\u00c4\u00d6=="])
def test_a_signature_that_is_not_strict_base64_is_refused(sig: str) -> None:
    with pytest.raises(IndexFormatError, match="x: sig is not base64"):
        SnapshotSignature.from_json({"keyid": "k", "sig": sig}, "x")


def test_a_signature_reads_back_as_written() -> None:
    assert SnapshotSignature.from_json({"keyid": "k", "sig": "QUJD"}, "x").sig == b"ABC"
    signature = SnapshotSignature("k", bytes(range(256)))
    assert SnapshotSignature.from_json(signature.to_json(), "x") == signature
