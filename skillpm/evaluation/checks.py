"""The checks a test case asks for, and deciding them for one answer.

Pure: programs (nvcc, a test script) are run through the :class:`Programs` given to
:func:`evaluate`. Every case has upskill's ``expected.contains`` check; its ``validator``
adds one of ours, configured by the flat ``validator_config``:

========================  ==========================================================
``regex``                 ``pattern`` (required), ``ignore_case`` (default false):
                          the pattern occurs in the answer (``re.search``'s syntax,
                          matched by the ``regex`` module within :data:`REGEX_TIMEOUT_S`).
``nvcc_compile``          ``gencode`` (``arch=compute_90a,code=sm_90a``) or ``arch``
                          (``sm_90a``), default the variant's target (for ``generic``:
                          ``generic_arch``); ``timeout_s`` (default 120): the answer's
                          last ```cuda/```cpp/```c++ block compiles with ``nvcc -c`` for
                          that architecture.
``cuda_kernel``           ``kernel`` (required), ``arch``/``generic_arch`` and
                          ``timeout_s`` as above, ``max_spill_bytes`` (0),
                          ``allow_local_memory`` (false), ``sass_opcodes`` (space
                          separated, e.g. ``LDG.E.128 STG.E.128``),
                          ``elements_per_thread`` with ``max_sass_per_element`` (and
                          ``max_sass_per_element.<arch>`` for one architecture): the
                          block compiles, holds exactly one ``__global__`` kernel of
                          that name, and ptxas's report and the kernel's SASS meet every
                          limit (:mod:`skillpm.evaluation.sass`).
``python_test``           ``script`` (a path in the skill source, required),
                          ``timeout_s`` (default 60): with the answer's last ```python
                          block as ``answer.py``, its last CUDA/C++ block as
                          ``answer.cu`` and its last ```toml block as ``answer.toml``
                          beside it, the script exits 0.
========================  ==========================================================

A test passes when every one of its checks passes.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any, Mapping, Protocol, Union

from skillpm.errors import TargetError
from skillpm.records import Record
from skillpm.targets import parse_target

if TYPE_CHECKING:
    from skillpm.evaluation.cases import EvalCase
    from skillpm.evaluation.checkconfig import KernelConfig, NvccConfig
    from skillpm.evaluation.sass import KernelLimits

#: Fence languages whose block is CUDA/C++ source, and those whose block is Python.
CUDA_LANGUAGES = frozenset({"cuda", "cu", "cpp", "c++", "cxx", "cc"})
PYTHON_LANGUAGES = frozenset({"python", "py", "python3"})
TOML_LANGUAGES = frozenset({"toml"})

#: Seconds one search of a ``regex`` check may take: a hostile pattern can backtrack for ever.
REGEX_TIMEOUT_S = 2.0
_GENCODE = re.compile(r"arch=compute_[0-9]{2,3}[af]?,code=[a-z0-9_,\[\]]+")
_BUDGET_KEY = "max_sass_per_element"


class Compiled(Record):
    """nvcc's verdict on one source; with ``disassemble``, ptxas's ``-v`` report and the SASS listing."""

    passed: bool
    detail: str = ""
    ptxas_log: str = ""
    sass: str = ""


class Programs(Protocol):
    """Runs the programs a check needs."""

    def require(self, kinds: Mapping[str, int]) -> None:
        """Raise a SkillpmError when checks of ``kinds`` (name -> count) cannot run here."""

    def compile_cuda(
        self, code: str, *, flags: tuple[str, ...], timeout_s: float, disassemble: bool = False
    ) -> Compiled: ...

    def run_python_test(
        self, files: Mapping[str, str], *, script: str, script_bytes: bytes, timeout_s: float
    ) -> tuple[bool, str]: ...

    def stop(self) -> None:
        """End every program still running, and start no more (the run is stopping)."""


class CheckResult(Record):
    """One check's verdict on one answer; ``detail`` says why it failed."""

    name: str
    passed: bool
    detail: str = ""

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


def code_blocks(answer: str) -> list[tuple[str, str]]:
    """The fenced code blocks of a Markdown answer, in order: ``(language, code)``, language lower-cased
    (:mod:`skillpm.evaluation.fences`)."""
    from skillpm.evaluation.fences import code_blocks as found

    return found(answer)


def last_block(answer: str, languages: frozenset[str]) -> str | None:
    """The code of the answer's last fenced block in one of ``languages``, or ``None``."""
    found = [code for lang, code in code_blocks(answer) if lang in languages]
    return found[-1] if found else None


class Contains(Record):
    """upskill's ``expected.contains``: every string occurs in the answer, whatever its case."""

    strings: tuple[str, ...]
    name = "contains"

    def run(self, answer: str, programs: Programs, scripts: Mapping[str, bytes]) -> CheckResult:
        lowered = answer.lower()
        missing = [text for text in self.strings if text.lower() not in lowered]
        detail = "missing " + ", ".join(repr(text) for text in missing) if missing else ""
        return CheckResult(self.name, not missing, detail)


class Regex(Record):
    """``regex``: the pattern occurs in the answer.

    Patterns are written for Python's ``re`` (upskill's) and checked with it when the cases are
    read, but matched with the ``regex`` module (its ``re``-compatible VERSION0), which can stop a
    search after :data:`REGEX_TIMEOUT_S` and lets go of the GIL while it searches, so that a
    pattern that backtracks catastrophically fails its check instead of holding the run (and
    Ctrl-C) for ever.
    """

    pattern: str
    ignore_case: bool = False
    name = "regex"

    def run(self, answer: str, programs: Programs, scripts: Mapping[str, bytes]) -> CheckResult:
        try:
            found = _bounded(self.pattern, self.ignore_case).search(
                answer, timeout=REGEX_TIMEOUT_S, concurrent=True
            ) is not None
        except TimeoutError:
            return CheckResult(self.name, False, f"the pattern {self.pattern!r} took more than {REGEX_TIMEOUT_S:g} s")
        return CheckResult(self.name, found, "" if found else f"no match for {self.pattern!r}")


@functools.lru_cache(maxsize=64)
def _bounded(pattern: str, ignore_case: bool) -> Any:
    """``pattern`` compiled by the ``regex`` module (imported here only: few runs need it)."""
    import regex

    return regex.compile(pattern, regex.VERSION0 | (regex.IGNORECASE if ignore_case else 0))


class _Compiling:
    """The first base of the records of the checks that compile the answer's last CUDA/C++ block
    with nvcc (before their fields' record); a subclass's ``inspect`` judges what was built."""

    __slots__ = ()
    name: str
    disassemble: bool
    flags: tuple[str, ...]
    timeout_s: float

    def run(self, answer: str, programs: Programs, scripts: Mapping[str, bytes]) -> CheckResult:
        code = last_block(answer, CUDA_LANGUAGES)
        if code is None:
            return CheckResult(self.name, False, "the answer has no ```cuda, ```cpp or ```c++ code block")
        compiled = programs.compile_cuda(code, flags=self.flags, timeout_s=self.timeout_s, disassemble=self.disassemble)
        if not compiled.passed:
            return CheckResult(self.name, False, compiled.detail)
        return CheckResult(self.name, *self.inspect(compiled))

    def inspect(self, compiled: Compiled) -> tuple[bool, str]:
        """What was built, judged: compiling is all ``nvcc_compile`` asks."""
        return True, ""


class _NvccFields(Record):
    flags: tuple[str, ...]
    timeout_s: float


class NvccCompile(_Compiling, _NvccFields):
    """``nvcc_compile``: the block compiles for the architecture ``flags`` name."""

    __slots__ = ()
    name = "nvcc_compile"
    disassemble = False


class _KernelFields(Record):
    flags: tuple[str, ...]
    timeout_s: float
    limits: KernelLimits


class CudaKernel(_Compiling, _KernelFields):
    """``cuda_kernel``: the block compiles, and ptxas's report and the kernel's SASS meet ``limits``."""

    __slots__ = ()
    name = "cuda_kernel"
    disassemble = True

    def inspect(self, compiled: Compiled) -> tuple[bool, str]:
        from skillpm.evaluation.sass import inspect_kernel

        return inspect_kernel(compiled.ptxas_log, compiled.sass, self.limits)


class PythonTest(Record):
    """``python_test``: the script exits 0 beside the answer's code blocks."""

    script: str
    timeout_s: float
    name = "python_test"

    def run(self, answer: str, programs: Programs, scripts: Mapping[str, bytes]) -> CheckResult:
        files = {
            filename: code
            for filename, code in (
                ("answer.py", last_block(answer, PYTHON_LANGUAGES)),
                ("answer.cu", last_block(answer, CUDA_LANGUAGES)),
                ("answer.toml", last_block(answer, TOML_LANGUAGES)),
            )
            if code is not None
        }
        if not files:
            return CheckResult(self.name, False, "the answer has no ```python, CUDA/C++ or ```toml code block")
        passed, detail = programs.run_python_test(
            files, script=self.script, script_bytes=scripts[self.script], timeout_s=self.timeout_s
        )
        return CheckResult(self.name, passed, detail)


Check = Union[Contains, Regex, NvccCompile, CudaKernel, PythonTest]


VALIDATORS = ("cuda_kernel", "nvcc_compile", "python_test", "regex")


class CheckConfigError(ValueError):
    """A case's ``validator`` or ``validator_config`` cannot be used; the message says why."""


def checks_for(case: EvalCase, *, target: str) -> tuple[Check, ...]:
    """The checks of ``case`` for the variant ``target``; CheckConfigError when they are misconfigured."""
    found: list[Check] = [Contains(case.expected.contains)]
    if case.validator is None:
        if case.validator_config:
            raise CheckConfigError("validator_config is given without a validator")
        return tuple(found)
    if case.validator not in VALIDATORS:
        # As upskill does for a validator it does not know, expected.contains alone decides
        # (skillpm.evaluation.testset warns once per such validator; output_file is not read either).
        return tuple(found)
    from skillpm.evaluation.checkconfig import KernelConfig, NvccConfig, RegexConfig, parse_config

    config = dict(case.validator_config or {})
    overrides = _budget_overrides(config) if case.validator == "cuda_kernel" else {}
    settings, problems = parse_config(case.validator, config)
    if settings is None:
        raise CheckConfigError(problems[0])
    if isinstance(settings, RegexConfig):
        _compile(settings.pattern, settings.ignore_case)
        found.append(Regex(settings.pattern, settings.ignore_case))
    elif isinstance(settings, NvccConfig):
        found.append(NvccCompile(_nvcc_flags(settings, target), settings.timeout_s))
    elif isinstance(settings, KernelConfig):
        found.append(_cuda_kernel(settings, overrides, target))
    else:
        found.append(PythonTest(settings.script, settings.timeout_s))
    return tuple(found)


def _compile(pattern: str, ignore_case: bool) -> None:
    """CheckConfigError unless ``pattern`` is a regular expression for ``re`` (upskill's) and ``regex``."""
    try:
        re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as error:
        raise CheckConfigError(f"validator_config.pattern {pattern!r} is not a regular expression: {error}") from None
    try:
        _bounded(pattern, ignore_case)
    except Exception as error:  # noqa: BLE001 - regex.error, or whatever else a hostile pattern makes it raise
        raise CheckConfigError(f"validator_config.pattern {pattern!r} cannot be matched with a time limit: {error}") from None


def _nvcc_flags(config: NvccConfig, target: str) -> tuple[str, ...]:
    """``-gencode ...`` from ``gencode``, else from the architecture :func:`_arch` picks."""
    if config.gencode is not None and (config.arch is not None or config.generic_arch is not None):
        raise CheckConfigError("validator_config: give gencode or arch, not both")
    if config.gencode is not None:
        if not _GENCODE.fullmatch(config.gencode):
            raise CheckConfigError(
                f"validator_config.gencode {config.gencode!r} is not of the form arch=compute_90a,code=sm_90a"
            )
        return ("-gencode", config.gencode)
    return _gencode(_arch(config, target))


def _arch(config: NvccConfig | KernelConfig, target: str) -> str:
    """``arch``, else the variant's target, else (the generic variant) ``generic_arch``: ``sm_90a``."""
    if config.arch is not None:
        key, arch = "arch", config.arch
    elif target != "generic":
        key, arch = "arch", target
    elif config.generic_arch is not None:
        key, arch = "generic_arch", config.generic_arch
    else:
        raise CheckConfigError("the generic variant has no architecture: give arch or generic_arch in validator_config")
    try:
        parsed = parse_target(arch)
    except TargetError as error:
        raise CheckConfigError(f"validator_config.{key}: {error.message}") from None
    if parsed.is_generic:
        raise CheckConfigError(f"validator_config.{key}: give an architecture such as sm_80, not generic")
    return str(parsed)


def _gencode(arch: str) -> tuple[str, str]:
    digits = arch.removeprefix("sm_")
    return ("-gencode", f"arch=compute_{digits},code=sm_{digits}")


def _budget_overrides(config: dict[str, object]) -> dict[str, object]:
    """The ``max_sass_per_element.<arch>`` keys of a ``cuda_kernel`` config, taken out of it."""
    return {key: config.pop(key) for key in [key for key in config if key.startswith(_BUDGET_KEY + ".")]}


def _cuda_kernel(kernel: KernelConfig, overrides: Mapping[str, object], target: str) -> CudaKernel:
    """The ``cuda_kernel`` check; ``max_sass_per_element.<arch>`` overrides the budget for that arch."""
    from skillpm.evaluation.sass import KernelLimits

    arch = _arch(kernel, target)
    budget = kernel.max_sass_per_element
    for key, value in overrides.items():
        try:
            named = str(parse_target(key.removeprefix(_BUDGET_KEY + ".")))
        except TargetError as error:
            raise CheckConfigError(f"validator_config.{key}: {error.message}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
            raise CheckConfigError(f"validator_config.{key}: must be a positive number")
        if named == arch:
            budget = float(value)
    if (kernel.elements_per_thread is None) != (budget is None):
        raise CheckConfigError("validator_config: give elements_per_thread and max_sass_per_element together")
    limits = KernelLimits(
        kernel=kernel.kernel,
        max_spill_bytes=kernel.max_spill_bytes,
        allow_local_memory=kernel.allow_local_memory,
        opcodes=tuple(kernel.sass_opcodes.split()),
        elements_per_thread=kernel.elements_per_thread,
        max_sass_per_element=budget,
    )
    return CudaKernel(_gencode(arch), kernel.timeout_s, limits)


def can_fail(check: Check) -> bool:
    """Whether some answer fails ``check``: a ``contains`` with no string but ``""`` passes every answer."""
    return not isinstance(check, Contains) or any(check.strings)


def evaluate(
    checks: tuple[Check, ...], answer: str, *, programs: Programs, scripts: Mapping[str, bytes]
) -> tuple[CheckResult, ...]:
    """Every check's verdict on ``answer`` (all are run, so a report shows each failure)."""
    return tuple(check.run(answer, programs, scripts) for check in checks)
