"""When to retry a request, and how long to wait first (pure logic, shared by every HTTP client)."""

from __future__ import annotations

import random
import time
from email.utils import parsedate_to_datetime

from skillpm.records import Record


class RetryPolicy(Record):
    """``attempts`` in all; delays doubling from ``backoff`` with jitter, at most ``max_delay``.

    A server's ``Retry-After`` is honoured up to ``max_retry_after`` seconds.
    """

    attempts: int = 5
    backoff: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        ``retry_after`` is the response's Retry-After header (seconds or an HTTP date).
        """
        asked = retry_after_seconds(retry_after)
        if asked is not None:
            return min(asked, self.max_retry_after)
        return min(self.max_delay, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or ``None``."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
