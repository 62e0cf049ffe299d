"""How this process reaches registries: the switches ``--offline``, ``--timeout``, ``--plain-http`` and ``--json`` set.

Read by the backends that go over the network (:mod:`skillpm.registry.http`, ``.oci``) and by
the chain of configured registries (:mod:`skillpm.registry.chain`); set by the CLI.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

OFFLINE_ENV = "SKILLPM_OFFLINE"
#: What to do when --offline finds what a command needs missing from the caches.
OFFLINE_HINT = "run the command once without --offline (and without SKILLPM_OFFLINE=1) to fill the cache"


def _warn_on_stderr(message: str) -> None:
    from skillpm.display import LINE, clean

    sys.stderr.write(f"warning: {clean(message, LINE)}\n")  # quotes a server's words: shown escaped


class Settings:
    """How this process reaches registries; the CLI's ``--offline``, ``--timeout``, ``--plain-http`` and ``--json`` set these."""

    offline = False  # read only the index cache and the artifact cache (also $SKILLPM_OFFLINE=1)
    plain_http = False  # an oci:// registry on another host may be spoken to over plain http (--plain-http)
    progress = True  # download progress bars on stderr (only ever shown on a terminal)
    timeout: float | None = None  # seconds one HTTP request may take in all (else $SKILLPM_HTTP_TIMEOUT)
    started: float | None = None  # when the command started (time.monotonic()), for $SKILLPM_HTTP_DEADLINE
    warn: Callable[[str], None] = staticmethod(_warn_on_stderr)  # a registry skipped because it did not answer


settings = Settings()


def offline() -> bool:
    """Whether to use only cached documents and artifacts: ``--offline`` or ``$SKILLPM_OFFLINE=1``."""
    return settings.offline or os.environ.get(OFFLINE_ENV, "").lower() in ("1", "true", "yes")

