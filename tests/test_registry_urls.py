"""A registry's http(s) URL in normal form (skillpm.registry.urls), and what comes of one that is not ASCII."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import test_http_server
from test_http_cli import assert_one_error

from skillpm.errors import IndexFormatError, RegistryError
from skillpm.registry.config import check_url
from skillpm.registry.transport import Deadline, Transport
from skillpm.registry.urls import UrlProblem, canonical_url, comparable, registry_base

served = test_http_server.served
fast_retries = test_http_server.fast_retries


@pytest.mark.parametrize(
    ("spelt", "normal"),
    [
        ("https://skills.example.org", "https://skills.example.org"),
        ("https://skills.example.org/", "https://skills.example.org"),
        ("HTTPS://Skills.Example.ORG/Reg/", "https://skills.example.org/Reg"),  # the path keeps its case
        ("https://skills.example.org:443/reg", "https://skills.example.org/reg"),
        ("http://localhost:80/reg", "http://localhost/reg"),
        ("http://localhost:8080/reg", "http://localhost:8080/reg"),
        ("https://h.org//a///b/", "https://h.org/a/b"),
        ("https://h.org/a/./b/../c", "https://h.org/a/c"),
        ("https://h.org/../../a", "https://h.org/a"),
        ("https://h.org/%7euser/%2ax", "https://h.org/~user/%2Ax"),  # unreserved decoded, the rest in uppercase
        ("https://h.org/%41%2D", "https://h.org/A-"),
        ("https://h.org/reg/%2e%2E/reg/%2e/", "https://h.org/reg"),  # dot segments written as escapes
        ("https://h.org/my reg/café", "https://h.org/my%20reg/caf%C3%A9"),
        ("https://h.org/caf%C3%A9", "https://h.org/caf%C3%A9"),
        ("https://[::1]:443/r", "https://[::1]/r"),
        # One registry spelt otherwise (a second-pass hostile review found each kept as written).
        ("https://skills.example.org./reg", "https://skills.example.org/reg"),
        ("https://[0:0:0:0:0:0:0:1]:8443/r", "https://[::1]:8443/r"),
        ("https://[::0001]/r", "https://[::1]/r"),
        ("https://my_registry.internal:5000/r", "https://my_registry.internal:5000/r"),
        ("https://[::1]:8443/r", "https://[::1]:8443/r"),
        ("https://h.org/a:b@c;d=e", "https://h.org/a:b@c;d=e"),
        ("file:///srv/Reg/", "file:///srv/Reg/"),  # not http(s): as it is
        ("./reg", "./reg"),
    ],
)
def test_a_url_in_normal_form(spelt: str, normal: str) -> None:
    assert canonical_url(spelt) == normal
    assert canonical_url(normal) == normal  # the normal form is its own


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://\u0435xample.org/reg", "not ASCII"),  # a Cyrillic е, which looks like example.org
        ("https://b\u00fccher.example/reg", "not ASCII"),
        ("https://h.org:99999/reg", "malformed"),
        ("http://127.1/reg", "four decimal numbers"),
        ("http://2130706433/reg", "four decimal numbers"),
        ("http://0x7f.0.0.1/reg", "four decimal numbers"),
        ("https://[v1.x]/reg", "not an IPv6 address"),
        ("https://[::1]x/reg", "after its IPv6 address|malformed"),  # urlsplit refuses it itself on some Pythons
        ("https://ex ample.org/reg", "other characters"),
        ("https://%65xample.org/reg", "other characters"),
        ("https://h..org/reg", "other characters"),
        ("https://example.org\\reg", "other characters"),
        ("http://127.0.0.1:9/%2Freg", "escaped"),  # http.server and 'registry serve' decode it to //reg
        ("http://127.0.0.1:9/x%2f..%2freg", "escaped"),
        ("http://127.0.0.1:9/a%5cb", "escaped"),
        ("http://127.0.0.1:9/a%00b", "escaped"),
    ],
)
def test_a_url_with_no_normal_form_is_refused(url: str, reason: str) -> None:
    with pytest.raises(UrlProblem, match=reason):
        canonical_url(url)
    with pytest.raises(RegistryError, match=reason):
        check_url(url)


def test_a_query_is_kept_but_a_registry_s_own_url_has_none(run_cli) -> None:
    """A redirect may lead to a signed download URL (its query kept); a registry's files are joined to its URL."""
    assert canonical_url("https://CDN.example/a/./f.tar.gz?X-Sig=ab%2f#frag") == "https://cdn.example/a/f.tar.gz?X-Sig=ab%2f"
    assert registry_base("https://H.org/reg/") == "https://h.org/reg"
    for url in ("https://h.org/reg?token=x", "https://h.org/reg#top", "https://h.org/reg?"):
        with pytest.raises(UrlProblem, match="query or fragment"):
            registry_base(url)
        result = run_cli("resolve", "kernel-helper", "--arch", "9.0", "--registry", url)
        assert result.exit_code == 1 and "query or fragment" in str(result.exception), result.output


def test_urls_are_compared_in_normal_form_and_others_as_written() -> None:
    assert comparable("HTTPS://H.org:443/reg/") == comparable("https://h.org/./reg") == "https://h.org/reg"
    assert comparable("https://\u0435xample.org/") == "https://\u0435xample.org"  # matches no normal label
    assert comparable("/srv/reg/") == "/srv/reg" and comparable("embedded") == "embedded"


def test_check_url_gives_the_normal_form() -> None:
    assert check_url("http://LOCALHOST:8766//reg/") == "http://localhost:8766/reg"


def test_the_transport_refuses_a_url_that_is_not_ascii_in_one_line() -> None:
    """httpcore raises TypeError for one (a traceback); skillpm's own URLs never are, an upload Location may be."""
    transport = Transport(idle=5, user_agent="skillpm-test")
    with pytest.raises(RegistryError, match="not an ASCII URL"):
        transport.get("http://127.0.0.1:9/caf\u00e9", deadline=Deadline.after(5, "test"), limit=10, decode=True)


def test_a_registry_under_a_path_that_is_not_ascii_is_reached(isolated, run_cli, registry: Path, served) -> None:
    """Such a URL crashed every command with httpcore's TypeError (found in a hostile review); percent-encoded in
    the normal form, it is the folder the server holds."""
    shutil.move(shutil.copytree(registry, registry.parent / "copy"), registry / "café")
    result = run_cli("resolve", "kernel-helper", "--arch", "9.0", "--registry", f"{served.url}/café/")
    assert result.exit_code == 0, result.output


def test_an_index_naming_an_artifact_path_that_is_not_ascii_is_refused(isolated, registry: Path, served) -> None:
    document = registry / "index" / "ke" / "rn" / "kernel-helper.json"
    data = json.loads(document.read_text())
    data["versions"][0]["variants"][0]["path"] = "artifacts/kernel-helper/d\u00e9mo.tar.gz"
    document.write_text(json.dumps(data))
    script = Path(sys.executable).with_name("skillpm")
    result = subprocess.run([str(script), "install", "kernel-helper", "--arch", "9.0", "--registry", served.url],
                            capture_output=True, text=True, timeout=60)
    assert_one_error(result, "unsafe path")


def test_a_relative_path_skillpm_would_not_write_is_refused() -> None:
    from skillpm.index.model import _relative_path

    for path in ("a b.tar.gz", "a%2e%2e/x", "a?x", "a#x", "caf\u00e9", "tab\there"):
        with pytest.raises(IndexFormatError, match="unsafe path"):
            _relative_path(path, "here")
    assert _relative_path("artifacts/kernel-helper/1.0.0+local.1/kernel-helper-1.0.0-sm_90a.tar.gz", "here")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://alice:s3cret@host:8443/reg?token=t#frag", "https://host:8443/reg?...#frag"),
        ("git+https://alice:s3cret@host/org/repo@v1", "git+https://host/org/repo@v1"),
        ("oci://bob:pw@[::1]:5000/ns", "oci://[::1]:5000/ns"),
        ("https://u:p@[::1/x?q", "https://[::1/x?..."),
        ("https://host/x.tar.gz#sha256=ab?c", "https://host/x.tar.gz#sha256=ab?c"),
        ("https://host", "https://host"),
        ("not a url: a@b?c", "not a url: a@b?c"),
    ],
)
def test_shown_url_drops_user_name_password_and_query(url: str, shown: str) -> None:
    from skillpm.registry.urls import shown_url

    assert shown_url(url) == shown
