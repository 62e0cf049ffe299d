"""Secrets (tokens, passwords, signed links, keys) that skillpm must neither record, print nor hand on.

Each case runs the real command line against real files and servers on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import os
import json

import pytest
from sources_helpers import skill_files, tar_gz

from tests.security.test_sources import fast_retries, site  # noqa: F401 - the fixtures, shared

SECRET = "glpat-QUERYSECRET0123456789"


@pytest.mark.parametrize("query", [f"private_token={SECRET}", f"X-Amz-Signature={SECRET}&X-Amz-Expires=60"])
def test_an_archive_url_with_a_query_is_refused_before_it_is_fetched_or_recorded(hostile, site, query: str) -> None:
    """A signed download link (GitLab private_token, S3 presigned, Azure SAS) went whole into skills.lock's
    registry and url lines and into list --json (found by a hostile review); sync could not do without it."""
    data = tar_gz(skill_files("one-skill"))
    (site.root / "s.tar.gz").write_bytes(data)
    for extra in ((), ("--sha256", hashlib.sha256(data).hexdigest())):
        completed = hostile.run("install", f"{site.url}/s.tar.gz?{query}", *extra)
        line = hostile.refused(completed, "has a query", "s.tar.gz?...")
        assert SECRET not in completed.stdout + completed.stderr, line
        assert "hint: download the archive" in completed.stderr
    assert not (hostile.project / "skills.lock").exists() and not (hostile.project / ".agents").exists()
    assert not site.script.log, "the link was fetched"
    listed = hostile.ok(hostile.run("list", "--json"))
    assert SECRET not in listed.stdout and json.loads(listed.stdout) is not None


@pytest.mark.parametrize("name", ["SKILLPM_TOKEN_TEAM", "SKILLPM_SIGNING_KEY_PASSPHRASE", "SKILLPM_OCI_PASSWORD"])
def test_a_secret_variable_that_is_not_utf8_is_named_never_quoted(hostile, name: str) -> None:
    """A SKILLPM_* variable holding a byte that is not UTF-8 was refused by every command quoting its first
    80 characters, a token or passphrase among them (found by a hostile review), in --json too."""
    for args in (("list",), ("list", "--json")):
        completed = hostile.run(*args, env={name: "my-l\udce9gende-SECRET"})
        hostile.refused(completed, name, "is not valid UTF-8")
        assert "SECRET" not in completed.stdout + completed.stderr, completed.stderr


@pytest.mark.parametrize("mode", [0o666, 0o644, 0o640, 0o620], ids=oct)
def test_a_private_key_others_can_read_or_write_never_signs(hostile, mode: int) -> None:
    """An index or signing key of mode 0666 signed without a word, where a credentials.toml of 0644 is
    refused (found by a hostile review): every command that signs refuses it and writes nothing."""
    key = hostile.work / "keys" / "index.key"
    hostile.ok(hostile.run("keygen", "-o", key))
    key.chmod(mode)
    registry = hostile.work / "reg"
    before = hostile.state()
    completed = hostile.run("registry", "init", registry, "--key", key)
    line = hostile.refused(completed, str(key), "can be read or written by other users")
    assert "hint: run 'chmod 600" in completed.stderr, line
    assert hostile.changed_outside(before) == [] and not registry.exists()
    hostile.ok(hostile.run("registry", "init", registry))
    hostile.ok(hostile.run("init", "demo-skill", cwd=hostile.work))
    before = hostile.state()
    completed = hostile.run("publish", hostile.work / "demo-skill", "--registry", registry, "--sign", f"key:{key}")
    hostile.refused(completed, "can be read or written by other users")
    assert hostile.changed_outside(before, hostile.cache) == []
    key.chmod(0o600)
    hostile.ok(hostile.run("publish", hostile.work / "demo-skill", "--registry", registry, "--sign", f"key:{key}"))


def test_an_index_key_inside_the_registry_it_signs_is_refused(hostile) -> None:
    """'registry init reg --key reg/index.key' signed with a key kept in the registry folder, which
    'registry serve' and every copy of the folder then hand out (found by a hostile review). Refused
    whether given by --key or $SKILLPM_INDEX_KEY, spelt through a link or not, before anything is written."""
    registry = hostile.work / "reg"
    inside = registry / "private" / "index.key"
    hostile.ok(hostile.run("keygen", "-o", inside))
    before = hostile.state()
    completed = hostile.run("registry", "init", registry, "--key", inside)
    hostile.refused(completed, "is inside the registry", "refused")
    assert "hint: keep private keys outside the registry" in completed.stderr
    assert hostile.changed_outside(before) == [] and not (registry / "config.json").exists()
    outside = hostile.work / "keys" / "index.key"
    hostile.ok(hostile.run("keygen", "-o", outside))
    hostile.ok(hostile.run("registry", "init", registry, "--key", outside))
    (hostile.work / "linked").symlink_to(registry)
    hostile.ok(hostile.run("init", "demo-skill", cwd=hostile.work))
    for key in (inside, hostile.work / "linked" / "private" / "index.key"):
        before = hostile.state()
        env = {"SKILLPM_INDEX_KEY": str(key)}
        completed = hostile.run("publish", hostile.work / "demo-skill", "--registry", registry, env=env)
        hostile.refused(completed, "is inside the registry")
        completed = hostile.run("registry", "rebuild", registry, env=env)
        hostile.refused(completed, "is inside the registry")
        assert hostile.changed_outside(before, hostile.cache) == []


URL_SECRET = "ghp_PASSWORDSECRET"
SECRET_URLS = {
    "git-query": ("install", f"git+https://alice:{URL_SECRET}@127.0.0.1/org/repo?x=1"),
    "git-port": ("install", f"git+https://alice:{URL_SECRET}@127.0.0.1:99999/org/repo"),
    "git-ipv6": ("install", f"git+https://alice:{URL_SECRET}@[::1/org/repo"),
    "archive-fragment": ("install", f"https://alice:{URL_SECRET}@127.0.0.1/x.tar.gz#bogus=1"),
    "archive-port": ("install", f"https://alice:{URL_SECRET}@127.0.0.1:99999/x.tar.gz"),
    "archive-ipv6": ("install", f"https://alice:{URL_SECRET}@[::1/x.tar.gz"),
    "folder-url": ("install", f"file://alice:{URL_SECRET}@host/x"),
    "registry-port": ("registry", "add-remote", "team", f"https://bob:{URL_SECRET}@127.0.0.1:99999/reg"),
    "registry-ipv6": ("registry", "add-remote", "team", f"https://bob:{URL_SECRET}@[::1/reg"),
    "registry-query": ("install", "x", "--registry", f"https://127.0.0.1/reg?token={URL_SECRET}"),
    "oci-port": ("registry", "add-remote", "team", f"oci://bob:{URL_SECRET}@127.0.0.1:99999/ns"),
    "oci-query": ("registry", "pull", f"oci://127.0.0.1:5000/ns?token={URL_SECRET}", "mirror"),
}


@pytest.mark.parametrize("args", SECRET_URLS.values(), ids=SECRET_URLS.keys())
def test_a_url_s_password_or_query_is_never_quoted_in_an_error(hostile, args: tuple[str, ...]) -> None:
    """A URL with a user name and password that another check refused first (a query, a port out of
    range, a bad fragment, a malformed registry URL) was quoted whole, password included, and a registry
    URL's query token too (found by a hostile review). The credentials are checked first, and every
    message quotes a URL without its user name, password or query."""
    before = hostile.state()
    completed = hostile.run(*args)
    hostile.refused(completed)
    assert URL_SECRET not in completed.stdout + completed.stderr, completed.stderr
    assert "alice" not in completed.stderr and "bob" not in completed.stderr, completed.stderr
    assert hostile.changed_outside(before, hostile.cache) == []


SECRET_ENV = {
    "SKILLPM_TOKEN_TEAM": "tokSECRET", "SKILLPM_OCI_USERNAME": "userSECRET", "SKILLPM_OCI_PASSWORD": "ociSECRET",
    "SKILLPM_SIGNING_KEY_PASSPHRASE": "ppSECRET", "SKILLPM_INDEX_KEY": "/keys/keySECRET", "SIGSTORE_ID_TOKEN": "oidcSECRET",
}


def test_git_and_the_programs_it_runs_see_none_of_skillpm_s_secrets(hostile) -> None:
    """Every secret variable of skillpm's environment reached git and what git runs (ssh, GIT_SSH, proxy
    commands, credential helpers), any of which may log or pass on its environment (found by a hostile
    review). They are dropped; the rest of the user's environment is kept."""
    seen = hostile.work / "ssh-env.txt"
    ssh = hostile.work / "fake-ssh"
    ssh.write_text(f"#!/bin/sh\nenv > {seen}\nexit 128\n")
    ssh.chmod(0o755)
    env = {**SECRET_ENV, "GIT_SSH": str(ssh), "KEPT_FOR_SSH": "kept"}
    hostile.refused(hostile.run("install", "git+ssh://git@127.0.0.1/org/repo", env=env), "git")
    environment = seen.read_text()
    assert "KEPT_FOR_SSH=kept" in environment and "HOME=" in environment
    leaked = [name for name, value in SECRET_ENV.items() if name in environment or value in environment]
    assert leaked == [], leaked


def test_nvidia_smi_sees_none_of_skillpm_s_secrets(hostile) -> None:
    """GPU detection (install, verify, resolve without --arch) ran the nvidia-smi it found on PATH with
    skillpm's whole environment: the key passphrase, registry tokens, the OCI password (a hostile review)."""
    seen = hostile.work / "nvidia-smi-env.txt"
    folder = hostile.work / "bin"
    folder.mkdir()
    (folder / "nvidia-smi").write_text(f"#!/bin/sh\nenv > {seen}\nexit 1\n")
    (folder / "nvidia-smi").chmod(0o755)
    (hostile.work / "registry").mkdir()
    hostile.ok(hostile.run("registry", "init", hostile.work / "registry"))
    env = {**SECRET_ENV, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}", "KEPT_FOR_GPU": "kept",
           "SKILLPM_ARCH": "", "LD_LIBRARY_PATH": ""}
    hostile.refused(hostile.run("resolve", "layer-norm", "--registry", hostile.work / "registry", env=env))
    environment = seen.read_text()
    assert "KEPT_FOR_GPU=kept" in environment
    leaked = [name for name, value in SECRET_ENV.items() if name in environment or value in environment]
    assert leaked == [], leaked
