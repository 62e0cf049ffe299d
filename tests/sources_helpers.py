"""Builders for the source tests: plain skill folders, real git repositories, archives of skills."""

from __future__ import annotations

import io
import subprocess
import tarfile
import zipfile
from pathlib import Path

from conftest import skill_md

GIT_TIMEOUT = 30


def plain_skill(parent: Path, name: str, body: str = "Body.") -> Path:
    """A plain SKILL.md folder ``parent/name`` (no skillpm.toml)."""
    folder = parent / name
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(skill_md(name, f"Helps with {name}. Use when testing.", body))
    return folder


def git(repo: Path, *args: str) -> str:
    """``git ARGS`` in ``repo`` (a test's own repository), with an identity and a timeout."""
    completed = subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=repo, capture_output=True, text=True, timeout=GIT_TIMEOUT, check=True,
    )
    return completed.stdout.strip()


def skills_repo(base: Path, names: tuple[str, ...] = ("one-skill", "two-skill"), tag: str = "v1") -> Path:
    """A git repository at ``base/repo`` holding ``skills/<name>`` for each name, committed and tagged."""
    repo = base / "repo"
    repo.mkdir(parents=True)
    git(repo, "init", "--quiet", "--initial-branch=main")
    for name in names:
        plain_skill(repo / "skills", name)
    commit_all(repo, "skills", tag)
    return repo


def commit_all(repo: Path, message: str, tag: str | None = None) -> str:
    """Commit everything in ``repo`` (and move ``tag`` to it); the commit."""
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", message)
    if tag:
        git(repo, "tag", "--force", tag)
    return git(repo, "rev-parse", "HEAD")


def tar_gz(files: dict[str, bytes]) -> bytes:
    """A gzip'd tar of ``files`` (path -> content), regular files only."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, content in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    return buffer.getvalue()


def skill_files(name: str, prefix: str = "") -> dict[str, bytes]:
    """The files of plain skill ``name`` under ``prefix``, for an archive."""
    return {f"{prefix}{name}/SKILL.md": skill_md(name, f"Helps with {name}. Use when testing.", "Body.").encode()}
