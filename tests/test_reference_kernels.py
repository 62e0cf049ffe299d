"""Build checks of the fused LayerNorm + GELU reference kernel of kernel-builder-cuda.

- nvcc (marker ``nvcc``): each variant's kernel compiles for its target without
  torch, the arch variants refuse older targets, the PTX holds the instructions
  the variant promises, and the guard rules the skill teaches hold for nvcc.
- CPU: the PyTorch reference used by the GPU correctness test agrees with a
  pure-Python LayerNorm + GELU (erf form), when torch is importable.
- GPU (marker ``gpu``): builds the extension for this GPU's variant and compares
  it with the reference. Skipped without CUDA.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

SKILL = Path(__file__).resolve().parents[1] / "skills" / "kernel-builder-cuda"
NAME = "kernel-builder-cuda"
KDIR = Path("assets/layernorm_gelu/layernorm_gelu_cuda")
NVCC = shutil.which("nvcc")
needs_nvcc = pytest.mark.skipif(NVCC is None, reason="nvcc not on PATH")


def assemble(variant: str, dest: Path) -> Path:
    """The variant's tree per docs/manifest.md: common tree, then the overlay."""
    out = dest / NAME
    for src_root, top in ((SKILL, True), (SKILL / "variants" / variant, False)):
        if not src_root.is_dir():
            continue
        for path in sorted(src_root.rglob("*")):
            rel = path.relative_to(src_root)
            if path.is_dir() or any(p.startswith(".") or p == "__pycache__" for p in rel.parts):
                continue
            if rel.name == "skill_meta.json" or (top and rel.parts[0] in ("skillpm.toml", "variants")):
                continue
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out / rel)
    return out


def gencode_line(tree: Path) -> list[str]:
    first = (tree / KDIR / "layernorm_gelu.cu").read_text().splitlines()[0]
    assert first.startswith("// nvcc-gencode: ")
    return first.removeprefix("// nvcc-gencode: ").split()


GENERIC_FLAGS = ["-gencode", "arch=compute_80,code=sm_80", "-gencode", "arch=compute_90,code=compute_90"]

WGMMA_BAD = """
__global__ void k() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("wgmma.fence.sync.aligned;\\n");
#endif
}
"""
WGMMA_GOOD = WGMMA_BAD.replace("defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900",
                               "defined(__CUDA_ARCH_FEAT_SM90_ALL)")
FEAT_PROBE = """
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#error FEAT_SM90_ALL_IS_DEFINED
#endif
__global__ void k() {}
"""

# One instruction each, in a kernel of its own: which targets ptxas accepts it for is
# what the arch references teach (hopper.md, blackwell.md).
PROBE = """
#include <stdint.h>
__global__ void k(uint32_t* q) {
  __shared__ __align__(128) uint64_t bar[8];
  unsigned s = (unsigned)__cvta_generic_to_shared(bar);
  (void)s;
  BODY
}
"""
PROBES = {
    "wgmma": 'asm volatile("wgmma.fence.sync.aligned;");',
    "setmaxnreg": 'asm volatile("setmaxnreg.inc.sync.aligned.u32 240;");',
    "tcgen05": 'asm volatile("tcgen05.alloc.cta_group::1.sync.aligned.shared::cta.b32 [%0], 32;" :: "r"(s));',
    "tcgen05_i8": (
        'uint64_t a = 0, b = 0; uint32_t d = 0, i = 0;\n'
        '  asm volatile("{.reg .pred p; setp.ne.b32 p, %4, 0; '
        'tcgen05.mma.cta_group::1.kind::i8 [%0], %1, %2, %3, p;}" :: "r"(d), "l"(a), "l"(b), "r"(i), "r"(1));'
    ),
    "v8": (
        'uint32_t r[8];\n'
        '  asm volatile("ld.global.nc.v8.b32 {%0,%1,%2,%3,%4,%5,%6,%7}, [%8];" : "=r"(r[0]), "=r"(r[1]), '
        '"=r"(r[2]), "=r"(r[3]), "=r"(r[4]), "=r"(r[5]), "=r"(r[6]), "=r"(r[7]) : "l"(q));\n'
        '  q[1] = r[0] + r[7];'
    ),
    "fp8_cvt": (
        'unsigned short h; float a = 1.0f, b = 2.0f;\n'
        '  asm volatile("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(h) : "f"(a), "f"(b));\n'
        '  q[2] = h;'
    ),
    "bulk": (
        'asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], 16, [%0];"'
        ' :: "r"(s), "l"(q) : "memory");'
    ),
}
# (probe, target) -> whether ptxas accepts it (nvcc 13.0)
PROBE_EXPECTED = {
    ("wgmma", "sm_90a"): True, ("wgmma", "sm_90"): False, ("wgmma", "sm_100a"): False,
    ("setmaxnreg", "sm_90a"): True, ("setmaxnreg", "sm_90"): False, ("setmaxnreg", "sm_100a"): True,
    ("setmaxnreg", "sm_100f"): True,
    ("tcgen05", "sm_100a"): True, ("tcgen05", "sm_100f"): True, ("tcgen05", "sm_103a"): True,
    ("tcgen05", "sm_100"): False, ("tcgen05", "sm_120a"): False,
    ("tcgen05_i8", "sm_100a"): True, ("tcgen05_i8", "sm_100f"): False,
    ("v8", "sm_90a"): False, ("v8", "sm_100"): True, ("v8", "sm_120"): True,
    ("bulk", "sm_80"): False, ("bulk", "sm_90"): True,
    ("fp8_cvt", "sm_86"): False, ("fp8_cvt", "sm_89"): True,
}
MACRO_PROBE = """
#if defined(__CUDA_ARCH__)
#if defined(__CUDA_ARCH_FEAT_SM100_ALL)
#error FEAT_SM100_ALL
#elif defined(__CUDA_ARCH_FAMILY_SPECIFIC__) && __CUDA_ARCH_FAMILY_SPECIFIC__ == 1000
#error FAMILY_1000
#else
#error NEITHER
#endif
#endif
__global__ void k() {}
"""


def _jobs(trees: dict[str, Path], work: Path) -> dict[str, list[str]]:
    def cu(v):
        return str(trees[v] / KDIR / "layernorm_gelu.cu")

    common = ["-std=c++17", "-O3"]
    jobs = {
        # -c for each variant's own target(s)
        "obj_generic": [*common, *GENERIC_FLAGS, "-c", cu("generic"), "-o", str(work / "g.o")],
        "obj_sm_80": [*common, *gencode_line(trees["sm_80"]), "-c", cu("sm_80"), "-o", str(work / "a.o")],
        "obj_sm_90a": [*common, *gencode_line(trees["sm_90a"]), "-c", cu("sm_90a"), "-o", str(work / "h.o")],
        "obj_sm_100a": [*common, *gencode_line(trees["sm_100a"]), "-c", cu("sm_100a"), "-o", str(work / "b.o")],
        # arch variants for a too-old target must fail
        "sm_90a_for_sm_80": [*common, "-gencode", "arch=compute_80,code=sm_80", "-c", cu("sm_90a"),
                             "-o", str(work / "x1.o")],
        "sm_100a_for_sm_90a": [*common, "-gencode", "arch=compute_90a,code=sm_90a", "-c", cu("sm_100a"),
                               "-o", str(work / "x2.o")],
        # PTX, to check which instructions each variant really uses
        "ptx_generic": [*common, "-arch=compute_80", "-ptx", cu("generic"), "-o", str(work / "g.ptx")],
        "ptx_sm_80": [*common, "-arch=compute_80", "-ptx", cu("sm_80"), "-o", str(work / "a.ptx")],
        "ptx_sm_90a": [*common, "-arch=compute_90a", "-ptx", cu("sm_90a"), "-o", str(work / "h.ptx")],
        "ptx_sm_100a": [*common, "-arch=compute_100a", "-ptx", cu("sm_100a"), "-o", str(work / "b.ptx")],
    }
    for name, src in (("wgmma_bad", WGMMA_BAD), ("wgmma_good", WGMMA_GOOD), ("feat", FEAT_PROBE)):
        (work / f"{name}.cu").write_text(src)
    for arch in ("90", "90a"):
        flags = ["-gencode", f"arch=compute_{arch},code=sm_{arch}"]
        jobs[f"wgmma_bad_{arch}"] = [*flags, "-c", str(work / "wgmma_bad.cu"), "-o", str(work / f"wb{arch}.o")]
        jobs[f"wgmma_good_{arch}"] = [*flags, "-c", str(work / "wgmma_good.cu"), "-o", str(work / f"wg{arch}.o")]
        jobs[f"feat_{arch}"] = [*flags, "-c", str(work / "feat.cu"), "-o", str(work / f"f{arch}.o")]
    for name, body in PROBES.items():
        (work / f"probe_{name}.cu").write_text(PROBE.replace("BODY", body))
    for name, target in PROBE_EXPECTED:
        jobs[f"probe_{name}_{target}"] = [f"-arch={target}", "-cubin", str(work / f"probe_{name}.cu"),
                                          "-o", str(work / f"probe_{name}_{target}.cubin")]
    (work / "macros.cu").write_text(MACRO_PROBE)
    for target in ("sm_100", "sm_100a", "sm_100f", "sm_120a"):
        jobs[f"macros_{target}"] = [f"-arch={target}", "-ptx", str(work / "macros.cu"), "-o", os.devnull]
    return jobs


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Run every nvcc job once, in parallel; returns name -> (returncode, output, workdir)."""
    if NVCC is None:
        pytest.skip("nvcc not on PATH")
    base = tmp_path_factory.mktemp("kernels")
    trees = {v: assemble(v, base / v) for v in ("generic", "sm_80", "sm_90a", "sm_100a")}
    work = base / "out"
    work.mkdir()
    jobs = _jobs(trees, work)

    def run(item):
        name, args = item
        proc = subprocess.run([NVCC, *args], capture_output=True, text=True, timeout=300)
        return name, (proc.returncode, proc.stdout + proc.stderr)

    with ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2))) as pool:
        results = dict(pool.map(run, jobs.items()))
    return {"results": results, "work": work, "trees": trees}


def _ok(built, name):
    rc, out = built["results"][name]
    assert rc == 0, f"nvcc {name} failed:\n{out}"


@pytest.mark.nvcc
@needs_nvcc
@pytest.mark.parametrize("variant", ["generic", "sm_80", "sm_90a", "sm_100a"])
def test_kernel_compiles_for_its_target(built, variant):
    _ok(built, f"obj_{variant}")
    assert (built["work"] / {"generic": "g.o", "sm_80": "a.o", "sm_90a": "h.o", "sm_100a": "b.o"}[variant]).stat().st_size > 0


@pytest.mark.nvcc
@needs_nvcc
@pytest.mark.parametrize(
    ("job", "message"),
    [("sm_90a_for_sm_80", "needs __CUDA_ARCH__ >= 900"),
     ("sm_100a_for_sm_90a", "needs __CUDA_ARCH__ >= 1000")],
)
def test_arch_variant_refuses_older_target(built, job, message):
    rc, out = built["results"][job]
    assert rc != 0
    assert "#error" in out and message in out


@pytest.mark.nvcc
@needs_nvcc
@pytest.mark.parametrize(
    ("variant", "present", "absent"),
    [("generic", ["ld.global.nc.v4"], ["cp.async", "mbarrier", ".v8."]),
     ("sm_80", ["cp.async.cg.shared.global", "cp.async.commit_group", "cp.async.wait_group"],
      ["cp.async.bulk", "mbarrier"]),
     ("sm_90a", ["cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes",
                 "mbarrier.arrive.expect_tx", "mbarrier.try_wait.parity", "fence.proxy.async"], ["wgmma"]),
     ("sm_100a", ["ld.global.nc.v8.b32", "st.global.v8.b32"], ["tcgen05", "wgmma"])],
)
def test_ptx_uses_the_promised_instructions(built, variant, present, absent):
    _ok(built, f"ptx_{variant}")
    ptx = (built["work"] / {"generic": "g.ptx", "sm_80": "a.ptx", "sm_90a": "h.ptx", "sm_100a": "b.ptx"}[variant]).read_text()
    for needle in present:
        assert needle in ptx, f"{variant}: {needle} not in PTX"
    for needle in absent:
        assert needle not in ptx, f"{variant}: unexpected {needle} in PTX"


@pytest.mark.nvcc
@needs_nvcc
def test_wgmma_behind_cuda_arch_900_breaks_plain_sm_90(built):
    """What the sm_90a variant teaches: __CUDA_ARCH__ >= 900 is not enough for wgmma."""
    rc, out = built["results"]["wgmma_bad_90"]
    assert rc != 0 and "wgmma" in out
    _ok(built, "wgmma_bad_90a")
    _ok(built, "wgmma_good_90")
    _ok(built, "wgmma_good_90a")


@pytest.mark.nvcc
@needs_nvcc
def test_feat_sm90_all_defined_only_for_sm_90a(built):
    _ok(built, "feat_90")
    rc, out = built["results"]["feat_90a"]
    assert rc != 0 and "FEAT_SM90_ALL_IS_DEFINED" in out


@pytest.mark.nvcc
@needs_nvcc
@pytest.mark.parametrize(("probe", "target"), sorted(PROBE_EXPECTED))
def test_instruction_targets_match_the_references(built, probe, target):
    """wgmma is sm_90a only; setmaxnreg needs an a/f target; tcgen05 needs sm_100a/f or sm_103a
    (kind::i8 sm_100a, not sm_100f) and is absent on 12.0; 256-bit loads need sm_100+; TMA sm_90+;
    hardware FP8 conversion sm_89+."""
    rc, out = built["results"][f"probe_{probe}_{target}"]
    if PROBE_EXPECTED[(probe, target)]:
        assert rc == 0, f"{probe} should compile for {target}:\n{out}"
    else:
        assert rc != 0 and ("not supported" in out or "requires" in out), f"{probe} should fail for {target}:\n{out}"


@pytest.mark.nvcc
@needs_nvcc
@pytest.mark.parametrize(
    ("target", "macro"),
    [("sm_100", "NEITHER"), ("sm_100a", "FEAT_SM100_ALL"), ("sm_100f", "FAMILY_1000"), ("sm_120a", "NEITHER")],
)
def test_tcgen05_guard_of_blackwell_md(built, target, macro):
    """The guard blackwell.md teaches is true for sm_100a and sm_100f builds only."""
    rc, out = built["results"][f"macros_{target}"]
    assert rc != 0 and re.search(rf"#error\b.*\b{macro}\b", out), out
    others = {"NEITHER", "FEAT_SM100_ALL", "FAMILY_1000"} - {macro}
    assert not any(re.search(rf"#error\b.*\b{m}\b", out) for m in others), out


@pytest.mark.nvcc
@needs_nvcc
def test_256_bit_loads_need_ptx_isa_8_8(built, tmp_path):
    """blackwell.md and the sm_100a build.toml: 256-bit loads need PTX ISA 8.8 (CUDA 12.9)."""
    ptxas = shutil.which("ptxas")
    if ptxas is None:
        pytest.skip("ptxas not on PATH")
    ptx = tmp_path / "v8.ptx"
    proc = subprocess.run([NVCC, "-arch=sm_100a", "-ptx", str(built["work"] / "probe_v8.cu"), "-o", str(ptx)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    text = ptx.read_text()
    for version, ok in (("8.7", False), ("8.8", True)):
        variant = tmp_path / f"v8_{version}.ptx"
        variant.write_text(re.sub(r"^\.version .*$", f".version {version}", text, count=1, flags=re.M))
        proc = subprocess.run([ptxas, "-arch=sm_100a", str(variant), "-o", os.devnull],
                              capture_output=True, text=True, timeout=300)
        assert (proc.returncode == 0) == ok, (version, proc.stderr)


def test_cuda_sources_do_not_include_torch():
    sources = list(SKILL.rglob("layernorm_gelu_cuda/*"))
    assert len(sources) >= 6
    for path in sources:
        text = path.read_text()
        assert "#include <torch" not in text and "#include <ATen" not in text, path
        assert "#include <c10" not in text, path


def test_binding_uses_the_c_launcher():
    text = (SKILL / "assets/layernorm_gelu/torch-ext/torch_binding.cpp").read_text()
    assert '#include "../layernorm_gelu_cuda/layernorm_gelu.h"' in text
    assert "layernorm_gelu_launch(" in text
    assert "getCurrentCUDAStream" in text


# --------------------------------------------------------------------------- CPU math


def py_layernorm_gelu(row, weight, bias, eps):
    """Pure-Python LayerNorm (biased variance) followed by the erf GELU."""
    n = len(row)
    mean = math.fsum(row) / n
    var = math.fsum((v - mean) ** 2 for v in row) / n
    rstd = 1.0 / math.sqrt(var + eps)
    out = []
    for v, w, b in zip(row, weight, bias):
        z = (v - mean) * rstd * w + b
        out.append(0.5 * z * (1.0 + math.erf(z / math.sqrt(2.0))))
    return out


ROWS = [
    [0.5, -1.25, 3.0, 0.0, 2.5, -0.75, 1.0, -2.0],
    [1e-3, 2e-3, -1e-3, 4e-3, 0.0, 5e-3, -2e-3, 3e-3],
    [10.0, 10.5, 9.5, 10.25, 9.75, 10.0, 10.125, 9.875],
]
WEIGHT = [1.0, 0.5, -1.5, 2.0, 0.25, 1.0, -0.5, 1.25]
BIAS = [0.0, 0.1, -0.2, 0.3, 0.0, -0.1, 0.2, 0.05]


def test_python_reference_known_values():
    # gelu(0) = 0; gelu(x) -> x for large x; gelu(-x) -> 0 for large x
    out = py_layernorm_gelu([-1.0, 1.0], [100.0, 100.0], [0.0, 0.0], 0.0)
    assert out[1] == pytest.approx(100.0, rel=1e-9)
    assert out[0] == pytest.approx(0.0, abs=1e-9)
    assert py_layernorm_gelu([1.0, 1.0], [1.0, 1.0], [0.0, 0.0], 1e-5) == [0.0, 0.0]


def _reference_module():
    torch = pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location(
        "lng_reference", SKILL / "assets/layernorm_gelu/tests/reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return torch, module


def test_torch_reference_matches_python_fp32():
    torch, ref = _reference_module()
    x = torch.tensor(ROWS, dtype=torch.float32)
    got = ref.reference_layernorm_gelu(x, torch.tensor(WEIGHT), torch.tensor(BIAS), 1e-5)
    assert got.dtype == torch.float32
    for r, row in enumerate(ROWS):
        want = py_layernorm_gelu(row, WEIGHT, BIAS, 1e-5)
        for a, b in zip(got[r].tolist(), want):
            assert a == pytest.approx(b, rel=1e-4, abs=1e-5)


def test_torch_reference_bf16_within_tolerance():
    torch, ref = _reference_module()
    x = torch.tensor(ROWS, dtype=torch.bfloat16)
    w = torch.tensor(WEIGHT, dtype=torch.bfloat16)
    b = torch.tensor(BIAS, dtype=torch.bfloat16)
    got = ref.reference_layernorm_gelu(x, w, b, 1e-5)
    assert got.dtype == torch.bfloat16
    tol = ref.TOLERANCES[torch.bfloat16]
    for r in range(len(ROWS)):
        want = py_layernorm_gelu(x[r].float().tolist(), w.float().tolist(), b.float().tolist(), 1e-5)
        for a, e in zip(got[r].float().tolist(), want):
            assert abs(a - e) <= tol["atol"] + tol["rtol"] * abs(e)


def test_torch_reference_handles_batched_input():
    torch, ref = _reference_module()
    x = torch.randn(2, 3, 64, generator=torch.Generator().manual_seed(0))
    w, b = torch.randn(64), torch.randn(64)
    got = ref.reference_layernorm_gelu(x, w, b, 1e-5)
    want = torch.nn.functional.gelu(torch.nn.functional.layer_norm(x, (64,), w, b, 1e-5))
    torch.testing.assert_close(got, want)


# --------------------------------------------------------------------------- GPU


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@pytest.mark.gpu
@pytest.mark.skipif(not _cuda_available(), reason="needs torch with a CUDA GPU")
def test_kernel_on_this_gpu(tmp_path):
    import torch

    spec = importlib.util.spec_from_file_location("check_arch", SKILL / "scripts/check_arch.py")
    check_arch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check_arch)
    variant = check_arch.variant_for(*torch.cuda.get_device_capability())
    tree = assemble(variant, tmp_path)
    project = tree / "assets/layernorm_gelu"
    sys.path.insert(0, str(project))
    try:
        spec = importlib.util.spec_from_file_location("lng_build_ext", project / "build_ext.py")
        build_ext = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(build_ext)
        ops = build_ext.load()
        _, ref = _reference_module()
        assert ops.implementation() == variant
        for dtype in (torch.float32, torch.bfloat16):
            for hidden in (768, 1000, 4096, 16384):
                x = torch.randn(64, hidden, device="cuda").to(dtype)
                w = torch.randn(hidden, device="cuda").to(dtype)
                b = torch.randn(hidden, device="cuda").to(dtype)
                torch.testing.assert_close(ops.layernorm_gelu(x, w, b, 1e-5),
                                           ref.reference_layernorm_gelu(x, w, b, 1e-5),
                                           **ref.TOLERANCES[dtype])
    finally:
        sys.path.remove(str(project))
