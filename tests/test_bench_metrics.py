"""skillpm.benchmark.metrics and peaks: sizes, bytes moved, statistics, GB/s, percent of peak, the peak table."""

from __future__ import annotations

import statistics
from urllib.parse import urlparse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillpm.benchmark import BenchError
from skillpm.benchmark.metrics import (
    DEFAULT_CPU_SIZES,
    DEFAULT_GPU_SIZES,
    FLUSH_FALLBACK_BYTES,
    Size,
    copy_bytes,
    flush_bytes,
    Stats,
    gbps,
    layernorm_gelu_bytes,
    measure,
    parse_sizes,
    pct_of_copy,
    pct_of_peak,
    percentile,
    summarize,
)
from skillpm.benchmark.peaks import PEAKS, match_peak, user_peak

# --- sizes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sizes"),
    [
        ("4096x768", (Size(4096, 768),)),
        ("4096x768, 16384X8192", (Size(4096, 768), Size(16384, 8192))),
        ("1x1,1x1", (Size(1, 1),)),
    ],
)
def test_parse_sizes(text: str, sizes: tuple[Size, ...]) -> None:
    assert parse_sizes(text) == sizes


@pytest.mark.parametrize("text", ["", "4096", "0x768", "4096x0", "4096*768", "-1x5", "4096x768,", "ax2"])
def test_parse_sizes_refuses(text: str) -> None:
    with pytest.raises(BenchError, match="as a size"):
        parse_sizes(text)


def test_default_sizes_cover_the_range_and_the_headline() -> None:
    assert Size(16384, 8192) in DEFAULT_GPU_SIZES
    assert {size.hidden for size in DEFAULT_GPU_SIZES} == {768, 2048, 4096, 8192, 16384}
    # well beyond L2: every default problem reads at least 192 MiB of bf16 and writes as much,
    # more than twice the largest L2 (tens to about a hundred MB) of the GPUs in docs/benchmarking.md
    assert all(layernorm_gelu_bytes(size, "bf16") >= 2 * 192 * 2**20 for size in DEFAULT_GPU_SIZES)
    assert all(size.rows * size.hidden <= 64 * 2048 for size in DEFAULT_CPU_SIZES)


# --- bytes, bandwidth, percent of peak ------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "dtype", "nbytes"),
    [
        # read x + write y (rows * hidden each) + read gamma and beta (hidden each)
        (Size(1, 1), "fp32", 4 * 4),
        (Size(4096, 768), "bf16", (2 * 4096 * 768 + 2 * 768) * 2),
        (Size(16384, 8192), "bf16", 536_903_680),
        (Size(16384, 8192), "fp32", 2 * 536_903_680),
    ],
)
def test_layernorm_gelu_bytes(size: Size, dtype: str, nbytes: int) -> None:
    assert layernorm_gelu_bytes(size, dtype) == nbytes


@pytest.mark.parametrize(
    ("l2_bytes", "flush"),
    [
        (40 * 2**20, 80 * 2**20),  # A100: 40 MiB
        (50 * 2**20, 100 * 2**20),  # H100: 50 MiB
        (6 * 2**20 + 1, 13 * 2**20),  # rounded up to whole MiB, never below twice the L2
        (None, FLUSH_FALLBACK_BYTES),
        (0, FLUSH_FALLBACK_BYTES),  # an L2 reported as 0 is unknown, not tiny
    ],
)
def test_flush_is_at_least_twice_the_l2(l2_bytes: int | None, flush: int) -> None:
    assert flush_bytes(l2_bytes) == flush


@given(st.integers(min_value=1, max_value=2**34))
def test_flush_bounds(l2_bytes: int) -> None:
    flush = flush_bytes(l2_bytes)
    assert 2 * l2_bytes <= flush < 2 * l2_bytes + 2**20 and flush % 2**20 == 0


def test_copy_moves_the_input_twice_and_percent_of_copy() -> None:
    assert copy_bytes(Size(16384, 8192), "bf16") == 2 * 16384 * 8192 * 2
    assert copy_bytes(Size(3, 5), "fp32") == 2 * 15 * 4
    assert layernorm_gelu_bytes(Size(3, 5), "fp32") - copy_bytes(Size(3, 5), "fp32") == 2 * 5 * 4  # gamma, beta
    assert pct_of_copy(1500.0, 3000.0) == pytest.approx(50.0)
    assert pct_of_copy(3300.0, 3000.0) == pytest.approx(110.0)


def test_gbps_and_percent_of_peak() -> None:
    assert gbps(10**9, 1000.0) == pytest.approx(1.0)
    assert gbps(3 * 10**6, 1.0) == pytest.approx(3.0)
    assert pct_of_peak(1675.0, 3350.0) == pytest.approx(50.0)
    with pytest.raises(ValueError):
        gbps(1, 0.0)


# --- statistics -----------------------------------------------------------------------------------


def test_percentile_interpolates() -> None:
    values = [float(v) for v in range(1, 11)]  # 1..10
    assert percentile(values, 50) == pytest.approx(5.5)
    assert percentile(values, 10) == pytest.approx(1.9)
    assert percentile(values, 90) == pytest.approx(9.1)
    assert percentile([2.0], 90) == 2.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_summarize_ignores_order_and_outliers_for_the_median() -> None:
    stats = summarize([5.0, 1.0, 3.0, 2.0, 4.0, 1000.0, 3.0])
    assert (stats.median_ms, stats.runs) == (3.0, 7)
    assert stats.p10_ms == pytest.approx(1.6) and stats.p90_ms == pytest.approx(403.0)


@given(st.lists(st.floats(min_value=1e-6, max_value=1e6), min_size=1, max_size=300))
def test_summarize_properties(times: list[float]) -> None:
    stats = summarize(times)
    assert stats.median_ms == pytest.approx(statistics.median(times))
    assert min(times) <= stats.p10_ms <= stats.median_ms <= stats.p90_ms <= max(times)
    assert stats.runs == len(times)


def test_stats_refuse_inconsistent_values() -> None:
    with pytest.raises(ValueError, match="inconsistent"):
        Stats(median_ms=1.0, p10_ms=2.0, p90_ms=3.0, runs=3)


def test_measure_with_and_without_peak() -> None:
    made_up = [2.0, 1.0, 1.0, 1.0, 3.0]  # invented times, not a measurement
    with_peak = measure(made_up, 2 * 10**6, 4.0)
    assert with_peak.gbps == pytest.approx(2.0) and with_peak.pct_of_peak == pytest.approx(50.0)
    assert measure(made_up, 2 * 10**6, None).pct_of_peak is None
    assert set(with_peak.to_json()) == {"median_ms", "p10_ms", "p90_ms", "runs", "gbps", "pct_of_peak"}


# --- the peak table -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key", "peak_gbps"),
    [
        ("NVIDIA H100 80GB HBM3", "h100-sxm", 3350.0),
        ("NVIDIA H100 SXM5 80GB", "h100-sxm", 3350.0),
        ("NVIDIA H100 PCIe", "h100-pcie", 2000.0),
        ("NVIDIA H100 NVL", "h100-nvl", 3900.0),
        ("NVIDIA H200", "h200", 4800.0),
        ("NVIDIA H200 NVL", "h200", 4800.0),
        ("NVIDIA A100-SXM4-80GB", "a100-80gb-sxm", 2039.0),
        ("NVIDIA A100 80GB PCIe", "a100-80gb-pcie", 1935.0),
        ("NVIDIA A100-SXM4-40GB", "a100-40gb", 1555.0),
        ("NVIDIA A100-PCIE-40GB", "a100-40gb", 1555.0),
        ("NVIDIA B200", "b200", 8000.0),
        ("NVIDIA B300 SXM6 AC", "b300", 8000.0),
        ("NVIDIA GeForce RTX 5090", "rtx-5090", 1792.0),
        ("NVIDIA RTX PRO 6000 Blackwell Workstation Edition", "rtx-pro-6000", 1792.0),
        ("NVIDIA L4", "l4", 300.0),
        ("NVIDIA L40S", "l40s", 864.0),
        ("NVIDIA A10", "a10", 600.0),
        ("nvidia h100 pcie", "h100-pcie", 2000.0),
    ],
)
def test_match_peak(name: str, key: str, peak_gbps: float) -> None:
    peak = match_peak(name)
    assert peak is not None and peak.key == key and peak.gbps == peak_gbps


@pytest.mark.parametrize(
    "name",
    [
        "NVIDIA GH200 480GB", "NVIDIA GB200", "NVIDIA GB300", "NVIDIA L40", "NVIDIA A10G", "Tesla T4",
        "NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 5090 D v2", "NVIDIA RTX 6000 Ada Generation", "",
    ],  # fmt: skip
)
def test_unknown_gpus_get_no_peak(name: str) -> None:
    assert match_peak(name) is None


def test_every_peak_names_a_datasheet_on_nvidia_com() -> None:
    for key, peak in PEAKS.items():
        assert peak.key == key and peak.gbps > 0 and peak.source
        assert peak.url is not None and urlparse(peak.url).scheme == "https"
        assert urlparse(peak.url).hostname == "www.nvidia.com"
    assert {"a100-40gb", "h100-sxm", "h100-pcie", "h200", "b200", "l4"} <= set(PEAKS)


def test_user_peak_is_labelled() -> None:
    peak = user_peak(1234.0)
    assert peak.gbps == 1234.0 and "--peak-gbps" in peak.source and peak.url is None
    with pytest.raises(ValueError):
        user_peak(0.0)
