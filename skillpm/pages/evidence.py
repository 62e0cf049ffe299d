"""A variant's evidence on its page: agent pass rate, GPU throughput, static kernel figures, and the rest.

Pure. The writer verifies each attestation when it builds the pages and hands over an
:class:`Evidence` per attestation: who signed it, whether every check passed, and the
predicate when they did. Figures are drawn only from verified evidence; evidence that did
not verify is listed with the reason, its figures withheld. Each kind of evidence that no
verified attestation gives is said to be "not measured" (a missing measurement is never 0).
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Sequence

from skillpm.attest.statement import BENCH_PREDICATE, EVAL_PREDICATE
from skillpm.evaluation.stats import wilson_interval
from skillpm.pages.markup import clean, is_number, number, percent, text
from skillpm.pages.plots import Bar, Group, bar_chart

MAX_ROWS = 16  # models, problem sizes or figures shown per attestation
MAX_ATTESTATIONS = 8  # attestations shown per variant
NOT_MEASURED = '<p class="none">not measured</p>'


class Evidence(NamedTuple):
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
    verified = [item for item in items if item.verified and item.predicate is not None]
    evals = [item for item in verified if item.predicate_type == EVAL_PREDICATE]
    benches = [item for item in verified if item.predicate_type == BENCH_PREDICATE]
    statics = [item for item in verified if is_static(item.predicate_type)]
    others = [item for item in verified if item not in evals + benches + statics]
    parts = ["<h4>Agent pass rate, with and without the skill</h4>"]
    parts += [_eval(item, f"{chart_id}-e{n}") for n, item in enumerate(evals)] or [NOT_MEASURED]
    parts.append("<h4>GPU throughput</h4>")
    parts += [_bench(item, f"{chart_id}-b{n}") for n, item in enumerate(benches)] or [NOT_MEASURED]
    if benches and not any(item.predicate.get("gpu_evidence") is True for item in benches):  # type: ignore[union-attr]
        parts.append('<p class="none">not measured on a GPU</p>')
    parts.append("<h4>Static kernel figures</h4>")
    parts += [_figures(item) for item in statics] or [NOT_MEASURED]
    if others:
        parts.append("<h4>Other evidence</h4>")
        parts += [_figures(item) for item in others]
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
    if not (isinstance(passed, int) and isinstance(total, int)) or isinstance(passed, bool) or isinstance(total, bool):
        return None
    return (passed, total) if 0 <= passed <= total and total > 0 else None


def _arm_bar(label: str, kind: str, counts: tuple[int, int] | None) -> tuple[Bar | None, str]:
    if counts is None:
        return None, "invalid"
    passed, total = counts
    low, high = wilson_interval(passed, total)
    shown = f"{percent(passed / total)} ({percent(low)}\u2013{percent(high)})"
    return Bar(label, passed / total, (low, high), shown, kind), f"{passed}/{total} = {shown}"


def _eval(item: Evidence, chart_id: str) -> str:
    models = [model for model in item.predicate.get("models", []) if isinstance(model, Mapping)]  # type: ignore[union-attr]
    groups, rows, words = [], [], []
    for model in models[:MAX_ROWS]:
        name = clean(model.get("model", "?"), 80)
        with_bar, with_text = _arm_bar("with skill", "with", _tally(model.get("with_skill")))
        base_bar, base_text = _arm_bar("without", "without", _tally(model.get("baseline")))
        bars = tuple(bar for bar in (with_bar, base_bar) if bar is not None)
        if bars:
            groups.append(Group(name, bars))
        rows.append(f"<tr><th scope=\"row\">{text(name)}</th><td>{text(with_text)}</td><td>{text(base_text)}</td></tr>")
        words.append(f"{name}: with the skill {with_text}, without it {base_text}")
    if not models:
        return _signed(item) + '<p class="none">no model was evaluated</p>'
    chart = bar_chart(
        groups,
        chart_id=chart_id,
        title="Pass rate with and without the skill, per model, with Wilson 95% intervals",
        description="; ".join(words),
    ) if groups else ""
    more = f'<p class="note">and {len(models) - MAX_ROWS} more model(s)</p>' if len(models) > MAX_ROWS else ""
    table = (
        '<div class="scroll" tabindex="0" role="region" aria-label="pass rates"><table class="figures">'
        "<thead><tr><th scope=\"col\">model</th><th scope=\"col\">with the skill (95% interval)</th>"
        "<th scope=\"col\">without (95% interval)</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    trials = item.predicate.get("trials")  # type: ignore[union-attr]
    cases = item.predicate.get("test_set", {}).get("count") if isinstance(item.predicate.get("test_set"), Mapping) else None  # type: ignore[union-attr]
    note = f'<p class="note">{text(number(cases))} test case(s) \u00d7 {text(number(trials))} trial(s) per model and arm</p>'
    return _signed(item) + chart + table + note + more


def _peak(result: Mapping[str, Any], key: str) -> tuple[float | None, str]:
    """A result's percent of peak for ``key`` (kernel or eager), as a fraction and as text."""
    measured = result.get(key)
    value = measured.get("pct_of_peak") if isinstance(measured, Mapping) else None
    if not is_number(value) or value < 0:
        return None, "no peak known" if value is None else "invalid"
    gbps = measured.get("gbps")  # type: ignore[union-attr]
    return value / 100, f"{number(value)}% of peak ({number(gbps)} GB/s)"


def _bench(item: Evidence, chart_id: str) -> str:
    predicate = item.predicate or {}
    device = predicate.get("device") if isinstance(predicate.get("device"), Mapping) else {}
    gpu = clean(device.get("name", "an unnamed device"), 80)
    on_gpu = predicate.get("gpu_evidence") is True
    where = f"on {text(gpu)} (capability {text(device.get('capability', '?'), 10)})"
    if not on_gpu:
        return _signed(item) + f'<p class="note">a CPU check of the harness {where}: no GPU throughput</p>'
    results = [result for result in predicate.get("results", []) if isinstance(result, Mapping)]
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
        rows.append(f"<tr><th scope=\"row\">{text(size)}</th><td>{text(kernel_text)}</td><td>{text(eager_text)}</td></tr>")
        words.append(f"{size}: kernel {kernel_text}, PyTorch eager {eager_text}")
    chart = bar_chart(
        groups, chart_id=chart_id, title=f"Throughput as % of peak memory bandwidth on {gpu}", description="; ".join(words)
    ) if groups else ""
    more = f'<p class="note">and {len(results) - MAX_ROWS} more size(s)</p>' if len(results) > MAX_ROWS else ""
    peak = device.get("peak_gbps")
    table = (
        '<div class="scroll" tabindex="0" role="region" aria-label="throughput"><table class="figures">'
        "<thead><tr><th scope=\"col\">size</th><th scope=\"col\">kernel</th><th scope=\"col\">PyTorch eager</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    return _signed(item) + f'<p class="note">measured {where}, peak {text(number(peak))} GB/s</p>' + chart + table + more


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


def _figures(item: Evidence) -> str:
    """Any verified predicate, generically: its scalar figures as a table."""
    figures = _flatten(item.predicate)
    rows = "".join(f'<tr><th scope="row">{text(key, 80)}</th><td>{text(value)}</td></tr>' for key, value in figures[:MAX_ROWS])
    more = f'<p class="note">and {len(figures) - MAX_ROWS} more figure(s)</p>' if len(figures) > MAX_ROWS else ""
    table = f'<div class="scroll" tabindex="0" role="region" aria-label="figures"><table class="figures"><tbody>{rows}</tbody></table></div>'
    return _signed(item) + (table if rows else '<p class="none">no figures</p>') + more


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
