"""The skills CLI's GitHub shorthands, installed end to end over git and TLS, with no request leaving the machine.

``ORG/REPO@SKILL``, ``ORG/REPO/PATH`` and a github.com page URL (as vercel-labs/skills'
``src/source-parser.ts`` reads them) become ``https://github.com/ORG/REPO``, which real git
clones. The test's git configuration (``$GIT_CONFIG_GLOBAL``, which skillpm passes to git) sends
``https://github.com/`` to a TLS server on 127.0.0.1 that runs ``git http-backend`` (git's smart
HTTP protocol, as GitHub speaks it: skillpm's shallow fetch needs it), its certificate trusted
through ``$GIT_SSL_CAINFO``; skillpm's own rules (only the URL's own transport, no prompts, a
deadline) apply unchanged.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sources_helpers import GIT_TIMEOUT, git, skills_repo
from test_sources import assert_one_error, lock_entries
from tls_helpers import self_signed


class _GitHttpBackend(BaseHTTPRequestHandler):
    """Each request answered by ``git http-backend`` (CGI) for the repositories under ``root``."""

    def __init__(self, *args: object, root: Path, **kwargs: object) -> None:
        self.root = root
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def do_GET(self) -> None:
        self._backend()

    def do_POST(self) -> None:
        self._backend()

    def _backend(self) -> None:
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        env = {"PATH": os.environ["PATH"], "GIT_PROJECT_ROOT": str(self.root), "GIT_HTTP_EXPORT_ALL": "1",
               "PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": self.command,
               "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
               "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
               "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""), "REMOTE_ADDR": "127.0.0.1"}
        done = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, timeout=GIT_TIMEOUT)
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        fields = [line.decode().partition(":") for line in head.split(b"\r\n") if line]
        status = next((int(value.split()[0]) for name, _, value in fields if name.lower() == "status"), 200)
        self.send_response(status)
        for name, _, value in fields:
            if name.lower() != "status":
                self.send_header(name, value.strip())
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def github(isolated, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``github.com/org/repo`` as git sees it: a repository of two skills, tagged v1, served on 127.0.0.1."""
    repo = skills_repo(isolated.tmp / "work")
    served = isolated.tmp / "served"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(repo), str(served / "org" / "repo")],
                   check=True, capture_output=True, timeout=GIT_TIMEOUT)
    cert, key = self_signed(isolated.tmp, "github")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_GitHttpBackend, root=served))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    config = isolated.tmp / "gitconfig"
    config.write_text(f'[url "https://127.0.0.1:{server.server_address[1]}/"]\n\tinsteadOf = https://github.com/\n')
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_SSL_CAINFO", str(cert))
    yield repo
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_org_repo_at_skill_installs_that_skill_and_sync_fetches_it_again(github: Path, isolated, run_cli) -> None:
    result = run_cli("install", "org/repo@one-skill")
    assert result.exit_code == 0, result.output
    installed = isolated.skills / "one-skill" / "SKILL.md"
    assert installed.read_bytes() == (github / "skills" / "one-skill" / "SKILL.md").read_bytes()
    [entry] = lock_entries(isolated.project)
    assert entry["source"]["kind"] == "git" and "https://github.com/org/repo" in entry["source"]["url"]
    assert entry["source"]["resolved"] == git(github, "rev-parse", "HEAD")
    shutil.rmtree(isolated.skills / "one-skill")
    synced = run_cli("sync")
    assert synced.exit_code == 0, synced.output
    assert installed.is_file()


@pytest.mark.parametrize("form", ["org/repo/skills/two-skill", "https://github.com/org/repo/tree/v1/skills/two-skill"])
def test_a_folder_of_the_repository_installs_by_path_or_page_url(github: Path, isolated, run_cli, form: str) -> None:
    result = run_cli("install", form)
    assert result.exit_code == 0, result.output
    assert (isolated.skills / "two-skill" / "SKILL.md").is_file()
    assert not (isolated.skills / "one-skill").exists()


def test_a_page_of_a_branch_with_a_slash_is_split_where_the_repository_has_that_branch(
    github: Path, isolated, run_cli, snapshot
) -> None:
    """``/tree/feature/pdf/skills/two-skill`` is the page of branch ``feature/pdf`` (found in a hostile review: read as
    ref ``feature`` and folder ``pdf/skills/two-skill``, so a tag ``feature`` with that folder decided what was
    installed). The split follows the repository's branches and tags; a page that splits at two is refused."""
    served = isolated.tmp / "served" / "org" / "repo"
    git(served, "branch", "feature/pdf", "v1")
    result = run_cli("install", "https://github.com/org/repo/tree/feature/pdf/skills/two-skill")
    assert result.exit_code == 0, result.output
    assert (isolated.skills / "two-skill" / "SKILL.md").is_file()
    [entry] = lock_entries(isolated.project)
    assert entry["source"]["url"] == "git+https://github.com/org/repo@feature/pdf#subdirectory=skills/two-skill"

    work = isolated.tmp / "evil"  # a tag 'feature' holding pdf/skills/two-skill
    skills_repo(work, ("two-skill",), tag="")
    (work / "repo" / "pdf").mkdir()
    (work / "repo" / "skills").rename(work / "repo" / "pdf" / "skills")
    git(work / "repo", "add", "-A")
    git(work / "repo", "commit", "--quiet", "-m", "look-alike")
    git(work / "repo", "push", "--quiet", str(served), "HEAD:refs/tags/feature")
    before = snapshot(isolated.project)
    refused = run_cli("install", "https://github.com/org/repo/tree/feature/pdf/skills/two-skill", "--force")
    assert_one_error(refused, contains="starts with several refs (feature, feature/pdf) of the repository; refused")
    assert snapshot(isolated.project) == before
    missing = run_cli("install", "https://github.com/org/repo/tree/nothing/skills/two-skill")
    assert_one_error(missing, contains="starts with no branch or tag of the repository")


def test_a_repository_github_does_not_have_is_one_error(github: Path, isolated, run_cli, snapshot) -> None:
    before = snapshot(isolated.project)
    result = run_cli("install", "org/no-such-repo")
    assert_one_error(result, contains="git fetch of git+https://github.com/org/no-such-repo failed")
    assert "not found" in result.exception.message
    assert snapshot(isolated.project) == before
