"""Content checks of the kernel-builder-cuda skill source (skills/kernel-builder-cuda).

Each variant's tree is assembled here by hand, following docs/manifest.md
(common tree minus skillpm.toml, variants/, skill_meta.json, hidden files and
__pycache__, then the overlay on top), so these tests do not depend on the
skillpm package.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

SKILL = Path(__file__).resolve().parents[1] / "skills" / "kernel-builder-cuda"
NAME = "kernel-builder-cuda"
VARIANTS = ["generic", "sm_80", "sm_90", "sm_100f", "sm_120f"]
ARCH_VARIANTS = ["sm_80", "sm_90", "sm_100f", "sm_120f"]
ARCH_REFERENCE = {"sm_80": "ampere.md", "sm_90": "hopper.md", "sm_100f": "blackwell.md", "sm_120f": "blackwell-rtx.md"}


def _excluded(rel: Path, top: bool) -> bool:
    parts = rel.parts
    if any(p.startswith(".") or p == "__pycache__" for p in parts):
        return True
    if rel.name == "skill_meta.json":
        return True
    return top and (parts[0] in ("skillpm.toml", "variants"))


def assemble(variant: str, dest: Path) -> Path:
    """Write the variant's assembled tree to dest/kernel-builder-cuda and return it."""
    out = dest / NAME
    if out.exists():
        shutil.rmtree(out)
    for src_root, top in ((SKILL, True), (SKILL / "variants" / variant, False)):
        if not src_root.is_dir():
            continue
        for path in sorted(src_root.rglob("*")):
            rel = path.relative_to(src_root)
            if path.is_dir() or _excluded(rel, top):
                continue
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return out


@pytest.fixture(scope="module")
def trees(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("trees")
    result = {}
    for v in VARIANTS:
        (base / v).mkdir()
        result[v] = assemble(v, base / v)
    return result


def tree_text(tree: Path) -> dict[str, str]:
    return {
        str(p.relative_to(tree)): p.read_text(encoding="utf-8")
        for p in sorted(tree.rglob("*"))
        if p.is_file()
    }


def front_matter(skill_md: Path) -> tuple[dict, str]:
    text = skill_md.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.DOTALL)
    assert match, f"{skill_md}: no YAML front matter"
    data = yaml.safe_load(match.group(1))
    assert isinstance(data, dict)
    return data, match.group(2)


# --------------------------------------------------------------------------- manifest


def test_manifest():
    manifest = tomllib.loads((SKILL / "skillpm.toml").read_text())
    pkg = manifest["package"]
    assert pkg["name"] == NAME == SKILL.name
    assert pkg["version"] == "0.2.0a1"
    assert 1 <= len(pkg["description"]) <= 1024
    assert pkg["license"] == "Apache-2.0"
    assert pkg["authors"] == ["skillpm developers"]
    assert pkg["keywords"] and all(isinstance(k, str) for k in pkg["keywords"])
    assert set(pkg["agents"]) >= {"claude-code", "codex", "cursor", "gemini-cli", "copilot"}
    assert set(manifest["variants"]) == set(VARIANTS)
    assert set(manifest) == {"package", "variants"}
    overlays = {p.name for p in (SKILL / "variants").iterdir() if p.is_dir()}
    assert overlays <= set(VARIANTS)


# --------------------------------------------------------------------------- SKILL.md


@pytest.mark.parametrize("variant", VARIANTS)
def test_front_matter(trees, variant):
    meta, body = front_matter(trees[variant] / "SKILL.md")
    assert set(meta) <= {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
    assert meta["name"] == NAME == trees[variant].name
    assert 1 <= len(meta["description"]) <= 1024
    assert meta.get("license") == "Apache-2.0"
    assert len(meta.get("compatibility", "")) <= 500
    assert body.strip()


@pytest.mark.parametrize("variant", VARIANTS)
def test_skills_ref_validates(trees, variant):
    from skills_ref import validate

    assert validate(trees[variant]) == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_skill_md_size(trees, variant):
    text = (trees[variant] / "SKILL.md").read_text()
    assert len(text.splitlines()) < 500
    # Rough token estimate: about 4 characters or 0.75 words per token.
    assert len(text) / 4 < 5000
    assert len(text.split()) / 0.75 < 5000


@pytest.mark.parametrize("variant", VARIANTS)
def test_description_names_the_gpus(trees, variant):
    description = front_matter(trees[variant] / "SKILL.md")[0]["description"]
    expected = {
        "generic": ["any NVIDIA GPU", "7.5", "11.0"],
        "sm_80": ["A100", "L40S", "8.0", "8.6", "8.7", "8.9"],
        "sm_90": ["H100", "H200", "9.0"],
        "sm_100f": ["B200", "B300", "10.0", "10.3"],
        "sm_120f": ["RTX 50", "RTX PRO 6000", "DGX Spark", "12.0", "12.1", "no tcgen05"],
    }[variant]
    for word in expected:
        assert word.lower() in description.lower()


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
PATH_MENTION = re.compile(r"`((?:scripts|references|assets)/[\w./-]+)`")


@pytest.mark.parametrize("variant", VARIANTS)
def test_relative_links_exist(trees, variant):
    tree = trees[variant]
    checked = 0
    for md in tree.rglob("*.md"):
        for target in LINK.findall(md.read_text()):
            if re.match(r"^[a-z]+://", target) or target.startswith("#"):
                continue
            path = (md.parent / target.split("#")[0]).resolve()
            assert path.exists(), f"{variant}: {md.relative_to(tree)} links to missing {target}"
            assert tree.resolve() in path.parents, f"{target} leaves the skill tree"
            checked += 1
    assert checked >= 5


@pytest.mark.parametrize("variant", VARIANTS)
def test_mentioned_paths_exist(trees, variant):
    tree = trees[variant]
    for md in tree.rglob("*.md"):
        for mention in PATH_MENTION.findall(md.read_text()):
            assert (tree / mention.rstrip("/")).exists(), f"{md.name} mentions missing {mention}"


@pytest.mark.parametrize("variant", VARIANTS)
def test_skill_md_links_shared_and_arch_references(trees, variant):
    body = front_matter(trees[variant] / "SKILL.md")[1]
    for ref in ["workflow.md", "benchmarking.md", "correctness.md", "cuda-fundamentals.md",
                "reference-kernel.md", "sass-budget.md"]:
        assert f"(references/{ref})" in body
    arch_ref = ARCH_REFERENCE.get(variant)
    if arch_ref:
        assert f"(references/{arch_ref})" in body


PLACEHOLDER = re.compile(r"\b(TODO|TBD|FIXME|XXX|lorem ipsum)\b|<placeholder>|\.\.\. ?more", re.I)


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_placeholders(trees, variant):
    for rel, text in tree_text(trees[variant]).items():
        assert not PLACEHOLDER.search(text), f"{variant}/{rel}: placeholder text"


@pytest.mark.parametrize("variant", VARIANTS)
def test_tree_contents(trees, variant):
    tree = trees[variant]
    for rel in [
        "scripts/check_arch.py", "scripts/bench.py",
        "assets/layernorm_gelu/build.toml",
        "assets/layernorm_gelu/layernorm_gelu_cuda/layernorm_gelu.cu",
        "assets/layernorm_gelu/layernorm_gelu_cuda/layernorm_gelu.h",
        "assets/layernorm_gelu/layernorm_gelu_cuda/common.cuh",
        "assets/layernorm_gelu/torch-ext/torch_binding.cpp",
        "assets/layernorm_gelu/torch-ext/layernorm_gelu/__init__.py",
        "assets/layernorm_gelu/build_ext.py",
        "assets/layernorm_gelu/tests/reference.py",
        "assets/layernorm_gelu/tests/test_layernorm_gelu.py",
        "assets/layernorm_gelu/benchmarks/benchmark.py",
    ]:
        assert (tree / rel).is_file(), f"{variant}: missing {rel}"
    assert not (tree / "skill_meta.json").exists()
    assert not (tree / "skillpm.toml").exists()
    assert not (tree / "variants").exists()


# --------------------------------------------------------------------------- facts


def _lines(tree: Path):
    for rel, text in tree_text(tree).items():
        for n, line in enumerate(text.splitlines(), 1):
            yield rel, n, line


@pytest.mark.parametrize("variant", ["generic", "sm_80"])
def test_no_hopper_or_blackwell_mma_before_hopper(trees, variant):
    """Neither wgmma nor tcgen05/TMEM/TMA exist on 8.x: the trees must not mention them."""
    for rel, n, line in _lines(trees[variant]):
        for word in ("wgmma", "tcgen05", "TMEM", "cp.async.bulk", "setmaxnreg"):
            assert word.lower() not in line.lower(), f"{variant}/{rel}:{n} mentions {word}"


def test_sm90_guards(trees):
    body = front_matter(trees["sm_90"] / "SKILL.md")[1]
    assert "__CUDA_ARCH__ >= 900" in body
    assert "arch=compute_90,code=sm_90" in body
    for line in body.splitlines():
        if ">= 800" in line:
            assert re.search(r"\b(never|not)\b", line, re.I), f"advises >= 800: {line}"


@pytest.mark.parametrize("variant", ARCH_VARIANTS)
def test_no_low_guard_for_newer_code(trees, variant):
    """No guard the variant's text teaches (SKILL.md, references) is below the variant's capability.
    The shared kernel's own `__CUDA_ARCH__ >= 1000` (baseline packed math, 10.0 on) is not advice."""
    floor = {"sm_80": 800, "sm_90": 900, "sm_100f": 1000, "sm_120f": 1200}[variant]
    guard = re.compile(r"__CUDA_ARCH__\s*>=\s*(\d+)")
    for rel, n, line in _lines(trees[variant]):
        if not rel.endswith(".md") or rel.startswith("references/") and not rel.startswith(
            f"references/{ARCH_REFERENCE[variant]}"
        ):
            continue
        for value in guard.findall(line):
            assert int(value) >= floor, f"{variant}/{rel}:{n}: guard >= {value}"


def test_wgmma_never_behind_sm80_guard(trees):
    for variant in VARIANTS:
        for rel, n, line in _lines(trees[variant]):
            if "wgmma" in line:
                assert not re.search(r">=\s*800\b", line), f"{variant}/{rel}:{n}"


@pytest.mark.parametrize("variant", ["sm_90", "sm_120f"])
def test_no_tcgen05_advice_where_there_is_none(trees, variant):
    """Hopper and 12.x have no tcgen05: their trees name it only to say so."""
    for rel, n, line in _lines(trees[variant]):
        if "tcgen05" in line:
            assert re.search(r"\b(no|not|never|rejects)\b", line), f"{variant}/{rel}:{n}: {line}"


@pytest.mark.parametrize("variant", ["sm_100f", "sm_120f"])
def test_blackwell_mentions_wgmma_only_as_absent(trees, variant):
    for rel, n, line in _lines(trees[variant]):
        if "wgmma" in line:
            assert re.search(r"\b(not|no|rejects)\b", line), f"{variant}/{rel}:{n}: {line}"


def test_sm120f_warns_that_datacenter_blackwell_advice_does_not_apply(trees):
    body = front_matter(trees["sm_120f"] / "SKILL.md")[1]
    assert re.search(r"no\s+tcgen05 and no tensor memory", body)
    assert "99 KB" in body and "1536 threads" in body


def test_sm100f_family_guard_is_a_range(trees):
    """`__CUDA_ARCH_FAMILY_SPECIFIC__ == 1000` is false in sm_103 builds (1030): never taught as the guard."""
    for variant in VARIANTS:
        for rel, n, line in _lines(trees[variant]):
            if "__CUDA_ARCH_FAMILY_SPECIFIC__ == 1000" in line:
                assert "false" in line, f"{variant}/{rel}:{n}: {line}"
    body = front_matter(trees["sm_100f"] / "SKILL.md")[1]
    assert "sm_103" in body and "1030" in body


@pytest.mark.parametrize("variant", VARIANTS)
def test_func_set_attribute_once_per_device(trees, variant):
    """`cudaFuncSetAttribute` is taught as a once-per-device call, never as part of every launch."""
    for md in trees[variant].rglob("*.md"):
        text = " ".join(md.read_text(encoding="utf-8").split("## Sources")[0].split())
        for match in re.finditer(r"cudaFuncSetAttribute", text):
            window = text[match.start():match.start() + 400]
            assert "once per" in window, f"{variant}/{md.name}: {window[:120]}"


def test_workflow_build_toml_is_edition_5(trees):
    text = (trees["generic"] / "references" / "workflow.md").read_text()
    block = re.search(r"## build.toml\n.*?```toml\n(.*?)```", text, re.S).group(1)
    general = tomllib.loads(block)["general"]
    assert general["edition"] == 5 and {"name", "version", "license", "backends"} <= set(general)
    assert "flake.nix" in text


KB = re.compile(r"(?<![\d.])(\d+) KB\b")
# Shared memory per SM / per block from the CUDA Programming Guide's Tables 31 and 32 (8.7 is
# 164/163 like 8.0, not 100/99); the rest are other quantities (bytes in flight, 48 KB static).
COMMON_KB = {32, 48, 64, 99, 100, 163, 164}  # references/gpu-targets.md is in every tree
ALLOWED_KB = {
    "generic": COMMON_KB,
    "sm_80": COMMON_KB,
    "sm_90": COMMON_KB | {227, 228},
    "sm_100f": COMMON_KB | {227, 228},
    "sm_120f": COMMON_KB | {128, 227},
}
REQUIRED_KB = {"generic": set(), "sm_80": {163, 99}, "sm_90": {227}, "sm_100f": {227}, "sm_120f": {99}}


@pytest.mark.parametrize("variant", VARIANTS)
def test_shared_memory_limits_match_table(trees, variant):
    seen = set()
    for rel, n, line in _lines(trees[variant]):
        for value in KB.findall(line):
            seen.add(int(value))
            assert int(value) in ALLOWED_KB[variant], f"{variant}/{rel}:{n}: {value} KB"
    assert REQUIRED_KB[variant] <= seen
    body = front_matter(trees[variant] / "SKILL.md")[1]
    for value in REQUIRED_KB[variant]:
        assert f"{value} KB" in body


def test_sm80_limits_are_attributed_correctly(trees):
    """8.7 (Jetson Orin) has the shared memory of 8.0, not of 8.6 and 8.9."""
    text = (trees["sm_80"] / "SKILL.md").read_text()
    assert re.search(r"163 KB on 8\.0 and 8\.7", text)
    assert re.search(r"99 KB on 8\.6 and 8\.9", text)
    for md in trees["sm_80"].rglob("*.md"):
        flat = " ".join(md.read_text().split())
        assert not re.search(r"8\.6/8\.7/8\.9 GPUs have less shared memory", flat), md.name
    ampere = (trees["sm_80"] / "references" / "ampere.md").read_text()
    assert "| 8.7 (Jetson Orin) | 1536 | 16 | 64 K | 164 KB | 163 KB |" in ampere


@pytest.mark.parametrize("variant", ARCH_VARIANTS)
def test_arch_references_cite_nvidia(trees, variant):
    text = (trees[variant] / "references" / ARCH_REFERENCE[variant]).read_text()
    assert "https://docs.nvidia.com/cuda/parallel-thread-execution/index.html" in text
    assert "https://docs.nvidia.com/cuda/cuda-programming-guide/05-appendices/compute-capabilities.html" in text
    assert "https://docs.nvidia.com/cuda/cuda-compiler-driver-nvcc/index.html" in text
    assert re.search(r"https://docs\.nvidia\.com/cuda/\w+-tuning-guide/", text)


MEMORY_BOUND_SECTIONS = ("## Per-SM limits", "## Instruction budget", "(Little's law)", "## Not for this kernel",
                         "## Sources")


@pytest.mark.parametrize("variant", ARCH_VARIANTS)
def test_arch_references_are_about_memory_bound_kernels(trees, variant):
    """Rewritten around what decides a memory-bound row kernel; no GEMM catalogue (one line says why)."""
    text = (trees[variant] / "references" / ARCH_REFERENCE[variant]).read_text()
    for heading in MEMORY_BOUND_SECTIONS:
        assert heading in text, f"{variant}: no {heading}"
    assert "sass-budget.md" in text and "32768 bytes" in text
    gemm = [w for w in ("wgmma.mma_async", "tcgen05.mma", "tcgen05.ld", "cp.async.bulk.tensor", "ldmatrix",
                        "cp.async.wait_group") if w in text]
    assert not gemm, f"{variant}: GEMM catalogue left: {gemm}"


BUDGETS = {
    # variant: (measured bf16 erf SASS per element at H = 8192, [(GPU, budget the reference states)])
    "sm_80": (21.72, [("A100 SXM 80 GB", 38), ("L40S", 212)]),
    "sm_90": (22.06, [("H100 SXM", 40), ("H100 PCIe", 51), ("H200", 28)]),
    "sm_120f": (20.75, [("RTX 5090", 117), ("RTX PRO 6000 Blackwell", 140)]),
}


@pytest.mark.parametrize("variant", sorted(BUDGETS))
def test_stated_budgets_hold_the_measured_kernel(trees, variant):
    """Each stated budget is written in the reference, and the measured SASS per element
    (references/sass-budget.md, enforced by tests/test_sass_budget.py) fits under it."""
    measured, budgets = BUDGETS[variant]
    text = " ".join((trees[variant] / "references" / ARCH_REFERENCE[variant]).read_text().split())
    assert f"{measured:.2f} (erf)" in text
    for gpu, budget in budgets:
        assert re.search(rf"{re.escape(gpu)}: [^=]*= {budget}\b", text), f"{variant}: {gpu} budget {budget}"
        assert measured < budget


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_ships_the_same_kernel(trees, variant):
    """One kernel for all targets: variants differ in advice, not in copies of the kernel."""
    for rel in ("layernorm_gelu.cu", "common.cuh", "layernorm_gelu.h"):
        mine = trees[variant] / "assets/layernorm_gelu/layernorm_gelu_cuda" / rel
        assert mine.read_bytes() == (SKILL / "assets/layernorm_gelu/layernorm_gelu_cuda" / rel).read_bytes()
    cu = trees[variant] / "assets/layernorm_gelu/layernorm_gelu_cuda/layernorm_gelu.cu"
    assert cu.read_text().splitlines()[0] == "// nvcc-gencode: native"


@pytest.mark.parametrize("variant", VARIANTS)
def test_build_toml(trees, variant):
    """Edition 5 of kernel-builder's build.toml (huggingface/kernels, kernels-data config v5):
    one kernel section for every capability, no arch-specific target (nothing in the kernel
    is arch-specific) and no CUDA minimum (kernel-builder intersects the list with each
    toolkit's capabilities, so CUDA 12.6 builds keep 8.0-9.0)."""
    conf = tomllib.loads((trees[variant] / "assets/layernorm_gelu/build.toml").read_text())
    general = conf["general"]
    # v5 requires name (a-z, 0-9, "-"), version, edition = 5, license and backends
    assert re.fullmatch(r"[a-z][-a-z0-9]*[a-z0-9]", general["name"]) and general["name"] == "layernorm-gelu"
    assert general["edition"] == 5 and general["version"] == 1 and general["license"] == "Apache-2.0"
    assert general["backends"] == ["cuda"]
    assert "cuda" not in general, "no minver: no feature of the kernel needs a newer CUDA than 12.6"
    # the Python package lives in torch-ext/<name with "-" as "_">
    assert (trees[variant] / "assets/layernorm_gelu/torch-ext" / general["name"].replace("-", "_")).is_dir()
    assert list(conf["kernel"]) == ["layernorm_gelu"]
    kernel = conf["kernel"]["layernorm_gelu"]
    assert kernel["backend"] == "cuda"
    assert kernel["cuda-capabilities"] == ["8.0", "8.6", "8.9", "9.0", "10.0", "10.3", "12.0"]
    base = trees[variant] / "assets/layernorm_gelu"
    for src in kernel["src"] + conf["torch"]["src"]:
        assert (base / src).is_file(), src


# --------------------------------------------------------------------------- check_arch.py


def _check_arch():
    spec = importlib.util.spec_from_file_location("check_arch", SKILL / "scripts" / "check_arch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("cap", "variant"),
    [((7, 5), "generic"), ((8, 0), "sm_80"), ((8, 6), "sm_80"), ((8, 7), "sm_80"),
     ((8, 9), "sm_80"), ((9, 0), "sm_90"), ((10, 0), "sm_100f"), ((10, 3), "sm_100f"),
     ((11, 0), "generic"), ((12, 0), "sm_120f"), ((12, 1), "sm_120f")],
)
def test_check_arch_mapping(cap, variant):
    assert _check_arch().variant_for(*cap) == variant


def test_check_arch_cli():
    out = subprocess.run(
        [sys.executable, str(SKILL / "scripts" / "check_arch.py"), "--capability", "9.0"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout
    assert "compute capability 9.0" in out and "variant sm_90" in out
    assert "arch=compute_90,code=sm_90" in out


# --------------------------------------------------------------------------- skill_meta.json

TEST_KEYS = {"input", "context", "expected", "output_file", "validator", "validator_config"}
META_KEYS = {"version", "generated_by", "generated_at", "source_task", "test_pass_rate",
             "license", "compatibility"}


def test_skill_meta_is_one_upskill_file_every_variant_inherits():
    """One skill_meta.json in the common tree (upskill reads it there); no overlay replaces it,
    so every variant runs the same cases for its own target (tests/test_kb_evals.py runs them)."""
    data = json.loads((SKILL / "skill_meta.json").read_text())
    assert set(data) == {"metadata", "tests"}
    assert set(data["metadata"]) <= META_KEYS
    assert len(data["tests"]) >= 10
    assert len({t["input"] for t in data["tests"]}) == len(data["tests"])
    for t in data["tests"]:
        assert set(t) <= TEST_KEYS, set(t) - TEST_KEYS
        assert set(t["expected"]) == {"contains"}
        assert all(isinstance(v, (str, int, float, bool)) for v in t["validator_config"].values())
    assert not list((SKILL / "variants").glob("*/skill_meta.json"))
