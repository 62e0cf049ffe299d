"""The embedded default registry: built from skills/ by skillpm itself, current, and shipped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skillpm.registry.source import EMBEDDED, embedded_registry_path, open_registry

REPO = Path(__file__).resolve().parent.parent


def _files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


def _skillpm() -> str:
    script = Path(sys.executable).with_name("skillpm")
    return str(script) if script.exists() else shutil.which("skillpm") or "skillpm"


def test_registry_dir_is_what_build_registry_makes_from_skills(tmp_path: Path) -> None:
    """Fails when skills/ changed and registry/ was not rebuilt (run .ci/build-registry)."""
    built = tmp_path / "registry"
    subprocess.run(
        ["bash", str(REPO / ".ci" / "build-registry"), str(built)],
        check=True,
        env={**os.environ, "SKILLPM": _skillpm()},
    )
    expected, actual = _files(built), _files(REPO / "registry")
    assert sorted(actual) == sorted(expected), "registry/ lists other files than skills/ builds"
    stale = [name for name in expected if actual[name] != expected[name]]
    assert not stale, f"registry/ is stale; run .ci/build-registry: {stale}"


def test_embedded_registry_is_the_default_and_serves_kernel_builder_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SKILLPM_REGISTRY", raising=False)
    registry = open_registry()
    assert registry.label == EMBEDDED
    assert registry.root == embedded_registry_path()
    document = registry.package("kernel-builder-cuda")
    assert document is not None
    targets = {variant.target for entry in document.versions for variant in entry.variants}
    assert {"generic", "sm_80", "sm_90a", "sm_100a"} <= targets


def test_wheel_ships_the_registry_and_schemas(tmp_path: Path) -> None:
    """The built wheel carries registry/ as skillpm/_registry, so installs work offline."""
    pytest.importorskip("hatchling")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        check=True,
    )
    import zipfile

    (wheel,) = tmp_path.glob("skillpm-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "skillpm/_registry/config.json" in names
    assert "skillpm/_registry/index/ke/rn/kernel-builder-cuda.json" in names
    assert "skillpm/_schemas/manifest.schema.json" in names
    assert not any(name.endswith(".lock") for name in names)


@pytest.mark.parametrize(
    ("arch", "target", "marker"),
    [
        ("8.0", "sm_80", "cp.async"),
        ("a10", "sm_80", "cp.async"),
        ("8.9", "sm_80", "cp.async"),
        ("h100", "sm_90a", "wgmma"),
        ("sm_90a", "sm_90a", "__CUDA_ARCH_FEAT_SM90_ALL"),
        ("b200", "sm_100a", "tcgen05"),
        ("10.3", "generic", "__CUDA_ARCH__"),
        ("12.0", "generic", "__CUDA_ARCH__"),
    ],
)
def test_every_variant_installs_from_the_embedded_registry(
    tmp_path: Path, arch: str, target: str, marker: str
) -> None:
    """`skillpm install kernel-builder-cuda --arch ...` installs the variant written for that GPU."""
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("SKILLPM_REGISTRY", "SKILLPM_ARCH")}
    env["SKILLPM_CACHE_DIR"] = str(tmp_path / "cache")
    result = subprocess.run(
        [_skillpm(), "install", "kernel-builder-cuda", "--arch", arch],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert f"({target})" in result.stdout
    skill_md = (project / ".claude" / "skills" / "kernel-builder-cuda" / "SKILL.md").read_text()
    assert marker in skill_md
    lock = (project / "skills.lock").read_text()
    assert f'target = "{target}"' in lock and 'registry = "embedded"' in lock
