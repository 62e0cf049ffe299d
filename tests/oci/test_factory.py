"""oci:// values open the OCI backend; plain HTTP off this machine only when the user says so."""

from __future__ import annotations

import json

import pytest

from skillpm.errors import RegistryError
from skillpm.registry.config import RemoteRegistry, load_registries
from skillpm.registry.configure import add_registry
from skillpm.registry.factory import open_locked_registry, open_registry
from skillpm.registry.oci.registry import OciRegistry
from skillpm.registry.settings import settings

from test_publish import one_error, skillpm


def _scheme(location: str) -> str:
    opened = open_registry(location)
    assert isinstance(opened, OciRegistry)
    return opened.location.scheme


def test_an_oci_url_opens_the_oci_backend_over_https(isolated) -> None:
    assert _scheme("oci://registry.example.org/team/skills") == "https"
    assert open_locked_registry("oci://registry.example.org:5000/skills/").label == "oci://registry.example.org:5000/skills"


def test_plain_http_comes_from_the_flag_or_the_users_configuration_never_a_lockfile(
    isolated, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "oci://build-box.lan:5000/skills"
    assert _scheme(url) == "https"  # a lockfile label alone: TLS
    monkeypatch.setattr(settings, "plain_http", True)
    assert _scheme(url) == "http"
    monkeypatch.setattr(settings, "plain_http", False)
    add_registry("box", url, plain_http=True)
    assert load_registries()[0].plain_http
    listed = json.loads(skillpm("registry", "list", "--json").stdout)
    assert [(row["name"], row["plain_http"]) for row in listed] == [("box", True), ("embedded", False)]
    assert _scheme("box") == "http" and open_locked_registry(url).location.scheme == "http"
    assert _scheme("oci://other-box.lan/skills") == "https"


def test_plain_http_is_only_for_oci_registries(isolated) -> None:
    with pytest.raises(RegistryError, match="only for an oci:// URL"):
        RemoteRegistry("web", "https://skills.example.org/", plain_http=True)
    refused = skillpm("registry", "add-remote", "web", "https://skills.example.org/", "--plain-http")
    assert "plain-http" in one_error(refused)
    with pytest.raises(RegistryError, match="only for an oci:// URL"):  # a copy is checked as a new one is
        RemoteRegistry("web", "https://skills.example.org/")._replace(plain_http=True)


@pytest.mark.parametrize("url", ["oci://user:pw@ghcr.io/org", "oci://ghcr.io/Org/Skills", "oci://:5000/x"])
def test_malformed_oci_urls_are_refused_in_one_line(isolated, url: str) -> None:
    assert one_error(skillpm("resolve", "x", "--registry", url))


def test_an_oci_registry_never_read_is_not_read_offline(isolated) -> None:
    refused = skillpm("resolve", "x", "--registry", "oci://127.0.0.1:9/skills", "--offline")
    assert "offline: oci://127.0.0.1:9/skills/x was never read online, so it is not in the cache" in one_error(refused)
    assert "run the command once without --offline" in refused.stderr
    searched = skillpm("search", "x", "--registry", "oci://127.0.0.1:9/skills", "--offline")
    assert "neither searches nor writes it" in one_error(searched)


@pytest.mark.parametrize("value", ["nan", "-1", "inf"])
def test_a_deadline_that_is_not_a_positive_number_is_refused(isolated, monkeypatch: pytest.MonkeyPatch,
                                                             value: str) -> None:
    monkeypatch.setenv("SKILLPM_HTTP_DEADLINE", value)
    refused = skillpm("resolve", "x", "--registry", "oci://127.0.0.1:9/skills")
    assert "SKILLPM_HTTP_DEADLINE" in one_error(refused)
