"""The embedded registry's kernel-builder-cuda page in a real browser, against the evidence it ships.

The page is loaded from a real ``skillpm registry serve --embedded`` on 127.0.0.1 in headless
Chromium. Every figure a person reads in the static-kernel tables and bars is compared with the
statement signed into the variant's bundle in registry/ (decoded here from the bundle, not
copied into the test), and pass rate and GPU throughput must say "not measured". Skips, saying
why, without Chromium, chromedriver or selenium.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Iterator

import pytest

from skillpm.pages.plots import BAR_WIDTH, CHART_WIDTH
from skillpm.registry.factory import embedded_registry_path

from pages.conftest import Browser, serving

pytestmark = pytest.mark.browser

NAME = "kernel-builder-cuda"
TARGETS = {"generic", "sm_80", "sm_90", "sm_100f", "sm_120f"}


def shipped() -> tuple[list[str], dict[str, dict[str, Any]], dict[str, str]]:
    """The latest version's targets in index order, each target's signed predicate, and its signer's key hint."""
    root = embedded_registry_path()
    document = json.loads(next((root / "index").rglob(f"{NAME}.json")).read_text())
    variants = document["versions"][-1]["variants"]
    predicates, signers = {}, {}
    for variant in variants:
        (attestation,) = variant["attestations"]
        bundle = json.loads((root / attestation["path"]).read_text())
        statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
        assert statement["predicateType"] == "https://skillpm.dev/attestations/static-kernel/v1"
        predicates[variant["target"]] = statement["predicate"]
        signers[variant["target"]] = bundle["verificationMaterial"]["publicKey"]["hint"]
    return [variant["target"] for variant in variants], predicates, signers


def figure(shown: str) -> float | None:
    """A figure as the page shows it (``22.06``, ``0 B``, ``1980 MHz``, ``100%``) as a number; ``None`` for "not known"."""
    if shown == "not known":
        return None
    value = shown.split()[0]
    return float(value[:-1]) / 100 if value.endswith("%") else float(value)


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Browser]:
    """The page, loaded once from ``registry serve --embedded`` (no console error; a screenshot per theme)."""
    with serving("serve", "--embedded", "--port", "0") as url:
        browser.load(f"{url}/pages/{NAME}.html", shot=f"{NAME}-static")
        yield browser


def sections(page: Browser) -> dict[str, Any]:
    return {section.find_element("css selector", "h3").text: section for section in page.css("section.variant")}


def test_five_variants_in_the_matrix_and_the_variant_list(page: Browser) -> None:
    targets, _, _ = shipped()
    assert set(targets) == TARGETS
    assert list(sections(page)) == targets
    chosen = {row.find_elements("css selector", "td")[1].text for row in page.css("#matrix-table tbody tr")}
    assert chosen == TARGETS  # every variant is the pick of some GPU (or of a machine without one)


def test_pass_rate_and_gpu_throughput_are_not_measured_and_static_evidence_verified(page: Browser) -> None:
    _, _, signers = shipped()
    for target, section in sections(page).items():
        text = section.text
        assert "Agent pass rate, with and without the skill\nnot measured" in text, target
        assert "GPU throughput\nnot measured" in text, target
        assert "Static kernel figures\nnot measured" not in text
        assert f"signed by key {signers[target]}: verified when this page was built" in text, target


def test_the_static_tables_show_the_signed_figures(page: Browser) -> None:
    _, predicates, _ = shipped()
    for target, section in sections(page).items():
        predicate = predicates[target]
        provenance = section.find_element("css selector", "dl.static-provenance").text
        tools = ", ".join(f"{tool} {predicate['tools'][tool]}" for tool in ("nvcc", "cuobjdump", "nvdisasm"))
        assert tools in provenance and predicate["kernel"]["source_digest"] in provenance
        tables = {table.find_element("css selector", "caption").text.split()[0]: table
                  for table in section.find_elements("css selector", "table.static-kernels")}  # fmt: skip
        compiled = list(dict.fromkeys(kernel["target"] for kernel in predicate["kernels"]))
        assert list(tables) == compiled, target
        gpu_tables = {table.find_element("css selector", "caption").text.split()[3]: table
                      for table in section.find_elements("css selector", "table.static-gpus")}  # fmt: skip
        for cubin in compiled:
            kernels = [kernel for kernel in predicate["kernels"] if kernel["target"] == cubin]
            rows = [[cell.text for cell in row.find_elements("css selector", "th, td")]
                    for row in tables[cubin].find_elements("css selector", "tbody tr")]  # fmt: skip
            assert [row[0] for row in rows] == [f"GELU {kernel['gelu']}" for kernel in kernels]
            for row, kernel in zip(rows, kernels):
                assert figure(row[1]) == pytest.approx(kernel["sass_per_element"])
                assert (figure(row[2]), figure(row[3])) == (kernel["registers"], kernel["spill_bytes"])
                bound = kernel.get("target_budget")
                kept = "kept" if bound is not None and kernel["sass_per_element"] <= bound else "exceeded"
                assert row[4] == ("none set" if bound is None else f"{bound:g} {kept}"), (cubin, row)
            gpus = list(dict.fromkeys(gpu["name"] for kernel in kernels for gpu in kernel["gpus"]))
            if not gpus:
                assert cubin not in gpu_tables and f"No GPU the {cubin} cubin runs on is listed" in section.text
                continue
            listed = [[cell.text for cell in row.find_elements("css selector", "th, td")]
                      for row in gpu_tables[cubin].find_elements("css selector", "tbody tr")]  # fmt: skip
            assert [row[0] for row in listed] == gpus
            for row in listed:
                entries = [next(gpu for gpu in kernel["gpus"] if gpu["name"] == row[0]) for kernel in kernels]
                budget = {entry.get("budget_per_element") for entry in entries}
                assert [figure(row[5])] == [pytest.approx(value) if value else None for value in budget]
                ceilings = [entry.get("ceiling") for entry in entries]
                assert [figure(cell) for cell in row[6:]] == [c if c is None else pytest.approx(c) for c in ceilings]


def test_bars_are_as_long_as_the_signed_figures(page: Browser) -> None:
    _, predicates, _ = shipped()
    charted = 0
    for target, section in sections(page).items():
        for chart in section.find_elements("css selector", "svg.chart"):
            cubin = chart.find_element("css selector", "title").get_attribute("textContent").split(":")[0]
            kernels = [kernel for kernel in predicates[target]["kernels"] if kernel["target"] == cubin]
            expected = []
            for kernel in kernels:
                expected.append(kernel["sass_per_element"])
                expected += [kernel["target_budget"]] if "target_budget" in kernel else []
                expected += [gpu["budget_per_element"] for gpu in kernel["gpus"] if "budget_per_element" in gpu]
            scale = float(chart.find_elements("css selector", "text.tick")[-1].get_attribute("textContent"))
            assert scale >= max(expected)
            units = chart.rect["width"] / CHART_WIDTH  # CSS pixels per SVG unit, as drawn
            bars = chart.find_elements("css selector", "rect.bar")
            drawn = [bar.rect["width"] / units / BAR_WIDTH * scale for bar in bars]
            assert drawn == pytest.approx(expected, abs=scale * 0.005), (target, cubin)
            charted += 1
    assert charted >= 5  # sm_80, sm_90, sm_100f in their own variants and in generic's


def test_the_page_fits_a_phone_without_sideways_scrolling(page: Browser) -> None:
    page.driver.set_window_size(390, 844)
    try:
        page.driver.refresh()
        width = page.driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= page.driver.execute_script("return window.innerWidth")
    finally:
        page.driver.set_window_size(1280, 1000)
        page.driver.refresh()
