"""The pure reading of what nvcc built (skillpm.evaluation.sass), on canned ptxas and cuobjdump text."""

from __future__ import annotations

import pytest

from skillpm.evaluation.sass import (
    KernelLimits,
    SassError,
    counted_instructions,
    has_opcode,
    inspect_kernel,
    instructions,
    ptxas_resources,
    sass_functions,
    source_name,
)


def listing(*functions: tuple[str, list[str]]) -> str:
    """A ``cuobjdump -sass`` listing of ``(name, instructions)``, addresses 16 bytes apart."""
    parts = ["\n\tcode for sm_80\n"]
    for name, code in functions:
        parts.append(f"\n\t\tFunction : {name}\n\t.headerflags\t@\"EF_CUDA_SM80\"\n")
        for index, text in enumerate(code):
            parts.append(f"        /*{index * 16:04x}*/                   {text} ;   /* 0x000fe20000000f00 */\n")
            parts.append("                                                  /* 0x000fe20000000f00 */\n")
    return "".join(parts)


def ptxas(name: str, registers: int = 32, stores: int = 0, loads: int = 0) -> str:
    return (
        f"ptxas info    : Compiling entry function '{name}' for 'sm_80'\n"
        f"ptxas info    : Function properties for {name}\n"
        f"    0 bytes stack frame, {stores} bytes spill stores, {loads} bytes spill loads\n"
        f"ptxas info    : Used {registers} registers, used 1 barriers, 380 bytes cmem[0]\n"
    )


# A row loop: head at 0x20, backward branch at 0x70; a NOP inside, a self-branch trap after EXIT.
LOOP = [
    "S2R R0, SR_TID.X",
    "LDC R1, c[0x0][0x37c]",
    "LDG.E.128.CONSTANT R4, desc[UR4][R2.64]",
    "SHFL.BFLY PT, R5, R4, 0x1, 0x1f",
    "MUFU.EX2 R6, R5",
    "NOP",
    "STG.E.128 desc[UR4][R2.64], R4",
    "@P0 BRA 0x20",
    "EXIT",
    "BRA 0x90",
    "NOP",
]


def test_ptxas_resources_adds_spill_stores_and_loads_per_kernel():
    found = ptxas_resources(ptxas("_Z1kPf", 40, 8, 4) + ptxas("plain", 24))
    assert (found["_Z1kPf"].registers, found["_Z1kPf"].spill_bytes) == (40, 12)
    assert (found["plain"].registers, found["plain"].spill_bytes) == (24, 0)


def test_functions_are_split_by_name_and_a_twice_listed_name_is_refused():
    functions = sass_functions(listing(("a", ["EXIT"]), ("_Z1bv", ["EXIT"])))
    assert list(functions) == ["a", "_Z1bv"]
    with pytest.raises(SassError, match="listed twice"):
        sass_functions(listing(("a", ["EXIT"]), ("a", ["EXIT"])))


@pytest.mark.parametrize(
    ("mangled", "name"),
    [
        ("ln_gelu", "ln_gelu"),  # extern "C"
        ("_Z18ln_gelu_tanh_h8192P13__nv_bfloat16PKS_", "ln_gelu_tanh_h8192"),
        ("_ZN3lng21layernorm_gelu_kernelI13__nv_bfloat16Li32ELb0EEEvPT_", "layernorm_gelu_kernel"),
        ("_Z1kPf", "k"),
    ],
)
def test_source_name_reads_extern_c_and_mangled_names(mangled, name):
    assert source_name(mangled) == name


@pytest.mark.parametrize("name", ["_Z" + "9" * 5000 + "k", "_ZN" + "1" * 4400 + "x", "_Z" + "7" * 10 + "k"])
def test_a_name_that_only_looks_mangled_is_read_without_error(name):
    """An extern "C" kernel named ``_Z`` and 5,000 digits: int() refuses more than 4,300 digits."""
    assert source_name(name) == name


def test_opcodes_match_with_their_modifiers_and_without_predicates():
    code = instructions(listing(("k", ["@!P1 LDG.E.128.CONSTANT R4, [R2.64]", "SHFL.DOWN PT, R1, R0, 0x1, 0x1f"])))
    assert has_opcode(code, "LDG.E.128") and has_opcode(code, "SHFL") and has_opcode(code, "SHFL.DOWN")
    assert not has_opcode(code, "LDG.E.64") and not has_opcode(code, "SHFL.BFLY") and not has_opcode(code, "LDG.E.12")


def test_the_count_is_the_loop_body_without_nops():
    assert counted_instructions(instructions(listing(("k", LOOP)))) == 5  # 0x20..0x70, the NOP left out


def test_without_a_loop_every_instruction_counts_but_nops_and_the_trap():
    code = instructions(listing(("k", ["S2R R0, SR_TID.X", "STG.E [R2.64], R0", "EXIT", "BRA 0x30", "NOP"])))
    assert counted_instructions(code) == 3


def test_two_loops_cannot_be_counted():
    code = instructions(listing(("k", ["IADD3 R0, R0, 0x1, RZ", "@P0 BRA 0x0", "IADD3 R1, R1, 0x1, RZ", "@P1 BRA 0x20"])))
    with pytest.raises(SassError, match="at most one loop .*found 2"):
        counted_instructions(code)


LIMITS = KernelLimits(kernel="k", opcodes=("LDG.E.128", "STG.E.128", "SHFL"), elements_per_thread=1, max_sass_per_element=5)


def test_a_kernel_within_every_limit_passes():
    assert inspect_kernel(ptxas("_Z1kPf"), listing(("_Z1kPf", LOOP)), LIMITS) == (True, "")


@pytest.mark.parametrize(
    ("log", "functions", "limits", "why"),
    [
        (ptxas("other"), [("other", LOOP)], LIMITS, "expected one __global__ kernel named k, found 0 (kernels: other)"),
        ("", [], LIMITS, "found 0 (kernels: none)"),
        (ptxas("_Z1kPf") + ptxas("_Z1kPi"), [("_Z1kPf", LOOP), ("_Z1kPi", LOOP)], LIMITS, "found 2"),
        (ptxas("k", stores=16, loads=16), [("k", LOOP)], LIMITS, "spills 32 bytes (at most 0)"),
        ("", [("k", LOOP)], LIMITS, "ptxas reported no spill figures"),
        (ptxas("k"), [("k", ["STL [R1], R0", *LOOP])], LIMITS, "uses local memory"),
        (ptxas("k"), [("k", [t.replace(".128", "") for t in LOOP])], LIMITS, "has no LDG.E.128, STG.E.128"),
        (ptxas("k"), [("k", LOOP)], KernelLimits("k", elements_per_thread=2, max_sass_per_element=2), "2.50 SASS"),
        (ptxas("k"), [("k", ["IADD3 R0, R0, 0x1, RZ", "@P0 BRA 0x0", "@P1 BRA 0x0"])], KernelLimits("k", elements_per_thread=1, max_sass_per_element=9),
         "cannot be counted: expected at most one loop"),
    ],
)
def test_each_limit_fails_with_its_reason(log, functions, limits, why):
    passed, detail = inspect_kernel(log, listing(*functions), limits)
    assert not passed and why in detail


def test_limits_a_case_does_not_set_are_not_checked():
    log = ptxas("k", stores=8)
    code = listing(("k", ["STL [R1], R0", "EXIT"]))
    assert inspect_kernel(log, code, KernelLimits("k", max_spill_bytes=8, allow_local_memory=True)) == (True, "")
