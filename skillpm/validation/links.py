"""Relative links and file references in SKILL.md must point at files in the skill tree.

Checked: Markdown links and images (``[text](path)``), reference definitions
(``[id]: path``), HTML ``href``/``src`` attributes, and inline code spans holding a path
under ``scripts/``, ``references/`` or ``assets/``. Skipped: URLs with a scheme, pure
``#anchors``, and everything inside fenced code blocks.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection, Iterator
from urllib.parse import unquote

from skillpm.validation.findings import Finding, error

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_LINK = re.compile(
    r"\]\(\s*(<[^>]*>|[^\s)]+)"  # [text](target), ![alt](target)
    r"|^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)"  # [id]: target
    r"""|\b(?:href|src)\s*=\s*["']([^"']*)["']""",  # <a href="target">, <img src="target">
    re.IGNORECASE,
)
_CODE_PATH = re.compile(r"(?<![\w./~-])(?:\./)?((?:scripts|references|assets)/[\w.@+-][\w./@+-]*)")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:")  # two letters or more: not a drive
_DRIVE = re.compile(r"[A-Za-z]:[\\/]")


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


def references(body: str) -> Iterator[tuple[int, str]]:
    """Yield ``(offset, target)`` for every link target and code-span path in ``body``."""
    for offset, line in _body_lines(body):
        if "`" in line:
            for span in _CODE_SPAN.finditer(line):
                for match in _CODE_PATH.finditer(span.group(2)):
                    yield offset, match.group(1).rstrip(".")
            line = _CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)
        if "](" in line or "]:" in line or "=" in line:  # cheap test before the regex
            for match in _LINK.finditer(line):
                yield offset, match.group(match.lastindex or 0).strip("<>")


def _directories(paths: Collection[str]) -> set[str]:
    """Every directory that holds one of ``paths``."""
    dirs = set()
    for path in paths:
        parent = posixpath.dirname(path)
        while parent and parent not in dirs:
            dirs.add(parent)
            parent = posixpath.dirname(parent)
    return dirs


def _problem(target: str, tree: Collection[str], dirs: Collection[str]) -> tuple[str, str] | None:
    """The rule and message that a reference to ``target`` breaks, if any."""
    if target.startswith("#") or _SCHEME.match(target):
        return None
    path = unquote(target.split("#", 1)[0].split("?", 1)[0])
    if path.startswith(("/", "\\")) or _DRIVE.match(path):
        return "link.escape", f"link {target!r} is an absolute path; make it relative to SKILL.md"
    norm = posixpath.normpath(path) if path else "."
    if norm == ".." or norm.startswith("../"):
        return "link.escape", f"link {target!r} points outside the skill directory"
    if norm != "." and norm not in tree and norm not in dirs:
        return "link.missing", f"link {target!r}: no such file or directory in the skill"
    return None


def check_links(body: str, *, first_line: int, tree: Collection[str], file: str) -> list[Finding]:
    """Check every relative reference in a SKILL.md ``body`` against the ``tree`` paths.

    ``first_line`` is the file line the body starts on; SKILL.md sits at the tree root,
    so links resolve from there.
    """
    dirs = _directories(tree)
    findings = []
    for offset, target in references(body):
        problem = _problem(target, tree, dirs)
        if problem is not None:
            findings.append(error(file, first_line + offset, *problem))
    return findings
