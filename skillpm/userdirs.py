"""skillpm's per-user folders (config, data, cache), as platformdirs names them, found cheaply.

Importing platformdirs (with the tempfile and shutil it imports) was the costliest
import of ``skillpm resolve``. On Linux its answer depends only on two environment
variables, so it is worked out here when they are plain; everywhere else, and for any
unusual value, platformdirs decides. ``tests/test_userdirs.py`` holds the two to the
same answer.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Literal

#: Each user folder's XDG variable and default, as platformdirs reads them on Linux.
_XDG = {
    "config": ("XDG_CONFIG_HOME", "~/.config"),
    "data": ("XDG_DATA_HOME", "~/.local/share"),
    "cache": ("XDG_CACHE_HOME", "~/.cache"),
}


def user_path(kind: Literal["config", "data", "cache"]) -> Path:
    """skillpm's user ``config``, ``data`` or ``cache`` folder: ``platformdirs.user_<kind>_path("skillpm")``.

    On Linux, when ``$XDG_<KIND>_HOME`` is an absolute path, or unset with ``$HOME``
    absolute: ``$XDG_<KIND>_HOME/skillpm``, else ``~/.config/skillpm`` (``~/.local/share``,
    ``~/.cache``). In every other case, platformdirs' own answer.
    """
    variable, default = _XDG[kind]
    xdg = os.environ.get(variable, "")
    if sys.platform == "linux" and not hasattr(sys, "getandroidapilevel") and "ANDROID_DATA" not in os.environ:
        if os.path.isabs(xdg):
            return Path(xdg, "skillpm")
        if not xdg and os.path.isabs(os.environ.get("HOME", "")):
            return Path(os.path.expanduser(default), "skillpm")
    import platformdirs

    return getattr(platformdirs, f"user_{kind}_path")("skillpm", appauthor=False)
