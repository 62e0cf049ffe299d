"""The kernel-builder-cuda eval cases execute, and only a real kernel passes them.

skills/kernel-builder-cuda/skill_meta.json is shared by every variant: each compile case
builds for the variant's target (generic: its generic_arch). For each of the five
variants, a reference-quality answer (tests/assets/kb_evals, built on the skill's own
device helpers) passes every case, and an empty kernel, a kernel that returns at once
and a scalar copy loop fail every compile-based case. nvcc work is bounded: each distinct
(source, arch) is compiled once per session and every verdict is shared.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import needs_nvcc
from test_eval_client import completion

from skillpm.evaluation.cases import EvalCase, parse_suite
from skillpm.evaluation.checks import Check, CheckResult, CudaKernel, PythonTest, checks_for, evaluate
from skillpm.evaluation.programs import LocalPrograms, find_cuobjdump

chat_server = __import__("test_eval_client").chat_server  # the fixture, shared

SKILL = Path(__file__).resolve().parents[1] / "skills" / "kernel-builder-cuda"
HELPERS = SKILL / "assets" / "layernorm_gelu" / "layernorm_gelu_cuda"
ANSWERS = Path(__file__).resolve().parent / "assets" / "kb_evals"
VARIANTS = ("generic", "sm_80", "sm_90", "sm_100f", "sm_120f")
SUITE, _ = parse_suite(json.loads((SKILL / "skill_meta.json").read_text()))
assert SUITE is not None
CASES = SUITE.tests
PYTHON_ANSWERS = {  # script -> (fence language, reference answer)
    ".eval/check_reference.py": ("python", ANSWERS / "reference.py"),
    ".eval/check_gelu_approximation.py": ("python", ANSWERS / "gelu_approximation.py"),
    ".eval/check_build_toml.py": ("toml", SKILL / "assets" / "layernorm_gelu" / "build.toml"),  # the skill's own
}

needs_cuobjdump = pytest.mark.skipif(find_cuobjdump() is None, reason="cuobjdump and nvdisasm are not installed")


def expand(path: Path) -> str:
    """The source with each ``#include "x.cuh"`` of the answers or the skill's kernel inlined: one block."""
    lines = []
    for line in path.read_text().splitlines():
        include = re.fullmatch(r'#include "(\w+\.cuh)"', line.strip())
        if include:
            lines.append(expand(ANSWERS / include[1] if (ANSWERS / include[1]).exists() else HELPERS / include[1]))
        elif line.strip() != "#pragma once":
            lines.append(line)
    return "\n".join(lines)


def fenced(language: str, code: str) -> str:
    return f"Here it is:\n\n```{language}\n{code}\n```\n"


def kernel_name(case: EvalCase) -> str | None:
    return str(case.validator_config["kernel"]) if case.validator == "cuda_kernel" and case.validator_config else None


def reference(case: EvalCase) -> str:
    name = kernel_name(case)
    if name is not None:
        return fenced("cuda", expand(ANSWERS / f"{name}.cu"))
    language, path = PYTHON_ANSWERS[str(case.validator_config["script"])]
    return fenced(language, path.read_text())


KERNELS = [name for name in map(kernel_name, CASES) if name is not None]
SIGNATURE = "(float* __restrict__ y, const float* __restrict__ x, int n)"
# Every case's kernel name in one source, so that each fails on what it does, not on its name.
TRIVIAL = {
    "empty": fenced("cuda", ""),
    "returns": fenced("cuda", "\n".join(f'extern "C" __global__ void {k}{SIGNATURE} {{}}' for k in KERNELS)),
    "scalar copy": fenced(
        "cuda",
        "\n".join(
            f'extern "C" __global__ void {k}{SIGNATURE} {{\n'
            "  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) y[i] = x[i];\n}"
            for k in KERNELS
        ),
    ),
}
SCRIPTS = {script: (SKILL / script).read_bytes() for script in PYTHON_ANSWERS}


def checks(variant: str) -> list[tuple[Check, ...]]:
    return [checks_for(case, target=variant) for case in CASES]


@pytest.fixture(scope="session")
def verdict():
    """``verdict(check, answer)``: each distinct compile runs once (two at a time), each verdict is kept."""
    programs = LocalPrograms()
    kept: dict[tuple[Check, str], CheckResult] = {}

    def decide(check: Check, answer: str) -> CheckResult:
        if (check, answer) not in kept:
            (kept[check, answer],) = evaluate((check,), answer, programs=programs, scripts=SCRIPTS)
        return kept[check, answer]

    first_of_each_compile: dict[tuple[object, ...], tuple[Check, str]] = {}
    for variant in VARIANTS:
        for index, case_checks in enumerate(checks(variant)):
            for check in case_checks:
                if isinstance(check, CudaKernel):
                    for answer in (reference(CASES[index]), *TRIVIAL.values()):
                        first_of_each_compile.setdefault((check.flags, check.timeout_s, answer), (check, answer))
    with ThreadPoolExecutor(max_workers=2) as pool:  # fills the programs' cache
        list(pool.map(lambda job: decide(*job), first_of_each_compile.values()))
    return decide


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_has_ten_cases_whose_checks_execute(variant):
    executing = [c for c in checks(variant) if any(isinstance(check, (CudaKernel, PythonTest)) for check in c)]
    assert len(executing) == len(CASES) >= 10
    kernels = [check for c in checks(variant) for check in c if isinstance(check, CudaKernel)]
    assert len(kernels) >= 7
    arch = {"generic": "sm_80"}.get(variant, variant).removeprefix("sm_")
    for check in kernels:
        assert check.flags == ("-gencode", f"arch=compute_{arch},code=sm_{arch}")
        limits = check.limits
        assert limits.max_spill_bytes == 0 and not limits.allow_local_memory
        assert {"LDG.E.128", "STG.E.128"} <= set(limits.opcodes)
        assert limits.elements_per_thread and limits.max_sass_per_element


def test_no_case_hangs_on_a_literal_or_an_echo():
    """The cases decide by running code: no contains string to recall, no figure to quote."""
    for case in CASES:
        assert case.validator in ("cuda_kernel", "python_test")
        assert case.expected.contains == ()


@pytest.mark.nvcc
@needs_nvcc
@needs_cuobjdump
@pytest.mark.parametrize("variant", VARIANTS)
def test_reference_answers_pass_every_case(verdict, variant):
    for index, case_checks in enumerate(checks(variant)):
        answer = reference(CASES[index])
        for check in case_checks:
            result = verdict(check, answer)
            assert result.passed, f"case {index} ({kernel_name(CASES[index])}), {check.name}: {result.detail}"


@pytest.mark.nvcc
@needs_nvcc
@needs_cuobjdump
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("trivial", TRIVIAL)
def test_empty_and_trivial_kernels_fail_every_compile_case(verdict, variant, trivial):
    for index, case_checks in enumerate(checks(variant)):
        for check in case_checks:
            if isinstance(check, CudaKernel):
                result = verdict(check, TRIVIAL[trivial])
                assert not result.passed, f"case {index} ({check.limits.kernel}) passed a {trivial} kernel"
                assert result.detail.startswith(f"kernel {check.limits.kernel}: ") or trivial == "empty"


def test_an_answer_without_the_asked_code_fails_every_python_case():
    programs = LocalPrograms()
    for case in CASES:
        for check in checks_for(case, target="sm_90"):
            if isinstance(check, PythonTest):
                for answer in ("```python\n```", "```python\ndef f(): pass\n```"):
                    (result,) = evaluate((check,), answer, programs=programs, scripts=SCRIPTS)
                    assert not result.passed, (check.script, answer)


# ---------------------------------------------------------------- end to end, through the CLI


def _answer_for(body: dict) -> dict:
    """With the skill: the reference answer to the case asked; without: a kernel that returns at once."""
    user = body["messages"][-1]["content"]
    (case,) = [case for case in CASES if user.startswith(case.input)]
    return completion(reference(case) if body["messages"][0]["role"] == "system" else TRIVIAL["returns"])


@pytest.mark.nvcc
@needs_nvcc
@needs_cuobjdump
def test_skillpm_eval_runs_the_kernel_checks_through_the_cli(chat_server, isolated, run_cli):
    server = chat_server(default=_answer_for)
    result = run_cli("eval", SKILL, "--target", "sm_80", "-m", "m", "--base-url", server.url, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["test_set"]["checks"] == {"contains": 10, "cuda_kernel": 7, "python_test": 3}
    (model,) = document["models"]
    assert (model["with_skill"]["passed"], model["baseline"]["passed"]) == (10, 0)
    assert model["lift"] == 1.0
