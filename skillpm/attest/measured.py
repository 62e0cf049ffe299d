"""What a variant's verified evidence shows, kind by kind, and which kinds were never measured.

Pure. ``info`` and ``verify`` print one line per kind for each variant: what the
verified statements of that kind say, that statements of that kind are attached but
none verifies, and ``not measured`` when there is none. A benchmark that
did not run on a GPU is not GPU bench evidence. An absent measurement is never shown
as 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from skillpm.attest.statement import BENCH_PREDICATE, EVAL_PREDICATE, STATIC_KERNEL_PREDICATE

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
    from skillpm.attest.variants import summary

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
