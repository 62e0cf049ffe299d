"""Writing the pages: every registry write updates them, 'registry build', serving them, the embedded registry's."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from skillpm.pages.writer import write_pages
from skillpm.registry import store
from skillpm.registry.factory import embedded_registry_path

from conftest import build_source, tree_bytes
from pages.conftest import HOSTILE, NAME, serving
from test_publish import digests, make_evidence, one_error, skillpm, write_json, write_key


def page(root: Path, name: str) -> str:
    return (root / "pages" / f"{name}.html").read_text(encoding="utf-8")


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), b""


def test_every_registry_write_updates_the_pages(tmp_path: Path, isolated) -> None:
    root = tmp_path / "reg"
    assert skillpm("registry", "init", root, "--name", "team").exit_code == 0
    assert "holds no package yet" in (root / "index.html").read_text()
    assert (root / "pages" / "pages.css").is_file() and (root / "pages" / "pages.js").is_file()
    source = build_source(tmp_path, "doc-writer", {"generic": {}, "sm_90a": {}})
    assert skillpm("publish", source, "--registry", root).exit_code == 0
    assert 'href="pages/doc-writer.html"' in (root / "index.html").read_text()
    assert "sm_90a" in page(root, "doc-writer") and "(yanked)" not in page(root, "doc-writer")
    assert skillpm("registry", "yank", root, "doc-writer==1.0.0", "--target", "sm_90a").exit_code == 0
    assert "(yanked)" in page(root, "doc-writer")
    for archive in (root / "artifacts" / "doc-writer").rglob("*.tar.gz"):
        archive.unlink()
    assert skillpm("registry", "rebuild", root).exit_code == 0
    assert not (root / "pages" / "doc-writer.html").exists()
    assert "holds no package yet" in (root / "index.html").read_text()


def test_publish_shows_evidence_unverified_until_its_signer_is_trusted(tmp_path: Path, isolated) -> None:
    """A page says what was verified when it was built: an unknown key is not; 'build --trusted-key' is."""
    root = tmp_path / "reg"
    store.init(root)
    source = build_source(tmp_path, NAME, {"generic": {}, "sm_90a": {}})
    sha256 = digests(source, tmp_path)["sm_90a"]
    evidence = write_json(tmp_path / "eval.json", make_evidence("eval", target="sm_90a", sha256=sha256))
    key = write_key(tmp_path / "keys" / "me")
    assert skillpm("publish", source, "--registry", root, "--evidence", evidence, "--sign", f"key:{key}").exit_code == 0
    before = page(root, NAME)
    assert "NOT verified" in before and "signed by an unknown key" in before and "<svg" not in before
    result = skillpm("registry", "build", root, "--trusted-key", f"{key}.pub", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["written"] == [f"pages/{NAME}.html"]
    after = page(root, NAME)
    assert "NOT verified" not in after and "<svg" in after and "model-a" in after


def test_a_page_shows_eval_evidence_of_other_test_cases_as_not_verified(tmp_path: Path, isolated) -> None:
    """As verify and install refuse it: the page checks eval evidence against the test set of the registry's archive."""
    import hashlib

    from skillpm.attest.bundle import sign_with_key
    from skillpm.attest.keys import load_signing_key
    from skillpm.attest.statement import statement_for_evidence
    from skillpm.index.model import archive_name, shard_path

    root = tmp_path / "reg"
    store.init(root)
    source = build_source(tmp_path, NAME, {"generic": {}})
    sha256 = digests(source, tmp_path)["generic"]
    evidence = make_evidence("eval", target="generic", sha256=sha256)
    key = write_key(tmp_path / "keys" / "me")
    signed = ["--evidence", write_json(tmp_path / "eval.json", evidence), "--sign", f"key:{key}"]
    assert skillpm("publish", source, "--registry", root, *signed).exit_code == 0
    assert skillpm("registry", "build", root, "--trusted-key", f"{key}.pub").exit_code == 0
    assert "NOT verified" not in page(root, NAME) and "model-a" in page(root, NAME)

    evidence["test_set"]["digest"] = "2" * 64  # measured on other test cases; publish would refuse to sign it
    name = archive_name(NAME, "1.0.0", "generic")
    statement = statement_for_evidence(evidence, artifact_name=name, artifact_sha256=sha256)
    bundle = sign_with_key(statement, load_signing_key(key))
    document_path = root / "index" / shard_path(NAME)
    document = json.loads(document_path.read_text())
    (attestation,) = document["versions"][0]["variants"][0]["attestations"]
    (root / attestation["path"]).write_bytes(bundle)
    attestation["sha256"] = hashlib.sha256(bundle).hexdigest()
    document_path.write_text(json.dumps(document))
    assert skillpm("registry", "build", root, "--trusted-key", f"{key}.pub").exit_code == 0
    html = page(root, NAME)
    assert "NOT verified</span>: test-set: the evidence ran test set 2222" in html and "figures withheld" in html


def test_pages_are_deterministic_and_rewritten_only_when_they_change(registry_copy: Path, pages_registry: dict[str, Any], tmp_path: Path) -> None:
    other = tmp_path / "other"
    import shutil

    shutil.copytree(registry_copy, other)
    for root in (registry_copy, other):
        for path in [root / "index.html", *(root / "pages").iterdir()]:
            path.unlink()
        write_pages(root, trusted_keys=[pages_registry["trusted"]])
    pages = {p.name: p.read_bytes() for p in (registry_copy / "pages").iterdir()}
    assert pages == {p.name: p.read_bytes() for p in (other / "pages").iterdir()}
    assert (registry_copy / "index.html").read_bytes() == (other / "index.html").read_bytes()
    assert pages[f"{NAME}.html"] == (pages_registry["root"] / "pages" / f"{NAME}.html").read_bytes()
    assert write_pages(registry_copy, trusted_keys=[pages_registry["trusted"]]) == []


@pytest.mark.parametrize("into_git", [False, True], ids=["out", "into-its-git"])
def test_a_pages_folder_linking_out_of_the_registry_is_refused(
    registry_copy: Path, tmp_path: Path, isolated, into_git: bool
) -> None:
    """Out of the registry, or into its own .git (a cloned registry's pages -> .git/hooks: a second-pass hostile
    review found the journal's writes went there; the pages were checked only for leading out)."""
    outside = registry_copy / ".git" / "hooks" if into_git else tmp_path / "outside"
    outside.mkdir(parents=True)
    import shutil

    shutil.rmtree(registry_copy / "pages")
    (registry_copy / "pages").symlink_to(outside)
    line = one_error(skillpm("registry", "build", registry_copy))
    assert "leads out of the registry" in line
    assert list(outside.iterdir()) == []


def test_a_page_write_that_fails_says_the_index_was_written(tmp_path: Path, isolated) -> None:
    root = tmp_path / "reg"
    store.init(root)
    import shutil

    shutil.rmtree(root / "pages")
    (root / "pages").write_text("a file where the pages folder goes")
    result = skillpm("publish", build_source(tmp_path, "doc-writer", {"generic": {}}), "--registry", root)
    assert "was written, but its web pages were not" in one_error(result)
    assert "skillpm registry build" in result.stderr
    assert (root / "index" / "do" / "c-" / "doc-writer.json").is_file()


def test_serve_gives_pages_with_their_types_and_no_listings(registry_copy: Path) -> None:
    with serving("serve", str(registry_copy), "--port", "0") as url:
        status, kind, body = fetch(f"{url}/")
        assert (status, kind, body) == (200, "text/html; charset=utf-8", (registry_copy / "index.html").read_bytes())
        assert fetch(f"{url}/pages/pages.css")[:2] == (200, "text/css; charset=utf-8")
        assert fetch(f"{url}/pages/pages.js")[:2] == (200, "text/javascript; charset=utf-8")
        assert fetch(f"{url}/pages/{HOSTILE}.html")[0] == 200
        for folder in ("pages/", "artifacts/", "index/", "pages"):
            assert fetch(f"{url}/{folder}")[0] == 404, folder


def test_serve_needs_a_directory_or_embedded(isolated) -> None:
    assert skillpm("registry", "serve").exit_code == 2
    assert skillpm("registry", "serve", str(Path.cwd()), "--embedded").exit_code == 2


@pytest.mark.parametrize("command", [("open",), ("serve", "--embedded", "--port", "0")])
def test_the_embedded_registry_serves_its_pages(command: tuple[str, ...]) -> None:
    with serving(*command) as url:
        status, _, body = fetch(f"{url}/")
        assert status == 200 and b'href="pages/kernel-builder-cuda.html"' in body
        status, _, body = fetch(f"{url}/pages/kernel-builder-cuda.html")
        assert status == 200 and b"skillpm install kernel-builder-cuda</code>" in body


def test_the_embedded_kernel_builder_page_shows_its_static_evidence_and_what_was_not_measured() -> None:
    """Every variant shows its signed static-kernel figures, one kernel table per compile target,
    and 'not measured' for pass rate and GPU throughput; the page stays under 100 KB with all of it."""
    root = embedded_registry_path()
    text = page(root, "kernel-builder-cuda")
    document = json.loads((root / "index" / "ke" / "rn" / "kernel-builder-cuda.json").read_text())
    variants = document["versions"][-1]["variants"]
    assert len(variants) >= 4 and text.count('<section class="variant"') == len(variants)
    sections = text.split('<section class="variant"')[1:]
    for variant, shown in zip(variants, sections):
        assert f"<code>{variant['target']}</code></h3>" in shown
        for kind in ("Agent pass rate, with and without the skill", "GPU throughput"):
            assert f'<h4>{kind}</h4><p class="none">not measured</p>' in shown
        static = shown.split("<h4>Static kernel figures</h4>")[1]
        assert not static.startswith('<p class="none">not measured</p>') and '<span class="ok">verified</span>' in static
        (attestation,) = variant["attestations"]
        statement = json.loads(base64.b64decode(json.loads((root / attestation["path"]).read_text())["dsseEnvelope"]["payload"]))
        targets = dict.fromkeys(kernel["target"] for kernel in statement["predicate"]["kernels"])
        assert static.count('<table class="figures static-kernels">') == len(targets)
        assert all(f"<caption><code>{target}</code> kernels" in static for target in targets)
    assert "Figures left out" not in text
    assert len(text.encode()) < 100_000


def test_the_embedded_pages_are_what_build_writes(tmp_path: Path) -> None:
    import shutil

    from skillpm.attest.variants import EMBEDDED_KEY

    copy = Path(shutil.copytree(embedded_registry_path(), tmp_path / "registry"))
    before = tree_bytes(copy)
    assert write_pages(copy, trusted_keys=[EMBEDDED_KEY]) == []
    assert tree_bytes(copy) == before


def test_a_page_that_is_a_link_is_replaced_not_written_through(registry_copy: Path, tmp_path: Path) -> None:
    target = tmp_path / "victim.txt"
    target.write_text("keep me")
    for relative in ("index.html", f"pages/{NAME}.html"):
        (registry_copy / relative).unlink()
        (registry_copy / relative).symlink_to(target)
    write_pages(registry_copy)
    assert target.read_text() == "keep me"
    assert not (registry_copy / "index.html").is_symlink() and not (registry_copy / "pages" / f"{NAME}.html").is_symlink()
    assert (registry_copy / "pages" / f"{NAME}.html").read_bytes().startswith(b"<!DOCTYPE html>")
