"""sync of skills locked to an OCI registry: offline, or with the registry gone, from the artifact cache (#17 part 5)."""

from __future__ import annotations

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
    assert "installed from the artifact cache by the locked sha256" in offline.stderr
    oci_registry.stop()
    shutil.rmtree(installed)
    assert skillpm("sync").exit_code == 0 and (installed / "SKILL.md").is_file()
    shutil.rmtree(isolated.cache / "artifacts")
    shutil.rmtree(installed)
    assert "not in the artifact cache either" in one_error(skillpm("sync"))
    assert not installed.exists()
