"""CUDA-events benchmark harness for PyTorch-callable kernels.

    from bench import benchmark, report
    stats = benchmark(lambda: my_op(x), iters=200)
    print(report("my_op", stats, bytes_moved, peak_gbps=3350))

Method (see references/benchmarking.md): warm up (compilation, caches, clocks),
then time each call with its own pair of CUDA events, flushing the L2 cache
before every timed call so each call reads from HBM, and report the median.
Run as a script for a self-test: ``python scripts/bench.py`` (copy bandwidth).
"""

from __future__ import annotations

import statistics
from typing import Callable


def _l2_flush_buffer(torch):
    props = torch.cuda.get_device_properties(torch.cuda.current_device())
    l2 = getattr(props, "L2_cache_size", 0) or 128 * 1024 * 1024
    # Twice the L2 size, so that writing it evicts everything the kernel used.
    return torch.empty(2 * l2, dtype=torch.uint8, device="cuda")


def benchmark(
    fn: Callable[[], object],
    *,
    warmup: int = 25,
    iters: int = 200,
    flush_l2: bool = True,
) -> dict:
    """Time fn() on the current stream. Returns milliseconds: median, p10, p90, min, mean."""
    import torch

    if not torch.cuda.is_available():
        raise RuntimeError("benchmark() needs a CUDA GPU")
    flush = _l2_flush_buffer(torch) if flush_l2 else None
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()

    starts = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    for i in range(iters):
        if flush is not None:
            flush.zero_()  # outside the timed region
        starts[i].record()
        fn()
        ends[i].record()
    torch.cuda.synchronize()
    times = sorted(s.elapsed_time(e) for s, e in zip(starts, ends))
    return {
        "median_ms": statistics.median(times),
        "p10_ms": times[len(times) // 10],
        "p90_ms": times[(len(times) * 9) // 10],
        "min_ms": times[0],
        "mean_ms": statistics.fmean(times),
        "iters": iters,
    }


def bandwidth_gbps(bytes_moved: int, ms: float) -> float:
    """Effective bandwidth in GB/s (10**9 bytes per second)."""
    return bytes_moved / (ms * 1e-3) / 1e9


def report(name: str, stats: dict, bytes_moved: int | None = None,
           peak_gbps: float | None = None) -> str:
    line = (f"{name}: median {stats['median_ms'] * 1e3:.1f} us "
            f"(p10 {stats['p10_ms'] * 1e3:.1f}, p90 {stats['p90_ms'] * 1e3:.1f}, n={stats['iters']})")
    if bytes_moved:
        gbps = bandwidth_gbps(bytes_moved, stats["median_ms"])
        line += f", {gbps:.0f} GB/s"
        if peak_gbps:
            line += f" = {100.0 * gbps / peak_gbps:.1f}% of {peak_gbps:.0f} GB/s peak"
    return line


if __name__ == "__main__":
    import torch

    if not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU: nothing to benchmark")
    src = torch.empty(256 * 1024 * 1024, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    stats = benchmark(lambda: dst.copy_(src), iters=50)
    print(report("device copy 256 MiB", stats, 2 * src.numel()))
