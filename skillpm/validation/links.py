"""Relative links and file references in SKILL.md must point at files in the skill tree.

Checked: Markdown links and images (``[text](path)``), reference definitions
(``[id]: path``), HTML ``href``/``src`` attributes, and inline code spans holding a path
under ``scripts/``, ``references/`` or ``assets/``. Skipped: URLs with a scheme, pure
``#anchors``, Claude Code's slash-command links (``/plugin:skill``), globs and placeholders
(``scripts/check_*.py``, ``references/<name>.md``, a link to ``task.{id}.md`` that is not a
file), everything inside fenced code blocks, and GitHub's footnotes (``[^1]: text``).

A path may start with the skill folder's placeholder, which the agent replaces with the
folder: Claude Code's ``${CLAUDE_SKILL_DIR}`` (https://code.claude.com/docs/en/skills,
"Available string substitutions") and OpenClaw's ``{baseDir}``
(https://docs.openclaw.ai/tools/skills); it is checked as the path after it. Claude Code's
``${CLAUDE_PLUGIN_ROOT}`` names the plugin the skill ships in, not the skill: a warning.

Only a real link to a missing file (named with an extension, ``x.md``, or as a path into a
folder the skill has or the specification names, ``references/x``) is an error; a link to words
(``[title](url)``, a template's placeholder, ``[0,2,4](MON/WED/FRI)`` in prose) is a warning,
and so is a link by an absolute path, which names no file of the skill, or into a hidden folder the skill
does not have (``.dbt-wiki/lineage.md``: the state a skill keeps in the user's project). A code span
may name a path in the user's project (``./scripts/deploy.sh``) or an example, so a missing
one is a warning, unless it differs only in case from a file of the skill (it then clearly
names that file, and breaks on case-sensitive file systems). A link into a sibling folder
(``../other-skill/x.md``) is a warning: it works where that skill is installed beside this one.
"""

from __future__ import annotations

import posixpath
import re
from collections import deque
from collections.abc import Collection, Iterator, Mapping
from urllib.parse import unquote

from skillpm.containment import is_vcs_name
from skillpm.validation.findings import Finding, Severity

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_BACKTICKS = re.compile(r"`+")
_LINK = re.compile(
    r"\]\(\s*(<[^>]*>|[^\s)]+)"  # [text](target), ![alt](target)
    r"|^ {0,3}\[(?!\^)[^\]]+\]:\s*(<[^>]*>|\S+)"  # [id]: target, not a footnote [^id]: text
    r"""|\b(?i:href|src)\s*=\s*["']([^"']*)["']""",  # <a href="target">, <img SRC="target">; the case of the
)  # attribute's name only (IGNORECASE on the whole pattern doubles the time it takes to compile)
_SKILL_DIR_PLACEHOLDER = r"(?:\$\{CLAUDE_SKILL_DIR\}|\{baseDir\})/"  # the agent puts the skill folder here
_SKILL_DIR = re.compile(_SKILL_DIR_PLACEHOLDER)
_PLUGIN_ROOT = "${CLAUDE_PLUGIN_ROOT}"
#: The folders the specification names: a path into one names a file of the skill even when the folder is missing.
_SKILL_FOLDERS = ("scripts", "references", "assets")
_CODE_PATH = re.compile(
    rf"(?<![\w./~-])(\./|{_SKILL_DIR_PLACEHOLDER})?((?:{'|'.join(_SKILL_FOLDERS)})/[\w.@+-][\w./@+-]*)([*?<>{{}}\[]?)"
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:")  # two letters or more: not a drive
_DRIVE = re.compile(r"[A-Za-z]:[\\/]")
_SLASH_COMMAND = re.compile(r"/[\w.-]+(?::[\w.-]+)?")  # Claude Code's /skill or /plugin:skill
#: A glob or placeholder in a link that names no file (``references/*.md``, ``task.{id}.md``): no file of
#: a valid skill has ``*?<>`` in its name (tree.unsafe-name), and one with braces would have been found.
_PATTERN = re.compile(r"[*?<>{}]")

LINK, CODE = "link", "code"


def _body_lines(body: str) -> Iterator[tuple[int, str]]:
    """Yield ``(offset, line)`` for each body line outside fenced code blocks."""
    fence = ""
    for offset, line in enumerate(body.split("\n")):
        match = _FENCE.match(line)
        if fence:
            if match and match.group(1).startswith(fence) and not line[match.end():].strip():
                fence = ""
        elif match:
            fence = match.group(1)
        else:
            yield offset, line


def code_spans(line: str) -> Iterator[tuple[int, int, str]]:
    """``(start, end, content)`` of each code span of ``line``, left to right, by CommonMark's rule
    (spec 0.31.2, 6.1 "Code spans"): a run of backticks opens a span that the next run of exactly
    its length closes, and a run with none after it is text.

    One pass over the runs: each is looked at once as an opener and dropped once as a closer (a
    pattern that let any shorter opener or longer closer be tried backtracked over the whole line
    for every run, minutes on a line of runs of falling length).
    """
    runs = [(match.start(), match.end()) for match in _BACKTICKS.finditer(line)]
    later: dict[int, deque[int]] = {}  # run length -> the indexes of the runs of that length, in order
    for index, (start, end) in enumerate(runs):
        later.setdefault(end - start, deque()).append(index)
    index = 0
    while index < len(runs):
        start, end = runs[index]
        same = later[end - start]
        while same and same[0] <= index:
            same.popleft()
        if not same:
            index += 1
            continue
        close = same.popleft()
        yield start, runs[close][1], line[end : runs[close][0]]
        index = close + 1


def _blanked(line: str, spans: list[tuple[int, int, str]]) -> str:
    """``line`` with each of its code ``spans`` made spaces, so that no link is found inside one."""
    pieces, last = [], 0
    for start, end, _ in spans:
        pieces += [line[last:start], " " * (end - start)]
        last = end
    return "".join(pieces) + line[last:]


def references(body: str) -> Iterator[tuple[int, str, str]]:
    """Yield ``(offset, target, kind)`` for every link target (:data:`LINK`) and code-span path (:data:`CODE`).

    A code-span path written as a glob or a placeholder is not yielded; one starting with
    ``./`` is yielded with it.
    """
    for offset, line in _body_lines(body):
        if "`" in line:
            spans = list(code_spans(line))
            for _, _, content in spans:
                for match in _CODE_PATH.finditer(content):
                    if not match.group(3):
                        yield offset, (match.group(1) or "") + match.group(2).rstrip("."), CODE
            line = _blanked(line, spans)
        if "](" in line or "]:" in line or "=" in line:  # cheap test before the regex
            for match in _LINK.finditer(line):
                yield offset, match.group(match.lastindex or 0).strip("<>"), LINK


def _directories(paths: Collection[str]) -> set[str]:
    """Every directory that holds one of ``paths``."""
    dirs = set()
    for path in paths:
        parent = posixpath.dirname(path)
        while parent and parent not in dirs:
            dirs.add(parent)
            parent = posixpath.dirname(parent)
    return dirs


Problem = tuple[str, Severity, str]


def _problem(
    target: str, kind: str, paths: Collection[str], folded: dict[str, str], by_name: Mapping[str, list[str]]
) -> Problem | None:
    """The rule, severity and message that a reference of ``kind`` to ``target`` breaks, if any.

    ``paths`` holds every path of the tree, files and folders; ``folded`` maps each, case-folded, to itself;
    ``by_name`` maps each file's name to the files of that name.
    """
    if target.startswith("#") or _SCHEME.match(target) or _SLASH_COMMAND.fullmatch(target):
        return None
    if target.startswith(_PLUGIN_ROOT):
        return "link.plugin", Severity.WARNING, (
            f"{kind} {target!r} names a file of the Claude Code plugin the skill ships in, not of the skill: "
            "it works only where the skill is installed as part of that plugin"
        )
    placeholder = _SKILL_DIR.match(target)
    path = unquote(target[placeholder.end() if placeholder else 0:].split("#", 1)[0].split("?", 1)[0])
    if path.startswith(("/", "\\")) or _DRIVE.match(path):
        return "link.escape", Severity.WARNING, (
            f"link {target!r} is an absolute path, so no file of the skill: installed, it leads to that path "
            "on the user's machine (a link to a file of the skill is relative to SKILL.md)"
        )
    norm = posixpath.normpath(path) if path else "."
    if norm == ".." or norm.startswith("../"):
        sibling = next((part for part in norm.split("/") if part != ".."), "")
        needs = f": it works only where the skill {sibling!r} is installed beside this one" if sibling else ""
        return "link.sibling", Severity.WARNING, f"{kind} {target!r} leaves the skill{needs}"
    if norm == "." or norm in paths or (kind == LINK and _PATTERN.search(norm)):
        return None
    near = folded.get(norm.casefold())
    if near is not None:
        return "link.missing", Severity.ERROR, (
            f"{kind} {target!r}: no such file in the skill, but {near!r} differs only in case "
            "(case-sensitive file systems will not find it)"
        )
    hidden, slash, _ = norm.partition("/")
    if slash and hidden.startswith(".") and hidden not in paths and not is_vcs_name(hidden):
        # .dbt-wiki/lineage.md: state the skill keeps in the user's project (its own hidden folders are left out;
        # a version-control folder always is, so a link into one names a file that is never installed: an error)
        return "link.mention", Severity.WARNING, (
            f"{kind} {target!r} leads into the hidden folder {hidden!r}, which the skill does not have: a path in the "
            "user's project needs no change; if the skill needs the file, add it (SKILL.md names it, so it is kept)"
        )
    if kind == LINK and ("." in norm or _in_a_skill_folder(norm, paths)):
        meant = _meant(norm, by_name)
        return "link.missing", Severity.ERROR, (
            f"link {target!r}: no such file or directory in the skill" + (f"; did you mean {meant!r}?" if meant else "")
        )
    if kind == LINK:  # [title](url), [tool](what-it-does), [0,2,4](MON/WED/FRI): words, not a file's name
        return "link.mention", Severity.WARNING, (
            f"link {target!r} is not a file of the skill, nor named like one (no extension, and in no folder "
            "the skill has); if the skill needs it, add it"
        )
    return "link.mention", Severity.WARNING, (
        f"`{target}` is not a file of the skill; if the skill needs it, add it (a path in the user's "
        "project, or an example, needs no change)"
    )


def _meant(norm: str, by_name: Mapping[str, list[str]]) -> str | None:
    """The one file of the skill a link to the missing ``norm`` may mean: the only file of its name
    (``reference/x.md`` for ``references/x.md``), else the file it names but for its last extension
    (``x.md.j2``, a template, for the ``x.md`` made of it)."""
    alike = by_name.get(posixpath.basename(norm), [])
    if len(alike) == 1:
        return alike[0]
    stem, extension = posixpath.splitext(norm)
    return stem if extension and stem in by_name.get(posixpath.basename(stem), []) else None


def _in_a_skill_folder(norm: str, paths: Collection[str]) -> bool:
    """Whether ``norm`` is a path into a folder the skill has, or into one the specification names."""
    folder, slash, _ = norm.partition("/")
    return bool(slash) and (folder in paths or folder in _SKILL_FOLDERS)


def check_links(body: str, *, first_line: int, tree: Collection[str], file: str) -> list[Finding]:
    """Check every relative reference in a SKILL.md ``body`` against the ``tree`` paths.

    ``first_line`` is the file line the body starts on; SKILL.md sits at the tree root,
    so links resolve from there.
    """
    paths = set(tree) | _directories(tree)
    folded = {path.casefold(): path for path in sorted(paths, reverse=True)}  # the first in order wins
    by_name: dict[str, list[str]] = {}
    for path in tree:
        by_name.setdefault(posixpath.basename(path), []).append(path)
    findings = []
    for offset, target, kind in references(body):
        problem = _problem(target, kind, paths, folded, by_name)
        if problem is not None:
            rule, severity, message = problem
            findings.append(Finding(file, first_line + offset, rule, severity, message))
    return findings
