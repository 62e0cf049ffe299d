"""CUDA-events benchmark harness for PyTorch-callable kernels.

    from bench import benchmark, environment, report
    print(environment())                          # GPU, clocks, driver, CUDA, torch
    stats = benchmark(lambda: my_op(x))
    copy = benchmark(lambda: out.copy_(x))        # the same bytes, in the same run
    print(report("my_op", stats, bytes_moved, peak_gbps=3350, copy=(copy, 2 * x.nbytes)))

Method (see references/benchmarking.md): warm up, then time each call with its
own pair of CUDA events, after READING a buffer at least twice the L2 size (a
write such as zero_() leaves the L2 full of dirty lines, whose write-back the
next call pays for), and report the median and the p10-p90 spread. Compare with
the datasheet peak and with a device-to-device copy of the same bytes measured
in the same run: the copy is the bandwidth this GPU reaches today, at today's
clocks. Run as a script for a self-test: ``python scripts/bench.py``.

The arithmetic (flush size, statistics, bandwidth, percentages) is plain Python;
torch is imported only by the functions that need a GPU.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import warnings
from typing import Callable, Sequence

MIB = 1024 * 1024
FLUSH_FALLBACK_BYTES = 512 * MIB  # when the device does not report its L2 size


def flush_bytes(l2_bytes: int | None) -> int:
    """Bytes to read between timed calls: at least twice the L2, in whole MiB."""
    if not l2_bytes or l2_bytes <= 0:
        return FLUSH_FALLBACK_BYTES
    return -(-2 * l2_bytes // MIB) * MIB


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of sorted values, interpolating between ranks."""
    position = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(times_ms: Sequence[float]) -> dict:
    """Median, p10, p90, min and count of per-call times in milliseconds."""
    ordered = sorted(times_ms)
    if not ordered:
        raise ValueError("no timed calls")
    return {
        "median_ms": percentile(ordered, 50),
        "p10_ms": percentile(ordered, 10),
        "p90_ms": percentile(ordered, 90),
        "min_ms": ordered[0],
        "iters": len(ordered),
    }


def bandwidth_gbps(bytes_moved: int, ms: float) -> float:
    """Effective bandwidth in GB/s (10**9 bytes per second)."""
    return bytes_moved / (ms * 1e-3) / 1e9


def report(name: str, stats: dict, bytes_moved: int | None = None, peak_gbps: float | None = None,
           copy: tuple[dict, int] | None = None) -> str:
    """One line: median and spread in us; with bytes, GB/s, % of peak and % of the copy (stats, bytes)."""
    line = (f"{name}: median {stats['median_ms'] * 1e3:.1f} us "
            f"(p10 {stats['p10_ms'] * 1e3:.1f}, p90 {stats['p90_ms'] * 1e3:.1f}, n={stats['iters']})")
    if bytes_moved:
        gbps = bandwidth_gbps(bytes_moved, stats["median_ms"])
        line += f", {gbps:.0f} GB/s"
        if peak_gbps:
            line += f" = {100.0 * gbps / peak_gbps:.1f}% of {peak_gbps:.0f} GB/s peak"
        if copy:
            copy_gbps = bandwidth_gbps(copy[1], copy[0]["median_ms"])
            line += f", {100.0 * gbps / copy_gbps:.1f}% of copy ({copy_gbps:.0f} GB/s)"
    return line


def require_cuda():
    """torch, once it sees a CUDA GPU; otherwise exit with one error line."""
    with warnings.catch_warnings():  # torch warns on import when optional numpy is missing
        warnings.simplefilter("ignore")
        import torch

    if not torch.cuda.is_available():
        raise SystemExit(f"error: no CUDA GPU is visible to torch {torch.__version__}; this benchmark needs one")
    return torch


def benchmark(fn: Callable[[], object], *, warmup: int = 25, iters: int = 200, flush_l2: bool = True) -> dict:
    """Time fn() on the current stream with CUDA events; see summarize() for the result."""
    torch = require_cuda()
    flush = None
    if flush_l2:
        l2 = torch.cuda.get_device_properties(torch.cuda.current_device()).L2_cache_size
        flush = torch.ones(flush_bytes(l2) // 4, dtype=torch.int32, device="cuda")
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    for start, end in zip(starts, ends):
        if flush is not None:
            flush.sum()  # a read, outside the timed region: evicts the call's lines, leaves clean ones
        start.record()
        fn()
        end.record()
    torch.cuda.synchronize()
    return summarize([s.elapsed_time(e) for s, e in zip(starts, ends)])


def kernel_names(fn: Callable[[], object]) -> list[str]:
    """The CUDA kernels one fn() launches, as the profiler names them: which code path ran."""
    torch = require_cuda()
    from torch.profiler import ProfilerActivity, profile

    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as recorded:
        fn()
        torch.cuda.synchronize()
    return list(dict.fromkeys(e.name for e in recorded.events() if str(e.device_type).endswith("CUDA")))


def _smi(query: str) -> str:
    """nvidia-smi's answer for GPU 0 (``?`` without it)."""
    if not shutil.which("nvidia-smi"):
        return "?"
    done = subprocess.run(["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader", "-i", "0"],
                          capture_output=True, text=True, timeout=15)
    return done.stdout.strip() or "?"


def environment() -> str:
    """What a figure depends on: GPU, SMs, L2, SM and memory clocks now and at most, driver, CUDA, torch."""
    torch = require_cuda()
    props = torch.cuda.get_device_properties(0)
    major, minor = torch.cuda.get_device_capability(0)
    return (f"{props.name} (sm_{major}{minor}, {props.multi_processor_count} SMs, L2 {props.L2_cache_size / MIB:.0f} MiB), "
            f"clocks sm/mem now/max: {_smi('clocks.sm,clocks.mem,clocks.max.sm,clocks.max.mem')}, "
            f"driver {_smi('driver_version')}, CUDA {torch.version.cuda}, torch {torch.__version__}")


if __name__ == "__main__":
    torch = require_cuda()
    print(environment())
    src = torch.empty(256 * MIB, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    stats = benchmark(lambda: dst.copy_(src), iters=50)
    print(report("device copy 256 MiB", stats, 2 * src.numel()))
    sys.exit(0)
