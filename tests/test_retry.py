"""The shared retry policy: backoff with jitter, caps, and Retry-After."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from skillpm.retry import RetryPolicy, retry_after_seconds


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 6, 7, 8])
def test_backoff_doubles_with_jitter_and_is_capped(attempt: int) -> None:
    policy = RetryPolicy(backoff=0.5, max_delay=4.0)
    ceiling = min(4.0, 0.5 * 2 ** (attempt - 1))
    delays = [policy.delay(attempt) for _ in range(200)]
    assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
    assert len(set(delays)) > 1  # jitter, so clients that failed together do not retry together


@pytest.mark.parametrize(
    ("header", "expected"),
    [("3", 3.0), ("0", 0.0), ("-5", 0.0), ("1.5", 1.5), ("soon", None), ("", None), (None, None)],
)
def test_retry_after_seconds(header: str | None, expected: float | None) -> None:
    assert retry_after_seconds(header) == expected


def test_retry_after_as_an_http_date() -> None:
    seconds = retry_after_seconds(formatdate(time.time() + 30, usegmt=True))
    assert seconds is not None and 25 <= seconds <= 31
    assert retry_after_seconds(formatdate(time.time() - 30, usegmt=True)) == 0.0


def test_server_delay_wins_over_backoff_but_is_capped() -> None:
    policy = RetryPolicy(backoff=0.5, max_delay=4.0, max_retry_after=60.0)
    assert policy.delay(1, "10") == 10.0
    assert policy.delay(1, "600") == 60.0
