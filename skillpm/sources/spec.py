"""What a requirement names when it is not a registry package: a source, parsed (pure logic).

The forms ``skillpm install`` accepts, as pip and the ``skills`` CLI spell them:

- a folder: ``./x``, ``../x``, ``/abs/x``, ``~/x``, ``.``, ``file:///abs/x``;
- a git repository: ``git+https://HOST/ORG/REPO@REF#subdirectory=skills/x``, ``git+ssh://``,
  ``git+file://``; as the ``skills`` CLI spells GitHub (vercel-labs/skills, ``src/source-parser.ts``):
  ``ORG/REPO``, ``ORG/REPO/PATH``, ``ORG/REPO@SKILL`` and ``https://github.com/ORG/REPO[/tree/REF[/PATH]]``
  (``https://gitlab.com/GROUP/REPO[/-/tree/REF[/PATH]]`` likewise);
- an archive URL: ``https://HOST/x.tar.gz`` (``.tgz``, ``.zip``), optionally ``#sha256=HEX``;
- any other ``https://`` URL: the site's well-known skills index (``/.well-known/skills/index.json``).

:attr:`SourceSpec.label` writes a spec back as one text that parses to the same spec;
skills.lock records the label of the *pinned* spec (a git commit, an archive digest), which
``sync`` opens again. Labels of kinds without a URL scheme of their own carry the kind as a
prefix (``dir+file://``, ``archive+https://``, ``well-known+https://``), so no label is ever
mistaken for a registry's (``embedded``, ``file://``, ``https://``).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from skillpm.containment import vcs_component
from skillpm.errors import SourceError
from skillpm.records import CheckedRecord, Record
from skillpm.registry.urls import shown_url
from skillpm.sources import KINDS, names_a_source
from skillpm.spelling import is_sha256

GIT_SCHEMES = ("https", "ssh", "file")
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".zip")
GITHUB = "https://github.com"
MAX_SOURCE_LENGTH = 2048
_COMMIT_RE = re.compile(r"[0-9a-f]{40}")
_REF_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/+-]{0,199}")
_SHORTHAND_RE = re.compile(
    r"(?P<repo>[A-Za-z0-9][A-Za-z0-9_.-]{0,99}/[A-Za-z0-9][A-Za-z0-9_.-]{0,99})"
    r"(?:/(?P<path>[^@]+)|@(?P<skill>[a-z0-9]+(?:-[a-z0-9]+)*))?"
)
_FORGES = ("github.com", "gitlab.com")
_FRAGMENT_KEYS = {"git": {"subdirectory"}, "archive": {"subdirectory", "sha256"}, "dir": set(), "well-known": set()}


class _SourceFields(Record):
    kind: str
    url: str
    ref: str | None = None
    subdirectory: str | None = None
    sha256: str | None = None
    skill: str | None = None
    tree: str | None = None


class SourceSpec(CheckedRecord, _SourceFields):
    """One source: its kind, its URL, and what pins or narrows it.

    ``url`` is the folder's ``file://`` URL, the repository's URL (without ``git+``),
    the archive's or the site's URL. ``ref`` (git): a branch, tag or commit; ``None``
    is the remote's HEAD. ``sha256`` (archive): the digest the download must have.
    ``subdirectory`` (git, archive): the folder inside that holds the skill(s). ``skill``: the
    one skill to take from it (``ORG/REPO@SKILL``); not part of the label, as skills.lock
    records each skill apart. ``tree`` (git): a forge page's ``REF/PATH`` (``/tree/feature/pdf/skills``),
    whose split into ref and folder only the remote's branches and tags tell
    (:func:`skillpm.sources.git.fetch_commit` settles it; ``ref`` and ``subdirectory`` hold the split at the
    first ``/`` until then); not part of the label either. Every way of making one checks the ref,
    subdirectory and digest.
    """

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> SourceSpec:
        spec = super().__new__(cls, *args, **kwargs)
        if spec.kind not in KINDS:
            raise SourceError(f"unknown source kind {spec.kind!r}")
        if spec.ref is not None:
            check_ref(spec.ref)
        if spec.subdirectory is not None:
            check_subdirectory(spec.subdirectory)
        if spec.sha256 is not None and not is_sha256(spec.sha256):
            raise SourceError(f"sha256 {spec.sha256[:80]!r} is not 64 lowercase hex digits")
        return spec

    @property
    def label(self) -> str:
        """The spec as one text :func:`parse_source` reads back to it."""
        fragment = [f"{key}={value}" for key, value in (("sha256", self.sha256), ("subdirectory", self.subdirectory))
                    if value is not None]
        tail = ("#" + "&".join(fragment)) if fragment else ""
        if self.kind == "git":
            return f"git+{self.url}" + (f"@{self.ref}" if self.ref else "") + tail
        return f"{self.kind}+{self.url}{tail}"

    @property
    def is_pinned(self) -> bool:
        """Whether the spec names fixed bytes: a git commit, an archive digest (a folder or an index never does)."""
        return bool(self.ref and _COMMIT_RE.fullmatch(self.ref)) or self.sha256 is not None

    def pinned(self, resolved: str) -> SourceSpec:
        """This spec pinned to ``resolved``: the commit a git ref named, or the digest an archive had."""
        if self.kind == "git":
            return self._replace(ref=resolved)
        if self.kind == "archive":
            return self._replace(sha256=resolved)
        return self

    @property
    def folder(self) -> Path:
        """The folder a ``dir`` source names."""
        return Path(unquote(urlsplit(self.url).path))

    def describe(self) -> str:
        """The spec as a user would type it (for messages): a folder's path; else the label without a
        kind prefix pip does not use."""
        if self.kind == "dir":
            return str(self.folder)
        return self.label.removeprefix(f"{self.kind}+") if self.kind != "git" else self.label


def check_ref(ref: str) -> str:
    """``ref`` when it is a plain branch, tag or commit name; SourceError otherwise (never an option)."""
    if ref.startswith("-"):
        raise SourceError(f"git ref {ref[:80]!r} starts with '-': it would be read as an option; refused")
    bad = ".." in ref or "//" in ref or ref.endswith((".lock", "/", ".")) or "@{" in ref
    if not _REF_RE.fullmatch(ref) or bad:
        raise SourceError(
            f"git ref {ref[:80]!r} is not a branch, tag or commit name",
            hint="letters, digits and . _ / + - only, as 'git check-ref-format' allows",
        )
    return ref


def check_subdirectory(path: str) -> str:
    """``path`` when it is a folder relative to the source's top, reached without ``..`` or ``.git``."""
    pure = PurePosixPath(path)
    if (
        not path or pure.is_absolute() or ".." in pure.parts or "\\" in path or vcs_component(pure)
        or not path.isprintable() or pure.as_posix() != path or path == "."
    ):
        raise SourceError(
            f"subdirectory {path[:200]!r} is not a relative folder inside the source",
            hint="write it as skills/NAME: no leading '/', no '..', no .git",
        )
    return path


def parse_source(text: str, *, cwd: Path | None = None) -> SourceSpec | None:
    """The source ``text`` names, or ``None`` when it is a registry requirement (``NAME``, ``NAME>=1``).

    A relative folder is made absolute against ``cwd`` (default: the current directory).
    """
    try:
        return _parse_source(text, cwd)
    except ValueError as error:  # urlsplit's: an IPv6 address without its ']'
        raise SourceError(f"source {_shown(text)} is malformed ({error})") from None


def _parse_source(text: str, cwd: Path | None) -> SourceSpec | None:
    if len(text) > MAX_SOURCE_LENGTH or not text.isprintable() or any(c.isspace() for c in text):
        if "/" in text or "://" in text:
            raise SourceError(f"source {shown_url(text)[:80]!r}... is too long or holds spaces or control characters")
        return None
    for kind in KINDS:
        if kind != "git" and text.startswith(f"{kind}+"):
            return _parse_url(kind, text[len(kind) + 1:])
    if text.startswith("git+"):
        return _parse_git(text[4:])
    if text.startswith("file://"):
        return _parse_url("dir", text)
    if text in (".", "..") or text.startswith(("./", "../", "/", "~")):
        return _folder(Path(text).expanduser(), cwd)
    if text.startswith("https://") and urlsplit(text).hostname in _FORGES:
        return _parse_forge(text)
    if text.startswith(("https://", "http://")):
        path = urlsplit(text).path.lower()
        return _parse_url("archive" if path.endswith(ARCHIVE_SUFFIXES) else "well-known", text)
    if "://" in text:
        raise SourceError(
            f"source scheme {text.split('://', 1)[0]!r} is not supported",
            hint="use ./folder, git+https://, git+ssh://, git+file://, an https:// archive URL, or ORG/REPO",
        )
    match = _SHORTHAND_RE.fullmatch(text)
    if match:
        repo = match["repo"].removesuffix(".git")
        return SourceSpec("git", f"{GITHUB}/{repo}", subdirectory=match["path"], skill=match["skill"])
    return None


def _parse_forge(text: str) -> SourceSpec:
    """A repository's page on GitHub or gitlab.com, maybe of a ref (``/tree/REF``) and a folder in it."""
    parts = urlsplit(text)
    path = parts.path.strip("/")
    if parts.hostname == "gitlab.com":
        repo, _, tree = path.partition("/-/tree/")
    else:
        segments = path.split("/")
        repo = "/".join(segments[:2])
        if len(segments) > 2 and (segments[2] != "tree" or len(segments) < 4):
            raise SourceError(f"{_shown(text)} is not a repository's page (nor of a ref in it: /tree/REF)")
        tree = "/".join(segments[3:])
    if repo.count("/") < 1 or parts.query or parts.fragment or parts.username is not None:
        raise SourceError(f"{_shown(text)} is not a repository's page", hint="or use git+https://HOST/ORG/REPO@REF")
    ref, _, folder = tree.partition("/")
    unsure = folder and not _COMMIT_RE.fullmatch(ref)  # a branch may hold '/': feature/pdf/skills/pdf
    return SourceSpec("git", f"https://{parts.hostname}/{repo.removesuffix('.git')}", ref=ref or None,
                      subdirectory=folder or None, tree=tree if unsure else None)


def _folder(path: Path, cwd: Path | None) -> SourceSpec:
    """A folder source; SourceError when the folder named is itself a link (:func:`~skillpm.containment.folder_link`)."""
    from skillpm.containment import folder_link

    absolute = path if path.is_absolute() else (cwd or Path.cwd()) / path
    linked = folder_link(absolute)
    if linked is not None:
        raise SourceError(linked[0], hint=linked[1])
    return SourceSpec("dir", absolute.resolve().as_uri())


def _fragment(kind: str, text: str) -> dict[str, str]:
    """The ``key=value&...`` pairs of a URL fragment, only the keys ``kind`` knows."""
    pairs: dict[str, str] = {}
    for item in filter(None, text.split("&")):
        key, equals, value = item.partition("=")
        if not equals or key not in _FRAGMENT_KEYS[kind] or key in pairs:
            known = ", ".join(sorted(_FRAGMENT_KEYS[kind])) or "none"
            raise SourceError(f"{kind} source fragment {item[:80]!r} is not understood (known keys: {known})")
        pairs[key] = unquote(value)
    return pairs


def _split(text: str) -> tuple[str, str]:
    url, _, fragment = text.partition("#")
    return url, fragment


def _shown(text: str) -> str:
    """A source as an error quotes it: never its user name, password or query (see :func:`shown_url`)."""
    return repr(shown_url(text)[:200])


def _parse_url(kind: str, text: str) -> SourceSpec:
    url, fragment = _split(text)
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:  # first: no other error may quote them
        raise SourceError(
            f"source URL {parts.scheme}://{parts.hostname}/... carries a user name or password; refused",
            hint="keep credentials out of URLs: skills.lock records this URL",
        )
    pairs = _fragment(kind, fragment)
    if kind == "dir":
        if parts.scheme != "file" or parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise SourceError(f"folder source {_shown(text)} is not a file:/// URL of an absolute path")
        return _folder(Path(unquote(parts.path)), None)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise SourceError(f"{kind} source {_shown(text)} is not an http(s):// URL")
    if parts.query:  # a signed download link's (S3, Azure SAS, GitLab private_token) is a secret
        raise SourceError(
            f"{kind} source {_shown(text)} has a query, which skills.lock would record "
            "(a signed or private_token link's is a secret); refused",
            hint="download the archive, unpack it and install the folder, or serve it at a URL without a query"
            if kind == "archive" else "name the site without a query",
        )
    return SourceSpec(kind, url.rstrip("/") if kind == "well-known" else url, **pairs)


def _parse_git(text: str) -> SourceSpec:
    url, fragment = _split(text)
    pairs = _fragment("git", fragment)
    parts = urlsplit(url)
    if parts.scheme not in GIT_SCHEMES:
        raise SourceError(
            f"git source scheme {parts.scheme!r} is not supported",
            hint="use git+https://, git+ssh:// or git+file://",
        )
    if parts.password is not None or (parts.scheme != "ssh" and parts.username is not None):
        raise SourceError(
            f"git source git+{parts.scheme}://{parts.hostname}/... carries credentials; refused",
            hint="skills.lock records this URL: let git's credential helper or ssh keys supply them",
        )
    path, ref = parts.path, None
    if "@" in path:
        path, ref = path.rsplit("@", 1)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not path.startswith("/"):
            raise SourceError(f"git source {_shown(text)} is not a git+file:/// URL of an absolute path")
        path = quote(str(Path(unquote(path)).resolve()))
    elif not parts.hostname or parts.query:
        raise SourceError(f"git source {_shown(text)} has no host, or has a query")
    if not path.strip("/"):
        raise SourceError(f"git source {_shown(text)} names no repository")
    return SourceSpec("git", parts._replace(path=path, fragment="").geturl(), ref=ref or None, **pairs)


def source_of_label(label: str) -> SourceSpec | None:
    """The spec a skills.lock ``registry`` value names when it is a source's label; ``None`` for a registry's."""
    if not names_a_source(label):
        return None
    spec = parse_source(label)
    if spec is None or spec.label != label:
        raise SourceError(f"skills.lock names source {label[:200]!r}, which is not written as skillpm writes it")
    return spec
