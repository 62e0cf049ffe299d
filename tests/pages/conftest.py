"""A registry for the page tests: real archives, evidence signed with a real key, and hostile text.

``layer-norm`` 1.0.0 has four variants: ``sm_90a`` carries eval and bench evidence signed
by a key the pages trust, ``sm_80`` eval evidence signed by a key nobody trusts, ``generic``
and ``sm_100a`` none. ``hostile-pkg``'s description, keywords and target list, written into
the index by hand as a hostile registry would, hold markup, a ``javascript:`` URL and CSS.
The browser tests share :class:`Browser` (headless Chromium through selenium) and :func:`serving`
(a real ``skillpm registry serve`` or ``open``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import select
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import build_source
from test_publish import digests, make_evidence, write_json, write_key

NAME = "layer-norm"
HOSTILE = "hostile-pkg"
HOSTILE_DESCRIPTION = (
    '<script>alert("pwned")</script><img src=x onerror=alert(2)> "quoted" \'single\' & '
    '<a href="javascript:alert(3)">click</a> </style><style>body{display:none}</style>\u202eevil\x07'
)
VARIANTS = {"generic": {}, "sm_80": {}, "sm_90a": {"references/hopper.md": "Hopper notes.\n"}, "sm_100a": {}}


def _hostile(root: Path, tmp: Path) -> None:
    """Publish ``hostile-pkg``, then rewrite its description in the index as a hostile registry would."""
    from skillpm.index.model import shard_path
    from skillpm.publish import publish

    publish(build_source(tmp / "hostile", HOSTILE, {"generic": {}}, keywords=("evil",)), root)
    document_path = root / "index" / shard_path(HOSTILE)
    document = json.loads(document_path.read_text())
    document["versions"][0]["description"] = HOSTILE_DESCRIPTION
    document["versions"][0]["keywords"] = ["<b>bold</b>", "javascript:alert(4)"]
    document_path.write_text(json.dumps(document))
    search = json.loads((root / "search.json").read_text())
    for entry in search["packages"]:
        if entry["name"] == HOSTILE:
            entry["description"] = HOSTILE_DESCRIPTION
            entry["keywords"] = document["versions"][0]["keywords"]
    (root / "search.json").write_text(json.dumps(search))


def build_registry(tmp: Path) -> dict[str, Any]:
    """Build the page tests' registry under ``tmp`` and its pages; what the tests need to know of it."""
    from skillpm.attest.keys import load_signing_key
    from skillpm.pages.writer import write_pages
    from skillpm.publish import KeySigner, publish
    from skillpm.registry import store

    root = tmp / "registry"
    store.init(root, name="pages-test")
    trusted, stranger = write_key(tmp / "keys" / "trusted"), write_key(tmp / "keys" / "stranger")
    source = build_source(tmp, NAME, VARIANTS, keywords=("layernorm", "cuda"))
    sums = digests(source, tmp)
    evidence = [
        write_json(tmp / "eval.json", make_evidence("eval", target="sm_90a", sha256=sums["sm_90a"])),
        write_json(tmp / "bench.json", make_evidence("bench", target="sm_90a", sha256=sums["sm_90a"])),
    ]
    publish(source, root, evidence=evidence, signer=KeySigner(load_signing_key(trusted)))
    other = write_json(tmp / "eval-80.json", make_evidence("eval", target="sm_80", sha256=sums["sm_80"]))
    publish(source, root, evidence=[other], signer=KeySigner(load_signing_key(stranger)))
    publish(build_source(tmp / "doc", "doc-writer", {"generic": {}}, keywords=("docs",)), root)
    _hostile(root, tmp)
    write_pages(root, trusted_keys=[trusted.with_name("trusted.pub")])
    return {
        "root": root,
        "trusted": trusted.with_name("trusted.pub"),
        "eval": json.loads(evidence[0].read_text()),
        "bench": json.loads(evidence[1].read_text()),
    }


@pytest.fixture(scope="module")
def pages_registry(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The page tests' registry (built once per module; tests copy it before changing it)."""
    return build_registry(tmp_path_factory.mktemp("pages"))


@pytest.fixture
def registry_copy(pages_registry: dict[str, Any], tmp_path: Path) -> Path:
    return Path(shutil.copytree(pages_registry["root"], tmp_path / "registry"))


@contextmanager
def serving(*args: str, timeout: float = 30) -> Iterator[str]:
    """Run the real ``skillpm registry ARGS`` (serve or open) in a subprocess; yield its URL; always stop it."""
    command = [sys.executable, "-m", "skillpm", "registry", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([process.stdout], [], [], timeout)
        line = process.stdout.readline() if ready else ""  # type: ignore[union-attr]
        found = re.search(r" at (http://127\.0\.0\.1:\d+)/ ", line)
        assert found, f"no URL from {' '.join(args)}: {line!r} {process.stderr.read() if process.poll() is not None else ''}"  # type: ignore[union-attr]
        yield found[1]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            stream.close()  # type: ignore[union-attr]


def _missing() -> str | None:
    """Why the browser tests cannot run here, or ``None``."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        return "Chromium is not installed (Debian: apt-get install chromium; or run .ci/install-test-deps)"
    if not shutil.which("chromedriver"):
        return "chromedriver is not installed (Debian: apt-get install chromium-driver; or run .ci/install-test-deps)"
    return None


class Browser:
    """One headless Chromium: load a page, read its console, screenshot it in both themes."""

    def __init__(self, shots: Path, temporary: Path) -> None:
        """Screenshots go to ``shots``; Chromium's own temporary folders (its singleton socket's, which it leaves
        behind when the driver ends it) to ``temporary``, which the test run removes, not to $TMPDIR."""
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")  # type: ignore[assignment]
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,1000", "--no-first-run", "--disable-extensions"):  # fmt: skip
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(shutil.which("chromedriver"), env={**os.environ, "TMPDIR": str(temporary)})
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(10)
        self.shots = shots

    def load(self, url: str, *, shot: str | None = None, errors: bool = False) -> list[dict[str, Any]]:
        """Open ``url`` and return its console errors, which must be none unless ``errors``;
        save a screenshot in each theme when ``shot`` names one."""
        self.theme("light")
        self.driver.get(url)
        self.driver.execute_script("return document.readyState")
        found = [entry for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors or not found, found
        if shot:
            for theme in ("light", "dark"):
                self.theme(theme)
                path = self.shots / f"{shot}-{theme}.png"
                whole = self.driver.execute_cdp_cmd("Page.captureScreenshot", {"captureBeyondViewport": True})
                path.write_bytes(base64.b64decode(whole["data"]))
                assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
            self.theme("light")
        return found

    def theme(self, scheme: str) -> None:
        features = [{"name": "prefers-color-scheme", "value": scheme}]
        self.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": features})

    def css(self, selector: str) -> list[Any]:
        return self.driver.find_elements("css selector", selector)

    def quit(self) -> None:
        self.driver.quit()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    opened = Browser(tmp_path_factory.mktemp("screenshots"), tmp_path_factory.mktemp("chromium"))
    try:
        yield opened
    finally:
        opened.quit()
