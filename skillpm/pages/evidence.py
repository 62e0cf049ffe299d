"""A variant's evidence on its page: agent pass rate, GPU throughput, static kernel figures, and the rest.

Pure. The writer verifies each attestation when it builds the pages and hands over an
:class:`Evidence` per attestation: who signed it, whether every check passed, and the
predicate when they did. Figures are drawn only from verified evidence; evidence that did
not verify is listed with the reason, its figures withheld. Each kind of evidence that no
verified attestation gives is said to be "not measured" (a missing measurement is never 0).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from skillpm.attest.statement import BENCH_PREDICATE, EVAL_PREDICATE, STATIC_KERNEL_PREDICATE
from skillpm.pages.kernels import static_kernel
from skillpm.pages.markup import clean, is_number, number, percent, text
from skillpm.pages.plots import Bar, Group, bar_chart
from skillpm.pages.tables import MAX_ROWS, more, object_at, objects_at, row, table
from skillpm.records import Record

MAX_ATTESTATIONS = 8  # attestations shown per variant
NOT_MEASURED = '<p class="none">not measured</p>'


class Evidence(Record):
    """One attestation as verified at build time (``predicate`` only when it verified)."""

    predicate_type: str
    signer: str
    verified: bool
    problem: str | None = None
    predicate: Mapping[str, Any] | None = None


def is_static(predicate_type: str) -> bool:
    """Whether a predicate type is static kernel evidence (figures read from the compiled kernel)."""
    return "static" in predicate_type.rpartition("/attestations/")[2]


def section(items: Sequence[Evidence], *, chart_id: str, brief: str | None = None) -> str:
    """The evidence of one variant: the three kinds of figures, other evidence, then every attestation.

    ``brief``: leave the figures out (the page is full), saying instead where to read them.
    """
    items = items[:MAX_ATTESTATIONS]
    if brief is not None and any(item.verified for item in items):
        return f'<p class="note">{text(brief)}</p>' + _attestations(items)
    verified = [(item, item.predicate) for item in items if item.verified and item.predicate is not None]
    evals = [(item, data) for item, data in verified if item.predicate_type == EVAL_PREDICATE]
    benches = [(item, data) for item, data in verified if item.predicate_type == BENCH_PREDICATE]
    statics = [(item, data) for item, data in verified if is_static(item.predicate_type)]
    others = [pair for pair in verified if pair not in evals + benches + statics]
    parts = ["<h4>Agent pass rate, with and without the skill</h4>"]
    parts += [_signed(item) + _eval(data, f"{chart_id}-e{n}") for n, (item, data) in enumerate(evals)] or [NOT_MEASURED]
    parts.append("<h4>GPU throughput</h4>")
    parts += [_signed(item) + _bench(data, f"{chart_id}-b{n}") for n, (item, data) in enumerate(benches)] or [NOT_MEASURED]
    if benches and not any(data.get("gpu_evidence") is True for _, data in benches):
        parts.append('<p class="none">not measured on a GPU</p>')
    parts.append("<h4>Static kernel figures</h4>")
    parts += [
        _signed(item) + _static(item, data, f"{chart_id}-s{n}") for n, (item, data) in enumerate(statics)
    ] or [NOT_MEASURED]
    if others:
        parts.append("<h4>Other evidence</h4>")
        parts += [_signed(item) + _figures(data) for item, data in others]
    parts.append(_attestations(items))
    return "".join(parts)


def _signed(item: Evidence) -> str:
    return (
        f'<p class="signed"><code>{text(item.predicate_type, 200)}</code>, signed by {text(item.signer, 200)}: '
        '<span class="ok">verified</span> when this page was built</p>'
    )


def _tally(arm: object) -> tuple[int, int] | None:
    """``(passed, total)`` of an eval arm, when they are sound counts."""
    if not isinstance(arm, Mapping):
        return None
    passed, total = arm.get("passed"), arm.get("total")
    if type(passed) is not int or type(total) is not int:  # not bool, not float
        return None
    return (passed, total) if 0 <= passed <= total and total > 0 else None


def _arm_bar(label: str, kind: str, counts: tuple[int, int] | None) -> tuple[Bar | None, str]:
    if counts is None:
        return None, "invalid"
    from skillpm.evaluation.stats import wilson_interval  # only a page with eval evidence needs the statistics

    passed, total = counts
    low, high = wilson_interval(passed, total)
    shown = f"{percent(passed / total)} ({percent(low)}\u2013{percent(high)})"
    return Bar(label, passed / total, (low, high), shown, kind), f"{passed}/{total} = {shown}"


def _eval(predicate: Mapping[str, Any], chart_id: str) -> str:
    """Pass rates with and without the skill per model, recomputed with Wilson intervals from the counts."""
    models = objects_at(predicate, "models")
    if not models:
        return '<p class="none">no model was evaluated</p>'
    groups, rows, words = [], [], []
    for model in models[:MAX_ROWS]:
        name = clean(model.get("model", "?"), 80)
        with_bar, with_text = _arm_bar("with skill", "with", _tally(model.get("with_skill")))
        if model.get("baseline") is None:  # no baseline was run: not measured, never 0 of 0
            base_bar, base_text = None, "not measured (no baseline run)"
        else:
            base_bar, base_text = _arm_bar("without", "without", _tally(model.get("baseline")))
        bars = tuple(bar for bar in (with_bar, base_bar) if bar is not None)
        if bars:
            groups.append(Group(name, bars))
        rows.append(row(name, with_text, base_text))
        words.append(f"{name}: with the skill {with_text}, without it {base_text}")
    title = "Pass rate with and without the skill, per model, with Wilson 95% intervals"
    chart = bar_chart(groups, chart_id=chart_id, title=title, description="; ".join(words)) if groups else ""
    shown = table("pass rates", ("model", "with the skill (95% interval)", "without (95% interval)"), rows)
    cases, trials = object_at(predicate, "test_set").get("count"), predicate.get("trials")
    note = f'<p class="note">{number(cases)} test case(s) \u00d7 {number(trials)} trial(s) per model and arm</p>'
    return chart + shown + note + more(len(models), "model(s)")


def _peak(result: Mapping[str, Any], key: str) -> tuple[float | None, str]:
    """A result's percent of peak for ``key`` (kernel or eager), as a fraction and as text."""
    measured = object_at(result, key)
    value = measured.get("pct_of_peak")
    if not is_number(value) or value < 0:
        return None, "no peak known" if value is None else "invalid"
    return value / 100, f"{number(value)}% of peak ({number(measured.get('gbps'))} GB/s)"


def _bench(predicate: Mapping[str, Any], chart_id: str) -> str:
    """Throughput as % of peak per problem size, on the GPU the evidence names."""
    device = object_at(predicate, "device")
    gpu = clean(device.get("name", "an unnamed device"), 80)
    where = f"on {text(gpu)} (capability {text(device.get('capability', '?'), 10)})"
    if predicate.get("gpu_evidence") is not True:
        return f'<p class="note">a CPU check of the harness {where}: no GPU throughput</p>'
    results = objects_at(predicate, "results")
    groups, rows, words = [], [], []
    for result in results[:MAX_ROWS]:
        size = f"{number(result.get('rows'))}\u00d7{number(result.get('hidden'))} {clean(result.get('dtype', ''), 12)}"
        kernel, kernel_text = _peak(result, "kernel")
        eager, eager_text = _peak(result, "eager")
        bars = tuple(
            Bar(label, fraction, None, f"{number(fraction * 100)}%", kind)
            for label, fraction, kind in (("kernel", kernel, "kernel"), ("PyTorch eager", eager, "eager"))
            if fraction is not None
        )
        if bars:
            groups.append(Group(size, bars))
        rows.append(row(size, kernel_text, eager_text))
        words.append(f"{size}: kernel {kernel_text}, PyTorch eager {eager_text}")
    title = f"Throughput as % of peak memory bandwidth on {gpu}"
    chart = bar_chart(groups, chart_id=chart_id, title=title, description="; ".join(words)) if groups else ""
    note = f'<p class="note">measured {where}, peak {number(device.get("peak_gbps"))} GB/s</p>'
    shown = table("throughput", ("size", "kernel", "PyTorch eager"), rows)
    return note + chart + shown + more(len(results), "size(s)")


def _static(item: Evidence, predicate: Mapping[str, Any], chart_id: str) -> str:
    """Static-kernel evidence in its own tables and bars; any other static predicate generically."""
    return static_kernel(predicate, chart_id) if item.predicate_type == STATIC_KERNEL_PREDICATE else _figures(predicate)


def _flatten(value: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """The scalar figures of a predicate, as ``(dotted key, value)``, two levels deep."""
    if isinstance(value, Mapping) and depth < 3:
        found = []
        for key in sorted(value, key=str):
            if depth == 0 and key in ("schema", "skill", "tool"):
                continue
            found += _flatten(value[key], f"{prefix}{key}.", depth + 1)
        return found
    if isinstance(value, bool) or value is None:
        return [(prefix[:-1], str(value).lower() if value is not None else "null")]
    if isinstance(value, (int, float)):
        return [(prefix[:-1], number(value))]
    if isinstance(value, str):
        return [(prefix[:-1], clean(value, 120))]
    return []


def _figures(predicate: Mapping[str, Any]) -> str:
    """Any verified predicate, generically: its scalar figures as a table."""
    figures = _flatten(predicate)
    if not figures:
        return '<p class="none">no figures</p>'
    return table("figures", (), [row(key, value) for key, value in figures[:MAX_ROWS]]) + more(len(figures), "figure(s)")


def _attestations(items: Sequence[Evidence]) -> str:
    """Every attestation of the variant: predicate type, signer, and whether it verified."""
    if not items:
        return '<p class="note">No attestation: this variant carries no signed evidence.</p>'
    rows = []
    if len(items) == MAX_ATTESTATIONS:
        rows.append(f"<li>(the first {MAX_ATTESTATIONS} are shown)</li>")
    for item in items:
        state = (
            '<span class="ok">verified</span>'
            if item.verified
            else f'<span class="bad">NOT verified</span>: {text(item.problem or "a check failed", 300)}; figures withheld'
        )
        rows.append(f"<li><code>{text(item.predicate_type, 200)}</code>, signed by {text(item.signer, 200)}: {state}</li>")
    return f'<h4>Attestations, checked when this page was built</h4><ul class="attestations">{"".join(rows)}</ul>'
