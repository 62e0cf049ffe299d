"""Installing from an HTTP registry that misbehaves: every install ends with the right bytes or changes nothing.

Each test installs ``kernel-helper`` (sm_90a) from a real server on 127.0.0.1
whose script injects a fault: transient ones (500, 429, slow, stalled, truncated)
must be retried into a correct install; permanent ones (corrupt or wrong bytes,
bad documents, a server that goes away) must fail with one line naming what and
where, leaving the project (skill directories and skills.lock) as it was.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import test_http_server

from skillpm.archive import extract
from skillpm.errors import SkillpmError

TEST_TIMEOUT = test_http_server.TEST_TIMEOUT
Served = test_http_server.Served
served = test_http_server.served  # the fixtures, shared
fast_retries = test_http_server.fast_retries

KERNEL = "kernel-helper"
ARTIFACT = f"{KERNEL}-1.0.0-sm_90a.tar.gz"
DOCUMENT = f"{KERNEL}.json"


@pytest.fixture
def project(isolated, served: Served, run_cli, snapshot):
    """A project with doc-writer installed from the server; returns a function that snapshots it."""
    result = run_cli("install", "doc-writer", "--arch", "9.0", "--registry", served.url)
    assert result.exit_code == 0, result.output
    return lambda: snapshot(isolated.project)


@pytest.fixture
def expected_tree(tmp_path: Path, registry: Path, snapshot) -> dict[str, bytes]:
    """The files the sm_90a variant of kernel-helper must install, from the archive on disk."""
    archive = next((registry / "artifacts").rglob(ARTIFACT))
    extract(archive.read_bytes(), tmp_path / "expected")
    return snapshot(tmp_path / "expected")


def install(run_cli, served: Served, *extra: str):
    return run_cli("install", KERNEL, "--arch", "9.0", "--registry", served.url, *extra)


def assert_clean_failure(result, *contains: str) -> str:
    """Non-zero exit through a SkillpmError whose message is one line holding every ``contains``."""
    assert result.exit_code != 0
    assert isinstance(result.exception, SkillpmError), repr(result.exception)
    message = result.exception.message
    assert "\n" not in message
    for text in contains:
        assert text in message, message
    return message


@pytest.mark.parametrize(
    ("suffix", "faults", "timeout"),
    [
        (ARTIFACT, ["500", "503"], None),
        (ARTIFACT, ["429"], None),
        (DOCUMENT, ["500", "429"], None),
        ("config.json", ["503"], None),
        (ARTIFACT, ["truncate", "truncate"], None),
        (DOCUMENT, ["truncate"], None),
        (ARTIFACT, ["slow"], TEST_TIMEOUT),
        (ARTIFACT, ["stall"], TEST_TIMEOUT),
        (DOCUMENT, ["stall"], TEST_TIMEOUT),
    ],
    ids=["5xx", "429", "doc-5xx-429", "config-503", "truncated", "doc-truncated", "slow", "stalled", "doc-stalled"],
)
def test_transient_faults_are_retried_into_a_correct_install(
    project, served: Served, run_cli, isolated, expected_tree, monkeypatch, suffix, faults, timeout
) -> None:
    if timeout:
        monkeypatch.setenv("SKILLPM_HTTP_TIMEOUT", timeout)
    served.fail(suffix, *faults)
    start = len(served.script.log)
    result = install(run_cli, served)
    assert result.exit_code == 0, (result.output, result.exception)
    installed = {path: data for path, data in _tree(isolated.skills / KERNEL).items()}
    assert installed == expected_tree
    assert len(served.script.requests(suffix, since=start)) == len(faults) + 1  # each fault cost one retry


def test_retry_after_is_honoured(project, served: Served, run_cli) -> None:
    served.fail(ARTIFACT, "429_wait")
    start = time.monotonic()
    assert install(run_cli, served).exit_code == 0
    assert time.monotonic() - start >= 0.9


def _corrupt_the_index_digest(registry: Path) -> None:
    document = next((registry / "index").rglob(DOCUMENT))
    data = json.loads(document.read_text())
    variant = next(v for v in data["versions"][0]["variants"] if v["target"] == "sm_90a")
    variant["sha256"] = "0" * 64
    document.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("suffix", "fault", "contains"),
    [
        (ARTIFACT, "corrupt", ("digest mismatch", ARTIFACT)),
        (ARTIFACT, "longer", ("digest mismatch", "larger than")),
        (ARTIFACT, "404", ("artifact", "missing", "HTTP 404")),
        (ARTIFACT, "500", ("failed 4 times", "HTTP 500", ARTIFACT)),
        (ARTIFACT, "truncate", ("failed 4 times", "closed the connection")),
        (DOCUMENT, "malformed", ("not valid JSON", DOCUMENT)),
        (DOCUMENT, "huge", ("larger than", DOCUMENT)),
        (DOCUMENT, "huge_unsized", ("larger than", DOCUMENT)),
        (DOCUMENT, "badgzip", ("not valid gzip", DOCUMENT)),
        ("config.json", "format2", ("format version 2 is not supported",)),
        (DOCUMENT, "format2", ("format version 2 is not supported",)),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_permanent_faults_fail_clearly_and_change_nothing(
    project, served: Served, run_cli, suffix, fault, contains
) -> None:
    before = project()
    served.always(suffix, fault)
    assert_clean_failure(install(run_cli, served), *contains)
    assert project() == before


def test_a_wrong_digest_in_the_index_installs_nothing(project, served: Served, registry: Path, run_cli) -> None:
    before = project()
    _corrupt_the_index_digest(registry)
    assert_clean_failure(install(run_cli, served), "digest mismatch", "0000000000000000")
    assert project() == before


def test_a_stall_longer_than_every_retry_fails_clearly(project, served: Served, run_cli, monkeypatch) -> None:
    monkeypatch.setenv("SKILLPM_HTTP_TIMEOUT", TEST_TIMEOUT)
    monkeypatch.setenv("SKILLPM_HTTP_RETRIES", "2")
    before = project()
    served.always(ARTIFACT, "stall")
    assert_clean_failure(install(run_cli, served), "failed 2 times", "timed out", "SKILLPM_HTTP_TIMEOUT")
    assert project() == before


def test_the_server_vanishing_mid_download_changes_nothing(project, served: Served, run_cli, isolated) -> None:
    before = project()
    served.fail(ARTIFACT, "vanish")
    # The cut-off reply is retried; the refused connection that follows (once the server is gone) is not.
    message = assert_clean_failure(install(run_cli, served), served.url, "cannot connect")
    assert "failed 4 times" not in message
    assert project() == before
    assert not list((isolated.cache / "artifacts").rglob(f"*{'sm_90a'}*"))


def test_nothing_is_cached_from_a_bad_download(project, served: Served, run_cli, isolated, expected_tree) -> None:
    served.fail(ARTIFACT, "corrupt")
    assert install(run_cli, served).exit_code != 0
    assert install(run_cli, served).exit_code == 0  # fetched again, not taken from the cache
    assert _tree(isolated.skills / KERNEL) == expected_tree


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
