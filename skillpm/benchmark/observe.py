"""Reading what the harness observes: nvidia-smi's clocks, the kernel that ran, pytest's tally.

Pure parsers over text the harness captures (a CSV line, a demangled kernel
name, pytest's last line); nothing here runs a process or imports torch. What
cannot be read is ``None``, never 0: a missing measurement is not a zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The nvidia-smi query whose CSV line :func:`parse_clocks` reads (MHz, no units).
CLOCK_QUERY = "clocks.sm,clocks.mem,clocks.max.sm,clocks.max.mem"
#: Longest kernel name kept in the evidence (a demangled name is a few hundred characters).
MAX_KERNEL_NAME = 400


@dataclass(frozen=True)
class Clocks:
    """SM and memory clocks in MHz: current (when sampled) and the maximum the GPU allows."""

    sm_mhz: int | None
    memory_mhz: int | None
    max_sm_mhz: int | None
    max_memory_mhz: int | None

    def current_json(self) -> dict[str, int | None]:
        return {"sm": self.sm_mhz, "memory": self.memory_mhz}

    def max_json(self) -> dict[str, int | None]:
        return {"sm": self.max_sm_mhz, "memory": self.max_memory_mhz}


NO_CLOCKS = Clocks(None, None, None, None)


def _mhz(field: str) -> int | None:
    text = field.strip()
    return int(text) if text.isdigit() and 0 < int(text) < 100_000 else None


def parse_clocks(line: str) -> Clocks:
    """Clocks from one CSV line of ``nvidia-smi --query-gpu=CLOCK_QUERY --format=csv,noheader,nounits``.

    ``[N/A]``, a malformed field or a line with the wrong number of fields gives ``None``s.
    """
    fields = line.strip().split(",")
    if len(fields) != 4:
        return NO_CLOCKS
    return Clocks(*(_mhz(field) for field in fields))


@dataclass(frozen=True)
class CodePath:
    """Which compiled kernel ran: its name and, for the reference kernel, its template arguments.

    ``kernel`` is ``None`` when the profiler saw no kernel: the path is then not known.
    """

    kernel: str | None
    dtype: str | None = None
    elements_per_thread: int | None = None
    rows: str | None = None  # "warp" (a warp per row) or "cta" (a CTA per row)
    access: str | None = None  # "vec16-exact", "vec16-masked" or "scalar"
    gelu: str | None = None  # "none" (erf) or "tanh", as torch names them

    def to_json(self) -> dict[str, object]:
        return {
            "kernel": self.kernel,
            "dtype": self.dtype,
            "elements_per_thread": self.elements_per_thread,
            "rows": self.rows,
            "access": self.access,
            "gelu": self.gelu,
        }


#: The reference kernel's template, ``layernorm_gelu_kernel<T, EPT, WARP_ROWS, Access, Gelu>``,
#: as the profiler demangles it (the form c++filt prints for the cubin's symbols).
_REFERENCE_KERNEL = re.compile(
    r"layernorm_gelu_kernel<\s*(?P<type>__nv_bfloat16|float)\s*,\s*(?P<ept>[0-9]+)\s*,\s*(?P<warp>true|false)\s*,"
    r"\s*\((?:\w+::)*Access\)(?P<access>[0-9])\s*,\s*\((?:\w+::)*Gelu\)(?P<gelu>[0-9])\s*>"
)
_DTYPES = {"__nv_bfloat16": "bf16", "float": "fp32"}
_ACCESS = {"0": "vec16-exact", "1": "vec16-masked", "2": "scalar"}  # enum class Access in layernorm_gelu.cu
_GELU = {"0": "none", "1": "tanh"}  # enum class Gelu in common.cuh


def code_path(kernel_name: str) -> CodePath:
    """The code path a demangled kernel name shows; only the name for a kernel that is not the reference's."""
    name = kernel_name.strip()
    name = name[:MAX_KERNEL_NAME] if len(name) <= MAX_KERNEL_NAME else name[: MAX_KERNEL_NAME - 3] + "..."
    match = _REFERENCE_KERNEL.search(kernel_name)
    if match is None:
        return CodePath(name)
    return CodePath(
        name,
        dtype=_DTYPES[match["type"]],
        elements_per_thread=int(match["ept"]),
        rows="warp" if match["warp"] == "true" else "cta",
        access=_ACCESS.get(match["access"]),
        gelu=_GELU.get(match["gelu"]),
    )


@dataclass(frozen=True)
class Tally:
    """pytest's count of the kernel project's tests."""

    passed: int
    failed: int
    skipped: int
    errors: int

    def to_json(self) -> dict[str, int]:
        return {"passed": self.passed, "failed": self.failed, "skipped": self.skipped, "errors": self.errors}

    def problem(self, *, gpu: bool) -> str | None:
        """Why this tally does not show a correct kernel, or ``None``.

        On a GPU every test must run: a skip there means a GPU test did not run.
        """
        if self.failed or self.errors:
            return f"{self.failed} failed and {self.errors} errors"
        if not self.passed:
            return "no test passed"
        if gpu and self.skipped:
            return f"{self.skipped} tests were skipped on a GPU"
        return None


_COUNT = re.compile(r"([0-9]+) (passed|failed|skipped|errors?)\b")


def parse_pytest_tally(output: str) -> Tally | None:
    """The counts of pytest's last summary line (``53 passed, 141 skipped in 3.6s``), or ``None``."""
    for line in reversed(output.strip().splitlines()):
        if re.search(r"\b(passed|failed|errors?|skipped)\b.* in [0-9.]+s", line):
            counts = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0}
            for number, word in _COUNT.findall(line):
                counts["errors" if word.startswith("error") else word] += int(number)
            return Tally(**counts)
    return None
