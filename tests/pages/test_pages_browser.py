"""The pages in a real browser: headless Chromium (Debian's chromium and chromium-driver) through selenium.

Each test loads pages from a real ``skillpm registry serve`` (or ``registry open``) on 127.0.0.1
and checks what a person sees; every page is also saved as a screenshot, in the light and the
dark theme, under the test's temporary folder. Without Chromium, its driver or selenium the
tests skip and say why (``.ci/install-test-deps`` installs them). The embedded registry's
kernel-builder-cuda page and its static-kernel evidence: test_pages_kernel_browser.py.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from skillpm.evaluation.stats import wilson_interval
from skillpm.pages.plots import BAR_WIDTH, CHART_WIDTH
from skillpm.targets import Capability, best_target

from pages.conftest import HOSTILE, NAME, Browser, serving

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(pages_registry: dict[str, Any]) -> Iterator[str]:
    with serving("serve", str(pages_registry["root"]), "--port", "0") as url:
        yield url


def test_every_page_loads_without_console_errors_in_both_themes(browser: Browser, site: str) -> None:
    for path, shot in (("/", "home"), (f"/pages/{NAME}.html", NAME), (f"/pages/{HOSTILE}.html", HOSTILE),
                       ("/pages/doc-writer.html", "doc-writer")):  # fmt: skip
        assert browser.load(site + path, shot=shot) == []
    assert sorted(p.name for p in browser.shots.iterdir()) == sorted(
        f"{shot}-{theme}.png" for shot in ("home", NAME, HOSTILE, "doc-writer") for theme in ("light", "dark")
    )


def test_the_policy_blocks_an_inline_script_and_the_console_shows_it(browser: Browser, site: str, pages_registry: dict[str, Any]) -> None:
    """The console check can fail: a page with the pages' policy and an inline script logs the refusal."""
    from selenium.common.exceptions import NoAlertPresentException

    from skillpm.pages.assets import document

    page = document(title="t", root="../", body="<main id=main><script>window.ran = 1; alert(1)</script>x</main>")
    (pages_registry["root"] / "pages" / "csp-check.html").write_bytes(page)
    errors = browser.load(f"{site}/pages/csp-check.html", errors=True)
    assert any("Content Security Policy" in entry["message"] for entry in errors), errors
    with pytest.raises(NoAlertPresentException):
        browser.driver.switch_to.alert  # noqa: B018
    assert browser.driver.execute_script("return window.ran === undefined")


def test_the_dark_theme_is_dark_and_the_light_one_light(browser: Browser, site: str) -> None:
    browser.load(f"{site}/pages/{NAME}.html")
    colour = "return getComputedStyle(document.documentElement).backgroundColor"
    assert browser.driver.execute_script(colour) == "rgb(255, 255, 255)"
    browser.theme("dark")
    assert browser.driver.execute_script(colour) == "rgb(13, 17, 23)"
    text = "return getComputedStyle(document.body).color"
    assert browser.driver.execute_script(text) == "rgb(230, 237, 243)"
    browser.theme("light")


def test_the_matrix_shows_what_install_picks_from_the_index(browser: Browser, site: str, pages_registry: dict[str, Any]) -> None:
    import json

    browser.load(f"{site}/pages/{NAME}.html")
    document = json.loads(next((pages_registry["root"] / "index").rglob(f"{NAME}.json")).read_text())
    targets = [variant["target"] for variant in document["versions"][-1]["variants"]]
    rows = browser.css("#matrix-table tbody tr")
    assert len(rows) > 10
    for row in rows:
        capability, gpus, target, _ = (cell.text for cell in row.find_elements("css selector", "th, td"))
        cap = None if capability == "no NVIDIA GPU" else Capability(*map(int, capability.split(".")))
        assert target == best_target(targets, cap), capability
        if capability == "9.0":
            assert "H100" in gpus and target == "sm_90a"
    commands = [element.text for element in browser.css("pre code")]
    assert f"skillpm install {NAME}==1.0.0 --arch 9.0 --registry {site}/" in commands


def test_svg_bars_are_as_long_as_the_evidence_says(browser: Browser, site: str, pages_registry: dict[str, Any]) -> None:
    browser.load(f"{site}/pages/{NAME}.html")
    (chart,) = [svg for svg in browser.css("svg.chart") if "Pass rate" in svg.find_element("css selector", "title").get_attribute("textContent")]
    scale = chart.rect["width"] / CHART_WIDTH  # CSS pixels per SVG unit as drawn
    widths = [bar.rect["width"] / scale / BAR_WIDTH for bar in chart.find_elements("css selector", "rect.bar")]
    expected = []
    for model in pages_registry["eval"]["models"]:
        for arm in ("with_skill", "baseline"):
            expected.append(model[arm]["passed"] / model[arm]["total"])
    assert widths == pytest.approx(expected, abs=0.01)
    description = chart.find_element("css selector", "desc").get_attribute("textContent")
    low, high = wilson_interval(18, 20)
    assert f"{low * 100:.1f}%" in description and f"{high * 100:.1f}%" in description
    kernels = browser.css("svg.chart rect.bar.kernel")
    bench = pages_registry["bench"]["results"]
    bench_scale = kernels[0].find_element("xpath", "ancestor::*[name()='svg']").rect["width"] / CHART_WIDTH
    assert [k.rect["width"] / bench_scale / BAR_WIDTH for k in kernels] == pytest.approx(
        [result["kernel"]["pct_of_peak"] / 100 for result in bench], abs=0.01
    )
    assert "NVIDIA H100 80GB HBM3" in browser.driver.find_element("css selector", "body").text


def test_the_search_filter_narrows_the_listing(browser: Browser, site: str) -> None:
    browser.load(f"{site}/")
    field = browser.driver.find_element("id", "filter")
    assert field.is_displayed()

    def shown() -> list[str]:
        return [row.find_element("css selector", "td a").text for row in browser.css("#packages tbody tr") if row.is_displayed()]

    assert shown() == ["doc-writer", HOSTILE, NAME]
    field.send_keys("sm_90a")
    assert shown() == [NAME]
    assert browser.driver.find_element("id", "filter-status").text == "1 of 3 packages"
    field.clear()
    field.send_keys("DOCS writer")
    assert shown() == ["doc-writer"]
    field.clear()
    field.send_keys("no-such-thing")
    assert shown() == [] and browser.driver.find_element("id", "filter-status").text == "0 of 3 packages"


def test_the_listing_works_without_javascript(pages_registry: dict[str, Any], site: str, browser: Browser) -> None:
    """With scripts off, every package is listed and the (useless) filter stays hidden."""
    browser.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        browser.load(f"{site}/")
        rows = [row for row in browser.css("#packages tbody tr") if row.is_displayed()]
        assert len(rows) == 3
        assert not browser.driver.find_element("id", "filter").is_displayed()
    finally:
        browser.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_a_script_in_a_description_is_shown_as_text_and_never_runs(browser: Browser, site: str) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    for path in ("/", f"/pages/{HOSTILE}.html"):
        browser.load(site + path)
        with pytest.raises(NoAlertPresentException):
            browser.driver.switch_to.alert  # noqa: B018
        body = browser.driver.find_element("css selector", "body")
        assert body.is_displayed()  # the description's </style><style>body{display:none} did nothing
        assert '<script>alert("pwned")</script>' in body.text
        assert not browser.css("main img") and not browser.css("main a[href^='javascript']")
        assert browser.driver.execute_script("return window.pwned === undefined")


def test_keyboard_reaches_the_filter_and_the_packages(browser: Browser, site: str) -> None:
    from selenium.webdriver.common.keys import Keys

    browser.load(f"{site}/")
    body = browser.driver.find_element("css selector", "body")
    body.send_keys(Keys.TAB)
    active = browser.driver.switch_to.active_element
    assert active.text == "Skip to content" and active.is_displayed()
    reached = []
    for _ in range(12):
        browser.driver.switch_to.active_element.send_keys(Keys.TAB)
        active = browser.driver.switch_to.active_element
        reached.append(active.get_attribute("id") or active.text)
        if active.text == NAME:
            break
    assert "filter" in reached and reached[-1] == NAME, reached
    browser.driver.switch_to.active_element.send_keys(Keys.ENTER)
    assert browser.driver.current_url == f"{site}/pages/{NAME}.html"


def test_a_phone_sized_window_scrolls_only_down(browser: Browser, site: str) -> None:
    browser.driver.set_window_size(390, 844)
    try:
        for path, shot in (("/", "home-phone"), (f"/pages/{NAME}.html", f"{NAME}-phone")):
            browser.load(site + path, shot=shot)
            wide = browser.driver.execute_script("return document.documentElement.scrollWidth")
            assert wide <= browser.driver.execute_script("return window.innerWidth"), path
    finally:
        browser.driver.set_window_size(1280, 1000)


def test_the_embedded_kernel_builder_page_via_registry_open(browser: Browser) -> None:
    with serving("open") as url:
        browser.load(f"{url}/pages/kernel-builder-cuda.html", shot="kernel-builder-cuda")
        variants = browser.css("section.variant")
        assert len(variants) >= 4
        for variant in variants:
            assert "GPU throughput\nnot measured" in variant.text
        assert "skillpm install kernel-builder-cuda" in browser.driver.find_element("css selector", "main").text
        assert "--registry" not in browser.driver.find_element("css selector", "main").text
