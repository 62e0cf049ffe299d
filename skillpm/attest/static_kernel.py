"""The static-kernel evidence document (``schemas/static-kernel-evidence.schema.json``).

Pure. What compiling a variant's kernel told without a GPU, as a kernel skill's SASS
counter reports it (kernel-builder-cuda's ``scripts/sass_budget.py --json``): per kernel
and compile target, registers, spill bytes, thread-level SASS per element, and for each
GPU the cubin runs on, its instruction budget and the fraction of bandwidth the kernel
can reach. A figure the counter does not give (a GPU without a published clock) is
absent, never 0; a number that is not finite is refused.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from skillpm.attest.statement import STATIC_KERNEL_EVIDENCE, is_finite_number, non_finite_at
from skillpm.evidence import SkillRef

SCHEMA_URI = STATIC_KERNEL_EVIDENCE
SCHEMA_FILE = "static-kernel-evidence.schema.json"

COUNTING = (
    "thread-level SASS instructions from the row loop's head to its backward branch (NOPs excluded), "
    "divided by the elements each thread holds; per-CTA setup left out"
)
BUDGET = (
    "SMs x 4 schedulers x boost clock x 32 lanes / (bandwidth / bytes per element); "
    "ceiling = min(1, budget / SASS per element)"
)
#: sass_budget.py's row field -> the evidence's kernel field.
_KERNEL_FIELDS = {
    "target": "target",
    "gencode": "gencode",
    "gelu": "gelu",
    "kernel": "kernel",
    "ept": "elements_per_thread",
    "loop_instructions": "loop_instructions",
    "per_element": "sass_per_element",
    "registers": "registers",
    "spill_bytes": "spill_bytes",
    "gpus": "gpus",
}


def compile_targets(variant_target: str, capabilities: Iterable[str]) -> list[str]:
    """The cubin targets a variant's evidence covers: its own target, or, for ``generic``, one
    baseline target per capability the kernel project builds (``"9.0"`` -> ``sm_90``)."""
    if variant_target != "generic":
        return [variant_target]
    return [f"sm_{capability.replace('.', '')}" for capability in capabilities]


def covers(variant_target: str, targets: list[str]) -> str:
    """One sentence saying what the kernels of a variant's evidence are."""
    if variant_target == "generic":
        return (f"every capability the kernel project's build.toml lists ({', '.join(targets)}): "
                "the generic variant serves any GPU, so each cubin kernel-builder builds is counted")
    return f"the variant's target {variant_target}"


def build_evidence(
    *,
    skill: SkillRef,
    project: str,
    measured: Mapping[str, Any],
    targets: list[str],
    dtype: str = "bf16",
) -> dict[str, Any]:
    """The evidence for ``skill`` from the counter's JSON ``measured``: its rows for ``targets`` and ``dtype``.

    ValueError when ``measured`` holds a number that is not finite, lacks a target, or lacks a
    tool version: nothing incomplete or unmeasurable is written as evidence.
    """
    from skillpm.benchmark.evidence import source_digest

    where = non_finite_at(measured)
    if where is not None:
        raise ValueError(f"the measurement holds a number that is not finite at {where}")
    rows = [row for row in measured["rows"] if row["target"] in targets and row["dtype"] == dtype]
    missing = sorted(set(targets) - {row["target"] for row in rows})
    if missing:
        raise ValueError(f"the measurement has no {dtype} kernels for {', '.join(missing)}")
    kernels = []
    for row in rows:
        kernel = {field: row[key] for key, field in _KERNEL_FIELDS.items()}
        if row.get("budget") is not None:
            kernel["target_budget"] = row["budget"]
        kernels.append(kernel)
    hidden = {row["hidden"] for row in rows}
    if len(hidden) != 1:
        raise ValueError(f"the measurement mixes hidden sizes {sorted(hidden)}")
    sources = dict(sorted(measured["sources"].items()))
    return {
        "schema": SCHEMA_URI,
        "skill": skill.to_json(),
        "kernel": {"project": project, "source_digest": source_digest(sources), "sources": sources},
        "tools": {tool: measured["versions"][tool] for tool in ("nvcc", "cuobjdump", "nvdisasm")},
        "method": {
            "tool": "scripts/sass_budget.py",
            "hidden": hidden.pop(),
            "dtype": dtype,
            "bytes_per_element": 4 if dtype == "bf16" else 8,
            "counting": COUNTING,
            "budget": BUDGET,
        },
        "covers": covers(skill.target, targets),
        "kernels": kernels,
    }


def summary(predicate: Mapping[str, Any]) -> str:
    """A few words: SASS per element, registers and spills per target, and the lowest ceiling known."""
    kernels = [k for k in predicate.get("kernels", []) if isinstance(k, dict)]
    parts = []
    for target in dict.fromkeys(k.get("target") for k in kernels):
        mine = [k for k in kernels if k.get("target") == target]
        sass = "/".join(f"{k['sass_per_element']:g}" if is_finite_number(k.get("sass_per_element")) else "?" for k in mine)
        regs = max((k.get("registers", 0) for k in mine if isinstance(k.get("registers"), int)), default=None)
        spills = sum(k.get("spill_bytes", 0) for k in mine if isinstance(k.get("spill_bytes"), int))
        parts.append(f"{target} {sass} SASS/elem, {regs} regs, {spills} B spilled")
    ceilings = [gpu.get("ceiling") for k in kernels for gpu in k.get("gpus", []) if isinstance(gpu, dict)]
    known = [c for c in ceilings if is_finite_number(c)]
    ceiling = f"; instruction-bound ceiling {min(known):.0%} of bandwidth" if known else "; ceiling not known"
    return "static: " + "; ".join(parts) + ceiling

