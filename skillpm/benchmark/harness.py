"""The torch side of ``skillpm bench``: import, build, check, time, probe.

The only module of :mod:`skillpm.benchmark` that touches torch, and only
through the ``torch`` module :func:`import_torch` returns, so importing this
module costs nothing. Everything it measures goes back as plain lists of
milliseconds; :mod:`skillpm.benchmark.metrics` does the arithmetic.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import platform
import shutil
import subprocess
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator, Sequence

from skillpm.benchmark import BenchError
from skillpm.benchmark.evidence import SizeResult
from skillpm.benchmark.metrics import Size, layernorm_gelu_bytes, measure
from skillpm.benchmark.workspace import BUILD_SCRIPT, REFERENCE
from skillpm.targets import Capability

INSTALL = "pip install 'skillpm[kernels]'"
TORCH_DTYPES = {"bf16": "bfloat16", "fp32": "float32"}
L2_FALLBACK_BYTES = 128 * 1024 * 1024

Op = Callable[[Any, Any, Any, float], Any]


def import_torch() -> Any:
    """The torch module, or a one-line BenchError saying how to install it."""
    try:
        with warnings.catch_warnings():  # torch warns about optional extras (numpy) on import
            warnings.simplefilter("ignore")
            import torch
    except ImportError as error:
        raise BenchError(f"skillpm bench needs torch and ninja, and torch cannot be imported: {INSTALL}") from error
    return torch


def require_cuda(torch: Any) -> None:
    """Refuse, in one line, when torch sees no CUDA GPU."""
    if not torch.cuda.is_available():
        build = f"built for CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        raise BenchError(
            f"no CUDA GPU is visible to torch {torch.__version__} ({build}); nothing to benchmark",
            hint="run it on a machine with an NVIDIA GPU, or pass --cpu to check the harness "
            "(CPU results never count as GPU evidence)",
        )


def ninja_dir() -> str | None:
    """Where ninja is: ``None`` when it is already on PATH, else the pip package's folder.

    Raises a one-line BenchError when there is no ninja at all.
    """
    if shutil.which("ninja"):
        return None
    try:
        import ninja

        folder = str(ninja.BIN_DIR)
    except (ImportError, AttributeError):
        folder = ""
    if folder and shutil.which("ninja", path=folder):
        return folder
    raise BenchError(f"building the kernel needs ninja, which is not installed: {INSTALL}")


@dataclass(frozen=True)
class GpuInfo:
    """What the evidence records of the GPU and its software."""

    name: str
    capability: Capability
    driver: str | None
    cuda: str | None


def probe_gpu(torch: Any) -> GpuInfo:
    """Name, capability and driver of GPU 0, and the CUDA version torch was built with."""
    major, minor = torch.cuda.get_device_capability(0)
    return GpuInfo(torch.cuda.get_device_name(0), Capability(major, minor), _driver(torch), torch.version.cuda)


def _driver(torch: Any) -> str | None:
    """The driver release from nvidia-smi; else the CUDA driver API version torch reports."""
    executable = shutil.which("nvidia-smi")
    if executable:
        try:
            done = subprocess.run(
                [executable, "--query-gpu=driver_version", "--format=csv,noheader", "-i", "0"],
                capture_output=True,
                text=True,
                timeout=15,
                check=True,
            )
            if done.stdout.strip():
                return done.stdout.strip().splitlines()[0]
        except (OSError, subprocess.SubprocessError):
            pass
    try:
        version = int(torch._C._cuda_getDriverVersion())
    except (AttributeError, RuntimeError, TypeError, ValueError):
        return None
    return f"CUDA driver API {version // 1000}.{version % 1000 // 10}"


def cpu_name() -> str:
    """A name for this CPU, for a ``--cpu`` run's evidence."""
    return platform.processor() or platform.machine() or "cpu"


def _module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise BenchError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise BenchError(f"cannot load {path.name} of the kernel project: {error}") from error
    return module


@dataclass(frozen=True)
class Reference:
    """The kernel project's PyTorch reference and the tolerances it states (tests/reference.py)."""

    op: Op
    tolerances: dict[str, tuple[float, float]]  # dtype name -> (atol, rtol)


def load_reference(torch: Any, project: Path) -> Reference:
    """Read ``reference_layernorm_gelu`` and ``TOLERANCES`` from the project's tests/reference.py."""
    module = _module(project / REFERENCE, "skillpm_bench_reference")
    try:
        op = module.reference_layernorm_gelu
        stated = {name: module.TOLERANCES[getattr(torch, attr)] for name, attr in TORCH_DTYPES.items()}
        tolerances = {name: (float(given["atol"]), float(given["rtol"])) for name, given in stated.items()}
    except (AttributeError, KeyError, TypeError) as error:
        raise BenchError(
            f"{REFERENCE} must define reference_layernorm_gelu and TOLERANCES for bf16 and fp32 ({error!r})"
        ) from error
    return Reference(op, tolerances)


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def build_kernel(project: Path, build_root: Path, *, ninja: str | None) -> Any:
    """Build the project with its own build_ext.py (torch.utils.cpp_extension + ninja) and load it.

    The build happens under ``build_root``, never in torch's shared cache, so
    what runs is compiled from these files. Returns the ``torch.ops`` namespace.
    """
    build_root.mkdir(parents=True, exist_ok=True)
    env = {"TORCH_EXTENSIONS_DIR": str(build_root)}
    if ninja:
        env["PATH"] = ninja + os.pathsep + os.environ.get("PATH", "")
    builder = _module(project / BUILD_SCRIPT, "skillpm_bench_build_ext")
    with _environment(**env):
        try:
            return builder.load()
        except Exception as error:
            lines = [line for line in str(error).splitlines() if line.strip()]
            raise BenchError(
                f"building the kernel failed: {lines[-1] if lines else type(error).__name__}",
                hint="run 'skillpm --debug bench ...' to see the whole build log",
            ) from error


def composed_layernorm_gelu(torch: Any) -> Op:
    """LayerNorm + GELU composed from elementwise ops in fp32: the ``--cpu`` stand-in for the kernel."""

    def op(x: Any, weight: Any, bias: Any, eps: float) -> Any:
        xf = x.float()
        centered = xf - xf.mean(dim=-1, keepdim=True)
        variance = (centered * centered).mean(dim=-1, keepdim=True)
        y = centered * torch.rsqrt(variance + eps) * weight.float() + bias.float()
        return (0.5 * y * (1.0 + torch.erf(y * 0.7071067811865476))).to(x.dtype)

    return op


def eager_layernorm_gelu(torch: Any) -> Op:
    """PyTorch eager in the input's dtype: ``gelu(layer_norm(x))``, the baseline of the speedup."""
    functional = torch.nn.functional

    def op(x: Any, weight: Any, bias: Any, eps: float) -> Any:
        return functional.gelu(functional.layer_norm(x, (x.shape[-1],), weight, bias, eps))

    return op


def cuda_times(torch: Any, call: Callable[[], object], *, warmup: int, runs: int) -> list[float]:
    """Per-call times (ms) with CUDA events, the L2 cache flushed before every timed call."""
    props = torch.cuda.get_device_properties(torch.cuda.current_device())
    flush = torch.empty(2 * (getattr(props, "L2_cache_size", 0) or L2_FALLBACK_BYTES), dtype=torch.uint8, device="cuda")
    for _ in range(warmup):
        call()
    torch.cuda.synchronize()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(runs)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(runs)]
    for start, end in zip(starts, ends):
        flush.zero_()  # outside the timed region: every call reads from HBM
        start.record()
        call()
        end.record()
    torch.cuda.synchronize()
    return [start.elapsed_time(end) for start, end in zip(starts, ends)]


def cpu_times(call: Callable[[], object], *, warmup: int, runs: int) -> list[float]:
    """Per-call times (ms) with ``time.perf_counter``: the ``--cpu`` harness check only."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def run_sizes(
    torch: Any,
    *,
    device: str,
    kernel: Op,
    reference: Reference,
    sizes: Sequence[Size],
    dtypes: Sequence[str],
    warmup: int,
    runs: int,
    eps: float,
    peak_gbps: float | None,
    progress: Callable[[str], None] = lambda message: None,
) -> list[SizeResult]:
    """Check the kernel against the reference, then time it and eager, at every size and dtype."""
    eager = eager_layernorm_gelu(torch)
    results = []
    for dtype in dtypes:
        atol, rtol = reference.tolerances[dtype]
        for size in sizes:
            progress(f"{size} {dtype}: checking against the PyTorch reference, then timing")
            x, weight, bias = _inputs(torch, size, getattr(torch, TORCH_DTYPES[dtype]), device)
            got, want = kernel(x, weight, bias, eps), reference.op(x, weight, bias, eps)
            error, within = _compare(torch, got, want, atol, rtol)
            del got, want
            if not within:
                raise BenchError(
                    f"the kernel does not match the PyTorch reference at {size} {dtype}: "
                    f"max abs error {error:.3g} (atol {atol}, rtol {rtol}); nothing was timed or written"
                )
            timings = []
            for op in (kernel, eager):
                call = functools.partial(op, x, weight, bias, eps)
                if device == "cuda":
                    timings.append(cuda_times(torch, call, warmup=warmup, runs=runs))
                else:
                    timings.append(cpu_times(call, warmup=warmup, runs=runs))
            nbytes = layernorm_gelu_bytes(size, dtype)
            kernel_m, eager_m = (measure(times, nbytes, peak_gbps) for times in timings)
            results.append(SizeResult(size, dtype, nbytes, kernel_m, eager_m, error, atol, rtol))
            del x, weight, bias
    return results


def _inputs(torch: Any, size: Size, dtype: Any, device: str) -> tuple[Any, Any, Any]:
    """Seeded inputs like the kernel project's tests: x ~ 3 N(0, 1) + 0.5, gamma and beta ~ N(0, 1)."""
    generator = torch.Generator(device=device).manual_seed(0)
    x = (torch.randn(size.rows, size.hidden, generator=generator, device=device) * 3 + 0.5).to(dtype)
    weight = torch.randn(size.hidden, generator=generator, device=device).to(dtype)
    bias = torch.randn(size.hidden, generator=generator, device=device).to(dtype)
    return x, weight, bias


def _compare(torch: Any, got: Any, want: Any, atol: float, rtol: float) -> tuple[float, bool]:
    """The largest absolute error, and whether ``got`` is within tolerance of ``want`` everywhere."""
    if got.shape != want.shape or got.dtype != want.dtype:
        return float("inf"), False
    got, want = got.float(), want.float()
    error = float((got - want).abs().max())
    return error, bool(torch.isclose(got, want, rtol=rtol, atol=atol).all())
