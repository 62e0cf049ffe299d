"""The environment skillpm gives the programs it runs (git and what git runs, docker credential helpers):
the user's, without the variables that hold skillpm's own secrets. Pure.

A registry token, an OCI password, a signing key's passphrase or an OIDC token is for skillpm alone;
git, ssh, a proxy command or a credential helper never needs one, and any of them may log its
environment or pass it on.
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
