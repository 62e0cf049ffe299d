"""Build checks of the fused LayerNorm + GELU reference kernel of kernel-builder-cuda.

- nvcc (marker ``nvcc``): the one kernel source compiles without torch for every target
  the skill serves, the PTX holds the instructions it promises per target (128-bit
  access everywhere, packed fp32 and mixed bf16 adds from 10.0 on), and the guard rules
  the skill teaches hold for nvcc.
- CPU: the float64 PyTorch reference agrees with a pure-Python LayerNorm + GELU, and the
  fp32 model of the kernel's arithmetic meets the derived tolerances on the hard inputs
  (large offsets, hidden sizes 17 / 1023 / 4097, both GELU forms).
- GPU (marker ``gpu``): builds the extension and compares it with the reference.
  Skipped without CUDA.
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
from conftest import needs_nvcc, nvcc_skip_reason

SKILL = Path(__file__).resolve().parents[1] / "skills" / "kernel-builder-cuda"
NVCC = shutil.which("nvcc")


ASSETS = SKILL / "assets/layernorm_gelu"
KERNEL = ASSETS / "layernorm_gelu_cuda/layernorm_gelu.cu"
# Every target the skill serves: an sm_XY cubin per capability of build.toml, the
# arch-specific spellings nvcc 13 accepts, and PTX for newer GPUs.
KERNEL_TARGETS = ["sm_80", "sm_86", "sm_89", "sm_90", "sm_90a", "sm_100", "sm_100a", "sm_103a",
                  "sm_110", "sm_120"]
PTX_ARCHS = ("80", "90", "100", "120")  # whose PTX is checked for the instructions it promises


def load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
#elif defined(__CUDA_ARCH_FAMILY_SPECIFIC__) && __CUDA_ARCH_FAMILY_SPECIFIC__ >= 1000 && __CUDA_ARCH_FAMILY_SPECIFIC__ < 1100
#error FAMILY_10X
#else
#error NEITHER
#endif
#endif
__global__ void k() {}
"""


def _jobs(work: Path) -> dict[str, list[str]]:
    common = ["-std=c++17", "-O3"]
    # Device code per target (-cubin: ptxas for that target); the host side is the same for
    # every target (__CUDA_ARCH__ is undefined there), so it is compiled once, to an object.
    jobs = {f"cubin_{t}": [*common, f"-arch={t}", "-cubin", str(KERNEL), "-o", str(work / f"{t}.cubin")]
            for t in KERNEL_TARGETS}
    jobs["object"] = [*common, f"-arch={KERNEL_TARGETS[0]}", "-c", str(KERNEL), "-o", str(work / "kernel.o")]
    for arch in PTX_ARCHS:  # the PTX ptxas was given for sm_XY, kept: what -arch=compute_XY -ptx writes
        (work / f"keep_{arch}").mkdir()
        jobs[f"cubin_sm_{arch}"] += ["-keep", "-keep-dir", str(work / f"keep_{arch}")]
    for name, src in (("wgmma_bad", WGMMA_BAD), ("wgmma_good", WGMMA_GOOD), ("feat", FEAT_PROBE)):
        (work / f"{name}.cu").write_text(src)
    for arch in ("90", "90a"):
        flags = ["-gencode", f"arch=compute_{arch},code=sm_{arch}"]
        jobs[f"wgmma_bad_{arch}"] = [*flags, "-cubin", str(work / "wgmma_bad.cu"), "-o", str(work / f"wb{arch}.cubin")]
        jobs[f"wgmma_good_{arch}"] = [*flags, "-cubin", str(work / "wgmma_good.cu"), "-o", str(work / f"wg{arch}.cubin")]
        jobs[f"feat_{arch}"] = [*flags, "-cubin", str(work / "feat.cu"), "-o", str(work / f"f{arch}.cubin")]
    for name, body in PROBES.items():
        (work / f"probe_{name}.cu").write_text(PROBE.replace("BODY", body))
    for name, target in PROBE_EXPECTED:
        jobs[f"probe_{name}_{target}"] = [f"-arch={target}", "-cubin", str(work / f"probe_{name}.cu"),
                                          "-o", str(work / f"probe_{name}_{target}.cubin")]
    (work / "macros.cu").write_text(MACRO_PROBE)
    for target in ("sm_100", "sm_100a", "sm_100f", "sm_103a", "sm_103f", "sm_120a", "sm_120f"):
        jobs[f"macros_{target}"] = [f"-arch={target}", "-ptx", str(work / "macros.cu"), "-o", os.devnull]
    return jobs


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Run every nvcc job once, in parallel; returns name -> (returncode, output, workdir)."""
    reason = nvcc_skip_reason()
    if reason is not None:  # what ptxas accepts per target was checked with one CUDA release
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("kernels")
    jobs = _jobs(work)

    def run(item):
        name, args = item
        proc = subprocess.run([NVCC, *args], capture_output=True, text=True, timeout=300)
        return name, (proc.returncode, proc.stdout + proc.stderr)

    with ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2))) as pool:
        results = dict(pool.map(run, jobs.items()))
    return {"results": results, "work": work}


def _ok(built, name):
    rc, out = built["results"][name]
    assert rc == 0, f"nvcc {name} failed:\n{out}"


@pytest.mark.nvcc
@needs_nvcc
@pytest.mark.parametrize("target", KERNEL_TARGETS)
def test_kernel_compiles_for_every_target(built, target):
    _ok(built, f"cubin_{target}")
    assert (built["work"] / f"{target}.cubin").stat().st_size > 0


@pytest.mark.nvcc
@needs_nvcc
def test_kernel_host_side_compiles_to_an_object(built):
    _ok(built, "object")
    assert (built["work"] / "kernel.o").stat().st_size > 0


@pytest.mark.nvcc
@needs_nvcc
@pytest.mark.parametrize(
    ("arch", "present", "absent"),
    [("80", ["ld.global.nc.v4", "st.global.v4", "ex2.approx.ftz.f32", "rcp.approx.ftz.f32"],
      ["f32x2", "add.rn.f32.bf16", "cp.async", "mbarrier"]),
     ("90", ["ld.global.nc.v4", "st.global.v4"], ["f32x2", "add.rn.f32.bf16", "wgmma"]),
     ("100", ["ld.global.nc.v4", "fma.rn.f32x2", "add.rn.f32.bf16"], ["tcgen05", "wgmma"]),
     ("120", ["fma.rn.f32x2", "add.rn.f32.bf16"], ["tcgen05"])],
)
def test_ptx_uses_the_promised_instructions(built, arch, present, absent):
    """128-bit access and one-MUFU ex2/rcp everywhere; packed fp32 and mixed bf16 adds
    only where they exist (10.0 and later)."""
    _ok(built, f"cubin_sm_{arch}")
    ptx = (built["work"] / f"keep_{arch}" / f"{KERNEL.stem}.ptx").read_text()
    for needle in present:
        assert needle in ptx, f"compute_{arch}: {needle} not in PTX"
    for needle in absent:
        assert needle not in ptx, f"compute_{arch}: unexpected {needle} in PTX"
    assert "div.rn" not in ptx and "erff" not in ptx, "no IEEE division or libdevice erf per element"


@pytest.mark.nvcc
@needs_nvcc
def test_wgmma_behind_cuda_arch_900_breaks_plain_sm_90(built):
    """wgmma needs the sm_90a target: __CUDA_ARCH__ >= 900 is not enough (plain sm_90 builds reject it)."""
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
    [("sm_100", "NEITHER"), ("sm_100a", "FEAT_SM100_ALL"), ("sm_100f", "FAMILY_10X"), ("sm_103a", "FAMILY_10X"),
     ("sm_103f", "FAMILY_10X"), ("sm_120a", "NEITHER"), ("sm_120f", "NEITHER")],
)
def test_tcgen05_guard_of_blackwell_md(built, target, macro):
    """The guard blackwell.md teaches (feature macro, else the family range 1000-1099, not `== 1000`,
    which is false for sm_103 builds) is true for every 10.x family build and no other."""
    rc, out = built["results"][f"macros_{target}"]
    assert rc != 0 and re.search(rf"#error\b.*\b{macro}\b", out), out
    others = {"NEITHER", "FEAT_SM100_ALL", "FAMILY_10X"} - {macro}
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


def test_one_kernel_source_for_all_variants():
    """Variants differ in advice, not in copies of the kernel."""
    assert sorted(p.relative_to(SKILL).as_posix() for p in SKILL.rglob("layernorm_gelu_cuda/*")) == [
        "assets/layernorm_gelu/layernorm_gelu_cuda/common.cuh",
        "assets/layernorm_gelu/layernorm_gelu_cuda/layernorm_gelu.cu",
        "assets/layernorm_gelu/layernorm_gelu_cuda/layernorm_gelu.h",
    ]
    assert not any((SKILL / "variants").rglob("*.cu*"))


def test_cuda_sources_do_not_include_torch():
    sources = list(SKILL.rglob("layernorm_gelu_cuda/*"))
    assert len(sources) == 3
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
    return torch, load_module("lng_reference", ASSETS / "tests/reference.py")


def _model_modules():
    torch, ref = _reference_module()
    return torch, ref, load_module("lng_cases", ASSETS / "tests/cases.py"), \
        load_module("lng_model", ASSETS / "tests/kernel_model.py")


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


def test_tanh_reference_matches_python():
    torch, ref = _reference_module()
    x = torch.tensor(ROWS, dtype=torch.float32)
    got = ref.reference_layernorm_gelu(x, torch.tensor(WEIGHT), torch.tensor(BIAS), 1e-5, "tanh")
    for r, row in enumerate(ROWS):
        mean = math.fsum(row) / len(row)
        rstd = 1 / math.sqrt(math.fsum((v - mean) ** 2 for v in row) / len(row) + 1e-5)
        for a, v, w, b in zip(got[r].tolist(), row, WEIGHT, BIAS):
            z = (v - mean) * rstd * w + b
            want = 0.5 * z * (1 + math.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z**3)))
            assert a == pytest.approx(want, rel=1e-6, abs=1e-7)


def test_bf16_tolerance_is_tighter_than_before():
    """One bf16 step plus the GELU bound: half of torch's default 1.6e-2."""
    torch, ref = _reference_module()
    tol = ref.TOLERANCES[torch.bfloat16]
    assert tol["rtol"] == 2.0**-7 + 2.0**-12 and tol["atol"] <= 2.0**-15


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("hidden", [17, 1023, 4097, 8192])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_kernel_model_within_tolerance(hidden, approximate, dtype):
    """The kernel's fp32 arithmetic (tests/kernel_model.py) against the float64 reference:
    rows shorter than a warp (17), not a multiple of the vector width (1023, 4097)."""
    torch, ref, cases, model = _model_modules()
    x, w, b = cases.make_inputs(5, hidden, getattr(torch, dtype))
    torch.testing.assert_close(model.model_layernorm_gelu(x, w, b, 1e-5, approximate),
                               ref.reference_layernorm_gelu(x, w, b, 1e-5, approximate),
                               **ref.TOLERANCES[x.dtype])


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_kernel_model_large_offset(approximate, dtype):
    """Mean 1e4 with small variance: the shifted one-pass statistics keep their digits,
    where E[x^2] - E[x]^2 in fp32 would not."""
    torch, ref, cases, model = _model_modules()
    x, w, b = cases.large_offset(4, 4096, getattr(torch, dtype))
    torch.testing.assert_close(model.model_layernorm_gelu(x, w, b, 1e-5, approximate),
                               ref.reference_layernorm_gelu(x, w, b, 1e-5, approximate),
                               **ref.TOLERANCES[x.dtype])
    xf = x.float()
    naive = (xf * xf).mean(dim=1) - xf.mean(dim=1) ** 2
    exact = x.double().var(dim=1, unbiased=False)
    if dtype == "float32":
        assert ((naive.double() - exact).abs() / exact).max() > 0.1


def test_gelu_error_bound_holds():
    """scripts/gelu_error.py: the constants in common.cuh are the fit, and both GELU
    forms stay below 2^-12 relative error (coarser grid than the script's default)."""
    pytest.importorskip("torch")
    gelu_error = load_module("lng_gelu_error", SKILL / "scripts/gelu_error.py")
    p, coef = gelu_error.kernel_constants()
    fit_p, fit_coef, fit_err = gelu_error.fit()
    assert p == fit_p and coef == pytest.approx(fit_coef, rel=1e-6) and fit_err < 2.0**-13
    for form in ("none", "tanh"):
        rel, tiny = gelu_error.bound(form, p, coef, 100_001)
        assert rel < 2.0**-12 and tiny < 2.0**-120


def test_torch_reference_handles_batched_input():
    torch, ref = _reference_module()
    x = torch.randn(2, 3, 64, generator=torch.Generator().manual_seed(0))
    w, b = torch.randn(64), torch.randn(64)
    got = ref.reference_layernorm_gelu(x, w, b, 1e-5)
    want = torch.nn.functional.gelu(torch.nn.functional.layer_norm(x, (64,), w, b, 1e-5))
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- GPU


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@pytest.mark.gpu
@pytest.mark.skipif(not _cuda_available(), reason="needs torch with a CUDA GPU")
def test_kernel_on_this_gpu():
    import torch

    sys.path.insert(0, str(ASSETS))
    try:
        build_ext = load_module("lng_build_ext", ASSETS / "build_ext.py")
        ops = build_ext.load()
        _, ref, cases, _ = _model_modules()
        assert ops.implementation() == ("f32x2" if torch.cuda.get_device_capability()[0] >= 10 else "f32")
        for dtype in (torch.float32, torch.bfloat16):
            for hidden in (17, 768, 1000, 1023, 4096, 4097, 16384):
                for approximate in ("none", "tanh"):
                    x, w, b = cases.make_inputs(64, hidden, dtype, device="cuda")
                    torch.testing.assert_close(ops.layernorm_gelu(x, w, b, 1e-5, approximate),
                                               ref.reference_layernorm_gelu(x, w, b, 1e-5, approximate),
                                               **ref.TOLERANCES[dtype])
    finally:
        sys.path.remove(str(ASSETS))
