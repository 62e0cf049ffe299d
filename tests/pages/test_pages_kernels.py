"""The static-kernel evidence view: tables per compile target, bars on one scale, "not known", hostile text."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from skillpm.attest.statement import STATIC_KERNEL_EVIDENCE, STATIC_KERNEL_PREDICATE
from skillpm.pages.evidence import Evidence, section
from skillpm.pages.package import package_page
from skillpm.pages.plots import BAR_WIDTH

from pages.test_pages_render import ALLOWED_TAGS, HOSTILE, document, parse

DIGEST = "48ea" + "0" * 60


def gpu(name: str, capability: str, *, budget: float | None = None, ceiling: float | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"name": name, "capability": capability, "sms": 132, "bandwidth_gbps": 3350.0,
                             "source": f"{name} datasheet"}  # fmt: skip
    if budget is not None:
        found.update(boost_mhz=1980, budget_per_element=budget, ceiling=ceiling)
    return found


def kernel(target: str, gelu: str, sass: float, gpus: list[dict[str, Any]], bound: float | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "target": target, "gencode": f"arch=compute_{target[3:]},code={target}", "gelu": gelu,
        "kernel": f"layernorm_gelu_kernel<__nv_bfloat16, 32, Gelu({gelu})>", "elements_per_thread": 32,
        "loop_instructions": 700, "sass_per_element": sass, "registers": 128, "spill_bytes": 0, "gpus": gpus,
    }  # fmt: skip
    if bound is not None:
        found["target_budget"] = bound
    return found


def predicate() -> dict[str, Any]:
    """sm_90: two GPUs with budgets, the skill's bound; sm_100: a GPU without a clock; sm_86: neither."""
    hopper = [gpu("H100 SXM", "9.0", budget=39.95, ceiling=1.0), gpu("H200", "9.0", budget=17.5, ceiling=0.795)]
    return {
        "schema": STATIC_KERNEL_EVIDENCE,
        "skill": {"name": "k", "version": "1", "target": "generic", "artifact_sha256": "ab" * 32},
        "kernel": {"project": "assets/ln", "source_digest": DIGEST, "sources": {"ln/ln.cu": "cd" * 32}},
        "tools": {"nvcc": "13.0.88", "cuobjdump": "13.5.37", "nvdisasm": "13.5.37"},
        "method": {"tool": "scripts/sass_budget.py", "hidden": 8192, "dtype": "bf16", "bytes_per_element": 4,
                   "counting": "loop instructions per element", "budget": "SMs x 4 x clock x 32 / bytes"},
        "covers": "every capability",
        "kernels": [
            kernel("sm_90", "none", 22.06, hopper, bound=28),
            kernel("sm_90", "tanh", 19.0, hopper, bound=28),
            kernel("sm_100", "none", 13.78, [gpu("B200", "10.0")], bound=14),
            kernel("sm_86", "none", 21.72, []),
        ],
    }  # fmt: skip


def static(data: dict[str, Any], signer: str = "key 8e32") -> Evidence:
    return Evidence(STATIC_KERNEL_PREDICATE, signer, True, None, data)


def tables(html: str, kind: str) -> dict[str, list[list[str]]]:
    """Each table of ``kind`` by its caption's text: its body rows as the text of their cells."""
    def plain(markup: str) -> str:
        return re.sub("<[^>]+>", "", markup)

    found = {}
    for caption, body in re.findall(rf'<table class="figures {kind}"><caption>(.*?)</caption>.*?<tbody>(.*?)</tbody>', html):
        rows = re.findall(r"<tr>(.*?)</tr>", body)
        found[plain(caption)] = [[plain(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)] for row in rows]
    return found


def test_each_compile_target_gets_a_table_of_its_kernels_and_of_its_gpus() -> None:
    html = section([static(predicate())], chart_id="c")
    kernels = tables(html, "static-kernels")
    assert list(kernels) == ["sm_90 kernels (arch=compute_90,code=sm_90)", "sm_100 kernels (arch=compute_100,code=sm_100)",
                             "sm_86 kernels (arch=compute_86,code=sm_86)"]  # fmt: skip
    assert kernels["sm_90 kernels (arch=compute_90,code=sm_90)"] == [
        ["GELU none", "22.06", "128", "0 B", "28 kept", "700", "32"],
        ["GELU tanh", "19", "128", "0 B", "28 kept", "700", "32"],
    ]
    assert kernels["sm_86 kernels (arch=compute_86,code=sm_86)"][0][4] == "none set"
    gpus = tables(html, "static-gpus")
    assert gpus["The GPUs the sm_90 cubin runs on"] == [
        ["H100 SXM", "9.0", "132", "1980 MHz", "3350 GB/s", "39.95", "100%", "100%"],
        ["H200", "9.0", "132", "1980 MHz", "3350 GB/s", "17.5", "79.5%", "79.5%"],
    ]
    # a GPU without a published clock: its clock, budget and ceiling are not known, never 0
    unknown = ["B200", "10.0", "132", "not known", "3350 GB/s", "not known", "not known"]
    assert gpus["The GPUs the sm_100 cubin runs on"] == [unknown]
    assert "No GPU the <code>sm_86</code> cubin runs on is listed" in html
    assert "nvcc 13.0.88, cuobjdump 13.5.37, nvdisasm 13.5.37" in html and f'<code class="sha">{DIGEST}</code>' in html
    assert "signed by key 8e32: <span class=\"ok\">verified</span>" in html
    assert html.count("not measured") == 2  # pass rate and GPU throughput: static figures are no throughput


def test_a_kernel_over_the_skills_bound_says_so() -> None:
    data = predicate()
    data["kernels"][0]["sass_per_element"] = 29.5
    assert "28 <span class=\"bad\">exceeded</span>" in section([static(data)], chart_id="c")


def test_bars_put_sass_per_element_beside_the_bound_and_each_budget_on_one_scale() -> None:
    html = section([static(predicate())], chart_id="c")
    charts = re.findall(r"<svg.*?</svg>", html)
    assert len(charts) == 2  # sm_90 and sm_100; sm_86 has nothing to measure against
    sm90, sm100 = charts
    scale = float(re.findall(r'<text class="tick"[^>]*>([^<]*)</text>', sm90)[-1])
    assert scale == 50  # the largest figure, 39.95, on a round scale
    bars = re.findall(r'<text class="label"[^>]*>([^<]*)</text><rect class="bar (\w+)"[^>]*width="([\d.]+)"', sm90)
    assert [(label, kind) for label, kind, _ in bars] == [
        ("SASS/elem", "sass"), ("skill&#x27;s bound", "bound"), ("H100 SXM", "budget"), ("H200", "budget")
    ] * 2
    assert [float(width) / BAR_WIDTH * scale for _, _, width in bars] == pytest.approx(
        [22.06, 28, 39.95, 17.5, 19.0, 28, 39.95, 17.5], abs=0.01
    )
    assert "H200 budget 17.5 (ceiling 79.5%)" in sm90  # the desc says the figures in words
    assert re.findall(r'class="bar (\w+)"', sm100) == ["sass", "bound"]  # no bar for B200's unknown budget
    assert "B200 budget not known" in sm100


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0, 0, "12", True, 10**400, [1], None])
def test_bad_numbers_draw_no_bar_and_never_show_as_a_figure(bad: object) -> None:
    data = predicate()
    for entry in data["kernels"]:
        entry["sass_per_element"] = bad
        entry["registers"] = bad
        for listed in entry["gpus"]:
            listed.update(budget_per_element=bad, ceiling=bad, boost_mhz=bad)
    html = section([static(data)], chart_id="c")
    assert "<svg" not in html and "<rect" not in html
    assert not re.search(r"\bnan\b|\binf\b|1{30}", html.lower())
    shown = "not known" if bad is None else "invalid"
    assert tables(html, "static-gpus")["The GPUs the sm_90 cubin runs on"][0][5:] == [shown] * 3


@pytest.mark.parametrize("shape", [5, "kernels", [1, "x", None], [{"gpus": "H100"}], [{"gpus": {"name": "x"}}]])
def test_evidence_of_the_wrong_shape_renders_without_failing(shape: object) -> None:
    data = predicate()
    data["kernels"] = shape
    for broken in ({**data, "tools": "x", "method": [], "kernel": None}, data):
        html = section([static(broken)], chart_id="c")
        assert "Static kernel figures" in html and "<svg" not in html


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_in_static_evidence_stays_text(hostile: str) -> None:
    data = predicate()
    data["covers"] = data["kernel"]["project"] = data["kernel"]["source_digest"] = hostile
    data["kernel"]["sources"] = {hostile: hostile}
    data["tools"] = {tool: hostile for tool in data["tools"]}
    data["method"].update(tool=hostile, dtype=hostile, counting=hostile, budget=hostile)
    for entry in data["kernels"]:
        entry.update(target=hostile, gencode=hostile, gelu=hostile, kernel=hostile)
        for listed in entry["gpus"]:
            listed.update(name=hostile, capability=hostile, source=hostile)
    page = package_page(document(), registry_name="r", embedded=False, evidence={"sm_90a": [static(data, hostile)]})
    parsed = parse(page)
    assert {tag for tag, _ in parsed.tags} <= ALLOWED_TAGS | {"details", "summary"}
    assert len([tag for tag, _ in parsed.tags if tag == "script"]) == 1  # the page's own script, nothing more
    assert not any(name.startswith("on") or name == "style" for _, attrs in parsed.tags for name in attrs)
    assert not any(":" in (attrs.get("href") or "").removeprefix("data:,") for _, attrs in parsed.tags)
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", page.decode())
    assert len(page) < 100_000
    if hostile.startswith("<script>"):
        assert "<script>alert(1)</script>" in "".join(parsed.text)


def test_the_static_view_is_deterministic() -> None:
    evidence = {"sm_90a": [static(predicate())]}
    first = package_page(document(), registry_name="r", embedded=False, evidence=evidence)
    assert first == package_page(document(), registry_name="r", embedded=False, evidence=copy.deepcopy(evidence))


def test_many_targets_kernels_and_gpus_are_cut_with_a_note() -> None:
    data = predicate()
    many = [gpu(f"GPU {n}", "9.0", budget=30.0, ceiling=1.0) for n in range(40)]
    data["kernels"] = [kernel(f"sm_{90 + n}", gelu, 20.0, many) for n in range(20) for gelu in ("none", "tanh")]
    data["kernels"] += [kernel("sm_90", f"form{n}", 20.0, []) for n in range(30)]
    html = section([static(data)], chart_id="c")
    assert "and 8 more compile target(s)" in html and "and 24 more GPU(s)" in html
    assert "and 16 more kernel(s)" in html
    assert len(html) < 400_000
