"""The CLI against HTTP registries: conditional requests, --offline, named registries, sync, 'registry serve'."""

from __future__ import annotations

import json
import os
import subprocess
import time
import tomllib
from pathlib import Path

import pytest
import test_cli_errors
import test_http_server
from conftest import registry_serve

from skillpm.errors import SkillpmError

Served = test_http_server.Served
served = test_http_server.served  # the fixtures, shared
fast_retries = test_http_server.fast_retries

KERNEL = "kernel-helper"


def lock_entries(lockfile: Path) -> list[dict[str, str]]:
    return tomllib.loads(lockfile.read_text())["skill"]


def assert_one_error(result: subprocess.CompletedProcess[str], *contains: str) -> None:
    """The console script's error contract: non-zero, ``error:`` (+ ``hint:``) on stderr, no traceback."""
    lines = result.stderr.splitlines()
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert lines and lines[0].startswith("error: "), result.stderr
    assert len(lines) <= 2 and all(line.startswith("hint: ") for line in lines[1:]), result.stderr
    for text in contains:
        assert text in lines[0], result.stderr


# --- conditional requests and the index cache -----------------------------------------------------------


def test_a_second_resolve_revalidates_with_etags_and_gets_304(isolated, served: Served, run_cli) -> None:
    """A package document is revalidated; config.json, which says whether the registry is signed, is fetched whole."""
    assert run_cli("resolve", KERNEL, "--arch", "9.0", "--registry", served.url).exit_code == 0
    first = len(served.script.log)
    assert run_cli("resolve", KERNEL, "--arch", "9.0", "--registry", served.url).exit_code == 0
    again = {path: (status, headers) for path, status, headers in served.script.log[first:]}
    assert again.keys() == {"config.json", f"index/ke/rn/{KERNEL}.json"}
    status, headers = again[f"index/ke/rn/{KERNEL}.json"]
    assert status == 304
    assert headers["if-none-match"].startswith('"') and "if-modified-since" in headers
    status, headers = again["config.json"]
    assert status == 200 and "if-none-match" not in headers and "if-modified-since" not in headers


def test_a_changed_document_is_fetched_again(isolated, served: Served, registry: Path, run_cli) -> None:
    assert run_cli("info", KERNEL, "--registry", served.url).exit_code == 0
    document = next((registry / "index").rglob(f"{KERNEL}.json"))
    document.write_text(document.read_text().replace("Apache-2.0", "MIT"))
    os.utime(document, ns=(0, 1_000_000_000))  # a different mtime, so a different ETag
    result = run_cli("info", KERNEL, "--registry", served.url)
    assert result.exit_code == 0 and "license: MIT" in result.output
    assert served.script.log[-1][1] == 200


def test_a_killed_index_cache_write_is_swept_by_the_next_write_beside_it(
    isolated, served: Served, registry: Path, run_cli
) -> None:
    """The temporary file a killed run left in the index cache goes once stale; a younger one stays."""
    from skillpm.cache import STALE_TEMPORARY_AGE

    assert run_cli("info", KERNEL, "--registry", served.url).exit_code == 0
    from skillpm.atomic import _leftover

    (cached,) = (isolated.cache / "index").rglob(f"{KERNEL}.json")
    stale, fresh = (_leftover(cached, "tmp") for _ in range(2))  # what killed atomic_writes of it leave
    for path in (stale, fresh):
        path.write_bytes(b"half a document")
    stale, fresh = stale.parent, fresh.parent
    past = time.time() - STALE_TEMPORARY_AGE - 60
    os.utime(stale, (past, past))
    document = next((registry / "index").rglob(f"{KERNEL}.json"))
    document.write_text(document.read_text().replace("Apache-2.0", "MIT"))
    os.utime(document, ns=(0, 1_000_000_000))  # a new ETag: the document is fetched and cached again
    assert run_cli("info", KERNEL, "--registry", served.url).exit_code == 0
    assert not stale.exists() and fresh.exists()
    assert b"MIT" in cached.read_bytes()


# --- offline ---------------------------------------------------------------------------------------------


def test_offline_after_a_warm_cache_works_with_the_server_gone(isolated, served: Served, run_cli, monkeypatch) -> None:
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", served.url).exit_code == 0
    assert run_cli("search", "kernel", "--registry", served.url).exit_code == 0
    served.stop()
    for args in (
        ["resolve", KERNEL, "--arch", "9.0"],
        ["info", KERNEL],
        ["search", "kernel"],
        ["install", KERNEL, "--arch", "9.0", "--dir", "elsewhere"],
    ):
        result = run_cli(*args, "--registry", served.url, "--offline")
        assert result.exit_code == 0, (args, result.output, result.exception)
    (isolated.skills / KERNEL / "SKILL.md").unlink()
    monkeypatch.setenv("SKILLPM_OFFLINE", "1")
    assert run_cli("sync").exit_code == 0
    assert (isolated.skills / KERNEL / "SKILL.md").is_file()


def test_outdated_offline_reads_the_caches_with_the_server_gone(isolated, served: Served, run_cli) -> None:
    """outdated takes --offline and --timeout as every command that reads a registry does (its
    'cannot connect' hint says to use --offline)."""
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", served.url).exit_code == 0
    served.stop()
    result = run_cli("outdated", "--offline", "--timeout", "5", "--json")
    assert result.exit_code == 0, (result.output, result.exception)
    (row,) = json.loads(result.stdout)
    assert row["name"] == KERNEL and row["wanted"] == row["installed"] and not row["behind"]


def test_offline_with_a_cold_cache_names_what_is_missing(isolated, served: Served, run_cli) -> None:
    result = run_cli("resolve", KERNEL, "--arch", "9.0", "--registry", served.url, "--offline")
    assert isinstance(result.exception, SkillpmError)
    assert result.exception.message == f"offline: {served.url}/config.json is not in the index cache"
    assert "without --offline" in result.exception.hint
    assert served.script.log == []


def test_offline_with_documents_but_no_artifact(isolated, served: Served, run_cli) -> None:
    assert run_cli("resolve", KERNEL, "--arch", "9.0", "--registry", served.url).exit_code == 0
    result = run_cli("install", KERNEL, "--arch", "9.0", "--registry", served.url, "--offline")
    assert isinstance(result.exception, SkillpmError)
    assert result.exception.message.startswith(f"offline: artifact {served.url}/artifacts/{KERNEL}/")
    assert not isolated.lockfile.exists()


# --- named registries, priority and the lockfile's pin ------------------------------------------------


@pytest.fixture
def second(tmp_path: Path, make_source, publish, fast_retries):
    """Another registry, served, holding kernel-helper 2.0.0 (other bytes) and only that."""
    from skillpm.registry import store

    root = tmp_path / "second"
    store.init(root, name="second")
    publish(root, make_source(tmp_path / "b", KERNEL, {"generic": {"extra.md": "2.0\n"}}, version="2.0.0"))
    server = Served(root)
    yield server
    server.stop()


def test_named_registries_priority_and_the_lockfile_pin(isolated, served: Served, second: Served, run_cli) -> None:
    assert run_cli("registry", "add-remote", "first", served.url, "--priority", "5").exit_code == 0
    assert run_cli("install", KERNEL, "--arch", "9.0").exit_code == 0  # only 'first' has it besides embedded
    assert lock_entries(isolated.lockfile)[0]["registry"] == served.url
    assert lock_entries(isolated.lockfile)[0]["version"] == "1.0.0"

    assert run_cli("registry", "add-remote", "second", second.url, "--priority", "10").exit_code == 0
    listed = run_cli("registry", "list", "--json")
    assert [row["name"] for row in __import__("json").loads(listed.output)] == ["second", "first", "embedded"]

    # The lockfile names 'first': sync must not even ask 'second', which now ranks higher.
    (isolated.skills / KERNEL / "SKILL.md").unlink()
    before = len(second.script.log)
    assert run_cli("sync").exit_code == 0
    assert second.script.log[before:] == []
    assert lock_entries(isolated.lockfile)[0]["version"] == "1.0.0"

    # A new install without --registry takes the highest priority that has the package...
    result = run_cli("install", KERNEL, "--arch", "9.0", "--dir", "other", "--json")
    assert result.exit_code == 0, result.output
    assert {entry["registry"] for entry in lock_entries(isolated.lockfile)} == {served.url, second.url}
    # ...and falls through to the next one for a package it lacks; --registry NAME picks one.
    assert run_cli("install", "doc-writer", "--arch", "9.0").exit_code == 0
    assert run_cli("resolve", KERNEL, "--arch", "9.0", "--registry", "first").output.startswith(f"{KERNEL} 1.0.0")
    assert run_cli("registry", "remove", "second").exit_code == 0
    assert run_cli("resolve", KERNEL, "--arch", "9.0").output.startswith(f"{KERNEL} 1.0.0")


def test_sync_fetches_in_parallel_and_a_failure_changes_nothing(
    isolated, served: Served, run_cli, snapshot
) -> None:
    for args in (["--dir", "a"], ["--dir", "b"], []):
        assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", served.url, *args).exit_code == 0
    assert run_cli("install", "doc-writer", "--arch", "9.0", "--registry", served.url).exit_code == 0
    for folder in ("a", "b"):
        (isolated.project / folder / KERNEL / "SKILL.md").write_text("edited\n")
    for cached in (isolated.cache / "artifacts").rglob("*"):
        if cached.is_file():
            cached.unlink()
    before = snapshot(isolated.project)
    served.always("doc-writer-0.2.0-generic.tar.gz", "corrupt")
    result = run_cli("sync")
    assert isinstance(result.exception, SkillpmError) and "digest mismatch" in result.exception.message
    assert snapshot(isolated.project) == before  # not even the skills before doc-writer were touched
    served.script.always.clear()
    assert run_cli("sync").exit_code == 0
    assert (isolated.project / "a" / KERNEL / "SKILL.md").read_text() != "edited\n"


# --- the console script: 'registry serve', and errors as one line ----------------------------------------


def test_registry_serve_then_install_from_it(isolated, registry: Path, run_skillpm) -> None:
    with registry_serve(registry) as (server, line):
        assert line.startswith("serving ") and " at http://127.0.0.1:" in line, line
        url = line.split(" at ", 1)[1].split()[0]
        done = run_skillpm("install", KERNEL, "--arch", "9.0", "--registry", url)
        assert done.returncode == 0, done.stderr
        assert lock_entries(isolated.lockfile)[0]["registry"] == url.rstrip("/")
        assert (isolated.skills / KERNEL / "references" / "hopper.md").is_file()
    assert server.returncode in (0, 130)
    assert "Traceback" not in server.stderr.read()


def test_console_script_unreachable_server_is_one_line(isolated, run_skillpm, monkeypatch) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("SKILLPM_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("SKILLPM_HTTP_RETRIES", "2")
    result = run_skillpm("install", KERNEL, "--arch", "9.0", "--registry", f"http://127.0.0.1:{port}/reg")
    assert_one_error(result, f"http://127.0.0.1:{port}/reg/config.json", "failed 1 time;", "cannot connect")
    assert not isolated.lockfile.exists()


def test_console_script_corrupt_download_is_one_line(isolated, served: Served, run_skillpm, snapshot) -> None:
    served.always(".tar.gz", "corrupt")
    result = run_skillpm("install", KERNEL, "--arch", "9.0", "--registry", served.url)
    assert_one_error(result, "digest mismatch")
    assert not isolated.lockfile.exists() and not isolated.skills.exists()


@pytest.mark.parametrize(
    ("url", "contains"),
    [
        ("http://example.org/registry", "SKILLPM_ALLOW_HTTP"),
        ("ftp://example.org/registry", "not supported"),
    ],
)
def test_insecure_or_unknown_urls_are_refused_before_any_request(isolated, run_skillpm, url, contains) -> None:
    result = run_skillpm("resolve", KERNEL, "--arch", "9.0", "--registry", url)
    assert_one_error(result)
    assert contains in result.stderr


def test_a_large_download_with_stderr_closed_installs(isolated, tmp_path: Path, make_source, publish) -> None:
    """`2>&-` (cron, daemons, CI wrappers): downloading an archive large enough for a progress bar asked a
    missing stderr whether it was a terminal, and the install failed with an AttributeError."""
    from skillpm.registry import store

    root = tmp_path / "big"
    store.init(root, name="big")
    noise = os.urandom(700_000).hex()  # hex packs to half: over 512 KiB, the size that shows a progress bar
    publish(root, make_source(tmp_path / "b", "big-skill", {"generic": {"assets/noise.txt": noise}}))
    server = Served(root)
    try:
        completed = subprocess.run(
            [test_cli_errors._console_script(), "install", "big-skill", "--arch", "9.0", "--registry", server.url],
            capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}, timeout=120,
            preexec_fn=test_cli_errors._without_stderr, cwd=isolated.project,
        )
    finally:
        server.stop()
    assert completed.returncode == 0, completed.stdout
    assert completed.stdout.startswith("installed big-skill 1.0.0"), completed.stdout
