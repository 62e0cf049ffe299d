"""``skills.lock``: what is installed where, pinned by digest.

A TOML file at the project root (for ``--global`` installs, in the user's
data directory). One ``[[skill]]`` table per installed directory, sorted.
Every entry, read or about to be written, passes :func:`entry_problem`: a
cloned skills.lock is hostile, and a registry's values reach it too.

A directory registry inside the lockfile's folder is written ``./PATH``, relative
to it, so a cloned project finds it on another machine, and read back must stay
inside that folder (:mod:`skillpm.lockedregistry`). In memory an entry always names
its registry as ``embedded`` or a URL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from skillpm.containment import folded, vcs_component
from skillpm.errors import LockfileError, TargetError
from skillpm.lockedregistry import RELATIVE_REGISTRY, loaded_registry, stored_registry
from skillpm.reading import MAX_LOCKFILE_SIZE
from skillpm.records import CheckedRecord, Record
from skillpm.spelling import is_lowercase_words, is_plain_version, is_sha256
from skillpm.targets import Capability, capability_as_written, parse_target
from skillpm.tomlfile import read_toml_file

LOCK_VERSION = 1
_HEADER = "# Written by skillpm; do not edit by hand. 'skillpm sync' installs exactly this.\n"
MAX_NAME_LENGTH = 64  # as the index allows (skillpm.index.model)
MAX_VERSION_LENGTH = 256
MAX_TEXT_LENGTH = 4096  # a registry label, an artifact path, a directory, a requirement
MAX_FOLDER_NAME_BYTES = 255  # one folder's name in UTF-8: what Linux, macOS and Windows file systems hold


class LockedSource(Record):
    """Where a skill from a source beyond a registry came from (its ``[skill.source]`` table).

    ``url`` is the source as asked for (``git+https://...@v1``); ``resolved`` the git commit or
    archive sha256 it was fetched at (none for a folder or a well-known index); ``tree`` the
    sha256 of the installed tree (:func:`skillpm.sources.packed.tree_digest`). The entry's
    ``registry`` is the source's label pinned to ``resolved``: what ``sync`` fetches again.
    """

    kind: str
    url: str
    resolved: str | None
    tree: str


class _SkillFields(Record):
    name: str
    version: str
    target: str
    sha256: str
    registry: str  # "embedded" or a URL
    path: str  # the artifact's path in the registry
    directory: str  # where it is installed: relative to the lockfile's folder, or absolute
    capability: str  # the compute capability it was resolved for, or "none"
    requirement: str  # what the user asked for, re-resolved by 'update'
    source: LockedSource | None = None  # a source beyond a registry (skillpm.sources); None: a registry
    agents: tuple[str, ...] = ()  # the agents that read this directory, directly or through links
    links: tuple[str, ...] = ()  # links skillpm made to it, from agents' folders (paths as for directory)


class LockedSkill(CheckedRecord, _SkillFields):
    """One installed skill directory; every way of making one refuses what skills.lock could not record."""

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> LockedSkill:
        skill = super().__new__(cls, *args, **kwargs)
        problem = entry_problem(_table(skill))
        if problem is not None:
            raise LockfileError(
                f"refusing to record {skill.name[:80]!r} in skills.lock: {problem}",
                hint="the registry serves values skillpm cannot record; tell its owner",
            )
        return skill

    def recorded_capability(self) -> Capability | None:
        """The capability this skill was resolved for (``None``: no GPU)."""
        return None if self.capability == "none" else capability_as_written(self.capability)


def entry_problem(fields: Mapping[str, object]) -> str | None:
    """What is wrong with a lockfile entry's ``fields`` (a TOML table or a LockedSkill's), or None.

    Every field is printable text (no NUL, newline or escape sequence) of bounded
    length; the name is a package name; the version a PEP 440 version spelled
    without whitespace; the target one :func:`~skillpm.targets.parse_target`
    spells so; the capability ``none`` or one as ``X.Y``; the sha256 64 lowercase
    hex digits; the artifact path relative without ``..``; and the directory,
    which sync and remove replace or delete, the skill's own folder reached
    without ``..``, a backslash or a version-control folder (``.git/hooks``);
    so is each of the optional ``links``. The optional ``agents`` are agent names.
    An optional ``source`` table must agree with the registry label (:func:`source_problem`).
    The reason completes a sentence about the entry.
    """
    if not set(_TEXT_FIELDS) <= {key for key in fields if key != "source"} <= set(_FIELDS):
        return (
            f"must have the fields {', '.join(_TEXT_FIELDS)} and may have {', '.join(_LIST_FIELDS)} "
            "(and a source table)"
        )
    if fields.get("source") is not None:
        problem = source_problem(fields["source"], fields["registry"])
        if problem is not None:
            return problem
    for key, value in ((key, value) for key, value in fields.items() if key != "source"):
        values = value if key in _LIST_FIELDS else [value]
        if not isinstance(values, (list, tuple)) or len(values) > MAX_LIST_LENGTH:
            return f"has {key} that is not a list of at most {MAX_LIST_LENGTH} items"
        if not all(isinstance(item, str) and item.isprintable() and 0 < len(item) <= MAX_TEXT_LENGTH for item in values):
            return f"has a {key} that is empty, too long, not text, or with a control character"
    text: Mapping[str, str] = fields  # type: ignore[assignment]  # all str, checked above
    name = text["name"]
    if not is_lowercase_words(name) or len(name) > MAX_NAME_LENGTH:
        return f"has an invalid package name {name[:80]!r}"
    if len(text["version"]) > MAX_VERSION_LENGTH or not _is_pep440(text["version"]):
        return f"has a version {text['version'][:80]!r} that is not a PEP 440 version without spaces"
    if not is_sha256(text["sha256"]):
        return "has a sha256 that is not 64 lowercase hex digits"
    if not _is_spelled(parse_target, text["target"]):
        return f"has an unknown GPU target {text['target'][:80]!r}"
    if text["capability"] != "none" and capability_as_written(text["capability"]) is None:
        return f"has a capability {text['capability'][:80]!r} that is neither 'none' nor one such as '9.0'"
    if text["registry"] != text["registry"].strip() or not text["requirement"].startswith(name):
        return "has a registry with surrounding spaces, or a requirement for another package"
    artifact = PurePosixPath(text["path"])
    if artifact.is_absolute() or ".." in artifact.parts or "\\" in text["path"]:
        return f"has an artifact path {text['path'][:200]!r} that is not relative to its registry"
    for place in (text["directory"], *fields.get("links", ())):
        path = PurePosixPath(place)
        if path.name != name or ".." in path.parts or vcs_component(path) or "\\" in place:
            return (
                f"installs {name!r} into {place[:200]!r}, which is not a folder named {name!r} "
                "reached without '..', a version-control folder (.git, .hg, .svn) or a backslash"
            )
        # One spelling per folder: no '.', empty or trailing-slash parts, no name Windows shortens ('x.', 'x ').
        if str(path) != place or place.startswith("//") or any(part.endswith((".", " ")) for part in path.parts):
            return f"installs {name!r} into {place[:200]!r}, which is not written plainly (as 'a/b/{name}')"
        if any(len(part.encode()) > MAX_FOLDER_NAME_BYTES for part in path.parts):  # and folded() stays cheap
            return f"installs {name!r} into {place[:200]!r}, a folder name over {MAX_FOLDER_NAME_BYTES} bytes no file system holds"
    if not all(is_lowercase_words(agent) and len(agent) <= MAX_NAME_LENGTH for agent in fields.get("agents", ())):
        return "has an agent name that is not lowercase words joined by '-'"
    return None


def source_problem(table: object, registry: object) -> str | None:
    """What is wrong with an entry's ``source`` table, given the entry's ``registry``, or None.

    Exactly the fields of :class:`LockedSource`, each printable bounded text; a known kind;
    the tree digest 64 hex digits; and the registry the label of that kind of source pinned
    to ``resolved`` (a commit or digest when the kind has one), so what ``sync`` fetches is
    what the table says.
    """
    from skillpm.errors import SourceError
    from skillpm.sources.spec import source_of_label

    if not isinstance(table, Mapping) or not {"kind", "url", "tree"} <= set(table) <= set(_SOURCE_FIELDS):
        return f"has a source that is not a table of {', '.join(_SOURCE_FIELDS)}"
    if not all(isinstance(v, str) and v.isprintable() and 0 < len(v) <= MAX_TEXT_LENGTH for v in table.values()):
        return "has a source field that is empty, too long, not text, or with a control character"
    if not is_sha256(table["tree"]):
        return "has a source tree digest that is not 64 lowercase hex digits"
    try:
        spec = source_of_label(registry) if isinstance(registry, str) else None
        asked = source_of_label(table["url"])
    except SourceError as error:
        return f"has a source label that cannot be read: {error.message}"
    pin = None if spec is None else {"git": spec.ref, "archive": spec.sha256}.get(spec.kind)
    if spec is None or spec.kind != table["kind"] or table.get("resolved") != pin or (pin and not spec.is_pinned):
        return f"has a {str(table['kind'])[:20]!r} source whose registry label {str(registry)[:200]!r} is not pinned to it"
    if asked is None or asked._replace(ref=None, sha256=None) != spec._replace(ref=None, sha256=None):
        return f"has a source url {str(table['url'])[:200]!r} that is not its registry label but for the pin"
    return None


def _is_spelled(parse: Callable[[str], object], text: str) -> bool:
    """Whether ``text`` parses and is written as skillpm writes what it parses to."""
    try:
        return str(parse(text)) == text
    except TargetError:
        return False


def _is_pep440(text: str) -> bool:
    """Whether ``text`` is a PEP 440 version with nothing around it: one of the plain forms most versions take
    (:func:`~skillpm.spelling.is_plain_version`: told without packaging's grammar, whose compiling costs a
    lockfile command 9 M instructions), else as packaging's parser reads it, which allows spaces and a newline
    around one."""
    if is_plain_version(text):
        return True
    from packaging.version import InvalidVersion, Version

    if text != text.strip():
        return False
    try:
        Version(text)
    except (InvalidVersion, ValueError):  # ValueError: more digits than Python turns into an int
        return False
    return True


_FIELDS = tuple(field for field in LockedSkill._fields if field != "source")
_SOURCE_FIELDS = LockedSource._fields
_LIST_FIELDS = ("agents", "links")
_TEXT_FIELDS = tuple(field for field in _FIELDS if field not in _LIST_FIELDS)
MAX_LIST_LENGTH = 256  # agents or links of one entry: the table has 80 agents


class Lockfile(Record):
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
        """A copy with ``skill`` added, replacing any entry for the same directory (also spelt in another case
        or Unicode form, one folder on macOS and Windows)."""
        place = folded(skill.directory)
        others = [s for s in self.skills if folded(s.directory) != place]
        return Lockfile(self.path, tuple(sorted([*others, skill], key=_order)))

    def at(self, skill: LockedSkill) -> LockedSkill | None:
        """The entry for ``skill``'s directory (also spelt in another case or Unicode form), if any."""
        place = folded(skill.directory)
        return next((s for s in self.skills if folded(s.directory) == place), None)

    def pins(self, skill: LockedSkill) -> bool:
        """Whether the entry for ``skill``'s directory already records its archive (the same sha256)."""
        found = self.at(skill)
        return found is not None and found.sha256 == skill.sha256

    def without(self, skills: list[LockedSkill]) -> Lockfile:
        return Lockfile(self.path, tuple(s for s in self.skills if s not in skills))

    def named(self, name: str) -> list[LockedSkill]:
        return [s for s in self.skills if s.name == name]


def update_source(skill: LockedSkill) -> str:
    """Where ``update`` (and ``outdated``) resolve ``skill`` again: its registry, or its source as first
    asked for (a git ref, not the commit ``sync`` keeps to)."""
    return skill.source.url if skill.source else skill.registry


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
    entries = data.get("skill", [])
    if not isinstance(entries, list):  # skill = 5: TOML's [[skill]] tables are a list
        raise LockfileError(f"{path}: 'skill' is not an array of tables ([[skill]])",
                            hint="restore skills.lock from version control, or delete it and install again")
    skills = []
    for index, table in enumerate(entries):
        table = _with_loaded_registry(table, path.parent)
        problem = entry_problem(table) if isinstance(table, dict) else "is not a table"
        if problem is not None:
            raise LockfileError(
                f"{path}: entry {index + 1} {problem}",
                hint="restore skills.lock from version control, or delete it and install again",
            )
        source = table.get("source")
        fields = {key: tuple(value) if key in _LIST_FIELDS else value for key, value in table.items()}
        skills.append(LockedSkill(**{**fields, "source": LockedSource(**{"resolved": None, **source}) if source else None}))
    shared = _shared_place(skills, path.parent)
    if shared is not None:
        raise LockfileError(
            f"{path}: two entries install into one folder ({shared[0][:200]!r} and {shared[1][:200]!r}: one "
            "after links, or where case and Unicode form do not count, as on macOS and Windows)",
            hint="restore skills.lock from version control, or delete it and install again",
        )
    return Lockfile(path, tuple(sorted(skills, key=_order)))


def _shared_place(skills: list[LockedSkill], root: Path) -> tuple[str, str] | None:
    """Two folders of different entries (their directories and links, under ``root``) that are one: where
    they lead (an absolute spelling, a link the project holds), compared as macOS and Windows compare names."""
    import os

    seen: dict[str, tuple[str, int]] = {}
    for index, skill in enumerate(skills):
        for place in (skill.directory, *skill.links):
            first = seen.setdefault(folded(os.path.realpath(os.path.join(root, place))), (place, index))
            if first[1] != index:
                return first[0], place
    return None


def write_lockfile(lockfile: Lockfile) -> None:
    """Write the lockfile atomically."""
    import tomli_w

    from skillpm.atomic import atomic_write  # here: list, outdated and resolve only read it

    lockfile = _with_stored_registries(lockfile)
    document = {"version": LOCK_VERSION, "skill": [_table(skill) for skill in lockfile.skills]}
    atomic_write(lockfile.path, (_HEADER + tomli_w.dumps(document)).encode())


def _table(skill: LockedSkill) -> dict[str, object]:
    """``skill`` as its TOML table: a registry's entry without a source table, none of its fields empty."""
    table = {key: value for key, value in skill._asdict().items() if value != ()}  # no agents or links: left out
    source = table.pop("source")
    if source is not None:
        table["source"] = {key: value for key, value in source._asdict().items() if value is not None}
    return table


def _with_loaded_registry(table: object, root: Path) -> object:
    """A lockfile table as read, its registry as :func:`loaded_registry` names it (other tables as they are)."""
    registry = table.get("registry") if isinstance(table, dict) else None
    if not isinstance(registry, str) or not registry.startswith(RELATIVE_REGISTRY):
        return table
    return {**table, "registry": loaded_registry(registry, root)}


def _with_stored_registries(lockfile: Lockfile) -> Lockfile:
    """``lockfile`` with each registry as :func:`stored_registry` records it."""
    return Lockfile(lockfile.path, tuple(_stored_skill(skill, lockfile.root) for skill in lockfile.skills))


@lru_cache(maxsize=4096)
def _stored_skill(skill: LockedSkill, root: Path) -> LockedSkill:
    """``skill`` as written in the lockfile in ``root``; remembered, as sync writes the lockfile once per skill."""
    registry = stored_registry(skill.registry, root)
    return skill if registry == skill.registry else skill._replace(registry=registry)
