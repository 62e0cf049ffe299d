"""Timing calls: CUDA events with the L2 flushed by a read, or ``time.perf_counter`` on the CPU.

Torch comes in as an argument (see :func:`skillpm.benchmark.harness.import_torch`),
so importing this module costs nothing. The arithmetic on the times is in
:mod:`skillpm.benchmark.metrics`.
"""

from __future__ import annotations

import time
from typing import Any, Callable

Timer = Callable[[Callable[[], object]], list[float]]


def cuda_timer(torch: Any, *, flush_bytes: int, warmup: int, runs: int) -> Timer:
    """A timer of per-call times (ms) with CUDA events, the L2 flushed before every timed call.

    The flush reads (sums) a buffer of ``flush_bytes``: every line the call under
    test left in L2 is evicted, and the lines that replace them are clean, so
    the next call neither hits the L2 nor pays for the flush's write-backs (a
    ``zero_()`` would leave the L2 full of dirty lines). The buffer is written
    once, here, before any timing.
    """
    flush = torch.ones(flush_bytes // 4, dtype=torch.int32, device="cuda")
    torch.cuda.synchronize()

    def timer(call: Callable[[], object]) -> list[float]:
        for _ in range(warmup):
            call()
        torch.cuda.synchronize()
        starts = [torch.cuda.Event(enable_timing=True) for _ in range(runs)]
        ends = [torch.cuda.Event(enable_timing=True) for _ in range(runs)]
        for start, end in zip(starts, ends):
            flush.sum()  # outside the timed region: the call reads from HBM
            start.record()
            call()
            end.record()
        torch.cuda.synchronize()
        return [start.elapsed_time(end) for start, end in zip(starts, ends)]

    return timer


def cpu_timer(*, warmup: int, runs: int) -> Timer:
    """A timer of per-call times (ms) with ``time.perf_counter``: the ``--cpu`` harness check only."""

    def timer(call: Callable[[], object]) -> list[float]:
        for _ in range(warmup):
            call()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1e3)
        return times

    return timer


def cuda_kernel_names(torch: Any, call: Callable[[], object]) -> list[str]:
    """The demangled names of the CUDA kernels one ``call()`` launches, from torch's profiler (CUPTI).

    Empty when the profiler records no kernel (no CUPTI, say): the code path is then not known.
    """
    from torch.profiler import ProfilerActivity, profile

    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as recorded:
        call()
        torch.cuda.synchronize()
    names = []
    for event in recorded.events():
        kind = str(getattr(event, "device_type", ""))
        if kind.endswith("CUDA") and event.name not in names:
            names.append(event.name)
    return names
