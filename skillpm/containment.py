"""Where skillpm may write: inside the intended root after links, and never in a version-control folder.

Every path that install, sync, update, remove and their crash recovery change
passes :func:`check_writable`: a cloned project may make its skills folder, or
any folder on the way to it, a link (``.claude/skills -> ../.git``), and a
skills.lock entry named ``hooks`` would then put files where git runs them.

The rules (:func:`vcs_problem`, :func:`outside_problem`) are pure over the path
as given and as resolved; :func:`check_writable` resolves the path and raises.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path, PurePath

from skillpm.errors import InstallError
from skillpm.spelling import DIGITS, only

#: Folders where a version-control tool keeps its configuration and hooks, which it runs.
VCS_FOLDERS = frozenset({".git", ".hg", ".svn", ".bzr", "_darcs", ".jj"})

#: Names a file system may also read as one of :data:`VCS_FOLDERS`: Windows drops trailing dots
#: and spaces and reads ``name:stream``; NTFS gives ``.git`` the short name ``GIT~1``.
_SHORT_NAMED = ("git", "hg", "svn", "bzr", "darcs", "jj")  # NAME~N: what NTFS may shorten them to


def is_vcs_name(name: str) -> bool:
    """Whether a file system may read the file or folder ``name`` as a version-control folder (any case)."""
    folded = name.split(":", 1)[0].rstrip(". ").casefold()
    short, tilde, number = folded.partition("~")
    return folded in VCS_FOLDERS or (short in _SHORT_NAMED and bool(tilde) and only(number, DIGITS))


def vcs_component(path: PurePath) -> str | None:
    """The first component of ``path`` that names a version-control folder, or None."""
    return next((part for part in path.parts if is_vcs_name(part)), None)


def vcs_problem(path: Path, resolved: Path) -> str | None:
    """Why ``path`` (which resolves to ``resolved``) lies in a version-control folder, or None.

    Either spelling counts: as given, or after links. The reason completes a
    sentence whose subject is the path.
    """
    for shown, candidate in (("", path), ("after links ", resolved)):
        vcs = vcs_component(candidate)
        if vcs is not None:
            return f"is {shown}inside the version-control folder {vcs!r} ({str(candidate)[:200]})"
    return None


def resolves_inside(path: Path, root: Path) -> bool:
    """Whether ``path``, after links, lies in ``root`` (after links too); a loop of links does not."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except RuntimeError:  # Path.resolve() through a loop of links (Python 3.11, 3.12; OSError from 3.13)
        return False


def real_folder(root: Path, relative: str) -> Path | None:
    """``root / relative`` when it and every folder on the way are real folders, not links (which a cloned
    repository may point anywhere: ``.claude`` -> the user's own ``~/.claude``); else None."""
    folder = root
    try:
        for part in Path(relative).parts:
            folder = folder / part
            if folder.is_symlink() or not folder.is_dir():
                return None
    except OSError:  # a name too long for the file system (ENAMETOOLONG): no such folder
        return None
    return folder


def folder_link(folder: Path) -> tuple[str, str] | None:
    """Why skillpm will not read or write the skill folder ``folder`` (a path the user named): it is itself a link,
    which a cloned repository may point at the user's own files (``skills/notes -> ~/.claude/skills/private``);
    as ``(message, hint)``, else None. Links above it, and the folders the user chose to name, are the user's own."""
    if not folder.is_symlink():
        return None
    from skillpm.display import clean

    target = clean(os.path.realpath(folder), 200)
    return (f"{clean(str(folder), 200)} is a link to {target}; skillpm does not take a skill folder that is a link, "
            "which a cloned repository may point at your own files",
            f"if you mean that folder, name it: {target}")


def outside_problem(resolved: Path, root: Path) -> str | None:
    """Why the resolved path ``resolved`` is not inside the resolved project folder ``root``, or None."""
    if resolved.is_relative_to(root):
        return None
    return f"is outside the project {str(root)[:200]} (after links it is {str(resolved)[:200]!r})"


def check_writable(path: Path, *, root: Path, allow_outside: bool) -> None:
    """Raise InstallError unless skillpm may write ``path``.

    ``path`` is resolved with every link on the way, itself included. It must not
    lie in a version-control folder (:func:`vcs_problem`), whatever the flags, and
    must stay inside ``root`` after links (:func:`outside_problem`) unless ``allow_outside``.
    """
    resolved = path.resolve()
    problem = vcs_problem(path.absolute(), resolved)
    hint = "skillpm never writes into .git, .hg or .svn (their hooks run code); point the folder elsewhere"
    if problem is None and not allow_outside:
        problem = outside_problem(resolved, root.resolve())
        hint = "a cloned skills.lock or a linked folder may lead anywhere; if you mean it, pass --allow-outside"
    if problem is not None:
        raise InstallError(f"{str(path)[:200]} {problem}; nothing was changed", hint=hint)


def check_folder(folder: Path, *, root: Path, allow_outside: bool) -> None:
    """:func:`check_writable`, and ``folder`` is, or can become, a folder (the nearest of it and the folders it
    is in that is there is one): checked before anything is made on the way to it."""
    check_writable(folder, root=root, allow_outside=allow_outside)
    nearest = next(path for path in (folder, *folder.parents) if os.path.lexists(path))
    if not nearest.is_dir():
        raise InstallError(
            f"{str(nearest)[:200]} is not a folder, so nothing can be put in it; nothing was changed",
            hint="move it away, or choose another folder (--dir) or other agents (--agent)",
        )


@functools.lru_cache(maxsize=1 << 16)  # more folders than a lockfile can name: comparing each entry's with every
def folded(relative: str) -> str:      # other's (install, sync) folds each once, not once per comparison
    """``relative`` as a case-insensitive, normalising file system (macOS, Windows) compares it: Unicode's
    canonical caseless match (The Unicode Standard, 3.13, D145: NFD(casefold(NFD(x)))). Casefolding
    before decomposing is not enough: it turns U+0345 (a combining mark) into a letter before the
    marks are put in order, so that U+1FB4 and U+1FB3 U+0301, one name in NFC, fold apart."""
    if relative.isascii():  # the same, faster: ASCII is its own NFD, and casefolds as it lowercases
        return relative.lower()
    import unicodedata

    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", relative).casefold())
