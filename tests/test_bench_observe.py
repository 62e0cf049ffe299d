"""skillpm.benchmark.observe: nvidia-smi's clocks, the kernel that ran, pytest's tally.

The kernel names are the demangled symbols of the reference kernel's cubin (``nvcc
-cubin`` of layernorm_gelu.cu, ``cuobjdump -elf``, ``c++filt``), the form the profiler reports.
"""

from __future__ import annotations

import pytest

from skillpm.benchmark.observe import (
    MAX_KERNEL_NAME,
    NO_CLOCKS,
    Clocks,
    CodePath,
    Tally,
    code_path,
    parse_clocks,
    parse_pytest_tally,
)

BF16_CTA_SCALAR_ERF = (
    "void lng::layernorm_gelu_kernel<__nv_bfloat16, 16, false, (lng::Access)2, (lng::Gelu)0>"
    "(__nv_bfloat16*, __nv_bfloat16 const*, __nv_bfloat16 const*, __nv_bfloat16 const*, long, int, float, float)"
)
FP32_WARP_MASKED_TANH = (
    "void lng::layernorm_gelu_kernel<float, 32, true, (lng::Access)1, (lng::Gelu)1>"
    "(float*, float const*, float const*, float const*, long, int, float, float)"
)


@pytest.mark.parametrize(
    ("line", "clocks"),
    [
        ("1980, 2619, 1980, 2619", Clocks(1980, 2619, 1980, 2619)),
        ("345, 405, 2040, 1593\n", Clocks(345, 405, 2040, 1593)),
        ("[N/A], 2619, [N/A], 2619", Clocks(None, 2619, None, 2619)),  # not reported is None, never 0
        ("0, -5, 1e3, nan", NO_CLOCKS),
        ("1980, 2619", NO_CLOCKS),
        ("", NO_CLOCKS),
    ],
)
def test_parse_clocks(line: str, clocks: Clocks) -> None:
    assert parse_clocks(line) == clocks


def test_clocks_json_splits_current_and_max() -> None:
    clocks = Clocks(1, 2, 3, 4)
    assert clocks.current_json() == {"sm": 1, "memory": 2} and clocks.max_json() == {"sm": 3, "memory": 4}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (BF16_CTA_SCALAR_ERF, ("bf16", 16, "cta", "scalar", "none")),
        (FP32_WARP_MASKED_TANH, ("fp32", 32, "warp", "vec16-masked", "tanh")),
        (
            "void lng::layernorm_gelu_kernel<__nv_bfloat16, 32, false, (lng::Access)0, (lng::Gelu)1>(...)",
            ("bf16", 32, "cta", "vec16-exact", "tanh"),
        ),
    ],
)
def test_code_path_reads_the_template_arguments(name: str, expected: tuple) -> None:
    path = code_path(name)
    assert (path.dtype, path.elements_per_thread, path.rows, path.access, path.gelu) == expected
    assert path.kernel == name


def test_other_kernels_are_named_only() -> None:
    eager = "void at::native::vectorized_elementwise_kernel<4, at::native::GeluCUDAKernelImpl(...)>"
    assert code_path(eager) == CodePath(eager)
    assert code_path(eager).to_json()["elements_per_thread"] is None


def test_long_kernel_names_are_cut() -> None:
    path = code_path(BF16_CTA_SCALAR_ERF + "x" * 1000)
    assert len(path.kernel) == MAX_KERNEL_NAME and path.kernel.endswith("...")
    assert path.elements_per_thread == 16  # read from the whole name


@pytest.mark.parametrize(
    ("output", "tally"),
    [
        ("....\n53 passed, 141 skipped, 1 warning in 3.65s\n", Tally(53, 0, 141, 0)),
        ("F.\n=== 1 failed, 52 passed in 2.00s ===", Tally(52, 1, 0, 0)),
        ("E\n1 error in 0.50s", Tally(0, 0, 0, 1)),
        ("2 passed, 3 errors in 1.0s", Tally(2, 0, 0, 3)),
        ("ImportError: no module named torch\n", None),
        ("", None),
    ],
)
def test_parse_pytest_tally(output: str, tally: Tally | None) -> None:
    assert parse_pytest_tally(output) == tally


@pytest.mark.parametrize(
    ("tally", "gpu", "problem"),
    [
        (Tally(53, 0, 141, 0), False, None),  # CPU: the GPU tests skip
        (Tally(53, 0, 141, 0), True, "141 tests were skipped on a GPU"),
        (Tally(194, 0, 0, 0), True, None),
        (Tally(193, 1, 0, 0), True, "1 failed and 0 errors"),
        (Tally(0, 0, 0, 2), False, "0 failed and 2 errors"),
        (Tally(0, 0, 194, 0), False, "no test passed"),
    ],
)
def test_tally_problem(tally: Tally, gpu: bool, problem: str | None) -> None:
    assert tally.problem(gpu=gpu) == problem


def test_the_harness_reads_clocks_from_nvidia_smi(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skillpm.benchmark import harness

    smi = tmp_path / "nvidia-smi"  # stands in for the driver's tool, which this machine lacks
    smi.write_text('#!/bin/sh\ncase "$1" in --query-gpu=clocks*) echo "1755, 2619, 1980, 2619";; *) exit 9;; esac\n')
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert harness.sample_clocks() == Clocks(1755, 2619, 1980, 2619)
    smi.write_text("#!/bin/sh\nexit 9\n")  # a failing nvidia-smi is no measurement, not zero
    assert harness.sample_clocks() == NO_CLOCKS
