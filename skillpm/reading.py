"""Reading files that anyone may have put in place: regular files only, never past a limit.

Every file that comes from a project, a registry or a cache is read through :func:`read_at_most`
(or :func:`read_regular_file` where the caller decides what a long file means), with one of the
limits below: the most skillpm reads of each kind of file, all in one place.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO, Callable

_MIB = 1024 * 1024

#: ``SKILL.md`` (validation, ``init --from``, ``eval``).
MAX_SKILL_MD_SIZE = _MIB
#: ``skillpm.toml``.
MAX_MANIFEST_SIZE = _MIB
#: ``skills.lock``.
MAX_LOCKFILE_SIZE = 4 * _MIB
#: The user's ``config.toml`` (configured registries).
MAX_CONFIG_SIZE = _MIB
#: A policy file (``policy.toml``, ``.skillpm/policy.toml``): it is read whole.
MAX_POLICY_SIZE = 256 * 1024
#: A PEM key file, public or private (a PEM key is well under 1 KiB; an encrypted one a little more).
MAX_KEY_SIZE = 64 * 1024
#: An index document (``config.json``, ``search.json``, ``index/**.json``, ``snapshot.json``),
#: in a directory registry or the HTTP cache, and a trust record of pinned index keys.
MAX_DOCUMENT_SIZE = 16 * _MIB
#: An archive downloaded, or read from the download cache; the most any registry's ``artifact`` reads.
MAX_ARTIFACT_SIZE = 256 * _MIB
#: A signed attestation bundle (a Sigstore bundle of one statement), fetched or read.
MAX_BUNDLE_SIZE = 4 * _MIB
#: An evidence file (eval or bench) given to ``publish``.
MAX_EVIDENCE_SIZE = 4 * _MIB
#: A test file of a skill source (``skill_meta.json``, upskill results) and a ``python_test`` script.
MAX_EVAL_FILE_SIZE = 4 * _MIB
#: One cached answer of ``eval``.
MAX_ANSWER_SIZE = 4 * _MIB
#: A Claude Code plugin manifest a repository holds (``.claude-plugin/marketplace.json``, ``plugin.json``).
MAX_PLUGIN_MANIFEST_SIZE = _MIB


_STEP = 1 << 20  # bytes read at a time past what fstat reported


def open_regular(path: Path | str) -> BinaryIO:
    """The regular file ``path``, open to read (unbuffered).

    Opened without blocking, so a fifo cannot hang the reader; anything but a
    regular file (fifo, device, socket, directory) raises OSError, as a missing file does.
    """
    # O_NONBLOCK: opening a fifo must not wait for a writer; the check below refuses it.
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return open(descriptor, "rb", buffering=0)


class Hashing:
    """A binary stream read through, its bytes hashed (sha256) and counted as they are read, and each
    chunk handed to ``copy`` when one is given (a copy written in the same pass); ValueError once more
    than ``limit`` bytes came, so that a file growing while it is read is never read whole."""

    def __init__(self, stream: BinaryIO, limit: int, copy: Callable[[bytes], None] | None = None) -> None:
        import hashlib

        self._stream = stream
        self._limit = limit
        self._copy = copy
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int) -> bytes:
        """At most ``size`` bytes (and at most a MiB) of the stream; empty at its end."""
        chunk = self._stream.read(min(size, _STEP))
        self.sha256.update(chunk)
        self.size += len(chunk)
        if self.size > self._limit:
            raise ValueError(f"larger than {self._limit} bytes")
        if self._copy is not None:
            self._copy(chunk)
        return chunk

    def drain(self) -> str:
        """Read what is left; the sha256 of every byte read."""
        while self.read(_STEP):
            pass
        return self.sha256.hexdigest()


def read_regular_file(path: Path | str, limit: int) -> bytes:
    """At most ``limit`` + 1 bytes of the regular file ``path`` (more means too long); OSError as
    :func:`open_regular` raises it."""
    with open_regular(path) as handle:
        # read(limit + 1) would allocate limit + 1 bytes whatever the file's size (256 MiB for an
        # archive): ask for what fstat says is there, then in bounded steps in case it grew.
        left = limit + 1
        want = min(left, os.fstat(handle.fileno()).st_size + 1)
        parts = []
        while left > 0:
            chunk = handle.read(min(left, max(want, _STEP)))
            if not chunk:
                break
            parts.append(chunk)
            left -= len(chunk)
            want = _STEP
        return b"".join(parts)


def open_to_others(path: Path | str) -> bool:
    """Whether users other than its owner may read or write the file ``path`` (a group or other
    permission bit is set), on POSIX: a secret in it may have been seen or replaced. OSError if absent."""
    return os.name == "posix" and bool(os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def read_at_most(path: Path | str, limit: int) -> bytes:
    """The bytes of the regular file ``path``; ValueError when it holds more than ``limit``."""
    data = read_regular_file(path, limit)
    if len(data) > limit:
        raise ValueError(f"larger than {limit} bytes")
    return data


def read_inside(folder: Path, name: str, limit: int) -> bytes:
    """:func:`read_at_most` of the file ``name`` of ``folder`` (a skill's SKILL.md, skillpm.toml,
    skill_meta.json); ValueError, before it is opened, when it is a link that leads out of ``folder``:
    a cloned skill's ``SKILL.md -> ~/private/notes.md`` must never be read as the skill's."""
    path = folder / name
    if path.is_symlink():
        from skillpm.containment import resolves_inside  # only for a link: most reads need none of it

        if not resolves_inside(path, folder):
            raise ValueError("it is a link that leads out of the skill's folder")
    return read_at_most(path, limit)


def decode_utf8(raw: bytes) -> str:
    """``raw`` as UTF-8 text; ValueError naming the first byte that is not UTF-8 and its offset."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8: byte {raw[error.start]:#04x} at offset {error.start}") from None


def problem(error: OSError | ValueError) -> str:
    """Why a read by :func:`read_at_most` (or a parse of what it read) failed, in a few words."""
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return str(error).split("\n", 1)[0]


def artifact_limit(limit: int) -> int:
    """``limit`` held to :data:`MAX_ARTIFACT_SIZE`: the most a registry's ``artifact`` reads, whatever its caller asks."""
    return max(0, min(limit, MAX_ARTIFACT_SIZE))
