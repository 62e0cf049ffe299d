"""The bench evidence document (skillpm.benchmark.evidence) and schemas/bench-evidence.schema.json.

Every figure below is invented to exercise the schema; none is a measurement.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Callable

import pytest
from jsonschema import Draft202012Validator

from skillpm.benchmark.evidence import (
    SCHEMA_URI,
    Device,
    Evidence,
    KernelRef,
    Method,
    SizeResult,
    dumps,
    is_kernel_source,
    schema_errors,
    schema_path,
    source_digest,
)
from skillpm.benchmark.metrics import Size, measure
from skillpm.benchmark.observe import Clocks, CodePath, Tally, code_path
from skillpm.benchmark.peaks import PEAKS
from skillpm.evidence import SkillRef

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schemas" / "bench-evidence.schema.json"
SHA_A, SHA_B = "a" * 64, "b" * 64


def make_evidence(kind: str, *, peak: bool = True) -> Evidence:
    """An evidence value with invented numbers: ``kind`` is ``gpu`` or ``cpu``."""
    gpu = kind == "gpu"
    the_peak = PEAKS["h100-sxm"] if gpu and peak else None
    peak_gbps = None if the_peak is None else the_peak.gbps
    size = Size(4, 8)
    kernel_name = "void lng::layernorm_gelu_kernel<__nv_bfloat16, 8, true, (lng::Access)1, (lng::Gelu)0>(...)"
    result = SizeResult(
        size,
        "bf16",
        "none",
        128,
        measure([1.0, 2.0, 3.0], 128, peak_gbps),
        measure([2.0, 4.0, 6.0], 128, peak_gbps),
        measure([0.5, 1.0, 1.5], 128, peak_gbps),
        code_path(kernel_name) if gpu else CodePath("cpu-composed-reference", gelu="none"),
        Clocks(1980, 2619, None, None) if gpu else Clocks(None, None, None, None),
        0.004,
        0.016,
        0.016,
    )
    return Evidence(
        skill=SkillRef("kernel-builder-cuda", "0.1.0", "sm_90a" if gpu else "generic", SHA_A),
        kernel=KernelRef("assets/layernorm_gelu", "sm_90a" if gpu else "cpu-composed-reference", {"k.cu": SHA_B}),
        device=Device(
            kind,
            "NVIDIA H100 80GB HBM3" if gpu else "x86_64",
            "9.0" if gpu else None,
            "000.00" if gpu else None,
            "13.0" if gpu else None,
            "2.13.0",
            the_peak,
            l2_bytes=50 * 2**20 if gpu else None,
            sm_count=132 if gpu else None,
            max_clocks=Clocks(None, None, 1980, 2619) if gpu else None,
        ),
        method=Method("cuda-events" if gpu else "perf_counter", 25, 3, gpu, 1e-5, 100 * 2**20 if gpu else None),
        results=[result],
        created="2026-01-01T00:00:00Z",
        tool_version="0.1.0",
        tests=Tally(120, 0, 0, 0) if gpu else None,
    )


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_schema_identity(validator: Draft202012Validator) -> None:
    assert validator.schema["$id"] == "https://skillpm.dev/schemas/bench-evidence.schema.json"
    assert validator.schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert validator.schema["properties"]["schema"]["const"] == SCHEMA_URI
    assert schema_path().read_bytes() == SCHEMA_FILE.read_bytes()


# --- the source digest ----------------------------------------------------------------------------


def test_source_digest_is_sha256sum_of_sorted_pairs() -> None:
    files = {"z.py": SHA_B, "a/k.cu": SHA_A}
    listing = f"{SHA_A}  a/k.cu\n{SHA_B}  z.py\n"
    assert source_digest(files) == hashlib.sha256(listing.encode()).hexdigest()
    assert source_digest(dict(reversed(list(files.items())))) == source_digest(files)
    assert source_digest({**files, "z.py": SHA_A}) != source_digest(files)
    assert source_digest({**files, "b.h": SHA_A}) != source_digest(files)


@pytest.mark.parametrize(
    ("path", "counted"),
    [
        ("k.cu", True),
        ("layernorm_gelu_cuda/common.cuh", True),
        ("layernorm_gelu_cuda/layernorm_gelu.h", True),
        ("torch-ext/torch_binding.cpp", True),
        ("tests/reference.py", True),
        ("build.toml", True),
        ("README.md", False),
        ("other.toml", False),
        ("data.json", False),
    ],
)
def test_is_kernel_source(path: str, counted: bool) -> None:
    assert is_kernel_source(path) is counted


# --- documents the schema accepts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "peak", "gpu_evidence"), [("gpu", True, True), ("gpu", False, False), ("cpu", False, False)]
)
def test_documents_validate(validator: Draft202012Validator, kind: str, peak: bool, gpu_evidence: bool) -> None:
    document = make_evidence(kind, peak=peak).to_json()
    assert list(validator.iter_errors(document)) == []
    assert schema_errors(document) == []
    assert document["gpu_evidence"] is gpu_evidence
    assert document["kernel"]["source_digest"] == source_digest({"k.cu": SHA_B})


def test_gpu_document_carries_percent_of_peak_and_its_source() -> None:
    document = make_evidence("gpu").to_json()
    device = document["device"]
    assert device["peak_gbps"] == 3350.0 and device["peak_source"]["url"].startswith("https://www.nvidia.com/")
    result = document["results"][0]
    assert result["kernel"]["pct_of_peak"] == pytest.approx(100 * result["kernel"]["gbps"] / 3350.0)
    assert result["speedup_vs_eager"] == pytest.approx(2.0)


def test_gpu_document_records_the_flush_the_copy_the_clocks_and_the_code_path() -> None:
    document = make_evidence("gpu").to_json()
    method, device, result = document["method"], document["device"], document["results"][0]
    assert method["l2_flush_bytes"] == 100 * 2**20 and "read" in method["l2_flush_method"]
    assert device["l2_bytes"] == 50 * 2**20 and device["max_clocks_mhz"] == {"sm": 1980, "memory": 2619}
    assert result["clocks_mhz"] == {"sm": 1980, "memory": 2619}
    # the kernel took 2 ms, the copy of the same bytes 1 ms
    assert result["pct_of_copy"] == pytest.approx(50.0)
    assert result["code_path"] == {
        "kernel": "void lng::layernorm_gelu_kernel<__nv_bfloat16, 8, true, (lng::Access)1, (lng::Gelu)0>(...)",
        "dtype": "bf16", "elements_per_thread": 8, "rows": "warp", "access": "vec16-masked", "gelu": "none",
    }  # fmt: skip
    assert document["tests"] == {"passed": 120, "failed": 0, "skipped": 0, "errors": 0}


def test_cpu_document_is_never_gpu_evidence() -> None:
    document = make_evidence("cpu").to_json()
    assert document["gpu_evidence"] is False
    assert document["device"]["peak_gbps"] is None
    assert all(r["kernel"]["pct_of_peak"] is None for r in document["results"])
    with pytest.raises(ValueError, match="CPU run has no"):
        Device("cpu", "x86_64", None, None, None, "2.13.0", PEAKS["h100-sxm"])


def test_dumps_is_stable() -> None:
    document = make_evidence("cpu").to_json()
    data = dumps(document)
    assert data.endswith(b"}\n") and json.loads(data) == document
    assert dumps(json.loads(data)) == data


# --- documents the schema refuses -----------------------------------------------------------------


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        *parents, last = path.split(".")
        where: Any = document
        for part in parents:
            where = where[int(part)] if part.isdigit() else where[part]
        if value is _DELETE:
            del where[last]
        else:
            where[last] = value

    return change


_DELETE = object()


@pytest.mark.parametrize(
    ("kind", "change"),
    [
        # a CPU run can never pass as GPU evidence
        ("cpu", _set("gpu_evidence", True)),
        ("cpu", _set("device.peak_gbps", 3350.0)),
        ("cpu", _set("results.0.kernel.pct_of_peak", 50.0)),
        ("cpu", _set("method.timer", "cuda-events")),
        # GPU evidence needs a GPU, its capability, a peak and percent of peak everywhere
        ("gpu", _set("device.kind", "cpu")),
        ("gpu", _set("device.capability", None)),
        ("gpu", _set("device.peak_gbps", None)),
        ("gpu", _set("device.peak_source", None)),
        ("gpu", _set("results.0.kernel.pct_of_peak", None)),
        ("gpu", _set("results.0.eager.pct_of_peak", None)),
        ("gpu", _set("method.l2_flush", False)),
        ("gpu", _set("method.l2_flush_bytes", None)),
        ("gpu", _set("results.0.copy.pct_of_peak", None)),
        # every result says what ran and is compared with a copy measured in the same run
        ("gpu", _set("results.0.copy", _DELETE)),
        ("gpu", _set("results.0.pct_of_copy", 0)),
        ("gpu", _set("results.0.gelu", "erf")),
        ("gpu", _set("results.0.code_path.elements_per_thread", 0)),
        ("gpu", _set("results.0.code_path.access", "vec8")),
        ("gpu", _set("results.0.clocks_mhz.sm", 0)),
        ("gpu", _set("device.max_clocks_mhz", _DELETE)),
        ("gpu", _set("tests.failed", -1)),
        ("cpu", _set("method.l2_flush", True)),
        ("cpu", _set("results.0.copy.pct_of_peak", 50.0)),
        # the artifact and the sources must be named
        ("gpu", _set("skill.artifact_sha256", "sha256:" + SHA_A)),
        ("gpu", _set("skill.artifact_sha256", _DELETE)),
        ("gpu", _set("kernel.source_digest", SHA_A.upper())),
        ("gpu", _set("kernel.sources", {})),
        # shape
        ("gpu", _set("schema", "https://skillpm.dev/evidence/bench/v2")),
        ("gpu", _set("skill.target", "sm_9")),
        ("gpu", _set("device.capability", "9")),
        ("gpu", _set("results", [])),
        ("gpu", _set("results.0.dtype", "fp16")),
        ("gpu", _set("results.0.kernel.median_ms", 0)),
        ("gpu", _set("results.0.extra", 1)),
        ("gpu", _set("created", "yesterday")),
        ("gpu", _set("tool.name", "other")),
        ("cpu", _set("gpu_evidence", _DELETE)),
    ],
)
def test_schema_refuses(validator: Draft202012Validator, kind: str, change: Callable[[dict], None]) -> None:
    document = copy.deepcopy(make_evidence(kind).to_json())
    change(document)
    assert list(validator.iter_errors(document)), document
    assert schema_errors(document)
