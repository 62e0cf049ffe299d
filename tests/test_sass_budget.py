"""SASS instruction budget of the reference kernel (kernel-builder-cuda/scripts/sass_budget.py).

Needs nvcc 13.x, and cuobjdump with the nvdisasm it runs (NVIDIA's wheels nvidia-cuda-cuobjdump and
nvidia-cuda-nvdisasm, in the `test` extra): skipped, with the reason, when one is missing or nvcc is another major
version, whose code generation the budgets were not measured with.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "skills/kernel-builder-cuda/scripts/sass_budget.py"


def _tool():
    spec = importlib.util.spec_from_file_location("sass_budget", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


sass_budget = _tool()


def _skip_reason() -> str | None:
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        return "nvcc not on PATH"
    version = sass_budget.tool_version(nvcc)
    if int(version.split(".")[0]) != sass_budget.NVCC_MAJOR:
        return f"nvcc {version}: the budgets were measured with nvcc {sass_budget.NVCC_MAJOR}.x"
    if sass_budget.find_cuobjdump() is None:
        return "cuobjdump with nvdisasm not found (pip install nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm)"
    return None


SKIP = _skip_reason()
pytestmark = [pytest.mark.nvcc, pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]


@pytest.fixture(scope="module")
def measured():
    return sass_budget.measure(sass_budget.TARGETS, hidden=8192, dtypes=("bf16",))


def test_every_target_and_gelu_form_is_measured(measured):
    rows, worst = measured
    assert {(r.target, r.gelu) for r in rows} == {(t, g) for t in sass_budget.TARGETS for g in ("none", "tanh")}
    assert set(worst) == set(sass_budget.TARGETS)
    assert all(r.ept == 32 and r.loop_instructions > 100 for r in rows)


@pytest.mark.parametrize("target", sorted(sass_budget.BUDGETS))
def test_instructions_per_element_within_budget(measured, target):
    """Issue 16: at most 28 SASS instructions per bf16 element on sm_80 and sm_90, at most
    14 on sm_100, for both GELU forms, hidden size 8192."""
    for row in (r for r in measured[0] if r.target == target):
        assert row.per_element <= sass_budget.BUDGETS[target], row


@pytest.mark.parametrize("target", sass_budget.TARGETS)
def test_no_kernel_spills(measured, target):
    rows, worst = measured
    assert worst[target] == 0, f"{target}: a kernel spills {worst[target]} bytes"
    assert all(r.spill_bytes == 0 and 0 < r.registers <= 255 for r in rows if r.target == target)


def test_budgets_match_the_issue():
    assert sass_budget.BUDGETS == {"sm_80": 28, "sm_90": 28, "sm_90a": 28, "sm_100": 14, "sm_100a": 14,
                                   "sm_100f": 14, "sm_103": 14, "sm_103a": 14}


def test_gpu_budgets_follow_the_datasheet_formula_and_leave_unknown_clocks_out():
    """H100 SXM: 132 SMs x 4 x 1.98 GHz x 32 / (3350 GB/s / 4 B) = 39.95; B200 has no published clock."""
    (h100,) = [g for g in sass_budget.gpu_budgets("sm_90", "bf16", 50.0) if g["name"] == "H100 SXM"]
    assert h100["budget_per_element"] == 39.95 and h100["ceiling"] == round(39.95 / 50, 3)
    assert [g["name"] for g in sass_budget.gpu_budgets("sm_90a", "bf16", 20.0)] == ["H100 SXM", "H200"]
    (b200,) = sass_budget.gpu_budgets("sm_100f", "bf16", 13.0)
    assert "budget_per_element" not in b200 and "ceiling" not in b200 and "boost_mhz" not in b200
    assert sass_budget.gpu_budgets("sm_120f", "bf16", 13.0) == []  # a sm_100 cubin never runs on 12.x
    assert not sass_budget.runs_on("sm_100f", (12, 0)) and sass_budget.runs_on("sm_100f", (10, 3))
    assert sass_budget.gencode("sm_100f") == "arch=compute_100f,code=sm_100f"


def test_instantiation_follows_the_launcher():
    """The kernel counted for a hidden size is the one layernorm_gelu.cu launches for it."""
    pick = sass_budget.instantiation
    assert pick("bf16", 8192, "none") == (32, False, 0)  # exact CTA rows
    assert pick("bf16", 5000, "tanh") == (32, False, 1)  # masked vectors
    assert pick("bf16", 4097, "none") == (16, False, 2)  # masked scalars, kCtaEptScalar
    assert pick("bf16", 768, "none") == (32, True, 1) and pick("f32", 200, "none") == (8, True, 1)
    assert pick("bf16", 17, "none") == (8, True, 2)


def test_row_loop_counting_refuses_inner_loops():
    """A second backward branch (a loop whose trip count the tool does not know) is an
    error, not a guess."""
    sass = ("        /*0000*/                   MOV R1, R2 ;\n"
            "        /*0010*/                   FADD R1, R1, R2 ;\n"
            "        /*0020*/               @P0 BRA 0x10 ;\n"
            "        /*0030*/                   BRA.U !UP0, 0x0 ;\n")
    with pytest.raises(sass_budget.ToolError, match="found 2"):
        sass_budget.row_loop(sass)
    assert sass_budget.row_loop(sass.replace("@P0 BRA 0x10", "NOP")) == 3


def test_cli_prints_versions_and_table():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--targets", "sm_100a"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "nvcc 13." in proc.stdout and "cuobjdump" in proc.stdout
    assert "sm_100a" in proc.stdout and "bf16" in proc.stdout
