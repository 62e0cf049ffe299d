"""``skillpm bench``: build a variant's reference kernel, check it, time it, write evidence.

The modules follow the pipeline:

* :mod:`~skillpm.benchmark.peaks`: datasheet peak memory bandwidth per GPU, and
  matching a GPU's name to it (pure);
* :mod:`~skillpm.benchmark.metrics`: sizes, bytes moved, statistics, GB/s and
  percent of peak (pure);
* :mod:`~skillpm.benchmark.evidence`: the evidence document and its schema (pure);
* :mod:`~skillpm.benchmark.workspace`: pack the variant, extract the artifact's
  bytes into a temporary folder and digest the kernel project (files, no torch);
* :mod:`~skillpm.benchmark.harness`: the torch side: build, check, time, probe;
* :mod:`~skillpm.benchmark.run`: :func:`~skillpm.benchmark.run.run_bench`, which
  only orchestrates.

docs/benchmarking.md describes the method and the evidence file.
"""

from __future__ import annotations

from skillpm.errors import SkillpmError


class BenchError(SkillpmError):
    """A benchmark cannot run: torch or ninja missing, no GPU, a build or correctness failure."""
