"""Static kernel evidence on a package page: what compiling a variant's kernel told, per compile target.

Pure. The predicate is the static-kernel evidence document (:mod:`skillpm.attest.static_kernel`,
``schemas/static-kernel-evidence.schema.json``), verified by the writer; its text is registry
text all the same (escaped, cut to length) and its numbers are drawn only when finite. Per
compile target: its kernels, one per GELU form (SASS instructions per element, registers, spill
bytes, the skill's bound); the GPUs its cubin runs on (budget per element and the
instruction-bound ceiling, "not known" where the evidence gives none, never 0); and bars of SASS
per element against the skill's bound and each GPU's budget, on one scale. Then how the figures
were made: the tools and their versions, the kernel sources' digest, the counting method.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from skillpm.pages.markup import clean, is_number, number, percent, text
from skillpm.pages.plots import Bar, Group, bar_chart, nice_scale
from skillpm.pages.tables import MAX_ROWS, html_row, more, object_at, objects_at, table

MAX_TARGETS = 12  # compile targets shown per attestation
CHART_KERNELS, CHART_GPUS = 4, 4  # kernels and GPUs a chart draws (the tables show up to MAX_ROWS)
NOT_KNOWN = '<span class="none">not known</span>'
GpuKey = tuple[str, str]  # a GPU's name and capability, as shown
TOOLS = ("nvcc", "cuobjdump", "nvdisasm")
READING = (
    "SASS per element: instructions the compiled row loop spends on one element. A GPU's budget: how many "
    "it can issue per element while its memory streams at full bandwidth; above it, the kernel is instruction-bound."
)


def _positive(value: Any) -> float | None:
    """``value`` when it is a finite number above 0 (a figure a bar can show), else ``None``."""
    return float(value) if is_number(value) and value > 0 else None


def _figure(value: Any, unit: str = "", *, zero: bool = False) -> str:
    """A figure as markup: the number (and unit), "not known" when absent, "invalid" unless a finite number
    above 0 (or 0 itself, when ``zero`` may be measured: no spilled byte)."""
    if value is None:
        return NOT_KNOWN
    valid = _positive(value) is not None or (zero and is_number(value) and value == 0)
    return f"{number(value)}{unit}" if valid else "invalid"


def _ceiling(value: Any) -> str:
    """The fraction of bandwidth reachable, as a percentage; "not known" when absent."""
    if value is None:
        return NOT_KNOWN
    return percent(value) if is_number(value) and 0 < value <= 1 else "invalid"


def _bound(kernel: Mapping[str, Any]) -> str:
    """The skill's bound on SASS per element for this kernel's target, and whether the kernel keeps it."""
    bound, sass = kernel.get("target_budget"), _positive(kernel.get("sass_per_element"))
    if bound is None:
        return '<span class="none">none set</span>'
    if _positive(bound) is None or sass is None:
        return _figure(bound)
    kept = '<span class="ok">kept</span>' if sass <= bound else '<span class="bad">exceeded</span>'
    return f"{number(bound)} {kept}"


def _gelu(kernel: Mapping[str, Any]) -> str:
    return clean(kernel.get("gelu", "?"), 12)


def _listed(kernel: Mapping[str, Any]) -> dict[GpuKey, Mapping[str, Any]]:
    """The GPUs ``kernel`` lists, by ``(name, capability)``; the first entry of a GPU counts."""
    found: dict[GpuKey, Mapping[str, Any]] = {}
    for gpu in objects_at(kernel, "gpus"):
        found.setdefault((clean(gpu.get("name", "?"), 60), clean(gpu.get("capability", "?"), 10)), gpu)
    return found


def _kernel_table(target: str, kernels: Sequence[Mapping[str, Any]]) -> str:
    gencodes = ", ".join(dict.fromkeys(clean(kernel.get("gencode", "?"), 80) for kernel in kernels))
    rows = [
        html_row(
            f"GELU {text(_gelu(kernel))}",
            [
                f'<strong>{_figure(kernel.get("sass_per_element"))}</strong>',
                _figure(kernel.get("registers")),
                _figure(kernel.get("spill_bytes"), " B", zero=True),
                _bound(kernel),
                _figure(kernel.get("loop_instructions")),
                _figure(kernel.get("elements_per_thread")),
            ],
        )
        for kernel in kernels
    ]
    headings = ("kernel form", "SASS per element", "registers", "spill bytes", "skill's bound (SASS/elem)",
                "loop instructions", "elements per thread")  # fmt: skip
    caption = f"<code>{text(target)}</code> kernels <span class=\"muted\">({text(gencodes)})</span>"
    return table(f"{target} kernels", headings, rows, caption=caption, kind="figures static-kernels")


def _gpu_table(target: str, kernels: Sequence[Mapping[str, Any]], listed: Sequence[Mapping[GpuKey, Any]]) -> str:
    gpus = list(dict.fromkeys(key for found in listed for key in found))
    if not gpus:
        return (
            f'<p class="note">No GPU the <code>{text(target)}</code> cubin runs on is listed with published figures: '
            'budget and ceiling <span class="none">not known</span>.</p>'
        )
    rows = []
    for key in gpus[:MAX_ROWS]:
        entries = [found.get(key, {}) for found in listed]
        first = next(entry for entry in entries if entry)
        budgets = ", ".join(dict.fromkeys(_figure(entry.get("budget_per_element")) for entry in entries if entry))
        cells = [
            text(key[1]),
            _figure(first.get("sms")),
            _figure(first.get("boost_mhz"), " MHz"),
            _figure(first.get("bandwidth_gbps"), " GB/s"),
            f"<strong>{budgets}</strong>",
            *(_ceiling(entry.get("ceiling")) if entry else NOT_KNOWN for entry in entries),
        ]
        rows.append(html_row(text(key[0]), cells))
    headings = ("GPU", "capability", "SMs", "boost clock", "memory bandwidth", "budget (SASS/elem)",
                *(f"ceiling, GELU {text(_gelu(kernel))}" for kernel in kernels))  # fmt: skip
    caption = f"The GPUs the <code>{text(target)}</code> cubin runs on"
    return table(f"{target} GPUs", headings, rows, caption=caption, kind="figures static-gpus") + more(len(gpus), "GPU(s)")


def _chart(target: str, kernels: Sequence[Mapping[str, Any]], listed: Sequence[Mapping[GpuKey, Any]], chart_id: str) -> str:
    """Bars of SASS per element against the skill's bound and each GPU's budget; none when nothing bounds it."""
    measured: list[tuple[str, list[tuple[str, str, float, str]]]] = []
    words = []
    for kernel, found in zip(kernels[:CHART_KERNELS], listed):
        sass = _positive(kernel.get("sass_per_element"))
        if sass is None:
            continue
        bars = [("SASS/elem", "sass", sass, f"{number(sass)} SASS/elem")]
        said = [f"{number(sass)} SASS per element"]
        bound = _positive(kernel.get("target_budget"))
        if bound is not None:
            bars.append(("skill's bound", "bound", bound, number(bound)))
            said.append(f"skill's bound {number(bound)}")
        for key, gpu in list(found.items())[:CHART_GPUS]:
            budget = _positive(gpu.get("budget_per_element"))
            if budget is None:
                said.append(f"{key[0]} budget not known")
                continue
            ceiling = gpu.get("ceiling")
            shown = f"{number(budget)}, ceiling {_ceiling(ceiling)}" if is_number(ceiling) else number(budget)
            bars.append((clean(key[0], 14), "budget", budget, shown))
            said.append(f"{key[0]} budget {number(budget)} (ceiling {_ceiling(ceiling)})")
        if len(bars) > 1:
            measured.append((f"GELU {_gelu(kernel)}", bars))
            words.append(f"GELU {_gelu(kernel)}: " + ", ".join(said))
    if not measured:
        return ""
    scale = nice_scale(max(value for _, bars in measured for _, _, value, _ in bars))
    if not math.isfinite(scale):
        return ""
    groups = [
        Group(label, tuple(Bar(name, value / scale, None, shown, kind) for name, kind, value, shown in bars))
        for label, bars in measured
    ]
    title = f"{target}: SASS instructions per element against the skill's bound and each GPU's budget"
    return bar_chart(groups, chart_id=chart_id, title=title, description="; ".join(words), scale=scale)


def _target(target: str, kernels: Sequence[Mapping[str, Any]], chart_id: str) -> str:
    listed = [_listed(kernel) for kernel in kernels]
    return (
        f'<div class="static-target">{_kernel_table(target, kernels)}{_chart(target, kernels, listed, chart_id)}'
        f"{_gpu_table(target, kernels, listed)}</div>"
    )


def _provenance(predicate: Mapping[str, Any]) -> str:
    """What the figures are of and what made them: kernel sources, tools, method."""
    kernel, tools, method = (object_at(predicate, key) for key in ("kernel", "tools", "method"))
    sources = object_at(kernel, "sources")
    versions = ", ".join(
        f"{tool} {text(tools[tool], 40)}" if tools.get(tool) is not None else f"{tool} {NOT_KNOWN}" for tool in TOOLS
    )
    shape = (
        f"{text(method.get('dtype', '?'), 12)}, hidden size {_figure(method.get('hidden'))}, "
        f"{_figure(method.get('bytes_per_element'))} bytes per element moved, "
        f"counted by <code>{text(method.get('tool', '?'), 80)}</code>"
    )
    return (
        f'<dl class="static-provenance"><dt>covers</dt><dd>{text(predicate.get("covers", "?"), 400)}</dd>'
        f'<dt>kernel sources</dt><dd><code>{text(kernel.get("project", "?"), 120)}</code>, {len(sources)} file(s), '
        f'digest <code class="sha">{text(kernel.get("source_digest", "?"), 64)}</code></dd>'
        f"<dt>tools</dt><dd>{versions}</dd><dt>method</dt><dd>{shape}</dd></dl>"
    )


def _details(predicate: Mapping[str, Any], kernels: Sequence[Mapping[str, Any]]) -> str:
    """How the figures were counted: the kernels, each source file's digest, where the GPU figures come from."""
    method, sources = object_at(predicate, "method"), object_at(object_at(predicate, "kernel"), "sources")
    files = [f"<li><code>{text(path, 160)}</code> <code class=\"sha\">{text(digest, 64)}</code></li>"
             for path, digest in list(sources.items())[:MAX_ROWS]]  # fmt: skip
    counted = dict.fromkeys((_gelu(kernel), clean(kernel.get("kernel", "?"), 160)) for kernel in kernels)
    names = "".join(f"<li>GELU {text(gelu)}: <code>{text(name)}</code></li>" for gelu, name in list(counted)[:MAX_ROWS])
    cited = dict.fromkeys(
        clean(gpu.get("source", "?"), 300) for kernel in kernels for gpu in objects_at(kernel, "gpus")
    )
    origins = "".join(f"<li>{text(source)}</li>" for source in list(cited)[:MAX_ROWS])
    return (
        "<details><summary>How these figures were counted</summary>"
        f"<p>{text(method.get('counting', '?'), 600)}.</p><p>Budget: {text(method.get('budget', '?'), 600)}.</p>"
        f"<p>Kernels counted:</p><ul>{names}</ul>"
        f"<p>Sources compiled:</p><ul>{''.join(files)}</ul>{more(len(sources), 'file(s)')}"
        f"{f'<p>GPU figures from:</p><ul>{origins}</ul>' if origins else ''}</details>"
    )


def static_kernel(predicate: Mapping[str, Any], chart_id: str) -> str:
    """The static-kernel evidence of one attestation: provenance, then a table (and bars) per compile target."""
    kernels = objects_at(predicate, "kernels")
    if not kernels:
        return '<p class="none">no kernel was counted</p>'
    targets = list(dict.fromkeys(clean(kernel.get("target", "?"), 20) for kernel in kernels))
    parts = [_provenance(predicate), f'<p class="note">{READING}</p>']
    for index, target in enumerate(targets[:MAX_TARGETS]):
        mine = [kernel for kernel in kernels if clean(kernel.get("target", "?"), 20) == target]
        parts.append(_target(target, mine[:MAX_ROWS], f"{chart_id}-{index}") + more(len(mine), "kernel(s)"))
    if len(targets) > MAX_TARGETS:
        parts.append(f'<p class="note">and {len(targets) - MAX_TARGETS} more compile target(s)</p>')
    parts.append(_details(predicate, kernels))
    return "".join(parts)
