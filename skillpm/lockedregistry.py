"""How ``skills.lock`` names each entry's registry: a directory registry inside the lockfile's folder as
``./PATH`` relative to it, so that a cloned project finds it on another machine; read back, such a path must
stay inside that folder. In memory a registry is always ``embedded`` or a URL.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from skillpm.containment import outside_problem, vcs_component
from skillpm.errors import LockfileError
from skillpm.project import LOCK_NAME

#: How skills.lock starts a registry named relative to its own folder.
RELATIVE_REGISTRY = "./"


def stored_registry(label: str, root: Path) -> str:
    """How skills.lock records the registry ``label`` (``embedded`` or a URL) when it sits in folder ``root``.

    A ``file://`` registry inside ``root`` (after links) as ``./PATH`` relative to
    it, so the project can be cloned with its registry; any other as it is: a
    registry outside the project keeps its absolute ``file://`` URL, which names a
    folder of this machine only.
    """
    from urllib.parse import unquote, urlsplit

    if not label.startswith("file://"):
        return label
    folder = Path(unquote(urlsplit(label).path))
    try:
        relative = folder.relative_to(root.resolve())
    except ValueError:
        return label
    return RELATIVE_REGISTRY + relative.as_posix() if relative.parts else label


def relative_registry_problem(text: str) -> str | None:
    """Why the recorded registry ``./PATH`` may not name a folder inside the lockfile's, as written, or None.

    PATH is relative, without ``..``, ``.``, a backslash or a version-control folder:
    a cloned skills.lock must not make sync read a registry from elsewhere on the
    machine through a relative path (an absolute ``file://`` URL says plainly where
    it reads). The reason completes a sentence about the entry.
    """
    relative = PurePosixPath(text[len(RELATIVE_REGISTRY) :])
    parts = text[len(RELATIVE_REGISTRY) :].split("/")
    if relative.is_absolute() or not relative.parts or any(part in ("", ".", "..") for part in parts):
        return f"names registry {text[:200]!r}, which is not a folder inside the project reached without '..'"
    if "\\" in text or vcs_component(relative):
        return f"names registry {text[:200]!r}, which has a backslash or is inside a version-control folder"
    return None


def loaded_registry(text: str, root: Path) -> str:
    """The registry a recorded ``text`` names, as skillpm names it in memory: ``embedded`` or a URL.

    ``./PATH`` becomes the ``file://`` URL of that folder under ``root``, the
    lockfile's folder; LockfileError when it breaks :func:`relative_registry_problem`
    or leads out of ``root`` through a link.
    """
    if not text.startswith(RELATIVE_REGISTRY):
        return text
    problem = relative_registry_problem(text)
    resolved = (root / text[len(RELATIVE_REGISTRY) :]).resolve()
    if problem is None and outside_problem(resolved, root.resolve()) is not None:
        problem = f"names registry {text[:200]!r}, which leads out of the project through a link"
    if problem is not None:
        raise LockfileError(
            f"{root / LOCK_NAME}: an entry {problem}",
            hint="a relative registry in skills.lock names a folder inside the project; restore skills.lock from "
            "version control, or install again with --registry",
        )
    return resolved.as_uri()
