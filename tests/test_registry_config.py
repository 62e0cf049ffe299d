"""Tests for skillpm/registry/config.py and how open_registry uses it: names, priority, URL rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillpm.errors import RegistryError
from skillpm.registry.config import (
    RemoteRegistry,
    check_url,
    config_path,
    find_registry,
    load_registries,
)
from skillpm.registry.configure import add_registry, remove_registry
from skillpm.registry.chain import RegistryChain
from skillpm.registry.directory import LocalRegistry
from skillpm.registry.factory import open_registry


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "conf" / "config.toml"
    monkeypatch.setenv("SKILLPM_CONFIG", str(path))
    monkeypatch.delenv("SKILLPM_REGISTRY", raising=False)
    return path


def test_config_path_follows_the_env_var_or_the_user_config_dir(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SKILLPM_CONFIG", str(tmp_path / "c.toml"))
    assert config_path() == tmp_path / "c.toml"
    monkeypatch.delenv("SKILLPM_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() == tmp_path / "xdg" / "skillpm" / "config.toml"


def test_no_file_means_no_registries(config: Path) -> None:
    assert load_registries() == ()
    assert find_registry("team") is None


def test_add_list_remove_round_trip(config: Path) -> None:
    add_registry("low", "https://low.example.org/reg/", priority=-1)
    add_registry("high", "https://high.example.org/reg", priority=10)
    add_registry("mid", "http://127.0.0.1:8000/reg")
    assert [r.name for r in load_registries()] == ["high", "mid", "low"]
    assert find_registry("low") == RemoteRegistry("low", "https://low.example.org/reg", -1)
    assert remove_registry("mid").url == "http://127.0.0.1:8000/reg"
    assert [r.name for r in load_registries()] == ["high", "low"]
    assert config.read_text().startswith("# skillpm registries")


def test_a_directory_is_stored_as_its_absolute_file_url(config: Path, tmp_path: Path, monkeypatch) -> None:
    """What the library stores means the same from every folder (not only through the CLI)."""
    from skillpm.registry import store

    store.init(tmp_path / "work" / "reg")
    monkeypatch.chdir(tmp_path / "work")
    added = add_registry("local", "reg/")
    assert added.url == (tmp_path / "work" / "reg").as_uri()
    assert find_registry("local") == added


def test_equal_priorities_keep_the_file_order(config: Path) -> None:
    for name in ("b", "a", "c"):
        add_registry(name, f"https://{name}.example.org")
    assert [r.name for r in load_registries()] == ["b", "a", "c"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: add_registry("Bad Name", "https://x.example.org"), "invalid registry name"),
        (lambda: add_registry("embedded", "https://x.example.org"), "invalid registry name"),
        (lambda: add_registry("x", "http://x.example.org"), "refusing plain http://"),
        (lambda: add_registry("x", "gopher://x.example.org"), "not supported"),
        (lambda: remove_registry("nothing"), "no registry named 'nothing'"),
    ],
)
def test_bad_requests_are_refused(config: Path, call, message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        call()
    assert not config.exists()


def test_a_name_is_configured_once(config: Path) -> None:
    add_registry("team", "https://a.example.org")
    with pytest.raises(RegistryError, match="already configured") as caught:
        add_registry("team", "https://b.example.org")
    assert "skillpm registry remove team" in caught.value.hint


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not toml [", "not a readable config file"),
        ("registry = 3", "array of tables"),
        ('[[registry]]\nname = "a"\n', "must have name, url"),
        ('[[registry]]\nname = "a"\nurl = 3\n', "must be strings"),
        ('[[registry]]\nname = "a"\nurl = "https://a.example.org"\npriority = "high"\n', "not an integer"),
        ('[[registry]]\nname = "a"\nurl = "https://a.example.org"\n' * 2, "configured twice"),
    ],
)
def test_a_malformed_config_file_names_itself(config: Path, text: str, message: str) -> None:
    config.parent.mkdir(parents=True)
    config.write_text(text)
    with pytest.raises(RegistryError, match=message):
        load_registries()


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://skills.example.org/registry", True),
        ("http://127.0.0.1:8000/reg", True),
        ("http://localhost/reg", True),
        ("http://[::1]:8000/reg", True),
        ("http://skills.example.org/registry", False),
        ("http://127.0.0.1.example.org/reg", False),
        ("file:///srv/registry", True),
        ("./registry", True),
        ("s3://bucket/registry", False),
        ("https://user:secret@skills.example.org/reg", False),
        ("http://token@127.0.0.1:8000/reg", False),
        ("https://[::1/reg", False),
        ("https://skills.example.org:99999/reg", False),
    ],
)
def test_which_urls_may_be_registries(url: str, allowed: bool, monkeypatch) -> None:
    monkeypatch.delenv("SKILLPM_ALLOW_HTTP", raising=False)
    if allowed:
        assert check_url(url) == url
    else:
        with pytest.raises(RegistryError):
            check_url(url)


def test_plain_http_elsewhere_when_explicitly_allowed(monkeypatch) -> None:
    monkeypatch.setenv("SKILLPM_ALLOW_HTTP", "1")
    assert check_url("http://skills.example.org/registry")


def test_open_registry_by_name_and_by_priority(config: Path, registry: Path, tmp_path: Path) -> None:
    from skillpm.registry import store

    other = tmp_path / "other"
    store.init(other, name="other")
    add_registry("main", str(registry), priority=1)
    add_registry("other", other.as_uri(), priority=5)
    assert open_registry("main").label == registry.resolve().as_uri()
    chain = open_registry()
    assert isinstance(chain, RegistryChain)
    assert [member.label for member in chain.members] == [other.as_uri(), registry.resolve().as_uri(), "embedded"]
    member, document = chain.locate("kernel-helper")
    assert document.name == "kernel-helper"
    assert member.label == registry.resolve().as_uri()  # the member that had it
    member, document = chain.locate("kernel-builder-cuda")
    assert document.name == "kernel-builder-cuda"
    assert member.label == "embedded"
    names = [entry.name for entry in chain.search_entries()]
    assert names == sorted(names) and {"kernel-helper", "doc-writer", "kernel-builder-cuda"} <= set(names)


def test_no_configured_registry_means_the_embedded_one(config: Path) -> None:
    opened = open_registry()
    assert isinstance(opened, LocalRegistry) and opened.label == "embedded"


def test_a_path_is_never_taken_for_a_name(config: Path, registry: Path, monkeypatch) -> None:
    add_registry("reg", "https://reg.example.org")
    monkeypatch.chdir(registry.parent)
    assert isinstance(open_registry("./registry"), LocalRegistry)
    assert open_registry("reg").label == "https://reg.example.org"


def test_registry_commands(config: Path, run_cli) -> None:
    assert run_cli("registry", "add-remote", "team", "https://team.example.org/reg", "--priority", "3").exit_code == 0
    listed = run_cli("registry", "list")
    assert listed.exit_code == 0
    assert listed.stdout.splitlines()[1].split() == ["team", "3", "https://team.example.org/reg"]
    assert "embedded" in listed.stdout
    result = run_cli("registry", "add-remote", "team", "https://other.example.org")
    assert result.exit_code == 1 and "already configured" in result.exception.message
    assert run_cli("registry", "remove", "team").exit_code == 0
    assert load_registries() == ()


def _shadowing_registry(tmp_path: Path) -> Path:
    """A registry holding a package named as the embedded registry's kernel-builder-cuda (version 0.0.1)."""
    from conftest import build_source, publish_source
    from skillpm.registry import store

    root = tmp_path / "mirror"
    store.init(root, name="mirror")
    publish_source(root, build_source(tmp_path / "src", "kernel-builder-cuda", version="0.0.1"), tmp_path / "dist")
    return root


def test_a_registry_shadowing_an_embedded_package_is_said(config: Path, isolated, run_skillpm, tmp_path) -> None:
    """A registry added for other skills took the embedded registry's own kernel-builder-cuda without a word
    (found by a hostile review): the install now says which registry served it and how to choose."""
    add_registry("mirror", _shadowing_registry(tmp_path).as_uri())
    done = run_skillpm("install", "kernel-builder-cuda", "--arch", "9.0")
    assert done.returncode == 0, done.stderr
    assert "0.0.1" in done.stdout
    warnings = [line for line in done.stderr.splitlines() if "comes before the embedded registry" in line]
    assert len(warnings) == 1 and "--registry embedded" in warnings[0], done.stderr


def test_a_registry_below_priority_0_comes_after_the_embedded_one(config: Path, isolated, run_skillpm,
                                                                   tmp_path: Path) -> None:
    """A negative priority put a registry nowhere but last among the configured ones: before the embedded one
    (a hostile review's 'mirror' at -100 still replaced skillpm's own skill)."""
    mirror = _shadowing_registry(tmp_path)
    add_registry("mirror", mirror.as_uri(), priority=-100)
    add_registry("team", "https://team.example.org/reg", priority=0)
    chain = open_registry()
    assert isinstance(chain, RegistryChain)
    assert [member.label for member in chain.members] == ["https://team.example.org/reg", "embedded", mirror.as_uri()]
    remove_registry("team")
    done = run_skillpm("install", "kernel-builder-cuda", "--arch", "9.0")
    assert done.returncode == 0, done.stderr
    assert "0.0.1" not in done.stdout and "comes before the embedded registry" not in done.stderr
