"""How this process reaches registries: the switches ``--offline``, ``--timeout``, ``--plain-http`` and ``--json``
set, and the ``$SKILLPM_HTTP_*`` variables (a request's timeout, the command's deadline, retries).

Read by the backends that go over the network (:mod:`skillpm.registry.http`, ``.oci``) and by
the chain of configured registries (:mod:`skillpm.registry.chain`); set by the CLI.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from skillpm.errors import RegistryError

if TYPE_CHECKING:
    from skillpm.registry.transport import Deadline
    from skillpm.retry import RetryPolicy

TIMEOUT_ENV = "SKILLPM_HTTP_TIMEOUT"  # seconds one request may take in all (also --timeout)
DEADLINE_ENV = "SKILLPM_HTTP_DEADLINE"  # seconds from a command's start by which its requests must end
DEFAULT_TIMEOUT = 60.0
DEFAULT_DEADLINE = 300.0
_MAX_SECONDS = 24 * 3600.0
RETRIES_ENV = "SKILLPM_HTTP_RETRIES"
BACKOFF_ENV = "SKILLPM_HTTP_BACKOFF"
OFFLINE_ENV = "SKILLPM_OFFLINE"
#: What to do when --offline finds what a command needs missing from the caches.
OFFLINE_HINT = "run the command once without --offline (and without SKILLPM_OFFLINE=1) to fill the cache"


def _warn_on_stderr(message: str) -> None:
    from skillpm.display import LINE, clean
    from skillpm.stderr import to_stderr

    to_stderr(f"warning: {clean(message, LINE)}")  # quotes a server's words: shown escaped


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


def _env_number(name: str, default: float) -> float:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise RegistryError(f"${name} must be a number of seconds or a count, got {text!r}") from None
    if not math.isfinite(value) or not 0 <= value <= _MAX_SECONDS:
        raise RegistryError(f"${name} must be a number from 0 to {_MAX_SECONDS:g}, got {text!r}")
    return value


def _env_seconds(name: str, default: float) -> float:
    """A positive number of seconds from ``$name``, else ``default``."""
    value = _env_number(name, default)
    if value <= 0:
        raise RegistryError(f"${name} must be more than 0 seconds, got {os.environ.get(name)!r}")
    return value


def request_timeout() -> float:
    """Seconds one request may take in all: --timeout, else ``$SKILLPM_HTTP_TIMEOUT``, else 60."""
    return settings.timeout or _env_seconds(TIMEOUT_ENV, DEFAULT_TIMEOUT)


def command_deadline() -> Deadline:
    """When every request of this command must be done by: ``$SKILLPM_HTTP_DEADLINE`` seconds from its start."""
    from skillpm.registry.transport import Deadline

    budget = _env_seconds(DEADLINE_ENV, DEFAULT_DEADLINE)
    return Deadline((settings.started or time.monotonic()) + budget, budget, DEADLINE_ENV)


def unanswered_by(deadline: Deadline) -> str:
    """Why work that had to end by the command's ``deadline`` (:func:`command_deadline`) was given up."""
    return f"no answer within the command's deadline of {deadline.seconds:g} s (${deadline.setting})"


def retry_policy_from_env() -> RetryPolicy:
    """5 attempts from a 0.5 s backoff, at most 30 s apart (Retry-After included), overridden by
    ``$SKILLPM_HTTP_RETRIES`` and ``$SKILLPM_HTTP_BACKOFF``."""
    from skillpm.retry import RetryPolicy

    attempts = max(1, int(_env_number(RETRIES_ENV, 5)))
    return RetryPolicy(attempts=attempts, backoff=_env_number(BACKOFF_ENV, 0.5), max_delay=30.0, max_retry_after=30.0)
