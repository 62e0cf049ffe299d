"""Problem sizes, bytes moved, timing statistics, GB/s and percent of peak.

Pure logic: the harness hands in lists of times in milliseconds and gets
numbers back; nothing here imports torch.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

from skillpm.benchmark import BenchError
from skillpm.records import Record

#: Element sizes in bytes of the dtypes the reference kernel takes (``--dtype``).
DTYPE_SIZES: dict[str, int] = {"bf16": 2, "fp32": 4}


class Size(Record):
    """One problem: ``rows`` rows of ``hidden`` elements."""

    rows: int
    hidden: int

    def __str__(self) -> str:
        return f"{self.rows}x{self.hidden}"


#: Elements of every default GPU problem: 2**27, 256 MiB of bf16 input and as much
#: output, well beyond the L2 cache of any GPU (tens to a hundred-odd MB), so that
#: what is timed is HBM traffic, not L2 hits.
DEFAULT_GPU_ELEMENTS = 2**27
#: Default GPU sizes: the kernel's range of hidden sizes (768 to its maximum, 16384),
#: each with as many rows as make 2**27 elements; 16384 x 8192 is the issue's headline.
DEFAULT_GPU_SIZES = tuple(
    Size(DEFAULT_GPU_ELEMENTS // hidden, hidden) for hidden in (768, 2048, 4096, 8192, 16384)
)
#: Default sizes of the ``--cpu`` harness check: small, so it runs in seconds.
DEFAULT_CPU_SIZES = (Size(64, 768), Size(64, 2048))

_SIZE_RE = re.compile(r"([1-9][0-9]*)x([1-9][0-9]*)")


def parse_sizes(text: str) -> tuple[Size, ...]:
    """Parse ``--sizes``: comma-separated ``ROWSxHIDDEN`` such as ``4096x768,16384x8192``."""
    sizes = []
    for item in text.split(","):
        match = _SIZE_RE.fullmatch(item.strip().lower())
        if match is None:
            raise BenchError(
                f"cannot read {item.strip()!r} as a size",
                hint="give --sizes as ROWSxHIDDEN[,ROWSxHIDDEN...], e.g. 4096x768,16384x8192",
            )
        sizes.append(Size(int(match[1]), int(match[2])))
    return tuple(dict.fromkeys(sizes))


def layernorm_gelu_bytes(size: Size, dtype: str) -> int:
    """Bytes LayerNorm + GELU must move: read the input, gamma and beta once, write the output."""
    itemsize = DTYPE_SIZES[dtype]
    return (2 * size.rows * size.hidden + 2 * size.hidden) * itemsize


def copy_bytes(size: Size, dtype: str) -> int:
    """Bytes a device-to-device copy of the input moves: read it once, write it once."""
    return 2 * size.rows * size.hidden * DTYPE_SIZES[dtype]


#: Flush buffer when the device does not report its L2 size: twice the largest L2
#: of any GPU skillpm knows of is below this.
FLUSH_FALLBACK_BYTES = 512 * 1024 * 1024
_MIB = 1024 * 1024


def flush_bytes(l2_bytes: int | None) -> int:
    """Size of the buffer read between timed calls to evict the L2: at least twice the L2, in whole MiB.

    Reading (not writing) the buffer leaves the L2 full of clean lines, so the
    next call neither hits its own data nor pays for write-backs of the flush.
    An unknown L2 (``None`` or not positive) gets :data:`FLUSH_FALLBACK_BYTES`.
    """
    if l2_bytes is None or l2_bytes <= 0:
        return FLUSH_FALLBACK_BYTES
    return -(-2 * l2_bytes // _MIB) * _MIB


def gbps(nbytes: int, ms: float) -> float:
    """Effective bandwidth in GB/s (10**9 bytes per second) of moving ``nbytes`` in ``ms``."""
    if ms <= 0:
        raise ValueError(f"a time must be positive, got {ms!r} ms")
    return nbytes / (ms * 1e-3) / 1e9


def pct_of_peak(achieved_gbps: float, peak_gbps: float) -> float:
    """Achieved bandwidth as a percentage of the datasheet peak."""
    return 100.0 * achieved_gbps / peak_gbps


def pct_of_copy(kernel_gbps: float, copy_gbps: float) -> float:
    """The kernel's bandwidth as a percentage of a device copy's, measured in the same run."""
    return 100.0 * kernel_gbps / copy_gbps


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of sorted values, interpolating linearly between ranks."""
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(position), math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return min(max(value, ordered[low]), ordered[high])  # no rounding past a neighbour


@dataclass(frozen=True)
class Stats:
    """Median and spread (p10, p90) of ``runs`` timed calls, in milliseconds."""

    median_ms: float
    p10_ms: float
    p90_ms: float
    runs: int

    def __post_init__(self) -> None:
        if not 0 < self.p10_ms <= self.median_ms <= self.p90_ms:
            raise ValueError(f"inconsistent statistics: {self!r}")


def summarize(times_ms: Sequence[float]) -> Stats:
    """Statistics of one series of timed calls."""
    ordered = sorted(times_ms)
    return Stats(percentile(ordered, 50), percentile(ordered, 10), percentile(ordered, 90), len(ordered))


@dataclass(frozen=True)
class Measurement:
    """One implementation timed at one size: statistics, bandwidth and percent of peak."""

    stats: Stats
    gbps: float
    pct_of_peak: float | None

    def to_json(self) -> dict[str, object]:
        return {
            "median_ms": self.stats.median_ms,
            "p10_ms": self.stats.p10_ms,
            "p90_ms": self.stats.p90_ms,
            "runs": self.stats.runs,
            "gbps": self.gbps,
            "pct_of_peak": self.pct_of_peak,
        }


def measure(times_ms: Sequence[float], nbytes: int, peak_gbps: float | None) -> Measurement:
    """Summarize ``times_ms`` and turn the median into GB/s (and percent of ``peak_gbps`` if known)."""
    stats = summarize(times_ms)
    achieved = gbps(nbytes, stats.median_ms)
    return Measurement(stats, achieved, None if peak_gbps is None else pct_of_peak(achieved, peak_gbps))
