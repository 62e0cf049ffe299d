"""Checks: code blocks, contains/regex, validator configs, and the nvcc and python_test programs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from conftest import needs_nvcc

from skillpm.evaluation.cases import EvalCase, parse_case
from skillpm.evaluation.checks import (
    CUDA_LANGUAGES,
    CheckConfigError,
    Contains,
    CudaKernel,
    NvccCompile,
    PythonTest,
    Regex,
    checks_for,
    code_blocks,
    evaluate,
    last_block,
)
from skillpm.evaluation.errors import EvalError
from skillpm.evaluation.programs import LocalPrograms, find_cuobjdump
from skillpm.evaluation.sass import KernelLimits



def checked(data: dict) -> EvalCase:
    """The case of a document that must pass upskill's format."""
    parsed, problems = parse_case(data)
    assert parsed is not None, problems
    return parsed


def case(validator: str | None = None, contains=("x",), **config) -> EvalCase:
    return checked(
        {"input": "q", "expected": {"contains": list(contains)}, "validator": validator, "validator_config": config or None}
    )


def run(checks, answer, programs=None, scripts=None):
    return evaluate(checks, answer, programs=programs or LocalPrograms(), scripts=scripts or {})


# ---------------------------------------------------------------- code blocks

ANSWER = """Here you go:

```python
print("first")
```

Some text.

```cuda
__global__ void k() {}
```

  ```c++ title="two.cu"
int two() { return 2; }
  ```

~~~py
print("tilde")
~~~
"""


def test_code_blocks_are_found_in_order_with_their_language():
    assert code_blocks(ANSWER) == [
        ("python", 'print("first")\n'),
        ("cuda", "__global__ void k() {}\n"),
        ("c++", "int two() { return 2; }\n"),
        ("py", 'print("tilde")\n'),
    ]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (ANSWER, "int two() { return 2; }\n"),
        ("no code at all", None),
        ("```\nuntagged\n```", None),
        ("```python\nx = 1\n```", None),
        ("```CUDA\nA\n```\n```cpp\nB\n```", "B\n"),
        ("```cuda\nunclosed", None),
    ],
)
def test_last_cuda_block(answer, expected):
    assert last_block(answer, CUDA_LANGUAGES) == expected


# ---------------------------------------------------------------- contains and regex


@pytest.mark.parametrize(
    ("strings", "answer", "passed"),
    [
        (("CUDA event", "L2"), "use cuda EVENTs and flush the l2", True),
        (("CUDA event", "median"), "use cuda events", False),
        ((), "anything", True),
    ],
)
def test_contains_is_case_insensitive_and_needs_every_string(strings, answer, passed):
    (result,) = run((Contains(strings),), answer)
    assert result.passed is passed
    if not passed:
        assert "'median'" in result.detail


def test_checks_for_a_plain_case_is_contains_only():
    assert checks_for(case(contains=("a", "b")), target="generic") == (Contains(("a", "b")),)


def test_regex_validator():
    checks = checks_for(case("regex", pattern=r"sm_9\da", ignore_case=True), target="generic")
    assert isinstance(checks[1], Regex)
    assert [r.passed for r in run(checks, "x for SM_90A")] == [True, True]
    assert [r.passed for r in run(checks, "x for sm_80")] == [True, False]


# ---------------------------------------------------------------- validator configs


@pytest.mark.parametrize(
    ("config", "target", "flags"),
    [
        ({"gencode": "arch=compute_90a,code=sm_90a"}, "generic", ("-gencode", "arch=compute_90a,code=sm_90a")),
        ({"arch": "sm_80"}, "sm_90a", ("-gencode", "arch=compute_80,code=sm_80")),
        ({}, "sm_100a", ("-gencode", "arch=compute_100a,code=sm_100a")),
        ({"timeout_s": 30}, "sm_86", ("-gencode", "arch=compute_86,code=sm_86")),
    ],
)
def test_nvcc_flags_come_from_gencode_arch_or_the_variant(config, target, flags):
    (_, nvcc) = checks_for(case("nvcc_compile", **config), target=target)
    assert isinstance(nvcc, NvccCompile) and nvcc.flags == flags


@pytest.mark.parametrize(
    ("validator", "config", "target", "message"),
    [
        ("nvcc_compile", {"source": "a.cu"}, "sm_90a", "source"),
        ("nvcc_compile", {"must_succeed": True}, "sm_90a", "must_succeed"),
        ("nvcc_compile", {}, "generic", "generic variant"),
        ("nvcc_compile", {"gencode": "-arch=sm_90"}, "sm_90a", "not of the form"),
        ("nvcc_compile", {"gencode": "arch=compute_90,code=sm_90", "arch": "sm_90"}, "sm_90a", "not both"),
        ("nvcc_compile", {"arch": "sm_9x"}, "sm_90a", "invalid GPU target"),
        ("nvcc_compile", {"timeout_s": 0}, "sm_90a", "timeout_s"),
        ("regex", {}, "generic", "pattern"),
        ("regex", {"pattern": "("}, "generic", "not a regular expression"),
        ("regex", {"pattern": "x", "ignore_case": "yes"}, "generic", "ignore_case"),
        ("python_test", {}, "generic", "script"),
    ],
)
def test_a_misconfigured_validator_is_refused(validator, config, target, message):
    with pytest.raises(CheckConfigError, match=message):
        checks_for(case(validator, **config), target=target)


def test_an_unknown_validator_and_output_file_fall_back_to_contains_as_upskill_does():
    """upskill's ``check_expected`` (src/upskill/evaluate.py): a validator it cannot find leaves
    ``expected.contains`` on the answer to decide; ``output_file`` is read only by a validator."""
    unknown = checked(
        {"input": "q", "expected": {"contains": ["x"]}, "output_file": "out.yaml", "validator": "hf_eval_yaml",
         "validator_config": {"schema": "model-index"}}
    )
    assert checks_for(unknown, target="generic") == (Contains(("x",)),)
    with_file = checked({"input": "q", "expected": {"contains": ["x"]}, "output_file": "x"})
    assert checks_for(with_file, target="generic") == (Contains(("x",)),)


def test_config_without_validator_is_refused():
    with pytest.raises(CheckConfigError, match="without a validator"):
        checks_for(case(None, pattern="x"), target="generic")


KERNEL = {"kernel": "ln_gelu", "generic_arch": "sm_80", "elements_per_thread": 32, "max_sass_per_element": 28}


@pytest.mark.parametrize(
    ("target", "flags", "budget"),
    [
        ("generic", ("-gencode", "arch=compute_80,code=sm_80"), 28),
        ("sm_90", ("-gencode", "arch=compute_90,code=sm_90"), 28),
        ("sm_100f", ("-gencode", "arch=compute_100f,code=sm_100f"), 14),
        ("sm_120f", ("-gencode", "arch=compute_120f,code=sm_120f"), 28),
    ],
)
def test_a_shared_kernel_case_compiles_for_each_variant_with_its_budget(target, flags, budget):
    """One case serves every variant: the arch is the variant's (generic_arch for generic), and
    max_sass_per_element.<arch> overrides the budget for that arch only."""
    (_, kernel) = checks_for(case("cuda_kernel", **KERNEL, **{"max_sass_per_element.sm_100f": 14}), target=target)
    assert isinstance(kernel, CudaKernel) and kernel.flags == flags
    assert kernel.limits == KernelLimits("ln_gelu", elements_per_thread=32, max_sass_per_element=budget)


def test_generic_arch_serves_only_the_generic_variant():
    (_, nvcc) = checks_for(case("nvcc_compile", generic_arch="sm_80"), target="sm_90a")
    assert nvcc.flags == ("-gencode", "arch=compute_90a,code=sm_90a")
    (_, nvcc) = checks_for(case("nvcc_compile", generic_arch="sm_80"), target="generic")
    assert nvcc.flags == ("-gencode", "arch=compute_80,code=sm_80")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "kernel"),
        ({"kernel": "not a name"}, "kernel"),
        ({"kernel": "k", "gencode": "arch=compute_90,code=sm_90"}, "gencode"),
        ({"kernel": "k", "sass_opcodes": "LDG.E.128; rm -rf"}, "sass_opcodes"),
        ({"kernel": "k", "max_spill_bytes": -1}, "max_spill_bytes"),
        ({"kernel": "k", "elements_per_thread": 8}, "together"),
        ({"kernel": "k", "max_sass_per_element": 8}, "together"),
        ({"kernel": "k", "elements_per_thread": 8, "max_sass_per_element": 0}, "max_sass_per_element"),
        ({"kernel": "k", "elements_per_thread": 8, "max_sass_per_element": 8, "max_sass_per_element.sm_9": 4}, "invalid GPU target"),
        ({"kernel": "k", "elements_per_thread": 8, "max_sass_per_element": 8, "max_sass_per_element.sm_90": "4"}, "positive number"),
        ({"kernel": "k", "generic_arch": "generic"}, "not generic"),
    ],
)
def test_a_misconfigured_kernel_check_is_refused(config, message):
    with pytest.raises(CheckConfigError, match=message):
        checks_for(case("cuda_kernel", **config), target="generic" if "generic_arch" in config else "sm_90")


# ---------------------------------------------------------------- python_test

TEST_SCRIPT = textwrap.dedent(
    """\
    import os, sys
    from answer import add
    assert add(2, 3) == 5, "add is wrong"
    assert "EVAL_SECRET" not in os.environ, "the environment leaked"
    """
).encode()


def python_test(answer: str, *, script: bytes = TEST_SCRIPT, timeout_s: float = 20.0):
    checks = (PythonTest("checks/test_add.py", timeout_s),)
    (result,) = run(checks, answer, scripts={"checks/test_add.py": script})
    return result


def test_python_test_passes_a_right_answer_and_keeps_the_environment_out(monkeypatch):
    monkeypatch.setenv("EVAL_SECRET", "sk-should-not-leak")
    result = python_test("Sure:\n```python\ndef add(a, b):\n    return a + b\n```\n")
    assert result.passed, result.detail


def test_python_test_fails_a_wrong_answer_with_the_scripts_words():
    result = python_test("```python\ndef add(a, b):\n    return a - b\n```")
    assert not result.passed and "add is wrong" in result.detail


def test_python_test_fails_an_answer_without_code():
    result = python_test("just add them")
    assert not result.passed and "no ```python" in result.detail


def test_python_test_has_a_time_limit():
    result = python_test("```python\nimport time\ntime.sleep(30)\ndef add(a, b): return a + b\n```", timeout_s=1.0)
    assert not result.passed and "time limit" in result.detail


def test_python_test_sees_the_cuda_block_as_answer_cu():
    script = b"import pathlib\nassert '__global__' in pathlib.Path('answer.cu').read_text()\n"
    assert python_test("```cuda\n__global__ void k() {}\n```", script=script).passed


def test_python_test_sees_the_toml_block_as_answer_toml():
    script = b"import tomllib\nassert tomllib.load(open('answer.toml', 'rb'))['general']['name'] == 'k'\n"
    assert python_test("```toml\n[general]\nname = 'k'\n```", script=script).passed
    assert not python_test("```toml\n[general]\nname = 'j'\n```", script=script).passed


# ---------------------------------------------------------------- nvcc

VALID_KERNEL = """Compile it with `-gencode arch=compute_90a,code=sm_90a`:

```cuda
#include <cuda_bf16.h>

__global__ void scale(__nv_bfloat16* y, const __nv_bfloat16* x, float s, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = __float2bfloat16(__bfloat162float(x[i]) * s);
}

extern "C" void launch_scale(__nv_bfloat16* y, const __nv_bfloat16* x, float s, int n, cudaStream_t stream) {
  scale<<<(n + 255) / 256, 256, 0, stream>>>(y, x, s, n);
}
```
"""

WGMMA_KERNEL = """```cuda
__global__ void k(float* out) {
  asm volatile("wgmma.fence.sync.aligned;\\n" ::: "memory");
  out[threadIdx.x] = 0.f;
}
```"""


def nvcc_check(arch: str) -> tuple:
    return checks_for(case("nvcc_compile", contains=("__global__",), arch=arch), target="generic")


@pytest.mark.nvcc
@needs_nvcc
def test_nvcc_passes_a_valid_kernel_for_sm_90a():
    results = run(nvcc_check("sm_90a"), VALID_KERNEL)
    assert all(r.passed for r in results), results


@pytest.mark.nvcc
@needs_nvcc
def test_nvcc_fails_wgmma_compiled_for_sm_80_and_passes_it_for_sm_90a():
    (_, on_ampere) = run(nvcc_check("sm_80"), WGMMA_KERNEL)
    assert not on_ampere.passed and "nvcc exited" in on_ampere.detail and "wgmma" in on_ampere.detail
    (_, on_hopper) = run(nvcc_check("sm_90a"), WGMMA_KERNEL)
    assert on_hopper.passed, on_hopper.detail


@pytest.mark.nvcc
@needs_nvcc
def test_nvcc_fails_broken_code():
    (_, result) = run(nvcc_check("sm_90a"), "```cuda\n__global__ void k( {\n```")
    assert not result.passed


def test_nvcc_fails_an_answer_without_a_code_block_whatever_it_says():
    """The strings a check looks for can be written without code; the compile check cannot be."""
    (contains, compiled) = run(nvcc_check("sm_90a"), "Just write a __global__ function and compile it.")
    assert contains.passed and not compiled.passed and "no ```cuda" in compiled.detail


def test_a_missing_nvcc_stops_before_any_request():
    programs = LocalPrograms()
    programs.nvcc = None
    with pytest.raises(EvalError, match="nvcc"):
        programs.require({"contains": 3, "nvcc_compile": 1})
    programs.require({"contains": 3})


def test_a_cuobjdump_planted_in_the_current_directory_is_never_run(tmp_path, monkeypatch):
    """sys.path can hold the current directory; a cloned project's nvidia/cu13/bin/ is not a wheel."""
    for tool in ("cuobjdump", "nvdisasm"):
        planted = tmp_path / "nvidia" / "cu13" / "bin" / tool
        planted.parent.mkdir(parents=True, exist_ok=True)
        planted.write_text("#!/bin/sh\ntouch pwned\n")
        planted.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend("")
    found = find_cuobjdump()
    assert found is None or not Path(found).resolve().is_relative_to(tmp_path)


def test_kernel_checks_need_nvcc_and_a_disassembler_before_any_request():
    programs = LocalPrograms(nvcc="/usr/bin/true")
    programs.cuobjdump = None
    programs.require({"nvcc_compile": 2})
    with pytest.raises(EvalError, match="cuobjdump"):
        programs.require({"cuda_kernel": 1})
    programs.nvcc = None
    with pytest.raises(EvalError, match="3 test.*nvcc"):
        programs.require({"nvcc_compile": 2, "cuda_kernel": 1})


def test_python_test_output_is_cut_and_the_script_killed_past_the_limit():
    from skillpm.evaluation.programs import MAX_OUTPUT

    script = b"import sys\nblock = b'x' * (1 << 20)\nwhile True:\n    sys.stdout.buffer.write(block)\n"
    result = python_test("```python\ndef add(a, b): return a + b\n```", script=script, timeout_s=30.0)
    assert not result.passed and f"printed more than {MAX_OUTPUT >> 20} MiB" in result.detail


def test_a_time_limit_past_the_bound_is_the_bound():
    """A config the schema was not asked about (a caller of checks_for) still cannot overflow the clock."""
    assert python_test("```python\ndef add(a, b):\n    return a + b\n```", timeout_s=1e300).passed
