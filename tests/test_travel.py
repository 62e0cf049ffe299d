"""Lockfiles that travel: a registry in the project recorded relative to skills.lock, sync from a mirror,
from the artifact cache when offline, and past a dead registry (issue 17, part 5).

Every test runs the CLI against real folders and real HTTP servers on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from pathlib import Path

import pytest
import test_http_server
from test_http_cli import assert_one_error

Served = test_http_server.Served
served = test_http_server.served
fast_retries = test_http_server.fast_retries

KERNEL = "kernel-helper"


def lock_entries(lockfile: Path) -> list[dict[str, str]]:
    return tomllib.loads(lockfile.read_text())["skill"]


def clone(project: Path, to: Path) -> Path:
    """What 'git clone' gives on another machine: the project's files, without what install put in."""
    shutil.copytree(project, to, ignore=shutil.ignore_patterns(".claude", ".agents"))
    return to


def set_registry(lockfile: Path, value: str) -> None:
    entries = lock_entries(lockfile)
    text = lockfile.read_text()
    lockfile.write_text(text.replace(f'registry = "{entries[0]["registry"]}"', f"registry = {json.dumps(value)}"))


# --- a registry in the project is recorded relative to skills.lock -------------------------------------


def test_a_registry_in_the_project_is_recorded_relative_and_a_clone_syncs_on_another_machine(
    isolated, registry: Path, tmp_path: Path, run_skillpm, monkeypatch
) -> None:
    shutil.move(registry, isolated.project / "reg")
    installed = run_skillpm("install", KERNEL, "--arch", "9.0", "--registry", "./reg")
    assert installed.returncode == 0, installed.stderr
    assert lock_entries(isolated.lockfile)[0]["registry"] == "./reg"
    other = clone(isolated.project, tmp_path / "elsewhere" / "project")
    shutil.rmtree(isolated.project)  # the first machine's copy is gone: only the clone's ./reg can serve
    monkeypatch.setenv("SKILLPM_CACHE_DIR", str(tmp_path / "other-cache"))  # another machine: nothing cached

    result = run_skillpm("sync", cwd=other)

    assert result.returncode == 0, result.stderr
    assert (other / ".claude" / "skills" / KERNEL / "SKILL.md").is_file()
    assert lock_entries(other / "skills.lock")[0]["registry"] == "./reg"  # sync writes it as it found it
    listed = json.loads(run_skillpm("list", "--json", cwd=other).stdout)
    assert listed[0]["registry"] == (other / "reg").resolve().as_uri()


def test_how_a_registry_is_stored_and_read_back(tmp_path: Path) -> None:
    from skillpm.lockedregistry import loaded_registry, stored_registry

    root = tmp_path / "project"
    (root / "regs" / "team").mkdir(parents=True)
    inside = (root / "regs" / "team").resolve().as_uri()
    assert stored_registry(inside, root) == "./regs/team"
    assert loaded_registry("./regs/team", root) == inside
    for kept in (root.resolve().as_uri(), tmp_path.resolve().as_uri(), "https://example.org/reg", "embedded"):
        assert stored_registry(kept, root) == kept == loaded_registry(kept, root)


def test_a_registry_outside_the_project_stays_absolute(isolated, registry: Path, run_cli) -> None:
    result = run_cli("install", KERNEL, "--arch", "9.0", "--registry", os.path.relpath(registry))
    assert result.exit_code == 0, result.output
    assert lock_entries(isolated.lockfile)[0]["registry"] == registry.resolve().as_uri()


@pytest.mark.parametrize(
    "recorded", ["./../registry", "./reg/../../registry", "./.git/reg", "./", "./reg\\..\\..", "./link"]
)
def test_a_relative_registry_that_leads_out_of_the_project_is_refused(
    isolated, registry: Path, run_skillpm, recorded: str
) -> None:
    """A cloned skills.lock cannot aim sync at a folder outside the project through a relative path or a link."""
    shutil.copytree(registry, isolated.project / "reg")
    assert run_skillpm("install", KERNEL, "--arch", "9.0", "--registry", "./reg").returncode == 0
    shutil.rmtree(isolated.skills)
    (isolated.project / "link").symlink_to(registry)  # a link in the clone, out to a real registry
    set_registry(isolated.lockfile, recorded)

    result = run_skillpm("sync")

    assert_one_error(result, "skills.lock", "names registry")
    assert not isolated.skills.exists()


def test_a_registry_whose_folders_link_out_of_it_is_refused(isolated, registry: Path, run_skillpm) -> None:
    """The registry folder ./reg is real, but its index/ and artifacts/ are links out of the project (found by a
    hostile review): a directory registry reads no file through a link out of its folder."""
    shutil.copytree(registry, isolated.project / "reg")
    assert run_skillpm("install", KERNEL, "--arch", "9.0", "--registry", "./reg").returncode == 0
    shutil.rmtree(isolated.skills)
    shutil.rmtree(isolated.cache)
    for folder in ("index", "artifacts"):
        shutil.rmtree(isolated.project / "reg" / folder)
        (isolated.project / "reg" / folder).symlink_to(registry / folder, target_is_directory=True)

    result = run_skillpm("sync")

    assert_one_error(result, "leads out of the registry through a link")
    assert not isolated.skills.exists()


# --- sync --registry and $SKILLPM_REGISTRY: a mirror ---------------------------------------------------


def test_sync_reads_every_skill_from_a_mirror_and_the_lock_stays_as_it_was(
    isolated, registry: Path, served: Served, tmp_path: Path, run_cli, monkeypatch
) -> None:
    """The lock names a folder that is gone; --registry (then $SKILLPM_REGISTRY) serves the same bytes over HTTP."""
    original = shutil.copytree(registry, tmp_path / "original")
    assert run_cli("install", KERNEL, "doc-writer", "--arch", "9.0", "--registry", original).exit_code == 0
    before = isolated.lockfile.read_bytes()
    shutil.rmtree(original)
    for run in range(2):
        shutil.rmtree(isolated.skills)
        shutil.rmtree(isolated.cache)
        served.script.log.clear()
        if run == 0:
            result = run_cli("sync", "--registry", served.url)
        else:
            monkeypatch.setenv("SKILLPM_REGISTRY", served.url)
            result = run_cli("sync")
        assert result.exit_code == 0, result.output
        assert (isolated.skills / KERNEL / "SKILL.md").is_file() and (isolated.skills / "doc-writer").is_dir()
        assert isolated.lockfile.read_bytes() == before
        assert served.script.requests(f"{KERNEL}-1.0.0-sm_90a.tar.gz")


def other_bytes(tmp_path: Path, make_source, publish) -> Path:
    """A registry serving kernel-helper 1.0.0 with other files than the test registry's: other digests."""
    from skillpm.registry import store

    root = tmp_path / "impostor"
    store.init(root, name="impostor")
    variants = {target: {"references/notes.md": "Other notes.\n"} for target in ("generic", "sm_80", "sm_90a")}
    publish(root, make_source(tmp_path / "impostor-src", KERNEL, variants))
    return root


def test_a_mirror_cannot_change_what_is_installed(
    isolated, registry: Path, tmp_path: Path, make_source, publish, run_cli, snapshot
) -> None:
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry).exit_code == 0
    shutil.rmtree(isolated.cache)
    (isolated.skills / KERNEL / "SKILL.md").unlink()
    before = snapshot(isolated.project)

    result = run_cli("sync", "--registry", other_bytes(tmp_path, make_source, publish))

    assert result.exit_code == 1
    assert result.exception.message.startswith(f"digest mismatch for {KERNEL} 1.0.0 (sm_90a)")
    assert snapshot(isolated.project) == before


# --- sync --offline: the artifact cache is enough -----------------------------------------------------


def test_sync_offline_installs_from_the_cache_without_the_index_documents(
    isolated, served: Served, run_cli
) -> None:
    """The class of the bug: sync read every registry's documents, though the lock pins each archive by digest."""
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", served.url).exit_code == 0
    shutil.rmtree(isolated.cache / "index")  # what another project's install, or a cache clean-up, leaves
    shutil.rmtree(isolated.skills)
    since = len(served.script.log)

    result = run_cli("sync", "--offline")

    assert result.exit_code == 0, result.output
    assert (isolated.skills / KERNEL / "SKILL.md").is_file()
    assert "installed from the artifact cache by the locked sha256" in result.stderr
    assert "attestations were not checked" in result.stderr
    assert not served.script.requests("", since=since)  # offline: not one request


def test_sync_offline_without_the_archive_names_what_is_missing(isolated, served: Served, run_cli) -> None:
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", served.url).exit_code == 0
    shutil.rmtree(isolated.cache)
    shutil.rmtree(isolated.skills)

    result = run_cli("sync", "--offline")

    assert result.exit_code == 1
    assert result.exception.message.startswith(f"offline: {served.url}/config.json is not in the index cache")
    assert result.exception.message.endswith(f"{KERNEL} 1.0.0 (sm_90a) is not in the artifact cache either")
    assert not isolated.skills.exists()


def test_a_policy_that_requires_attestations_refuses_what_the_cache_alone_serves(
    isolated, registry: Path, tmp_path: Path, run_cli
) -> None:
    """Attestations are listed only by a registry's document: without one, a policy that requires them says no."""
    moved = shutil.copytree(registry, tmp_path / "moved")
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", moved).exit_code == 0
    shutil.rmtree(moved)
    shutil.rmtree(isolated.skills)

    result = run_cli("sync", "--require-attestations")

    assert result.exit_code != 0
    assert "has no verified attestation, and policy requires one" in result.exception.message
    assert not isolated.skills.exists()


# --- one dead registry among several --------------------------------------------------------------------


@pytest.fixture
def second(tmp_path: Path, registry: Path, fast_retries) -> Served:
    """Another server with the same registry's files: the same bytes from another URL."""
    server = Served(Path(shutil.copytree(registry, tmp_path / "second")))
    yield server
    server.stop()


def test_a_dead_registry_is_passed_over_for_another_that_lists_the_same_digest(
    isolated, served: Served, second: Served, run_cli
) -> None:
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", served.url).exit_code == 0
    assert run_cli("install", "doc-writer", "--registry", second.url).exit_code == 0
    shutil.rmtree(isolated.cache)
    shutil.rmtree(isolated.skills)
    served.stop()

    result = run_cli("sync")

    assert result.exit_code == 0, result.output
    assert (isolated.skills / KERNEL / "SKILL.md").is_file() and (isolated.skills / "doc-writer").is_dir()
    assert f"taking the locked sha256 from {second.url}" in result.stderr
    assert second.script.requests(f"{KERNEL}-1.0.0-sm_90a.tar.gz")
    assert [entry["registry"] for entry in lock_entries(isolated.lockfile)] == [second.url, served.url]


def test_a_dead_registry_is_passed_over_for_the_artifact_cache(isolated, served: Served, second: Served, run_cli) -> None:
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", served.url).exit_code == 0
    assert run_cli("install", "doc-writer", "--registry", second.url).exit_code == 0
    shutil.rmtree(isolated.skills)
    served.stop()

    result = run_cli("sync")

    assert result.exit_code == 0, result.output
    assert (isolated.skills / KERNEL / "SKILL.md").is_file()


def test_a_registry_with_the_same_name_but_other_bytes_is_never_taken(
    isolated, served: Served, tmp_path: Path, make_source, publish, run_cli, snapshot
) -> None:
    """Not dependency confusion: the configured registry lists kernel-helper 1.0.0, with other digests."""
    impostor = Served(other_bytes(tmp_path, make_source, publish))
    try:
        assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", served.url).exit_code == 0
        assert run_cli("registry", "add-remote", "other", impostor.url).exit_code == 0
        shutil.rmtree(isolated.cache)
        shutil.rmtree(isolated.skills)
        served.stop()
        before = snapshot(isolated.project)

        result = run_cli("sync")

        assert result.exit_code == 1
        assert result.exception.message.endswith(f"{KERNEL} 1.0.0 (sm_90a) is not in the artifact cache either")
        assert served.url in result.exception.message
        assert impostor.script.requests(f"index/ke/rn/{KERNEL}.json")  # it was asked ...
        assert not impostor.script.requests(".tar.gz")  # ... and none of its bytes taken
        assert snapshot(isolated.project) == before
    finally:
        impostor.stop()


def test_a_registry_that_did_not_answer_is_not_asked_again_for_the_next_skill(isolated, served: Served, run_cli) -> None:
    from skillpm.cache import ArtifactCache
    from skillpm.installing.pipeline import sync

    assert run_cli("install", KERNEL, "doc-writer", "--arch", "9.0", "--registry", served.url).exit_code == 0
    shutil.rmtree(isolated.skills)
    served.always("config.json", "503")  # every attempt fails: unreachable after the retries
    since = len(served.script.log)

    results = sync(isolated.lockfile, cache=ArtifactCache(), jobs=1)

    assert [result.name for result in results] == ["doc-writer", KERNEL]
    assert len(served.script.requests("config.json", since=since)) == 4  # $SKILLPM_HTTP_RETRIES, once in all


def test_a_registry_asked_in_turn_that_refuses_access_is_passed_over(isolated, served: Served, second: Served, run_cli) -> None:
    """The configured one answers 401 (it wants a token): the cache still serves the locked bytes."""
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", served.url).exit_code == 0
    assert run_cli("registry", "add-remote", "private", second.url).exit_code == 0
    second.script.authorization = "Bearer not-sent"
    shutil.rmtree(isolated.skills)
    served.stop()

    result = run_cli("sync")

    assert result.exit_code == 0, result.output
    assert f"passing over registry {second.url} for {KERNEL}" in result.stderr and "HTTP 401" in result.stderr
    assert (isolated.skills / KERNEL / "SKILL.md").is_file()
