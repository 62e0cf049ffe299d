"""Offline, the index cache never says on its own that a registry is unsigned.

Whoever can write the user's cache (a CI cache restored from a shared key) but not the data
folder plants the index cache of an HTTP registry whose key the user has not pinned: a
``config.json`` without ``index-keys``, and unsigned documents and an archive of their own. Read
offline, that registry was taken as unsigned, its cache the only authority, and their archive
installed. Now a cached registry is read offline as unsigned only when the user's data folder
records that it was read unsigned online; the embedded registry and local folders are not
cached and need no record. Each case serves registries from a folder on 127.0.0.1 and runs the
real command line (``hostile.run``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from skillpm.attest.keys import SigningKey, generate
from skillpm.cache import registry_key
from skillpm.pack import pack
from skillpm.registry import store
from tests.conftest import build_source
from tests.security.conftest import Hostile, serving

NAME = "demo"
REFUSED = "was never read online as an unsigned registry"


@pytest.fixture
def site(hostile: Hostile) -> Iterator[tuple[str, Path]]:
    """The URL of a server on 127.0.0.1 and the folder it serves (empty: a case puts a registry there)."""
    root = hostile.work / "site"
    root.mkdir()
    with serving(root) as url:
        yield url, root


def publish(hostile: Hostile, root: Path, version: str, keys: Sequence[SigningKey] = (), says: str = "") -> None:
    """Make ``root`` a new registry holding NAME ``version`` (signed by ``keys``, if any)."""
    shutil.rmtree(root)
    store.init(root, keys=keys)
    description = f"Helps with demo tasks{says}. Use when working on demo."
    build = Path(tempfile.mkdtemp(dir=hostile.work))
    source = build_source(build, NAME, version=version, description=description)
    store.add(root, [archive.path for archive in pack(source, build / "dist")], keys=keys)


def data_folder(hostile: Hostile) -> Path:
    return hostile.home / ".local" / "share" / "skillpm"


def record_of(hostile: Hostile, url: str) -> Path:
    """Where the data folder records how ``url`` was last read online."""
    return data_folder(hostile) / "index-seen" / f"{registry_key(url)}.json"


def project(hostile: Hostile, name: str) -> Path:
    folder = hostile.work / name
    (folder / ".git").mkdir(parents=True)
    return folder


def install(hostile: Hostile, url: str, *options: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return hostile.run("install", NAME, "--registry", url, *options, cwd=cwd)


def installed(folder: Path) -> str:
    return (folder / ".agents" / "skills" / NAME / "SKILL.md").read_text()


def plant_config(hostile: Hostile, url: str, edit: Callable[[dict], None]) -> None:
    """Edit the cached ``config.json`` of ``url`` in place, its .meta's sha256 to match (as a planter does)."""
    path = hostile.cache / "index" / registry_key(url + "/") / "config.json"
    config = json.loads(path.read_text())
    edit(config)
    body = json.dumps(config).encode()
    path.write_bytes(body)
    meta = path.with_name("config.json.meta")
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "sha256": hashlib.sha256(body).hexdigest()}))


def test_a_planted_unsigned_cache_of_a_signed_registry_is_refused_offline(hostile: Hostile, site) -> None:
    url, root = site
    publish(hostile, root, "6.6.6", says=" (planted)")  # the planter's unsigned registry at the real one's URL
    planter = {"XDG_DATA_HOME": str(hostile.work / "planter-data")}  # the victim's data folder is not theirs
    hostile.ok(hostile.run("install", NAME, "--registry", url, cwd=project(hostile, "planter"), env=planter))
    publish(hostile, root, "1.0.0", keys=[generate()])  # the real registry, signed by a key the victim never pinned

    offline = install(hostile, url, "--offline")

    hostile.refused(offline, REFUSED, url, "refusing the cache")
    assert f"'skillpm registry trust {url} --index-key KEY.pub'" in offline.stderr
    assert not (hostile.project / "skills.lock").exists()
    assert not (hostile.project / ".agents" / "skills" / NAME).exists()


def test_a_registry_read_unsigned_online_is_read_offline(hostile: Hostile, site) -> None:
    url, root = site
    publish(hostile, root, "1.0.0")
    hostile.ok(install(hostile, url))
    assert stat.S_IMODE(record_of(hostile, url).stat().st_mode) == 0o600
    shutil.rmtree(root)  # the server has nothing left to give

    elsewhere = project(hostile, "elsewhere")
    hostile.ok(install(hostile, url, "--offline", cwd=elsewhere))
    assert "demo tasks" in installed(elsewhere)


def _garbage(record: Path, url: str) -> None:
    record.write_text("not a record")


def _other_registry(record: Path, url: str) -> None:
    record.write_text(json.dumps({"registry": "http://127.0.0.1:9", "signed": False}))


def _not_a_boolean(record: Path, url: str) -> None:
    record.write_text(json.dumps({"registry": url, "signed": "false"}))


def _oversized(record: Path, url: str) -> None:
    record.write_text(json.dumps({"registry": url, "signed": False, "padding": "x" * 8192}))


def _fifo(record: Path, url: str) -> None:
    os.mkfifo(record)


@pytest.mark.parametrize("breaking", [_garbage, _other_registry, _not_a_boolean, _oversized, _fifo],
                         ids=["garbage", "other-registry", "not-a-boolean", "oversized", "fifo"])
def test_a_broken_record_is_no_record(hostile: Hostile, site, breaking: Callable[[Path, str], None]) -> None:
    url, root = site
    publish(hostile, root, "1.0.0")
    hostile.ok(install(hostile, url))
    record = record_of(hostile, url)
    record.unlink(missing_ok=True)
    record.parent.mkdir(parents=True, exist_ok=True)
    breaking(record, url)

    hostile.refused(install(hostile, url, "--offline", cwd=project(hostile, "elsewhere")), REFUSED)


def test_a_registry_that_became_signed_is_no_longer_read_offline_as_unsigned(hostile: Hostile, site) -> None:
    url, root = site
    publish(hostile, root, "1.0.0")
    hostile.ok(install(hostile, url))
    publish(hostile, root, "1.0.0", keys=[generate()])  # signed from now on
    hostile.ok(hostile.run("resolve", NAME, "--registry", url))  # read online: its key pinned, its record updated
    hostile.ok(hostile.run("registry", "trust", url, "--forget"))
    plant_config(hostile, url, lambda config: config.pop("index-keys"))

    hostile.refused(install(hostile, url, "--offline", cwd=project(hostile, "elsewhere")), REFUSED)


def test_the_embedded_registry_and_a_local_folder_need_no_record_offline(hostile: Hostile) -> None:
    folder = hostile.work / "folder"
    folder.mkdir()
    publish(hostile, folder, "1.0.0")

    hostile.ok(hostile.run("install", NAME, "--registry", folder, "--offline"))
    hostile.ok(hostile.run("install", "kernel-builder-cuda", "--arch", "9.0", "--offline"))

    assert not (data_folder(hostile) / "index-seen").exists()


def test_forgetting_a_registrys_trust_forgets_that_it_was_read_unsigned(hostile: Hostile, site) -> None:
    url, root = site
    publish(hostile, root, "1.0.0")
    hostile.ok(install(hostile, url))
    other = hostile.work / "other-site"
    other.mkdir()
    with serving(other) as other_url:
        publish(hostile, other, "1.0.0")
        hostile.ok(install(hostile, other_url, cwd=project(hostile, "other")))
    kept = record_of(hostile, other_url).read_bytes()

    forgot = hostile.ok(hostile.run("registry", "trust", url, "--forget", "--json"))

    assert json.loads(forgot.stdout) == {"registry": url, "forgotten": False, "online_read_forgotten": True}
    assert not record_of(hostile, url).exists()
    assert record_of(hostile, other_url).read_bytes() == kept  # only that registry's record
    hostile.refused(install(hostile, url, "--offline", cwd=project(hostile, "elsewhere")), REFUSED)
    again = hostile.ok(hostile.run("registry", "trust", url, "--forget"))
    assert again.stdout.strip() == f"no index key was pinned for {url}"
