"""Validate an assembled skill tree: its paths, its files, its SKILL.md, and its links."""

from __future__ import annotations

import os
import stat
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

from skillpm.portable import MAX_FILE_SIZE, MAX_MEMBERS, MAX_TOTAL_SIZE
from skillpm.reading import MAX_SKILL_MD_SIZE, read_regular_file
from skillpm.validation.findings import Finding, error
from skillpm.validation.frontmatter import parse_skill_md
from skillpm.validation.hidden import Named, is_hidden, left_out_findings
from skillpm.validation.links import check_links
from skillpm.validation.paths import check_paths
from skillpm.validation.spec import check_body_size, check_fields

SKILL_MD = "SKILL.md"

StrPath = str | os.PathLike[str]


def _inside(path: str, root: str) -> bool:
    """Whether the resolved ``path`` is ``root`` or lies under it (both resolved)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _in_git(path: str, root: str) -> bool:
    """Whether the resolved ``path``, under ``root``, lies in a ``.git`` folder below ``root`` (in any case,
    as a file system that ignores case finds it)."""
    return ".git" in path[len(root):].lower().split(os.sep)


class _Disk:
    """The real files of one tree: how findings name them, and what each one is."""

    def __init__(self, root: StrPath, links_within: StrPath | None = None) -> None:
        self.root = os.fspath(root)
        self.root_real = os.path.realpath(self.root)
        #: Where a link may lead: the root, and the folder the user named to widen it (if any).
        self.bounds = [self.root_real, *([os.path.realpath(links_within)] if links_within is not None else [])]
        self._prefix = self.root.rstrip(os.sep) + os.sep
        self._real_dirs = {self.root: self.root_real}
        #: Bytes of the files :meth:`problem` found nothing wrong with, in all.
        self.total_size = 0

    def _real_dir(self, head: str) -> str:
        """``os.path.realpath(head)``, resolving only the components that are links (upwards to the nearest
        folder already resolved, in a loop: a tree may nest a thousand deep)."""
        below: list[tuple[str, str]] = []
        while head not in self._real_dirs:
            parent, name = os.path.split(head)
            if not head.startswith(self._prefix) or name in ("", ".", "..") or os.path.islink(head):
                self._real_dirs[head] = os.path.realpath(head)
                break
            below.append((head, name))
            head = parent
        real = self._real_dirs[head]
        for path, name in reversed(below):
            real = self._real_dirs[path] = os.path.join(real, name)
        return real

    def shown(self, real: str) -> str:
        """``real`` as findings name it: relative to the root where it lies under it."""
        shown = real[len(self._prefix):] if real.startswith(self._prefix) else real
        return shown.replace(os.sep, "/")

    def problem(self, real: str) -> Finding | None:
        """An escaping link, an unreadable, special or too large file at ``real``, if any; else its size counts."""
        shown = self.shown(real)
        try:
            info = os.lstat(real)
            if stat.S_ISLNK(info.st_mode):
                target = os.path.realpath(real)
            else:
                head, name = os.path.split(real)
                target = os.path.join(self._real_dir(head), name)
            bound = next((bound for bound in self.bounds if _inside(target, bound)), None)
            if bound is None:
                elsewhere = ((f"; a skill whose {SKILL_MD} is a link elsewhere is a copy: validate or pack "
                              f"{os.path.dirname(target)!r} instead" if os.path.isfile(target) else ", where no file is")
                             if shown == SKILL_MD
                             else f" and {self.bounds[1]!r}" if len(self.bounds) > 1
                             else "; copy the file in, or name the folder it may lead into with --links-within DIR")
                return error(shown, None, "tree.link-escape",
                             f"{shown!r} resolves to {target!r}, outside the skill source{elsewhere}")
            if _in_git(target, bound):
                return error(shown, None, "tree.link-escape", f"{shown!r} resolves to {target!r}, in a .git folder")
            linked = stat.S_ISLNK(info.st_mode)
            if linked:
                info = os.stat(real)
        except OSError as exc:
            return error(shown, None, "tree.unreadable", f"cannot read {shown!r}: {exc.strerror}")
        if linked and stat.S_ISDIR(info.st_mode) and bound != self.root_real:
            return error(shown, None, "tree.link-escape",
                         f"{shown!r} is a link to the folder {target!r}, outside the skill source; --links-within "
                         "lets links to files lead there, not links to folders: link each file, or copy the folder in")
        if not stat.S_ISREG(info.st_mode):
            return error(shown, None, "tree.special-file",
                         f"{shown!r} is not a regular file (a device, fifo, socket or directory)")
        if info.st_size > MAX_FILE_SIZE:
            return error(shown, None, "tree.file-size",
                         f"{shown!r} is {info.st_size} bytes; an archive holds files of at most "
                         f"{MAX_FILE_SIZE} bytes")
        self.total_size += info.st_size
        return None


def validate_tree(
    files: Mapping[str, StrPath],
    *,
    root: StrPath,
    dir_name: str,
    strict: bool = False,
    plain: bool = False,
    links_within: StrPath | None = None,
) -> list[Finding]:
    """Validate a skill tree; the findings come sorted by file, line and rule.

    ``files`` maps each posix path of the tree as it will be installed to the real file
    under ``root`` (the skill source directory) that supplies it; ``dir_name`` is the
    directory name the skill installs as, which its ``name`` must equal, or with ``plain``
    the folder a plain skill sits in (see :func:`skillpm.validation.spec.check_fields`);
    ``strict`` holds the front matter to the specification as skills-ref does. A file that
    is a link must resolve inside ``root``, or inside ``links_within`` when given (a folder
    the user names, such as the repository whose shared files the skill links to), and
    never into a ``.git`` folder below either.
    """
    disk = _Disk(root, links_within)
    findings = check_paths({path: disk.shown(os.fspath(real)) for path, real in files.items()})
    broken: set[str] = set()
    for path, real in files.items():
        problem = disk.problem(os.fspath(real))
        if problem is not None:
            findings.append(problem)
            broken.add(path)
    if len(files) > MAX_MEMBERS:
        findings.append(error(".", None, "tree.file-count",
                              f"the tree has {len(files)} files; an archive holds at most {MAX_MEMBERS}"))
    if disk.total_size > MAX_TOTAL_SIZE:
        findings.append(error(".", None, "tree.total-size",
                              f"the tree's files are {disk.total_size} bytes in all; an archive holds at most "
                              f"{MAX_TOTAL_SIZE}"))
    if SKILL_MD not in files:
        findings.append(_missing_skill_md(files))
    elif SKILL_MD not in broken:
        real = os.fspath(files[SKILL_MD])
        shown = disk.shown(real)
        try:
            raw = read_regular_file(real, MAX_SKILL_MD_SIZE)
        except OSError as exc:
            findings.append(error(shown, None, "tree.unreadable",
                                  f"cannot read {shown!r}: {exc.strerror}"))
        else:
            if len(raw) > MAX_SKILL_MD_SIZE:
                findings.append(error(shown, None, "spec.skill-md.size",
                                      f"SKILL.md is larger than {MAX_SKILL_MD_SIZE} bytes; it is not read "
                                      "(the specification recommends under 5000 tokens)"))
            else:
                findings += check_skill_md(raw, file=shown, dir_name=dir_name, tree=files.keys(), strict=strict,
                                           plain=plain)
    return sorted(findings, key=Finding.sort_key)


def check_skill_md(
    raw: bytes, *, file: str, dir_name: str, tree: Collection[str], strict: bool = False, plain: bool = False
) -> list[Finding]:
    """The specification and link rules for one SKILL.md, given the paths of its tree."""
    skill_md, findings = parse_skill_md(raw, file=file)
    if skill_md.fields is not None:
        findings += check_fields(skill_md.fields, skill_md.key_lines, file=file, dir_name=dir_name, strict=strict,
                                 plain=plain)
    findings += check_body_size(skill_md, file=file)
    findings += check_links(skill_md.body, first_line=skill_md.body_line, tree=tree, file=file)
    return findings


def _missing_skill_md(names: Iterable[str]) -> Finding:
    """That the tree has no SKILL.md at its root, naming one of ``names`` spelt in another case."""
    near = [name for name in names if name.lower() == SKILL_MD.lower()]
    hint = f" (found {near[0]!r}: the name is case-sensitive)" if near else ""
    return error(SKILL_MD, None, "spec.skill-md.missing", f"the skill has no {SKILL_MD} at its root{hint}")


def validate_skill_dir(path: StrPath, *, strict: bool = False, links_within: StrPath | None = None) -> list[Finding]:
    """Validate a plain Agent Skills directory; its name is the skill's directory name.

    Hidden entries and ``__pycache__`` are left out unless SKILL.md names them, each with a
    ``tree.left-out`` warning (:mod:`skillpm.validation.hidden`). A link to a directory inside
    ``path`` is followed (once per target); one to a directory outside is kept as an entry, so
    that :func:`validate_tree` reports it as an escape (``links_within`` widens where links to
    files may lead, as there, not links to directories). A directory with nothing named SKILL.md
    is not a skill, and is not walked (it may be a home folder or a whole repository): the one
    finding says so.
    """
    root = os.fspath(path)
    if not os.path.isdir(root):
        what = "is not a directory" if os.path.exists(root) else "does not exist"
        return [error(".", None, "tree.root", f"{Path(root).as_posix()!r} {what}")]
    if not os.path.lexists(os.path.join(root, SKILL_MD)):
        try:
            names = os.listdir(root)
        except OSError:
            names = []
        return [_missing_skill_md(names)]
    dir_name = os.path.basename(os.path.abspath(root))
    files, left_out = skill_dir_files(root)
    findings = validate_tree(files, root=root, dir_name=dir_name, strict=strict, plain=True, links_within=links_within)
    findings += left_out_findings(left_out)
    return sorted(findings, key=Finding.sort_key)


def skill_dir_files(root: StrPath) -> tuple[dict[str, str], list[str]]:
    """The tree of a plain skill folder: relative posix path -> path on disk, and the hidden entries left out."""
    root = os.fspath(root)
    named = Named(root)
    root_real = ""
    files: dict[str, str] = {}
    left_out: list[str] = []
    seen: set[str] = set()
    pending = [(root, "")]
    while pending:
        directory, prefix = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                rel = prefix + entry.name
                if is_hidden(entry.name) and not named.keeps(rel):
                    left_out.append(rel)
                    continue
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, rel + "/"))
                    continue
                if entry.is_symlink() and _is_dir(entry):
                    if not root_real:
                        root_real = os.path.realpath(root)
                        seen.add(root_real)
                    target = os.path.realpath(entry.path)
                    if _inside(target, root_real):
                        if target not in seen:
                            seen.add(target)
                            pending.append((entry.path, rel + "/"))
                        continue
                files[rel] = entry.path
    return files, left_out


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """Whether ``entry`` leads to a directory; a link loop is not one (it is reported as unreadable)."""
    try:
        return entry.is_dir()
    except OSError:
        return False
