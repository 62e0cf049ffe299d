"""Reading files that anyone may have put in place: regular files only, never past a limit."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def read_regular_file(path: Path, limit: int) -> bytes:
    """At most ``limit`` + 1 bytes of the regular file ``path`` (more means too long).

    Opened without blocking, so a fifo cannot hang the reader; anything but a
    regular file (fifo, device, socket, directory) raises OSError, as a missing file does.
    """
    # O_NONBLOCK: opening a fifo must not wait for a writer; the check below refuses it.
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    with open(descriptor, "rb") as handle:
        return handle.read(limit + 1)


def read_at_most(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path``; ValueError when it holds more than ``limit``."""
    data = read_regular_file(path, limit)
    if len(data) > limit:
        raise ValueError(f"larger than {limit} bytes")
    return data
