"""What a variant's verified evidence shows, kind by kind, and which kinds were never measured.

Pure. ``info`` and ``verify`` print one line per kind for each variant: what the
verified statements of that kind say, that statements of that kind are attached but
none verifies, and ``not measured`` when there is none. A benchmark that
did not run on a GPU is not GPU bench evidence. An absent measurement is never shown
as 0. :func:`summary` says what one verified statement shows, in a few words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from skillpm.attest.statement import BENCH_PREDICATE, EVAL_PREDICATE, STATIC_KERNEL_PREDICATE, is_finite_number

if TYPE_CHECKING:
    from skillpm.attest.variants import AttestationReport, VariantReport

NOT_MEASURED = "not measured"
#: The kinds every variant is described by, in the order shown.
SHOWN = (("static-kernel", STATIC_KERNEL_PREDICATE), ("eval", EVAL_PREDICATE), ("GPU bench", BENCH_PREDICATE))


def _counts(label: str, report: AttestationReport) -> bool:
    """Whether a verified attestation is evidence of the kind ``label``."""
    if label != "GPU bench":
        return True
    return report.statement is not None and report.statement.predicate.get("gpu_evidence") is True


def measured(report: VariantReport) -> list[tuple[str, str]]:
    """``(kind, what it shows)`` for each kind of :data:`SHOWN`, for one variant."""
    lines = []
    for label, predicate_type in SHOWN:
        mine = [a for a in report.attestations if a.predicate_type == predicate_type]
        verified = [a for a in mine if a.statement is not None and _counts(label, a)]
        if verified:
            text = "; ".join(f"{summary(a.statement)} (signed by {a.signer()})" for a in verified)
        elif any(a.statement is not None for a in mine):
            text = f"{NOT_MEASURED} (a benchmark without a GPU only)"
        elif mine:
            text = "attached, but not verified under your policy"
        else:
            text = NOT_MEASURED
        lines.append((label, text))
    return lines


def summary(statement: Any) -> str:
    """What a verified statement's evidence says, in a few words."""
    predicate = statement.predicate
    if statement.predicate_type == EVAL_PREDICATE:
        models = [m for m in predicate.get("models", []) if isinstance(m, dict)]
        rates = [m["with_skill"].get("pass_rate") for m in models if isinstance(m.get("with_skill"), dict)]
        lifts = [m.get("lift") for m in models]
        lift = "n/a (no baseline)" if lifts and all(value is None for value in lifts) else _range(lifts)
        return f"eval: {len(models)} model(s), pass rate {_range(rates)}, lift {lift}"
    if statement.predicate_type == BENCH_PREDICATE:
        results = [r for r in predicate.get("results", []) if isinstance(r, dict)]
        peaks = [r.get("kernel", {}).get("pct_of_peak") for r in results if isinstance(r.get("kernel"), dict)]
        device = predicate.get("device")
        gpu = device.get("name") if isinstance(device, dict) else None
        where = f"on {gpu}" if predicate.get("gpu_evidence") is True else "not GPU evidence"
        return f"bench: {len(results)} size(s), {_range(peaks)}% of peak bandwidth, {where}"
    if statement.predicate_type == STATIC_KERNEL_PREDICATE:
        from skillpm.attest.static_kernel import summary as static_summary

        return static_summary(predicate)
    return statement.predicate_type


def _range(values: list[Any]) -> str:
    numbers = [v for v in values if is_finite_number(v)]
    if not numbers:
        return "n/a"
    low, high = min(numbers), max(numbers)
    return f"{low:g}" if low == high else f"{low:g}-{high:g}"
