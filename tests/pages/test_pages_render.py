"""The pure page renderers: escaping, determinism, SVG geometry from numbers, "not measured", size."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from skillpm.attest.statement import BENCH_PREDICATE, EVAL_PREDICATE
from skillpm.evaluation.stats import wilson_interval
from skillpm.index.model import Attestation, PackageDocument, SearchEntry, Variant, VersionEntry
from skillpm.pages import markup, matrix
from skillpm.pages.evidence import Evidence, section
from skillpm.pages.home import home_page
from skillpm.pages.package import package_page
from skillpm.pages.plots import BAR_LEFT, BAR_WIDTH

SHA = "ab" * 32
HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "</style><style>*{display:none}</style>",
    "javascript:alert(1)",
    "&lt;script&gt; already escaped",
    "\u202eevil\u202c and \u2066isolate\u2069",
    "bell\x07 nul\x00 esc\x1b[2J c1\x9b",
    "lone \ud800 surrogate",
    "x" * 5000,
]


class Collector(HTMLParser):
    """The tags, attributes and text of a page, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: bytes) -> Collector:
    collector = Collector()
    collector.feed(page.decode("utf-8"))
    return collector


def variant(target: str, *, attested: int = 0, yanked: bool = False) -> Variant:
    attestations = tuple(Attestation(f"attestations/x/{target}-{n}.json", SHA, EVAL_PREDICATE) for n in range(attested))
    return Variant(target, SHA, 1234, f"artifacts/pkg/1.0.0/pkg-1.0.0-{target}.tar.gz", yanked, attestations)


def document(description: str = "A skill.", targets: tuple[str, ...] = ("generic", "sm_80", "sm_90a")) -> PackageDocument:
    entry = VersionEntry("1.0.0", description, tuple(variant(t) for t in targets), "MIT", ("cuda",), ("claude",))
    return PackageDocument("pkg", (entry,))


def eval_evidence(models: list[tuple[str, int, int, int, int]]) -> Evidence:
    predicate = {
        "models": [
            {"model": name, "with_skill": {"passed": wp, "total": wt}, "baseline": {"passed": bp, "total": bt}}
            for name, wp, wt, bp, bt in models
        ],
        "trials": 5,
        "test_set": {"count": 4},
    }
    return Evidence(EVAL_PREDICATE, "key abc", True, None, predicate)


def bench_evidence(pcts: list[float], *, gpu: bool = True) -> Evidence:
    results = [
        {"rows": 1024 * (n + 1), "hidden": 4096, "dtype": "bf16",
         "kernel": {"pct_of_peak": pct, "gbps": 1000.0}, "eager": {"pct_of_peak": 10.0, "gbps": 100.0}}
        for n, pct in enumerate(pcts)
    ]  # fmt: skip
    predicate = {"device": {"name": "NVIDIA H100 80GB HBM3", "capability": "9.0", "peak_gbps": 3350.0},
                 "results": results, "gpu_evidence": gpu}  # fmt: skip
    return Evidence(BENCH_PREDICATE, "key abc", True, None, predicate)


def rects(html: str) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs in parse(html.encode()).tags if tag == "rect"]


# -- escaping ---------------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_is_text_everywhere_it_lands(hostile: str) -> None:
    """Description, keywords, model names and evidence figures: no tag, attribute or script comes of them."""
    entry = VersionEntry("1.0.0", hostile, (variant("generic"), variant("sm_90a")), hostile, (hostile,), (hostile,))
    page = package_page(
        PackageDocument("pkg", (entry,)),
        registry_name=hostile,
        embedded=False,
        evidence={"sm_90a": [eval_evidence([(hostile, 1, 2, 0, 2)]), Evidence(hostile, hostile, False, hostile)]},
    )
    home = home_page(hostile, [SearchEntry("pkg", "1.0.0", hostile, (hostile,), ("generic", hostile))], embedded=False)
    for html in (page, home):
        parsed = parse(html)
        assert {tag for tag, _ in parsed.tags} <= ALLOWED_TAGS
        assert [attrs for tag, attrs in parsed.tags if tag == "script"] == [{"src": attrs["src"], "defer": None}
                                                                            for tag, attrs in parsed.tags if tag == "script"]
        assert len([tag for tag, _ in parsed.tags if tag == "script"]) == 1
        assert not any(name.startswith("on") or name == "style" for _, attrs in parsed.tags for name in attrs)
        links = [attrs.get(name) or "" for _, attrs in parsed.tags for name in ("href", "src", "action", "xlink:href")]
        assert not any(":" in link and not link.startswith("data:,") for link in links), links
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", html.decode())
        shown = "".join(parsed.text)
        if hostile.startswith("<script>"):
            assert "<script>alert(1)</script>" in shown  # rendered as text a person reads


ALLOWED_TAGS = {
    "html", "head", "meta", "title", "link", "script", "body", "a", "header", "nav", "h1", "h2", "h3", "h4", "p",
    "main", "pre", "code", "div", "table", "caption", "thead", "tbody", "tr", "th", "td", "span", "section", "dl",
    "dt", "dd", "ul", "li", "strong", "br", "svg", "title", "desc", "line", "text", "rect", "path", "label", "input",
}  # fmt: skip


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("pages/pkg.html", True),
        ("../artifacts/pkg/1.0.0+local/pkg-1.0.0-sm_90a.tar.gz", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        ("data:text/html,x", False),
        ("//evil.example/x", False),
        ("/etc/passwd", False),
        ("../../x", False),
        ("a/../../x", False),
        ("a/..", False),
        ("a b", False),
        ('a"onclick=x', False),
        ("a?x=1", False),
        ("", False),
    ],
)
def test_links_are_only_plain_relative_paths(path: str, allowed: bool) -> None:
    assert (markup.href(path) is not None) == allowed


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("<b>&\"'", "&lt;b&gt;&amp;&quot;&#x27;"),
        ("\u202eevil", "\ufffdevil"),
        ("a\x00b\x1bc\x9bd", "a\ufffdb\ufffdc\ufffdd"),
        ("tab\tnewline\n", "tab\tnewline\n"),
        ("\ud800", "\ufffd"),
    ],
)
def test_text_escaping_table(raw: str, shown: str) -> None:
    assert markup.text(raw) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(float("nan"), "invalid"), (float("inf"), "invalid"), (True, "invalid"), ("3", "invalid"),
     (3350.0, "3350"), (2440.6, "2440.6"), (0.055, "0.055"), (1e-05, "1e-05"), (7, "7"), (-0.0, "0"),
     (2**53, "9007199254740992"), (2**53 + 1, "invalid"), (10**400, "invalid")],
)  # fmt: skip
def test_numbers_are_finite_or_invalid(value: object, shown: str) -> None:
    assert markup.number(value) == shown


# -- determinism, evidence, geometry ----------------------------------------------------------------


def test_every_page_carries_the_policy_and_loads_only_its_own_files() -> None:
    from skillpm.pages.assets import CSP

    for html in (package_page(document(), registry_name="r", embedded=False, evidence={}), home_page("r", [], embedded=False)):
        parsed = parse(html)
        metas = [attrs for tag, attrs in parsed.tags if tag == "meta" and attrs.get("http-equiv")]
        assert metas == [{"http-equiv": "Content-Security-Policy", "content": CSP}]
        assert "script-src 'self'" in CSP and "'unsafe-inline'" not in CSP and "default-src 'none'" in CSP
        sources = [attrs.get("src") or attrs.get("href") for tag, attrs in parsed.tags if tag in ("script", "link")]
        assert all(source in ("data:,",) or source.endswith(("pages/pages.css", "pages/pages.js")) for source in sources)


def test_same_index_same_bytes() -> None:
    evidence = {"sm_90a": [eval_evidence([("m", 9, 10, 5, 10)]), bench_evidence([72.9])]}
    first = package_page(document(), registry_name="r", embedded=False, evidence=evidence)
    again = package_page(document(), registry_name="r", embedded=False, evidence=dict(evidence))
    assert first == again
    entries = [SearchEntry("b", "1", "x"), SearchEntry("a", "1", "y")]
    assert home_page("r", entries, embedded=True) == home_page("r", entries[::-1], embedded=True)


def test_nothing_measured_says_not_measured_for_each_kind() -> None:
    html = section([], chart_id="c")
    assert html.count("not measured") == 3
    assert "No attestation" in html
    page = package_page(document(), registry_name="r", embedded=True, evidence={}).decode()
    assert page.count("not measured") == 3 * 3  # three variants, three kinds each
    assert "<rect" not in page


@pytest.mark.parametrize("counts", [(18, 20, 11, 20), (0, 7, 7, 7), (1, 3, 0, 5)])
def test_pass_rate_bars_are_as_wide_as_the_rates_and_whiskers_span_wilson(counts: tuple[int, int, int, int]) -> None:
    with_passed, with_total, base_passed, base_total = counts
    html = section([eval_evidence([("model-a", *counts)])], chart_id="c")
    bars = rects(html)
    expected = [with_passed / with_total, base_passed / base_total]
    assert [float(bar["width"]) for bar in bars] == pytest.approx([rate * BAR_WIDTH for rate in expected], abs=0.01)
    assert [bar["class"] for bar in bars] == ["bar with", "bar without"]
    whiskers = re.findall(r'class="whisker" d="M([\d.]+) [\d.]+H([\d.]+)', html)
    for (low_x, high_x), (passed, total) in zip(whiskers, [(with_passed, with_total), (base_passed, base_total)]):
        low, high = wilson_interval(passed, total)
        assert float(low_x) == pytest.approx(BAR_LEFT + low * BAR_WIDTH, abs=0.01)
        assert float(high_x) == pytest.approx(BAR_LEFT + high * BAR_WIDTH, abs=0.01)
    assert "not measured" in html  # GPU throughput and static figures


def test_a_model_without_a_baseline_shows_it_as_not_measured_and_draws_no_baseline_bar() -> None:
    """upskill's benchmark mode runs no baseline (``baseline: null``): not a 0% bar, not "invalid"."""
    predicate = {"models": [{"model": "m", "with_skill": {"passed": 3, "total": 4}, "baseline": None, "lift": None}],
                 "trials": 2, "test_set": {"count": 2}}
    html = section([Evidence(EVAL_PREDICATE, "k", True, None, predicate)], chart_id="c")
    assert [bar["class"] for bar in rects(html)] == ["bar with"]
    assert "not measured (no baseline run)" in html and "invalid" not in html


def test_throughput_bars_are_percent_of_peak_and_cpu_runs_are_not_gpu_throughput() -> None:
    html = section([bench_evidence([72.9, 41.8])], chart_id="c")
    widths = [float(bar["width"]) for bar in rects(html) if bar["class"] == "bar kernel"]
    assert widths == pytest.approx([0.729 * BAR_WIDTH, 0.418 * BAR_WIDTH], abs=0.01)
    assert "NVIDIA H100 80GB HBM3" in html and "72.9% of peak" in html
    assert html.count("not measured") == 2  # pass rate, static figures
    cpu = section([bench_evidence([50.0], gpu=False)], chart_id="c")
    assert "<rect" not in cpu and "not measured on a GPU" in cpu


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -5.0, "72", None, True])
def test_bad_figures_draw_no_bar(bad: object) -> None:
    html = section([bench_evidence([bad])], chart_id="c")  # type: ignore[list-item]
    assert not [bar for bar in rects(html) if bar["class"] == "bar kernel"]
    assert "nan" not in html.lower() and "inf%" not in html
    evil = Evidence(EVAL_PREDICATE, "k", True, None, {"models": [{"model": "m", "with_skill": {"passed": 5, "total": 3}}]})
    assert "invalid" in section([evil], chart_id="c") and not rects(section([evil], chart_id="c"))


def test_other_static_and_unknown_predicates_render_generically() -> None:
    """A static predicate type skillpm has no view for (the static-kernel view: test_pages_kernels.py)."""
    static = Evidence("https://example.org/attestations/static-analysis/v1", "key s", True, None,
                      {"schema": "x", "registers": 96, "spills": 0, "sass": {"wgmma": True, "mnemonic": "<b>"}})  # fmt: skip
    other = Evidence("https://example.org/attestations/review/v1", "key o", True, None, {"score": float("nan")})
    html = section([static, other], chart_id="c")
    static_part = html.split("<h4>Static kernel figures</h4>")[1].split("<h4>")[0]
    assert "registers" in static_part and ">96<" in static_part and "sass.wgmma" in static_part
    assert "&lt;b&gt;" in static_part and "schema" not in static_part
    assert "Other evidence" in html and "review/v1" in html and ">invalid<" in html
    assert html.count("not measured") == 2


def test_unverified_evidence_is_listed_with_its_reason_and_no_figures() -> None:
    failed = Evidence(EVAL_PREDICATE, "key 1234", False, "signature: signed by an unknown key 1234")
    html = section([failed], chart_id="c")
    assert "NOT verified" in html and "signed by an unknown key 1234" in html and "figures withheld" in html
    assert html.count("not measured") == 3 and "<svg" not in html


def test_charts_have_alt_text_that_names_the_figures() -> None:
    html = section([eval_evidence([("model-a", 18, 20, 11, 20)])], chart_id="c0")
    parsed = parse(html.encode())
    (svg,) = [attrs for tag, attrs in parsed.tags if tag == "svg"]
    assert svg["role"] == "img" and svg["aria-labelledby"] == "c0-e0-t c0-e0-d"
    assert re.search(r'<desc id="c0-e0-d">model-a: with the skill 18/20 = 90% \(69.9%.97.2%\)', html)


# -- matrix, install commands, size -------------------------------------------------------------


def test_the_matrix_is_what_install_picks() -> None:
    entry = document(targets=("generic", "sm_80", "sm_90a", "sm_100a")).versions[0]
    chosen = {str(row.capability): row.target for row in matrix.rows(entry)}
    assert chosen["9.0"] == "sm_90a" and chosen["8.6"] == "sm_80" and chosen["10.0"] == "sm_100a"
    assert chosen["7.5"] == "generic" and chosen["None"] == "generic"
    assert "H100" in next(row for row in matrix.rows(entry) if str(row.capability) == "9.0").gpus
    assert matrix.install_arch(entry, "sm_80") == "8.0" and matrix.install_arch(entry, "generic") == "12.1"
    shadowed = document(targets=("sm_90", "sm_90a")).versions[0]
    assert matrix.install_arch(shadowed, "sm_90") is None
    assert next(row for row in matrix.rows(shadowed) if row.capability is None).target is None
    single = document(targets=("generic",))
    assert matrix.install_arch(single.versions[0], "generic") == ""
    html = package_page(single, registry_name="r", embedded=True, evidence={}).decode()
    assert "Every GPU, and a machine without one, gets <code>generic</code>" in html
    assert "skillpm install pkg==1.0.0</code>" in html


def test_install_commands_name_the_gpu_and_the_registry() -> None:
    page = package_page(document(), registry_name="r", embedded=False, evidence={}).decode()
    assert "skillpm install pkg==1.0.0 --arch 9.0 --registry <span data-registry-url" in page
    embedded = package_page(document(), registry_name="r", embedded=True, evidence={}).decode()
    assert "skillpm install pkg==1.0.0 --arch 9.0</code>" in embedded and "--registry" not in embedded


def test_a_big_package_page_stays_under_100_kb() -> None:
    """200 versions of 8 variants, the latest with eval and bench evidence of many models and sizes."""
    targets = ("generic", "sm_80", "sm_86", "sm_89", "sm_90", "sm_90a", "sm_100a", "sm_120")
    description = "A long description. " * 60
    versions = tuple(
        VersionEntry(f"1.{n}.0", description, tuple(variant(t, attested=2) for t in targets), "MIT", ("k",) * 20)
        for n in range(200)
    )
    models = [(f"organisation/model-with-a-long-name-{n}", 15, 20, 9, 20) for n in range(24)]
    evidence = {t: [eval_evidence(models), bench_evidence([50.0 + n for n in range(24)])] for t in targets}
    page = package_page(PackageDocument("pkg", versions), registry_name="r", embedded=False, evidence=evidence)
    assert len(page) < 100_000, len(page)
    assert "and 150 older version(s)" in page.decode() and "Figures left out" in page.decode()


def test_the_renderers_import_no_io_library() -> None:
    code = (
        "import sys\nimport skillpm.pages.package, skillpm.pages.home\n"
        "print(sorted(m for m in ('httpx', 'cryptography', 'sigstore', 'jsonschema', 'pydantic', "
        "'skillpm.registry.directory', 'skillpm.registry.factory') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
