"""An OCI registry offline or gone: sync from the artifact cache (#17 part 5), and resolve, info and
install from what was read of it before."""

from __future__ import annotations

import json
import shutil

from test_publish import one_error, skillpm

from .conftest import RunningRegistry

KERNEL = "kernel-builder-cuda"


def test_skills_locked_to_an_oci_registry_sync_from_the_cache_offline_and_when_it_is_gone(
    oci_registry: RunningRegistry, isolated
) -> None:
    url = f"oci://{oci_registry.host}/skills"
    assert skillpm("registry", "push", "embedded", url).exit_code == 0
    assert skillpm("install", KERNEL, "--arch", "h100", "--registry", url).exit_code == 0
    installed = isolated.skills / KERNEL  # the one copy, in .agents/skills
    shutil.rmtree(installed)

    offline = skillpm("sync", "--offline")

    assert offline.exit_code == 0, offline.output
    assert (installed / "SKILL.md").is_file()
    assert "attestations were not checked" not in offline.stderr  # the version index kept online lists them
    shutil.rmtree(isolated.cache / "oci")  # nothing kept of the registry: the archive by its locked sha256
    shutil.rmtree(installed)
    offline = skillpm("sync", "--offline")
    assert offline.exit_code == 0, offline.output
    assert (installed / "SKILL.md").is_file()
    assert "installed from the artifact cache by the locked sha256" in offline.stderr
    oci_registry.stop()
    shutil.rmtree(installed)
    assert skillpm("sync").exit_code == 0 and (installed / "SKILL.md").is_file()
    shutil.rmtree(isolated.cache / "artifacts")
    shutil.rmtree(installed)
    assert "not in the artifact cache either" in one_error(skillpm("sync"))
    assert not installed.exists()


def test_what_was_read_of_an_oci_registry_is_read_offline_when_it_is_gone(
    oci_registry: RunningRegistry, isolated, tmp_path
) -> None:
    """resolve, info and install read the tags and version indexes kept from the last online read,
    and the archives and bundles from the artifact cache; the registry itself is stopped."""
    url = f"oci://{oci_registry.host}/skills"
    assert skillpm("registry", "push", "embedded", url).exit_code == 0
    online = skillpm("resolve", KERNEL, "--arch", "h100", "--registry", url, "--json")
    assert online.exit_code == 0, online.output
    assert skillpm("install", KERNEL, "--arch", "h100", "--registry", url, "--dir", tmp_path / "first").exit_code == 0
    described = skillpm("info", KERNEL, "--registry", url, "--json")
    assert described.exit_code == 0 and json.loads(described.stdout)["evidence"], described.output
    oci_registry.stop()

    resolved = skillpm("resolve", KERNEL, "--arch", "h100", "--registry", url, "--json", "--offline")
    assert resolved.exit_code == 0, resolved.output
    assert json.loads(resolved.stdout) == json.loads(online.stdout)
    info = skillpm("info", KERNEL, "--registry", url, "--json", "--offline")
    assert info.exit_code == 0, info.output
    assert json.loads(info.stdout) == json.loads(described.stdout)  # the evidence too, checked as online
    installed = skillpm("install", KERNEL, "--arch", "h100", "--registry", url, "--offline")
    assert installed.exit_code == 0, installed.output
    assert (isolated.skills / KERNEL / "SKILL.md").is_file()
    assert "cannot be reached" in one_error(skillpm("resolve", KERNEL, "--arch", "h100", "--registry", url))
    never = skillpm("resolve", "other-skill", "--registry", url, "--offline")
    assert "was never read online" in one_error(never)
