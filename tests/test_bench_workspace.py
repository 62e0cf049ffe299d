"""skillpm.benchmark.workspace: which variant is benched, and that it is the artifact's bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from skillpm.benchmark import BenchError
from skillpm.benchmark.workspace import find_projects, open_workspace
from skillpm.pack import pack

SKILL = Path(__file__).resolve().parent.parent / "skills" / "kernel-builder-cuda"
TARGETS = ["generic", "sm_100f", "sm_120f", "sm_80", "sm_90"]


def test_find_projects() -> None:
    files = [
        "SKILL.md",
        "assets/a/build_ext.py",
        "assets/a/tests/reference.py",
        "assets/b/build_ext.py",  # no reference: not a project
        "build_ext.py",
        "tests/reference.py",
    ]
    assert find_projects(files) == [".", "assets/a"]
    assert find_projects(["SKILL.md"]) == []


def test_workspace_is_the_packed_artifact(tmp_path: Path) -> None:
    (built,) = pack(SKILL, tmp_path / "dist", targets=["sm_90"])
    with open_workspace(SKILL, "sm_90") as workspace:
        root = workspace.tree.parent
        assert workspace.skill.artifact_sha256 == built.sha256
        assert (workspace.skill.name, workspace.skill.target) == ("kernel-builder-cuda", "sm_90")
        assert workspace.kernel_project == "assets/layernorm_gelu"
        kernel = workspace.project_dir / "layernorm_gelu_cuda" / "layernorm_gelu.cu"
        common = SKILL / "assets/layernorm_gelu/layernorm_gelu_cuda/layernorm_gelu.cu"
        assert kernel.read_bytes() == common.read_bytes()
        assert workspace.kernel_sources["layernorm_gelu_cuda/layernorm_gelu.cu"] == hashlib.sha256(
            common.read_bytes()
        ).hexdigest()
        assert {"build.toml", "build_ext.py", "tests/reference.py", "torch-ext/torch_binding.cpp"} <= set(
            workspace.kernel_sources
        )
        assert not any(path.endswith(".md") for path in workspace.kernel_sources)
    assert not root.exists()


def test_every_variant_benches_the_same_kernel_source() -> None:
    """Variants differ in advice, not in kernels: one source digest for all of them, and
    it changes when the kernel's source does."""
    digests = set()
    for target in TARGETS:
        with open_workspace(SKILL, target) as workspace:
            digests.add(workspace.kernel_ref("x").source_digest)
            assert workspace.kernel_project == "assets/layernorm_gelu"
    assert len(digests) == 1


def test_workspace_refuses_an_unknown_project() -> None:
    with pytest.raises(BenchError, match="'assets/nothing' is not a kernel project"):
        with open_workspace(SKILL, "generic", project="assets/nothing"):
            pass


def test_a_kernel_project_file_linked_from_the_repository_is_benched_with_links_within(tmp_path: Path) -> None:
    """A plain skill whose kernel project's build script is a link to a file its repository shares."""
    from skillpm.errors import ValidationFailed

    repo = tmp_path / "repo"
    (repo / "shared").mkdir(parents=True)
    (repo / "shared" / "build_ext.py").write_text("print('build')\n")
    skill = repo / "skills" / "kern"
    (skill / "tests").mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: kern\ndescription: Builds a kernel. Use when benching.\n---\nBody.\n")
    (skill / "tests" / "reference.py").write_text("REFERENCE = 1\n")
    (skill / "build_ext.py").symlink_to(Path("..", "..", "shared", "build_ext.py"))
    with pytest.raises(ValidationFailed, match="--links-within DIR"):
        with open_workspace(skill, "generic"):
            pass
    with open_workspace(skill, "generic", links_within=repo) as workspace:
        assert workspace.kernel_project == "."
        built = workspace.project_dir / "build_ext.py"
        assert not built.is_symlink() and built.read_text() == "print('build')\n"
