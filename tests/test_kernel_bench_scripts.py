"""The skill's own benchmark scripts: scripts/bench.py (the method) and the kernel's benchmarks/benchmark.py.

They ship inside the skill and cannot import skillpm. Their arithmetic is tested here; their
GPU parts refuse, in one line, where torch sees no GPU (there is none here).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

SKILL = Path(__file__).resolve().parent.parent / "skills" / "kernel-builder-cuda"
BENCH = SKILL / "scripts" / "bench.py"
BENCHMARK = SKILL / "assets" / "layernorm_gelu" / "benchmarks" / "benchmark.py"
HAS_TORCH = importlib.util.find_spec("torch") is not None


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("skill_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_importing_bench_imports_no_torch() -> None:
    code = f"import sys; sys.path.insert(0, {str(BENCH.parent)!r}); import bench; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("l2", "flush"), [(50 * 2**20, 100 * 2**20), (40 * 2**20 + 1, 81 * 2**20), (0, 512 * 2**20), (None, 512 * 2**20)]
)
def test_flush_reads_at_least_twice_the_l2(bench: ModuleType, l2: int | None, flush: int) -> None:
    assert bench.flush_bytes(l2) == flush


def test_summarize_interpolates_and_counts(bench: ModuleType) -> None:
    stats = bench.summarize([5.0, 1.0, 3.0, 2.0, 4.0])
    assert stats == {"median_ms": 3.0, "p10_ms": 1.4, "p90_ms": 4.6, "min_ms": 1.0, "iters": 5}
    with pytest.raises(ValueError):
        bench.summarize([])


def test_report_gives_percent_of_peak_and_of_the_copy(bench: ModuleType) -> None:
    stats = {"median_ms": 1.0, "p10_ms": 0.9, "p90_ms": 1.2, "iters": 200}
    copy = ({"median_ms": 0.5, "p10_ms": 0.5, "p90_ms": 0.5, "iters": 200}, 10**9)
    line = bench.report("fused", stats, 10**9, peak_gbps=2000.0, copy=copy)
    assert line == (
        "fused: median 1000.0 us (p10 900.0, p90 1200.0, n=200), 1000 GB/s = 50.0% of 2000 GB/s peak, "
        "50.0% of copy (2000 GB/s)"
    )
    assert bench.report("x", stats) == "x: median 1000.0 us (p10 900.0, p90 1200.0, n=200)"


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
@pytest.mark.parametrize("script", [BENCH, BENCHMARK], ids=["scripts/bench.py", "benchmarks/benchmark.py"])
def test_without_a_gpu_each_script_says_so_in_one_line(script: Path, tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():  # pragma: no cover - no GPU here
        pytest.skip("a CUDA GPU is present")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: no CUDA GPU is visible to torch"), done.stderr
