"""``skillpm bench``: build a variant's reference kernel, check it, time it, write evidence.

The modules follow the pipeline:

* :mod:`~skillpm.benchmark.peaks`: datasheet peak memory bandwidth per GPU, and
  matching a GPU's name to it (pure);
* :mod:`~skillpm.benchmark.metrics`: sizes, bytes moved, the L2 flush size,
  statistics, GB/s, percent of peak and of a copy (pure);
* :mod:`~skillpm.benchmark.observe`: reading nvidia-smi's clocks, the profiled
  kernel's name (which code path ran) and pytest's tally (pure);
* :mod:`~skillpm.benchmark.evidence`: the evidence document and its schema (pure);
* :mod:`~skillpm.benchmark.workspace`: pack the variant, extract the artifact's
  bytes into a temporary folder and digest the kernel project (files, no torch);
* :mod:`~skillpm.benchmark.timing`: CUDA events with the L2 flushed by a read,
  ``perf_counter`` on the CPU, the profiler;
* :mod:`~skillpm.benchmark.harness`: the torch side: build, project tests, check,
  time, probe;
* :mod:`~skillpm.benchmark.run`: :func:`~skillpm.benchmark.run.run_bench`, which
  only orchestrates.

docs/benchmarking.md describes the method and the evidence file.
"""

from __future__ import annotations

from skillpm.errors import SkillpmError


class BenchError(SkillpmError):
    """A benchmark cannot run: torch or ninja missing, no GPU, a build or correctness failure."""
