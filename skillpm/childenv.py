"""The environment skillpm gives the programs it runs (git and what git runs, docker credential helpers):
the user's, without the variables that hold skillpm's own secrets. Pure.

A registry token, an OCI password, a signing key's passphrase or an OIDC token is for skillpm alone;
git, ssh, a proxy command or a credential helper never needs one, and any of them may log its
environment or pass it on.

Also the first lines of skillpm's own Python children (``python -c``), which end them with skillpm however it ends.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: skillpm's secret variables (each module names its own: a test checks the names agree).
SECRET_VARIABLES = frozenset({
    "SKILLPM_OCI_USERNAME", "SKILLPM_OCI_PASSWORD", "SKILLPM_SIGNING_KEY_PASSPHRASE", "SKILLPM_INDEX_KEY",
    "SIGSTORE_ID_TOKEN",
})
#: ``SKILLPM_TOKEN_<NAME>``: a registry's bearer token.
SECRET_PREFIX = "SKILLPM_TOKEN_"


def is_secret(name: str) -> bool:
    """Whether the variable ``name`` holds one of skillpm's secrets (case ignored, as Windows does)."""
    upper = name.upper()
    return upper in SECRET_VARIABLES or upper.startswith(SECRET_PREFIX)


def without_secrets(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``environ`` (default: this process's) without skillpm's secret variables."""
    return {name: value for name, value in (os.environ if environ is None else environ).items() if not is_secret(name)}


#: Python that a child (``python -c``) runs first, so that on Linux it ends with skillpm however that ends, even
#: killed: ``ends_with(parent, end)`` has ``end()`` (which must exit) called on SIGTERM, which the kernel sends when
#: the thread that started the child ends (``PR_SET_PDEATHSIG``: skillpm's main thread, so the process), and at once
#: when the process ``parent`` is gone already.
ENDS_WITH_PARENT = """
import os, sys
def ends_with(parent, end):
    if sys.platform.startswith("linux"):
        import ctypes, signal
        signal.signal(signal.SIGTERM, lambda *_: end())
        try:
            ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: SIGTERM when the parent is gone
        except (AttributeError, OSError):  # no prctl to be found: the child runs as it did without
            pass
        if os.getppid() != parent:  # gone already
            end()
"""
