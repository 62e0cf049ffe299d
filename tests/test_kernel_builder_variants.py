"""kernel-builder-cuda's variant table, checked through skillpm itself and nvcc.

The real skill source (skills/kernel-builder-cuda) is packed and published into a
registry in tmp, and the CLI's resolver picks a variant for the GPUs people own;
each variant's SKILL.md is read back from its packed archive and its words counted;
the guard-macro tables of the architecture references are compiled for with nvcc.
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import needs_nvcc, publish_source

SKILL = Path(__file__).resolve().parents[1] / "skills" / "kernel-builder-cuda"
NAME = "kernel-builder-cuda"
VARIANTS = ("generic", "sm_80", "sm_90", "sm_100f", "sm_120f")
MAX_WORDS = 450


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    """A registry in tmp holding the real skill source, and the archives that were added."""
    from skillpm.registry import store

    base = tmp_path_factory.mktemp("kernel-builder-registry")
    root = base / "registry"
    store.init(root, name="kb-variants")
    added = publish_source(root, SKILL, base / "dist")
    return root, added


# --------------------------------------------------------------------------- resolution

GPUS = [
    ("B300", "10.3", "sm_100f"),
    ("GB300", "10.3", "sm_100f"),
    ("B200", "10.0", "sm_100f"),
    ("GB200", "10.0", "sm_100f"),
    ("RTX 5090", "12.0", "sm_120f"),
    ("RTX PRO 6000", "12.0", "sm_120f"),
    ("DGX Spark", "12.1", "sm_120f"),
    ("H100", "9.0", "sm_90"),
    ("H200", "9.0", "sm_90"),
    ("A100", "8.0", "sm_80"),
    ("Jetson Orin", "8.7", "sm_80"),
    ("L40S", "8.9", "sm_80"),
    ("T4", "7.5", "generic"),
    ("Jetson Thor", "11.0", "generic"),
]


@pytest.mark.parametrize(("gpu", "capability", "target"), GPUS)
@pytest.mark.parametrize("by", ["name", "capability"])
def test_gpu_resolves_to_its_variant(published, run_cli, gpu: str, capability: str, target: str, by: str) -> None:
    """`skillpm resolve kernel-builder-cuda --arch GPU` picks the variant whose advice is right for it."""
    root, _ = published
    arch = gpu.lower() if by == "name" else capability
    result = run_cli("resolve", NAME, "--arch", arch, "--registry", root, "--json")
    assert result.exit_code == 0, result.output
    chosen = json.loads(result.stdout)
    assert (chosen["capability"], chosen["target"]) == (capability, target)


def test_published_variants_are_the_table(published) -> None:
    _, added = published
    assert sorted(item.target for item in added) == sorted(VARIANTS)


def test_check_arch_agrees_with_the_resolver() -> None:
    """scripts/check_arch.py, which the SKILL.md tells agents to run, names the same variants."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_arch", SKILL / "scripts" / "check_arch.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for _, capability, target in GPUS:
        major, minor = map(int, capability.split("."))
        assert module.variant_for(major, minor) == target, capability


# --------------------------------------------------------------------------- SKILL.md size


def _skill_md(archive: Path) -> str:
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.split("/", 1)[-1] == "SKILL.md")
        handle = tar.extractfile(member)
        assert handle is not None
        return handle.read().decode("utf-8")


def test_every_skill_md_is_at_most_450_words(published) -> None:
    """Each variant's SKILL.md as installed (front matter included) stays within 450 words."""
    root, added = published
    words = {item.target: len(_skill_md(root / item.path).split()) for item in added}
    assert set(words) == set(VARIANTS)
    over = {target: count for target, count in words.items() if count > MAX_WORDS}
    assert not over, f"SKILL.md over {MAX_WORDS} words: {over}"


@pytest.mark.parametrize("variant", VARIANTS)
def test_skill_md_says_when_to_read_each_reference(published, variant: str) -> None:
    """References load on demand: the SKILL.md has a "Read when" table and links every shared reference."""
    root, added = published
    text = _skill_md(root / next(item.path for item in added if item.target == variant))
    assert "## Read when" in text
    for ref in ("workflow.md", "correctness.md", "cuda-fundamentals.md", "sass-budget.md", "reference-kernel.md",
                "gelu-approximation.md", "benchmarking.md"):
        assert f"(references/{ref})" in text, f"{variant}: no link to {ref}"


# --------------------------------------------------------------------------- guard macros

MACROS = ("__CUDA_ARCH__", "__CUDA_ARCH_SPECIFIC__", "__CUDA_ARCH_FAMILY_SPECIFIC__")
PROBE = "\n".join(
    f"#ifdef {macro}\n__device__ int probe_{i} = {macro};\n#endif" for i, macro in enumerate(MACROS)
) + "\n"
ROW = re.compile(r"^\| `(sm_\d+[af]?)` \| (.+) \|$", re.M)


def _table_rows(reference: Path) -> dict[str, list[str]]:
    """Rows of a reference's guard-macro table: target -> [arch, specific, family, feature macro]."""
    rows = {}
    for target, cells in ROW.findall(reference.read_text(encoding="utf-8")):
        values = [cell.strip().strip("`") for cell in cells.split("|")]
        if len(values) == 4:
            rows[target] = values
    return rows


def _defined(tmp: Path, target: str, feature: str) -> list[str]:
    """What an nvcc build for target defines: the three values ('-' when undefined) and the feature macro."""
    source = tmp / "probe.cu"
    body = PROBE
    if feature != "-":
        body += f"#ifdef {feature}\n__device__ int probe_feature = 1;\n#endif\n"
    source.write_text(body)
    ptx = subprocess.run(
        ["nvcc", f"-arch={target}", "-ptx", str(source), "-o", "-"],
        capture_output=True, text=True, timeout=300, check=True,
    ).stdout
    found = dict(re.findall(r"\.global \.align 4 \.u32 (probe_\w+) = (\d+);", ptx))
    values = [found.get(f"probe_{i}", "-") for i in range(len(MACROS))]
    values.append(feature if "probe_feature" in found else "-")
    return values


REFERENCES = {
    "sm_100f": SKILL / "variants" / "sm_100f" / "references" / "blackwell.md",
    "sm_120f": SKILL / "variants" / "sm_120f" / "references" / "blackwell-rtx.md",
}


@needs_nvcc
@pytest.mark.parametrize("variant", sorted(REFERENCES))
def test_guard_macro_tables_match_nvcc(tmp_path: Path, variant: str) -> None:
    """Every row of the reference's macro table is what nvcc 13 defines for that target."""
    rows = _table_rows(REFERENCES[variant])
    assert len(rows) >= 4, rows
    for target, claimed in rows.items():
        assert _defined(tmp_path, target, claimed[3]) == claimed, target


def test_family_guard_trap_is_stated() -> None:
    """`__CUDA_ARCH_FAMILY_SPECIFIC__ == 1000` is false in sm_103 builds (1030): the text says so, with the fix."""
    rows = _table_rows(REFERENCES["sm_100f"])
    assert rows["sm_103f"][2] == rows["sm_103a"][2] == "1030"
    text = REFERENCES["sm_100f"].read_text(encoding="utf-8")
    assert "`__CUDA_ARCH_FAMILY_SPECIFIC__ == 1000` is false" in text
    assert "__CUDA_ARCH_FAMILY_SPECIFIC__ >= 1000 && __CUDA_ARCH_FAMILY_SPECIFIC__ < 1100" in text


TCGEN05 = """__global__ void k(unsigned *out) {
  __shared__ unsigned slot;
  asm volatile("tcgen05.alloc.cta_group::1.sync.aligned.shared::cta.b32 [%0], 32;"
               :: "r"((unsigned)__cvta_generic_to_shared(&slot)));
  out[0] = slot;
}
"""


@needs_nvcc
@pytest.mark.parametrize(
    ("target", "accepted"),
    [("sm_100f", True), ("sm_103f", True), ("sm_110f", True), ("sm_120f", False), ("sm_121f", False)],
)
def test_tcgen05_exists_only_in_the_datacenter_families(tmp_path: Path, target: str, accepted: bool) -> None:
    """What blackwell-rtx.md says: ptxas takes tcgen05 for sm_100f/sm_103f/sm_110f and refuses it for 12.x."""
    source = tmp_path / "tcgen05.cu"
    source.write_text(TCGEN05)
    done = subprocess.run(
        ["nvcc", f"-arch={target}", "-cubin", str(source), "-o", str(tmp_path / "k.cubin")],
        capture_output=True, text=True, timeout=300,
    )
    assert (done.returncode == 0) is accepted, done.stderr
    text = REFERENCES["sm_120f"].read_text(encoding="utf-8")
    assert "ptxas rejects `tcgen05.alloc` for `sm_120f` and `sm_121f`" in text

