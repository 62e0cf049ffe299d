"""``skills.lock``: what is installed where, pinned by digest.

A TOML file at the project root (for ``--global`` installs, in the user's
data directory). One ``[[skill]]`` table per installed directory, sorted.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from skillpm.atomic import atomic_write
from skillpm.errors import LockfileError
from skillpm.tomlfile import read_toml_file

LOCK_NAME = "skills.lock"
LOCK_VERSION = 1
_HEADER = "# Written by skillpm; do not edit by hand. 'skillpm sync' installs exactly this.\n"
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_NAME_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_LOCKFILE_SIZE = 4 * 1024 * 1024



@dataclass(frozen=True)
class LockedSkill:
    """One installed skill directory."""

    name: str
    version: str
    target: str
    sha256: str
    registry: str  # "embedded" or a URL
    path: str  # the artifact's path in the registry
    directory: str  # where it is installed: relative to the lockfile's folder, or absolute
    capability: str  # the compute capability it was resolved for, or "none"
    requirement: str  # what the user asked for, re-resolved by 'update'


@dataclass(frozen=True)
class Lockfile:
    """The lockfile's path and entries."""

    path: Path
    skills: tuple[LockedSkill, ...] = ()

    @property
    def root(self) -> Path:
        return self.path.parent

    def directory(self, skill: LockedSkill) -> Path:
        """The absolute install directory of ``skill``."""
        return self.root / skill.directory

    def with_skill(self, skill: LockedSkill) -> Lockfile:
        """A copy with ``skill`` added, replacing any entry for the same directory."""
        others = [s for s in self.skills if s.directory != skill.directory]
        return Lockfile(self.path, tuple(sorted([*others, skill], key=_order)))

    def without(self, skills: list[LockedSkill]) -> Lockfile:
        return Lockfile(self.path, tuple(s for s in self.skills if s not in skills))

    def named(self, name: str) -> list[LockedSkill]:
        return [s for s in self.skills if s.name == name]


def _order(skill: LockedSkill) -> tuple[str, str]:
    return (skill.name, skill.directory)


def read_lockfile(path: Path) -> Lockfile:
    """Read ``path``; an absent file is an empty lockfile."""
    try:
        data = read_toml_file(path, limit=MAX_LOCKFILE_SIZE)
    except FileNotFoundError:
        return Lockfile(path)
    except (ValueError, OSError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise LockfileError(
            f"{path} is not a readable lockfile: {reason}",
            hint="restore it from version control, or delete it and install again",
        ) from None
    if data.get("version") != LOCK_VERSION:
        raise LockfileError(f"{path} has lockfile version {data.get('version')!r}; this skillpm reads {LOCK_VERSION}")
    fields = list(LockedSkill.__dataclass_fields__)
    skills = []
    for index, table in enumerate(data.get("skill", [])):
        if not isinstance(table, dict) or sorted(table) != sorted(fields):
            raise LockfileError(f"{path}: entry {index + 1} must have exactly the fields {', '.join(fields)}")
        # Printable only: no NUL (which no path may hold) and no escape sequences for 'list' to print.
        printable = all(isinstance(table[key], str) and table[key].isprintable() for key in fields)
        if not printable or not _SHA256_RE.fullmatch(table["sha256"]):
            raise LockfileError(f"{path}: entry {index + 1} ({str(table.get('name'))[:80]!r}) is malformed")
        # sync and remove replace or delete this directory: it must be the skill's own folder,
        # and never one that git runs files from (.git/hooks); a backslash is a separator on Windows.
        directory = PurePosixPath(table["directory"])
        hidden_by_git = any(part.lower() == ".git" for part in directory.parts)
        if not _NAME_RE.fullmatch(table["name"]) or len(table["name"]) > 64:
            raise LockfileError(f"{path}: entry {index + 1} has an invalid package name {table['name'][:80]!r}")
        if directory.name != table["name"] or ".." in directory.parts or hidden_by_git or "\\" in table["directory"]:
            raise LockfileError(
                f"{path}: entry {index + 1} installs {table['name']!r} into {table['directory'][:200]!r}, "
                f"which is not a folder named {table['name']!r} reached without '..', '.git' or a backslash",
                hint="restore skills.lock from version control, or delete it and install again",
            )
        skills.append(LockedSkill(**table))
    return Lockfile(path, tuple(sorted(skills, key=_order)))


def write_lockfile(lockfile: Lockfile) -> None:
    """Write the lockfile atomically."""
    import tomli_w

    document = {"version": LOCK_VERSION, "skill": [asdict(skill) for skill in lockfile.skills]}
    atomic_write(lockfile.path, (_HEADER + tomli_w.dumps(document)).encode())
