"""The ``skillpm`` console script (and ``python -m skillpm``): signals first, then the CLI.

- Ctrl-C while skillpm starts (importing the CLI takes tens of milliseconds) ends it with the one
  line and exit 130 it gives later on, not with a traceback of the import half done.
- SIGTERM and SIGHUP (``timeout``, a CI runner cancelling a job, a closed terminal) stop skillpm as
  Ctrl-C does, raising :class:`Terminated` where it is, so that what it started is stopped (git,
  which runs in a session of its own) and its temporary folders removed. By default Python dies
  on the spot and leaves both behind. The exit code is 128 plus the signal's number.
"""

from __future__ import annotations

import os
from types import FrameType

try:  # the C module signal wraps: the same functions, without building signal's enums (a few M instructions)
    import _signal as signal
except ImportError:  # pragma: no cover - Pythons without it
    import signal  # type: ignore[no-redef]

#: The signals that stop skillpm as Ctrl-C does (those this system has).
STOPPING = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(KeyboardInterrupt):
    """A stopping signal (:data:`STOPPING`), raised where skillpm is so that it unwinds as for Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.exit_code = 128 + signum


def main() -> None:
    """Run the CLI (:func:`skillpm.cli.main`) with the signal handling above."""
    for signum in (signal.SIGINT, *STOPPING):
        signal.signal(signum, _while_starting)
    from skillpm.cli import main as run

    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for signum in STOPPING:
            signal.signal(signum, _stop)
        run()
    except KeyboardInterrupt as error:  # raised before the CLI's own handler took over (or after it let go)
        _while_starting(getattr(error, "exit_code", 128 + signal.SIGINT) - 128, None)


def _while_starting(signum: int, frame: FrameType | None) -> None:
    """Nothing is written yet: say so and leave at once (no import is left to unwind)."""
    from skillpm.stderr import to_stderr  # only when it is needed: every start-up would pay for the import

    to_stderr("error: interrupted; nothing was left half-written")
    os._exit(128 + signum)


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)
