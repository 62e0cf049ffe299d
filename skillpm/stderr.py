"""skillpm's own lines on stderr, from the library below the CLI (the CLI prints them with click).

With stderr closed (``2>&-``: cron jobs, daemons, some CI wrappers) Python sets ``sys.stderr`` to
None: ``sys.stderr.write`` then fails, and ``print(..., file=sys.stderr)`` prints to stdout, into the
middle of ``--json`` output. These write nothing when there is no stderr, as ``click.echo`` does.
"""

from __future__ import annotations

import sys


def to_stderr(line: str) -> None:
    """Write ``line`` (already made safe by the caller) and a newline on stderr, if there is one."""
    stream = sys.stderr
    if stream is not None:
        stream.write(line + "\n")
        stream.flush()


def stderr_is_terminal() -> bool:
    """Whether stderr is a terminal (not when there is none)."""
    return sys.stderr is not None and sys.stderr.isatty()
