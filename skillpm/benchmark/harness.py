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
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator, Sequence

from skillpm.benchmark import BenchError
from skillpm.benchmark.evidence import SizeResult
from skillpm.benchmark.metrics import Size, copy_bytes, layernorm_gelu_bytes, measure
from skillpm.benchmark.observe import (
    CLOCK_QUERY,
    NO_CLOCKS,
    Clocks,
    CodePath,
    Tally,
    code_path,
    parse_clocks,
    parse_pytest_tally,
)
from skillpm.benchmark.timing import Timer, cuda_kernel_names
from skillpm.benchmark.workspace import BUILD_SCRIPT, REFERENCE
from skillpm.gpu import nvidia_smi
from skillpm.targets import Capability

INSTALL = "pip install 'skillpm[kernels]'"
TORCH_DTYPES = {"bf16": "bfloat16", "fp32": "float32"}

Op = Callable[[Any, Any, Any, float, str], Any]  # (x, weight, bias, eps, approximate) -> y


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
    l2_bytes: int | None
    sm_count: int | None
    max_clocks: Clocks


def probe_gpu(torch: Any) -> GpuInfo:
    """Name, capability, L2, SMs, clocks and driver of GPU 0, and the CUDA version torch was built with."""
    major, minor = torch.cuda.get_device_capability(0)
    props = torch.cuda.get_device_properties(0)
    l2, sms = (getattr(props, attr, 0) or None for attr in ("L2_cache_size", "multi_processor_count"))
    return GpuInfo(
        torch.cuda.get_device_name(0),
        Capability(major, minor),
        _driver(torch),
        torch.version.cuda,
        l2,
        sms,
        sample_clocks(),
    )


def _smi(query: str) -> str | None:
    """The first line nvidia-smi prints for ``--query-gpu=QUERY`` on GPU 0, or ``None``."""
    output = nvidia_smi(f"--query-gpu={query}", "--format=csv,noheader,nounits", "-i", "0")
    lines = (output or "").strip().splitlines()
    return lines[0].strip() if lines else None


def sample_clocks() -> Clocks:
    """GPU 0's SM and memory clocks now (and their maxima), from nvidia-smi; ``None``s without it."""
    line = _smi(CLOCK_QUERY)
    return NO_CLOCKS if line is None else parse_clocks(line)


def _driver(torch: Any) -> str | None:
    """The driver release from nvidia-smi; else the CUDA driver API version torch reports."""
    release = _smi("driver_version")
    if release:
        return release
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


def tests_environment(build_root: Path, ninja: str | None) -> dict[str, str]:
    """The environment the kernel project's tests run in: the user's, without skillpm's own secrets (a registry
    token, an OCI password, a signing passphrase: :mod:`skillpm.childenv`), with the build folder and ninja."""
    from skillpm.childenv import without_secrets

    env = {**without_secrets(), "TORCH_EXTENSIONS_DIR": str(build_root)}
    if ninja:
        env["PATH"] = ninja + os.pathsep + env.get("PATH", "")
    return env


def run_project_tests(project: Path, build_root: Path, *, ninja: str | None, gpu: bool, timeout: float) -> Tally:
    """Run the kernel project's own tests (``pytest tests``) against the build in ``build_root``.

    They load the kernel with the same build_ext.py, sources and build folder,
    so ninja finds it built and what they check is what is timed. On a GPU every
    test must pass (a skip means a GPU test did not run); on the CPU the GPU
    tests skip and the CPU model's tests must pass.
    """
    if importlib.util.find_spec("pytest") is None:
        raise BenchError("running the kernel project's tests needs pytest, which is not installed: pip install pytest")
    env = tests_environment(build_root, ninja)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    try:
        done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"the kernel project's tests did not finish in {timeout:.0f} s; nothing was timed") from None
    tally = parse_pytest_tally(done.stdout)
    if tally is None or tally.problem(gpu=gpu):
        problem = "they did not run" if tally is None else tally.problem(gpu=gpu)
        last = (done.stdout.strip().splitlines() or done.stderr.strip().splitlines() or ["no output"])[-1]
        raise BenchError(
            f"the kernel project's tests fail ({problem}): {last[:200]}; nothing was timed or written",
            hint="run them in the kernel project of the skill's source: python -m pytest tests",
        )
    return tally


def gpu_code_path(torch: Any) -> Callable[[Callable[[], object], str], CodePath]:
    """A probe that names the kernel a call launches, from the profiler; ``None`` when it saw none."""

    def probe(call: Callable[[], object], approximate: str) -> CodePath:
        names = cuda_kernel_names(torch, call)
        chosen = next((name for name in names if "layernorm_gelu" in name), names[0] if names else None)
        return code_path(chosen) if chosen else CodePath(None)

    return probe


def composed_layernorm_gelu(torch: Any) -> Op:
    """LayerNorm + GELU composed from elementwise ops in fp32: the ``--cpu`` stand-in for the kernel."""

    def op(x: Any, weight: Any, bias: Any, eps: float, approximate: str) -> Any:
        xf = x.float()
        centered = xf - xf.mean(dim=-1, keepdim=True)
        variance = (centered * centered).mean(dim=-1, keepdim=True)
        y = centered * torch.rsqrt(variance + eps) * weight.float() + bias.float()
        if approximate == "tanh":
            inner = 0.7978845608028654 * (y + 0.044715 * y * y * y)
            return (0.5 * y * (1.0 + torch.tanh(inner))).to(x.dtype)
        return (0.5 * y * (1.0 + torch.erf(y * 0.7071067811865476))).to(x.dtype)

    return op


def eager_layernorm_gelu(torch: Any) -> Op:
    """PyTorch eager in the input's dtype: ``gelu(layer_norm(x))``, the baseline of the speedup."""
    functional = torch.nn.functional

    def op(x: Any, weight: Any, bias: Any, eps: float, approximate: str) -> Any:
        return functional.gelu(functional.layer_norm(x, (x.shape[-1],), weight, bias, eps), approximate=approximate)

    return op


@dataclass(frozen=True)
class Probes:
    """How a run times calls, names the kernel a call launches, and reads the clocks."""

    timer: Timer
    code_path: Callable[[Callable[[], object], str], CodePath]  # (call, approximate) -> what ran
    clocks: Callable[[], Clocks]


def run_sizes(
    torch: Any,
    *,
    device: str,
    kernel: Op,
    reference: Reference,
    sizes: Sequence[Size],
    dtypes: Sequence[str],
    forms: Sequence[str],
    probes: Probes,
    eps: float,
    peak_gbps: float | None,
    progress: Callable[[str], None] = lambda message: None,
) -> list[SizeResult]:
    """Check the kernel against the reference, then time it, eager and a copy, at every size, dtype and GELU form."""
    eager = eager_layernorm_gelu(torch)
    results = []
    for dtype in dtypes:
        atol, rtol = reference.tolerances[dtype]
        for approximate in forms:
            for size in sizes:
                progress(f"{size} {dtype} gelu={approximate}: checking against the PyTorch reference, then timing")
                x, weight, bias = _inputs(torch, size, getattr(torch, TORCH_DTYPES[dtype]), device)
                got, want = kernel(x, weight, bias, eps, approximate), reference.op(x, weight, bias, eps, approximate)
                error, within = _compare(torch, got, want, atol, rtol)
                del got, want
                if not within:
                    raise BenchError(
                        f"the kernel does not match the PyTorch reference at {size} {dtype} gelu={approximate}: "
                        f"max abs error {error:.3g} (atol {atol}, rtol {rtol}); nothing was timed or written"
                    )
                calls = [functools.partial(op, x, weight, bias, eps, approximate) for op in (kernel, eager)]
                path = probes.code_path(calls[0], approximate)
                kernel_times = probes.timer(calls[0])
                clocks = probes.clocks()  # right after the kernel's timed calls
                eager_times = probes.timer(calls[1])
                copied = torch.empty_like(x)
                copy_times = probes.timer(functools.partial(copied.copy_, x))
                del copied
                nbytes = layernorm_gelu_bytes(size, dtype)
                results.append(
                    SizeResult(
                        size,
                        dtype,
                        approximate,
                        nbytes,
                        measure(kernel_times, nbytes, peak_gbps),
                        measure(eager_times, nbytes, peak_gbps),
                        measure(copy_times, copy_bytes(size, dtype), peak_gbps),
                        path,
                        clocks,
                        error,
                        atol,
                        rtol,
                    )
                )
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
