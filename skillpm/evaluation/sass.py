"""What nvcc built, read from text: ptxas's resource report (``-Xptxas -v``) and cuobjdump's SASS.

Pure: the caller runs nvcc and cuobjdump (see :mod:`skillpm.evaluation.programs`) and hands
the text over. :func:`inspect_kernel` decides the ``cuda_kernel`` check; the helpers are
shared with the kernel-builder-cuda skill's ``scripts/sass_budget.py``.

Counting SASS per element (references/sass-budget.md of that skill): a kernel whose work
per thread is straight-line code (inner loops unrolled), inside at most one loop (over
rows), executes per pass the instructions between the loop's head and its backward
branch, or, without a loop, every instruction of the kernel. NOPs and the trailing
self-branch are not counted; a forward branch in the body makes the count an upper bound.
A second backward branch (a loop whose trip count is unknown) cannot be counted.
"""

from __future__ import annotations

import re

from skillpm.records import Record

_INSTRUCTION = re.compile(r"^\s*/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;", re.MULTILINE)
_BRANCH = re.compile(r"^(?:@!?U?P\w+\s+)?BRA(?:\.\w+)*\s+(?:!?U?P\w+\s*,\s*)?(0x[0-9a-f]+)")
_PREDICATE = re.compile(r"^@!?U?P\w+\s+")
_FUNCTION = re.compile(r"\n\s*Function : (\S+)")
_ENTRY = re.compile(r"(?=ptxas info\s+: Compiling entry function)")
#: Opcodes that read or write a thread's local memory (spills, arrays indexed at run time).
LOCAL_MEMORY = ("LDL", "STL")


class SassError(ValueError):
    """The SASS cannot be read or counted as asked; the message says why."""


class Resources(Record):
    """What ptxas reported for one kernel."""

    registers: int
    spill_bytes: int  # spill stores + spill loads


class KernelLimits(Record):
    """What the ``cuda_kernel`` check demands of the named kernel."""

    kernel: str
    max_spill_bytes: int = 0
    allow_local_memory: bool = False
    opcodes: tuple[str, ...] = ()
    elements_per_thread: int | None = None
    max_sass_per_element: float | None = None


def ptxas_resources(log: str) -> dict[str, Resources]:
    """Kernel (mangled) name -> registers and spill bytes, from ``ptxas -v`` output."""
    found: dict[str, Resources] = {}
    for block in _ENTRY.split(log):
        name = re.search(r"Compiling entry function '(\w+)'", block)
        registers = re.search(r"Used (\d+) registers", block)
        spills = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", block)
        if name and registers and spills:
            found[name[1]] = Resources(int(registers[1]), int(spills[1]) + int(spills[2]))
    return found


def sass_functions(listing: str) -> dict[str, str]:
    """Function (mangled) name -> its SASS, from ``cuobjdump -sass``; a name listed twice is refused."""
    parts = _FUNCTION.split(listing)
    functions: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2]):
        if name in functions:
            raise SassError(f"{name} is listed twice (code for more than one architecture?)")
        functions[name] = body
    return functions


def function_sass(listing: str, prefix: str) -> str:
    """The SASS of the one function whose (mangled) name starts with ``prefix``."""
    matches = [body for name, body in sass_functions(listing).items() if name.startswith(prefix)]
    if len(matches) != 1:
        raise SassError(f"expected one kernel named {prefix}..., found {len(matches)}")
    return matches[0]


def source_name(mangled: str) -> str:
    """The unqualified name of a kernel: itself for ``extern "C"``, the last name of an Itanium-mangled one."""
    if not mangled.startswith("_Z"):
        return mangled
    position = 3 if mangled.startswith("_ZN") else 2
    last = mangled
    # A length is a few digits; a longer run (``_Z`` and 5,000 digits, an extern "C" name) names nothing
    # that long, and int() would refuse it past 4,300 digits.
    while (digits := re.match(r"\d{1,9}(?!\d)", mangled[position:])) is not None:
        length = int(digits[0])
        start = position + len(digits[0])
        last = mangled[start : start + length]
        position = start + length
    return last


def instructions(sass: str) -> list[tuple[int, str]]:
    """``(address, instruction text)`` of one function's SASS, in order."""
    return [(int(address, 16), text) for address, text in _INSTRUCTION.findall(sass)]


def opcode(text: str) -> str:
    """The opcode with its modifiers (``LDG.E.128``), without the guard predicate."""
    return _PREDICATE.sub("", text).split(maxsplit=1)[0]


def has_opcode(code: list[tuple[int, str]], wanted: str) -> bool:
    """Whether an instruction's opcode is ``wanted`` or starts with it followed by modifiers."""
    return any(op == wanted or op.startswith(wanted + ".") for op in (opcode(text) for _, text in code))


def counted_instructions(code: list[tuple[int, str]]) -> int:
    """Instructions one pass executes: the one loop's body, or the whole kernel without a loop."""
    back = []
    for address, text in code:
        branch = _BRANCH.match(text)
        if branch and int(branch[1], 16) < address:
            back.append((int(branch[1], 16), address))
    if len(back) > 1:
        raise SassError(f"expected at most one loop (backward branch), over rows, found {len(back)}")
    head, tail = back[0] if back else (0, code[-1][0] if code else 0)
    return sum(
        1
        for address, text in code
        if head <= address <= tail and not text.startswith("NOP") and not _self_branch(address, text)
    )


def _self_branch(address: int, text: str) -> bool:
    branch = _BRANCH.match(text)
    return branch is not None and int(branch[1], 16) == address


def inspect_kernel(ptxas_log: str, listing: str, limits: KernelLimits) -> tuple[bool, str]:
    """Whether the kernel named in ``limits`` was built and meets them: ``(passed, why not)``."""
    try:
        functions = sass_functions(listing)
    except SassError as error:
        return False, str(error)
    named = [name for name in functions if source_name(name) == limits.kernel]
    if len(named) != 1:
        found = ", ".join(sorted(source_name(name) for name in functions)) or "none"
        return False, f"expected one __global__ kernel named {limits.kernel}, found {len(named)} (kernels: {found})"
    (mangled,) = named
    code = instructions(functions[mangled])
    problems = []
    resources = ptxas_resources(ptxas_log).get(mangled)
    if resources is None:
        problems.append("ptxas reported no spill figures for it")  # a missing measurement is not 0
    elif resources.spill_bytes > limits.max_spill_bytes:
        problems.append(f"spills {resources.spill_bytes} bytes (at most {limits.max_spill_bytes})")
    if not limits.allow_local_memory and any(has_opcode(code, op) for op in LOCAL_MEMORY):
        problems.append("uses local memory (LDL/STL)")
    missing = [op for op in limits.opcodes if not has_opcode(code, op)]
    if missing:
        problems.append("has no " + ", ".join(missing))
    if limits.elements_per_thread is not None and limits.max_sass_per_element is not None:
        try:
            per_element = counted_instructions(code) / limits.elements_per_thread
        except SassError as error:
            problems.append(f"SASS per element cannot be counted: {error}")
        else:
            if per_element > limits.max_sass_per_element:
                problems.append(
                    f"{per_element:.2f} SASS instructions per element (at most {limits.max_sass_per_element:g})"
                )
    return not problems, f"kernel {limits.kernel}: " + "; ".join(problems) if problems else ""
