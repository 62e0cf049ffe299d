"""The bench evidence document: what was measured, on what, from which bytes.

Pure values and one JSON writer. The document is self-contained (another tool
wraps it in a signed in-toto statement) and is described by
schemas/bench-evidence.schema.json and docs/benchmarking.md. A document made on
the CPU can never say ``"gpu_evidence": true``: :class:`Evidence` computes that
field, and the schema refuses it too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Mapping, Sequence

from skillpm.benchmark.metrics import Measurement, Size, pct_of_copy
from skillpm.benchmark.observe import NO_CLOCKS, Clocks, CodePath, Tally
from skillpm.benchmark.peaks import Peak
from skillpm.evidence import SkillRef, evidence_bytes
from skillpm.resources import shipped

SCHEMA_URI = "https://skillpm.dev/evidence/bench/v1"
SCHEMA_FILE = "bench-evidence.schema.json"
COPY_METHOD = "input copied to a tensor of its shape, timed the same way; pct_of_copy = kernel GB/s / copy GB/s"
FLUSH_METHOD = "read (sum) a buffer of l2_flush_bytes, at least twice the L2, before every timed call"

#: What counts as kernel source for the digest: these suffixes, and build.toml.
SOURCE_SUFFIXES = frozenset({".cu", ".cuh", ".h", ".cpp", ".py"})
SOURCE_NAMES = frozenset({"build.toml"})


def is_kernel_source(relative: str) -> bool:
    """Whether a file of the kernel project (posix path relative to it) is part of the source digest."""
    path = PurePosixPath(relative)
    return path.suffix in SOURCE_SUFFIXES or path.name in SOURCE_NAMES


def source_digest(files: Mapping[str, str]) -> str:
    """sha256 over the sorted ``(path, sha256)`` pairs of the kernel's source files.

    ``files`` maps a posix path relative to the kernel project to the file's
    sha256 (hex). The digested text is one ``<sha256>  <path>\\n`` line per file,
    sorted by path: the output of ``sha256sum`` over the sorted paths, so
    ``sha256sum $(find ... | sort) | sha256sum`` reproduces it.
    """
    lines = "".join(f"{digest}  {path}\n" for path, digest in sorted(files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


@dataclass(frozen=True)
class KernelRef:
    """The kernel project inside the variant's tree, and the digest of its sources."""

    project: str
    implementation: str
    sources: Mapping[str, str]  # posix path relative to the project -> sha256

    @property
    def source_digest(self) -> str:
        return source_digest(self.sources)


@dataclass(frozen=True)
class Device:
    """Where the numbers were measured."""

    kind: str  # "gpu" or "cpu"
    name: str
    capability: str | None
    driver: str | None
    cuda: str | None
    torch: str
    peak: Peak | None
    l2_bytes: int | None = None  # as the device reports it
    sm_count: int | None = None
    max_clocks: Clocks | None = None  # maximum SM and memory clocks (nvidia-smi)

    def __post_init__(self) -> None:
        if self.kind not in ("gpu", "cpu"):
            raise ValueError(f"device kind must be 'gpu' or 'cpu', got {self.kind!r}")
        if self.kind == "cpu" and self.peak is not None:
            raise ValueError("a CPU run has no memory-bandwidth peak to compare with")


@dataclass(frozen=True)
class Method:
    """How the timing was done."""

    timer: str  # "cuda-events" or "perf_counter"
    warmup: int
    runs: int
    l2_flush: bool
    eps: float
    l2_flush_bytes: int | None = None  # the buffer read before every timed call (>= 2x L2)


@dataclass(frozen=True)
class SizeResult:
    """The kernel, PyTorch eager and a device copy at one size, dtype and GELU form, and the
    kernel's error against the reference.

    ``copy`` times copying the input into a tensor of its shape (the same bytes, less
    gamma and beta): the bandwidth this device reaches in this run, next to the kernel's.
    ``clocks`` are sampled right after the kernel's timed calls.
    """

    size: Size
    dtype: str
    gelu: str  # "none" or "tanh", as torch.nn.functional.gelu names them
    bytes_moved: int
    kernel: Measurement
    eager: Measurement
    copy: Measurement
    code_path: CodePath
    clocks: Clocks
    max_abs_error: float
    atol: float
    rtol: float

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.size.rows,
            "hidden": self.size.hidden,
            "dtype": self.dtype,
            "gelu": self.gelu,
            "bytes_moved": self.bytes_moved,
            "code_path": self.code_path.to_json(),
            "clocks_mhz": self.clocks.current_json(),
            "kernel": self.kernel.to_json(),
            "eager": self.eager.to_json(),
            "copy": self.copy.to_json(),
            "pct_of_copy": pct_of_copy(self.kernel.gbps, self.copy.gbps),
            "speedup_vs_eager": self.eager.stats.median_ms / self.kernel.stats.median_ms,
            "max_abs_error": self.max_abs_error,
            "tolerance": {"atol": self.atol, "rtol": self.rtol},
        }


@dataclass(frozen=True)
class Evidence:
    """A whole bench evidence document."""

    skill: SkillRef
    kernel: KernelRef
    device: Device
    method: Method
    results: Sequence[SizeResult]
    created: str  # RFC 3339, UTC
    tool_version: str
    tests: Tally | None = None  # the kernel project's own tests, when they were run

    @property
    def gpu_evidence(self) -> bool:
        """True only for a GPU run with a known peak: a CPU run never counts as GPU evidence."""
        return self.device.kind == "gpu" and self.device.peak is not None and self.device.capability is not None

    def to_json(self) -> dict[str, Any]:
        device = self.device
        return {
            "schema": SCHEMA_URI,
            "skill": self.skill.to_json(),
            "kernel": {
                "project": self.kernel.project,
                "implementation": self.kernel.implementation,
                "source_digest": self.kernel.source_digest,
                "sources": dict(sorted(self.kernel.sources.items())),
            },
            "device": {
                "kind": device.kind,
                "name": device.name,
                "capability": device.capability,
                "driver": device.driver,
                "cuda": device.cuda,
                "torch": device.torch,
                "peak_gbps": None if device.peak is None else device.peak.gbps,
                "peak_source": None if device.peak is None else device.peak.source_json(),
                "l2_bytes": device.l2_bytes,
                "sm_count": device.sm_count,
                "max_clocks_mhz": (device.max_clocks or NO_CLOCKS).max_json(),
            },
            "method": {
                "timer": self.method.timer,
                "warmup": self.method.warmup,
                "runs": self.method.runs,
                "l2_flush": self.method.l2_flush,
                "l2_flush_bytes": self.method.l2_flush_bytes,
                "l2_flush_method": FLUSH_METHOD if self.method.l2_flush else None,
                "eps": self.method.eps,
                "statistics": "median, p10 and p90 of per-call times; GB/s and percent of peak from the median",
                "bytes_moved": "read input, gamma and beta once, write output",
                "copy": COPY_METHOD,
            },
            "tests": None if self.tests is None else self.tests.to_json(),
            "results": [result.to_json() for result in self.results],
            "gpu_evidence": self.gpu_evidence,
            "created": self.created,
            "tool": {"name": "skillpm", "version": self.tool_version},
        }


def dumps(document: Mapping[str, Any]) -> bytes:
    """The evidence file's bytes: indented, keys sorted, one trailing newline (ValueError on NaN)."""
    return evidence_bytes(document, sort_keys=True)


def schema_path() -> Path:
    """schemas/bench-evidence.schema.json: in the wheel (``skillpm/_schemas``) or the source checkout."""
    return shipped("schemas") / SCHEMA_FILE


def schema_errors(document: object) -> list[str]:
    """Every way ``document`` breaks the evidence schema, as ``path: message`` lines."""
    from skillpm import schemacheck

    return [f"{error.where('/', '(root)')}: {error.message}" for error in schemacheck.errors(schema_path(), document)]
