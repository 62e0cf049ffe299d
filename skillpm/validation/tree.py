"""Validate an assembled skill tree: its paths, its files, its SKILL.md, and its links."""

from __future__ import annotations

import os
import stat
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

from skillpm.containment import is_vcs_name
from skillpm.portable import MAX_FILE_SIZE, MAX_MEMBERS, MAX_TOTAL_SIZE
from skillpm.reading import MAX_SKILL_MD_SIZE, read_regular_file
from skillpm.realpaths import RealPaths
from skillpm.validation.findings import Finding, error
from skillpm.validation.folder import hidden_part, inside, walk_findings, walk_skill_folder
from skillpm.validation.frontmatter import parse_skill_md
from skillpm.validation.hidden import PYCACHE, is_hidden, left_out_findings
from skillpm.validation.links import check_links
from skillpm.validation.paths import check_paths
from skillpm.validation.spec import check_body_size, check_fields

SKILL_MD = "SKILL.md"

StrPath = str | os.PathLike[str]


class _Disk:
    """The real files of one tree: how findings name them, and what each one is."""

    def __init__(self, root: StrPath, links_within: StrPath | None = None) -> None:
        self.root = os.fspath(root)
        #: Each folder and link on the way to the tree's files resolved once (a tree may nest a thousand deep,
        #: and hold a link into each level).
        self._paths = RealPaths()
        self.root_real = self._paths.real(self.root)
        #: Where a link may lead: the root, and the folder the user named to widen it (if any).
        self.bounds = [self.root_real, *([self._paths.real(links_within)] if links_within is not None else [])]
        self._prefix = self.root.rstrip(os.sep) + os.sep
        #: Bytes of the files :meth:`problem` found nothing wrong with, in all.
        self.total_size = 0
        #: The tree's hidden folders and files where they lie (SKILL.md names them), as findings name them.
        self.kept: set[str] = set()

    def keep(self, shown: Iterable[str]) -> None:
        """Note the hidden folders and files on the paths ``shown`` (the tree's files where they lie)."""
        for path in shown:
            if "/." not in "/" + path and PYCACHE not in path:  # no hidden name (a short cut: paths may be long)
                continue
            parts = path.split("/")
            self.kept.update("/".join(parts[: index + 1]) for index, part in enumerate(parts) if is_hidden(part))

    def _keeps(self, bound: str, relative: str) -> bool:
        """Whether a link may lead to the hidden ``relative`` under ``bound``: the tree holds it where it lies,
        or it is a folder the skill itself lies in (``.claude`` of ``.claude/skills/x`` with --links-within)."""
        if bound == self.root_real:
            return relative in self.kept
        return inside(self.root_real, os.path.join(bound, relative))

    def shown(self, real: str) -> str:
        """``real`` as findings name it: relative to the root where it lies under it."""
        shown = real[len(self._prefix):] if real.startswith(self._prefix) else real
        return shown.replace(os.sep, "/")

    def _through(self, shown: str, target: str, bound: str) -> Finding | None:
        """That the file ``shown``, at ``target`` under ``bound`` after links, is reached through a link (to it, or to
        a folder on its way) into a version-control folder, or a hidden one the tree does not hold; else None."""
        relative = target[len(bound):].lstrip(os.sep).replace(os.sep, "/")
        part = hidden_part(relative, lambda path: self._keeps(bound, path)) if relative != shown else None
        if part is None:
            return None
        if is_vcs_name(part):
            return error(shown, None, "tree.link-escape", f"{shown!r} resolves to {target!r}, in a {part} folder")
        return error(shown, None, "tree.link-hidden",
                     f"{shown!r} resolves to {target!r}, through {part!r}: a hidden file or folder SKILL.md does not "
                     "name, which is left out of the skill, so no link may bring it in (name it in SKILL.md if the "
                     "skill needs it)")

    def problem(self, real: str) -> Finding | None:
        """An escaping link, an unreadable, special or too large file at ``real``, if any; else its size counts."""
        shown = self.shown(real)
        try:
            info = os.lstat(real)
            if stat.S_ISLNK(info.st_mode):
                target = self._paths.real(real)
            else:
                head, name = os.path.split(real)
                target = os.path.join(self._paths.real(head), name)
            # SKILL.md is the skill's own: one linked out of the root is a copy, whatever folder links may lead into
            bounds = self.bounds[:1] if shown == SKILL_MD else self.bounds
            bound = next((bound for bound in bounds if inside(target, bound)), None)
            if bound is None:
                elsewhere = ((f"; a skill whose {SKILL_MD} is a link elsewhere is a copy: validate or pack "
                              f"{os.path.dirname(target)!r} instead" if os.path.isfile(target) else ", where no file is")
                             if shown == SKILL_MD
                             else f" and {self.bounds[1]!r}" if len(self.bounds) > 1
                             else "; copy the file in, or name the folder it may lead into with --links-within DIR")
                return error(shown, None, "tree.link-escape",
                             f"{shown!r} resolves to {target!r}, outside the skill source{elsewhere}")
            through = self._through(shown, target, bound)
            if through is not None:
                return through
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
    the user names, such as the repository whose shared files the skill links to), never
    into a version-control folder below either, and never through a hidden name the tree
    does not itself hold (``notes.md -> .env``: SKILL.md does not name it, so it is left
    out, and no link may bring it in under another name).
    """
    disk = _Disk(root, links_within)
    shown = {path: disk.shown(os.fspath(real)) for path, real in files.items()}
    disk.keep(shown.values())
    findings = check_paths(shown)
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


def validate_skill_dir(
    path: StrPath, *, strict: bool = False, links_within: StrPath | None = None, leave_out: Collection[str] = ()
) -> list[Finding]:
    """Validate a plain Agent Skills directory; its name is the skill's directory name.

    Its tree is walked as :func:`~skillpm.validation.folder.walk_skill_folder` walks it (``leave_out``:
    relative paths left out without a word): each hidden entry left out is a ``tree.left-out`` warning
    (:mod:`skillpm.validation.hidden`), and each link to a folder dropped a ``tree.link-duplicate`` one.
    A link to a directory outside ``path`` is kept as an entry, so that :func:`validate_tree` reports
    it as an escape (``links_within`` widens where links to files may lead, as there, not links to
    directories). A directory with nothing named SKILL.md is not a skill, and is not walked (it may
    be a home folder or a whole repository): the one finding says so.
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
    from skillpm.validation.gitignored import ignored_findings

    dir_name = os.path.basename(os.path.abspath(root))
    tree = walk_skill_folder(root, leave_out=leave_out)
    findings = validate_tree(tree.files, root=root, dir_name=dir_name, strict=strict, plain=True,
                             links_within=links_within)
    findings += left_out_findings(tree.left_out) + walk_findings(tree) + ignored_findings(root, tree.files.values())
    return sorted(findings, key=Finding.sort_key)
