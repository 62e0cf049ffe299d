"""Count SASS instructions per element of the fused LayerNorm + GELU kernel, per GPU target.

    python scripts/sass_budget.py                     # every target, H = 8192, table
    python scripts/sass_budget.py --targets sm_90a,sm_100a --hidden 4096 --json

No GPU needed: nvcc compiles the kernel to a cubin for each target (ptxas reports
registers and spill bytes), cuobjdump disassembles it (NVIDIA's wheel
nvidia-cuda-cuobjdump, or cuobjdump on PATH), and the row loop of the instantiation
that serves the given hidden size is counted. Counting method
(references/sass-budget.md): the kernel keeps one row in registers and loops over rows;
its body is straight-line (every inner loop unrolled), so the instructions one thread
executes per row are the instructions between the row loop's head and its backward
branch (NOPs excluded; a forward branch inside the body would make this an upper
bound). Divided by the elements each thread holds (EPT), that is the thread-level
SASS instructions per element. Work done once per CTA (gamma/beta loads) is left out.
A body with a second backward branch (an inner loop whose trip count is unknown) is
refused rather than guessed. Exit status: 0, or 1 if a budget is exceeded or a kernel
spills; 2 if a tool is missing. The SASS reading is skillpm's (skillpm.evaluation.sass, which
decides the ``cuda_kernel`` eval checks the same way), so skillpm must be importable.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from skillpm.evaluation.programs import find_cuobjdump
from skillpm.evaluation.sass import SassError, counted_instructions, function_sass, instructions, ptxas_resources

SOURCE = Path(__file__).resolve().parents[1] / "assets/layernorm_gelu/layernorm_gelu_cuda/layernorm_gelu.cu"
TARGETS = ["sm_80", "sm_86", "sm_89", "sm_90", "sm_100", "sm_100f", "sm_103", "sm_120", "sm_120f"]
# Thread-level SASS instructions per bf16 element a GPU can issue at full HBM bandwidth
# (4 bytes of traffic per element), rounded down with margin: references/sass-budget.md.
# Targets without a figure are reported, not judged.
BUDGETS = {"sm_80": 28, "sm_90": 28, "sm_90a": 28, "sm_100": 14, "sm_100a": 14, "sm_100f": 14, "sm_103": 14,
           "sm_103a": 14}
NVCC_MAJOR = 13
GELU = {"none": 0, "tanh": 1}
DTYPES = {"bf16": ("__nv_bfloat16", "13__nv_bfloat16", 8), "f32": ("float", "f", 4)}




@dataclass(frozen=True)
class Gpu:
    """Datasheet figures that set a GPU's instruction budget; ``boost_mhz`` is None when no datasheet gives it."""

    name: str
    capability: tuple[int, int]
    sms: int
    boost_mhz: int | None
    bandwidth_gbps: float
    source: str

    def budget(self, bytes_per_element: int) -> float | None:
        """Thread-level instructions per element it can issue at full bandwidth:
        SMs x 4 schedulers x clock x 32 lanes / (bandwidth / bytes per element)."""
        if self.boost_mhz is None:
            return None
        issue = self.sms * 4 * self.boost_mhz * 1e6 * 32
        return issue / (self.bandwidth_gbps * 1e9 / bytes_per_element)


_A100 = "NVIDIA A100 Tensor Core GPU Architecture whitepaper (108 SMs, 1410 MHz) and A100 datasheet (2039 GB/s)"
_H100 = ("NVIDIA H100 datasheet (SXM: 3.35 TB/s, 67 TFLOPS FP32 = 132 SMs x 128 lanes x 2 x 1.98 GHz); "
         "H100 whitepaper (132 SMs)")
#: GPUs whose budgets the evidence reports, per capability (references/sass-budget.md).
GPUS = [
    Gpu("A100 SXM 80GB", (8, 0), 108, 1410, 2039.0, _A100),
    Gpu("H100 SXM", (9, 0), 132, 1980, 3350.0, _H100),
    Gpu("H200", (9, 0), 132, 1980, 4800.0, "NVIDIA H200 datasheet (4.8 TB/s; 67 TFLOPS FP32, so H100 SXM's 132 SMs at 1.98 GHz)"),
    Gpu("B200", (10, 0), 148, None, 8000.0, "NVIDIA DGX B200 datasheet (64 TB/s for 8 GPUs); no boost clock published"),
]
#: Family-specific targets and the capabilities their cubins run on (CUDA 12.9 and later).
FAMILIES = {(10, 0): ((10, 0), (10, 3)), (10, 3): ((10, 3),), (12, 0): ((12, 0), (12, 1)), (12, 1): ((12, 1),)}
TARGET = re.compile(r"sm_(\d+)(\d)([af]?)$")


def runs_on(target: str, capability: tuple[int, int]) -> bool:
    """Whether a cubin for ``target`` runs on a GPU of ``capability`` (same major, minor at least the
    target's; ``a``: that capability only; ``f``: its family)."""
    match = TARGET.match(target)
    if not match:
        return False
    major, minor, suffix = int(match.group(1)), int(match.group(2)), match.group(3)
    if suffix == "a":
        return capability == (major, minor)
    if suffix == "f":
        return capability in FAMILIES.get((major, minor), ())
    return capability[0] == major and capability[1] >= minor


def gencode(target: str) -> str:
    """The nvcc -gencode value that builds a cubin (no PTX) for ``target``."""
    return f"arch={target.replace('sm_', 'compute_')},code={target}"


def gpu_budgets(target: str, dtype: str, per_element: float) -> list[dict[str, object]]:
    """Each known GPU the target's cubin runs on: its figures, budget and the fraction of bandwidth
    the kernel can reach (budget / per_element, at most 1); budget and ceiling absent without a clock."""
    bytes_per_element = 2 * (16 // DTYPES[dtype][2])  # read and written once; DTYPES holds 16-byte vector widths
    out = []
    for gpu in GPUS:
        if not runs_on(target, gpu.capability):
            continue
        row: dict[str, object] = {"name": gpu.name, "capability": "%d.%d" % gpu.capability, "sms": gpu.sms,
                                  "bandwidth_gbps": gpu.bandwidth_gbps, "source": gpu.source}
        budget = gpu.budget(bytes_per_element)
        if budget is not None:
            row.update(boost_mhz=gpu.boost_mhz, budget_per_element=round(budget, 2),
                       ceiling=round(min(1.0, budget / per_element), 3))
        out.append(row)
    return out


def source_files(source: Path) -> dict[str, str]:
    """sha256 of the files compiled: the .cu, .cuh and .h files beside ``source`` (the kernel's src in
    build.toml), keyed by path relative to the kernel project (the folder above them)."""
    project = source.parent.parent
    return {path.relative_to(project).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(source.parent.iterdir()) if path.suffix in (".cu", ".cuh", ".h") and path.is_file()}


class ToolError(RuntimeError):
    """A compiler or disassembler is missing or failed."""


@dataclass
class Row:
    target: str
    dtype: str
    gelu: str
    hidden: int
    kernel: str
    ept: int
    loop_instructions: int
    per_element: float
    registers: int
    spill_bytes: int
    budget: int | None
    gencode: str
    gpus: list[dict[str, object]]

    @property
    def ok(self) -> bool:
        return self.spill_bytes == 0 and (self.budget is None or self.per_element <= self.budget)


def find_nvdisasm(cuobjdump: str) -> str | None:
    """The nvdisasm that ``cuobjdump -sass`` runs: beside it, else on PATH."""
    beside = Path(cuobjdump).with_name("nvdisasm")
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else shutil.which("nvdisasm")


def tool_version(tool: str) -> str:
    out = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=60).stdout
    match = re.search(r"release (\d+\.\d+), V([\d.]+)", out)
    if not match:
        raise ToolError(f"cannot read the version of {tool}")
    return match.group(2)


def instantiation(dtype: str, hidden: int, gelu: str) -> tuple[int, bool, int]:
    """(EPT, warp rows, access) that the launcher picks for aligned tensors of this shape,
    as lng::launch_type in layernorm_gelu.cu does."""
    vec = DTYPES[dtype][2]
    if hidden % vec:
        access = 2
    elif hidden > 1024 and hidden % 1024 == 0:
        return 32, False, 0
    else:
        access = 1
    for ept in (8, 16, 32):
        if hidden <= 32 * ept:
            return ept, True, access
    return (16 if access == 2 else 32), False, access  # kCtaEptScalar / kCtaEpt


def mangled_prefix(dtype: str, ept: int, warp_rows: bool, access: int, gelu: str) -> str:
    return (f"_ZN3lng21layernorm_gelu_kernelI{DTYPES[dtype][1]}Li{ept}ELb{int(warp_rows)}"
            f"ELNS_6AccessE{access}ELNS_4GeluE{GELU[gelu]}EE")


def readable_name(dtype: str, ept: int, warp_rows: bool, access: int, gelu: str) -> str:
    return (f"layernorm_gelu_kernel<{DTYPES[dtype][0]}, {ept}, {str(warp_rows).lower()}, "
            f"Access({access}), Gelu({GELU[gelu]})>")


def toolchain() -> dict[str, str]:
    """The versions of nvcc, and of the cuobjdump and nvdisasm that disassemble."""
    cuobjdump = find_cuobjdump() or "cuobjdump"
    return {"nvcc": tool_version(shutil.which("nvcc") or "nvcc"), "cuobjdump": tool_version(cuobjdump),
            "nvdisasm": tool_version(find_nvdisasm(cuobjdump) or "nvdisasm")}


def row_loop(sass: str) -> int:
    """Instructions in the one row loop, from its head to its backward branch, no NOPs (counted as
    skillpm.evaluation.sass.counted_instructions counts them; a second loop is an error)."""
    try:
        return counted_instructions(instructions(sass))
    except SassError as error:
        raise ToolError(str(error)) from None


def compile_target(nvcc: str, cuobjdump: str, source: Path, target: str, work: Path) -> tuple[str, str]:
    cubin = work / f"{target}.cubin"
    proc = subprocess.run(
        [nvcc, "-std=c++17", "-O3", "-gencode", gencode(target), "-cubin", "-Xptxas", "-v", str(source), "-o", str(cubin)],
        capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise ToolError(f"nvcc failed for {target}:\n{proc.stderr[-4000:]}")
    dump = subprocess.run([cuobjdump, "-sass", str(cubin)], capture_output=True, text=True, timeout=300)
    if dump.returncode != 0:
        raise ToolError(f"cuobjdump failed for {target}:\n{dump.stderr[-2000:]}")
    return proc.stderr + proc.stdout, dump.stdout


def measure(targets: list[str], hidden: int = 8192, dtypes: tuple[str, ...] = ("bf16", "f32"),
            source: Path = SOURCE, jobs: int = 2) -> tuple[list[Row], dict[str, int]]:
    """Rows for each target x dtype x GELU form, and the largest spill of any kernel per target."""
    nvcc = shutil.which("nvcc")
    cuobjdump = find_cuobjdump()
    if nvcc is None or cuobjdump is None:
        raise ToolError(
            "needs nvcc on PATH, and cuobjdump with nvdisasm (pip install nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm)"
        )
    rows: list[Row] = []
    worst: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=jobs) as pool:
        results = pool.map(lambda t: (t, *compile_target(nvcc, cuobjdump, source, t, Path(tmp))), targets)
        for target, log, sass in results:
            resources = ptxas_resources(log)
            worst[target] = max((r.spill_bytes for r in resources.values()), default=0)
            for dtype in dtypes:
                for gelu in GELU:
                    ept, warp_rows, access = instantiation(dtype, hidden, gelu)
                    prefix = mangled_prefix(dtype, ept, warp_rows, access, gelu)
                    regs, spill = next(((v.registers, v.spill_bytes) for k, v in resources.items()
                                        if k.startswith(prefix)), (-1, -1))
                    if regs < 0:
                        raise ToolError(f"ptxas reported nothing for {prefix} ({target})")
                    count = row_loop(function_sass(sass, prefix))
                    rows.append(Row(target, dtype, gelu, hidden,
                                    readable_name(dtype, ept, warp_rows, access, gelu), ept, count,
                                    round(count / ept, 2), regs, spill,
                                    BUDGETS.get(target) if dtype == "bf16" else None, gencode(target),
                                    gpu_budgets(target, dtype, count / ept)))
    return rows, worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated, e.g. sm_80,sm_100a")
    parser.add_argument("--hidden", type=int, default=8192)
    parser.add_argument("--dtypes", default="bf16,f32", help="comma-separated: bf16, f32")
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--json", action="store_true", help="one JSON document instead of a table")
    args = parser.parse_args(argv)
    try:
        rows, worst = measure(args.targets.split(","), args.hidden, tuple(args.dtypes.split(",")), args.source)
        versions = toolchain()
    except (ToolError, SassError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"versions": versions, "sources": source_files(args.source), "rows": [asdict(r) for r in rows],
                          "max_spill_bytes": worst}, indent=2))
    else:
        print(f"nvcc {versions['nvcc']}, cuobjdump {versions['cuobjdump']}, hidden {args.hidden}")
        print(f"{'target':8} {'dtype':5} {'gelu':5} {'EPT':>3} {'loop':>5} {'per elem':>8} {'budget':>6} "
              f"{'regs':>4} {'spill':>5} {'all-kernel spill':>16}")
        for r in rows:
            print(f"{r.target:8} {r.dtype:5} {r.gelu:5} {r.ept:3d} {r.loop_instructions:5d} {r.per_element:8.2f} "
                  f"{r.budget if r.budget is not None else '-':>6} {r.registers:4d} {r.spill_bytes:5d} "
                  f"{worst[r.target]:16d}")
    return 0 if all(r.ok for r in rows) and not any(worst.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
