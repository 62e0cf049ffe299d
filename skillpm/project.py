"""Where the project is (the nearest folder, from the current one upwards, holding skills.lock or .git),
and where ``--global`` installs are recorded instead.

Only pathlib: ``info`` and ``verify`` read the project's policy without loading the
install pipeline.
"""

from __future__ import annotations

from pathlib import Path

LOCK_NAME = "skills.lock"
_PROJECT_MARKERS = (LOCK_NAME, ".git")


def find_project(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding skills.lock or .git; ``None`` when there is none."""
    start = start.resolve()
    return next(
        (folder for folder in (start, *start.parents) if any((folder / marker).exists() for marker in _PROJECT_MARKERS)),
        None,
    )


def find_project_root(start: Path) -> Path:
    """:func:`find_project`, else ``start`` itself (where ``install`` starts a project)."""
    return find_project(start) or start.resolve()


def user_lockfile_path() -> Path:
    """Where ``--global`` installs are recorded."""
    from skillpm.userdirs import user_path

    return user_path("data") / LOCK_NAME
