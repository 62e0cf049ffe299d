"""Unpack a downloaded ``.tar.gz`` or ``.zip`` of skills into a fresh folder, trusting nothing in it.

Only regular files and folders are taken: a link, hard link, device or fifo refuses the
whole archive. Every path is checked as :mod:`skillpm.archive` checks a variant's
(:func:`~skillpm.portable.unsafe_name_reason`: no ``..``, absolute paths, ``.git`` or names
a file system would misread; :func:`~skillpm.portable.path_length_reason`; no two paths a
case-insensitive file system would merge), counts and sizes are bounded as they are
read (decompressed bytes counted, whatever the headers claim), and each file is created
new (``O_EXCL``, ``O_NOFOLLOW``). A single top folder (as GitHub's archives have) is the
source's top.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path
from typing import Iterator

from skillpm.archive import CORRUPT, check_member_path, check_regular, member_bytes, next_member, open_tar_gz
from skillpm.errors import ArchiveError
from skillpm.portable import (
    MAX_FILE_SIZE,
    MAX_FOLDERS,
    MAX_MEMBERS,
    MAX_TOTAL_SIZE,
    FoldedTree,
)

_ZIP_MAGIC = b"PK\x03\x04"
#: The most bytes a zip's central directory (one entry per file or folder) may take: 1 KiB an entry.
MAX_CENTRAL_DIRECTORY = (MAX_MEMBERS + MAX_FOLDERS) * 1024


def unpack(data: bytes, destination: Path) -> Path:
    """Write the files of archive ``data`` (zip or gzip'd tar, told by its bytes) under ``destination``.

    ``destination`` must be an empty folder. Returns the source's top: ``destination``,
    or its one folder when every file is inside that folder.
    """
    members = _zip_members(data) if data.startswith(_ZIP_MAGIC) else _tar_members(data)
    tree, count, total = FoldedTree(), 0, 0
    tops: set[str] = set()
    for relative, content, executable in members:
        count += 1
        total += len(content)
        if count > MAX_MEMBERS or total > MAX_TOTAL_SIZE:
            raise ArchiveError(f"archive holds more than {MAX_MEMBERS} files or {MAX_TOTAL_SIZE} bytes; refused")
        if tree.add(relative) is not None or tree.folder_count > MAX_FOLDERS:
            raise ArchiveError(
                f"archive member {relative[:200]!r} clashes with another (case or Unicode form, or a file "
                f"where a folder is), or the archive has more than {MAX_FOLDERS} folders"
            )
        tops.add(relative.split("/", 1)[0] if "/" in relative else "")
        write_new(destination, relative, content, executable)
    if count == 0:
        raise ArchiveError("archive holds no files")
    only = next(iter(tops))
    return destination / only if len(tops) == 1 and only else destination


def checked_path(name: str) -> str:
    """The member ``name`` as a relative path, or ArchiveError saying why it is unsafe."""
    relative = name[2:] if name.startswith("./") else name
    relative = relative.rstrip("/")
    if not relative or relative.startswith("/"):
        raise ArchiveError(f"archive member {name[:200]!r} has an absolute or empty path")
    check_member_path(name, relative)
    return relative


def _tar_members(data: bytes) -> Iterator[tuple[str, bytes, bool]]:
    tar = open_tar_gz(data)
    while (member := next_member(tar)) is not None:
        relative = checked_path(member.name)
        if member.isdir():
            continue
        check_regular(member)
        if member.size > MAX_FILE_SIZE:
            raise ArchiveError(f"archive member {member.name[:200]!r} is larger than {MAX_FILE_SIZE} bytes")
        yield relative, member_bytes(tar, member), bool(member.mode & 0o111)


def _central_directory_size(data: bytes) -> int | None:
    """The size of the zip ``data``'s central directory, as its end record states it (zipfile's own reader of
    that record, private in every Python 3), or None when it cannot tell (zipfile then refuses or reads it)."""
    read_end = getattr(zipfile, "_EndRecData", None)
    try:
        end = read_end(io.BytesIO(data)) if read_end is not None else None
        return int(end[zipfile._ECD_SIZE]) if end else None
    except (OSError, ValueError, TypeError, IndexError, AttributeError, *CORRUPT):
        return None


def _zip_members(data: bytes) -> Iterator[tuple[str, bytes, bool]]:
    # ZipFile makes an object of every entry the central directory lists before any can be counted: 80 MB of
    # one-byte names made 1.6 million, 870 MB of memory. A directory of MAX_MEMBERS entries fits in far less.
    size = _central_directory_size(data)
    if size is not None and size > MAX_CENTRAL_DIRECTORY:
        raise ArchiveError(f"archive's list of files takes {size:,} bytes, more than {MAX_MEMBERS} files need; refused")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, *CORRUPT) as error:
        raise ArchiveError(f"not a valid zip archive: {error}") from None
    if len(infos) > MAX_MEMBERS + MAX_FOLDERS:
        raise ArchiveError(f"archive lists more than {MAX_MEMBERS} files")
    for info in infos:
        relative = checked_path(info.filename)
        mode = info.external_attr >> 16
        if info.is_dir():
            continue
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # no type bits: a plain file, as zip tools write it
            raise ArchiveError(f"archive member {info.filename[:200]!r} is a link or special file; refused")
        try:
            with archive.open(info) as stream:
                content = stream.read(MAX_FILE_SIZE + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, *CORRUPT) as error:
            raise ArchiveError(f"corrupt zip archive at {info.filename[:200]!r}: {error}") from None
        if len(content) > MAX_FILE_SIZE:
            raise ArchiveError(f"archive member {info.filename[:200]!r} is larger than {MAX_FILE_SIZE} bytes")
        yield relative, content, bool(mode & 0o111)


def write_new(destination: Path, relative: str, content: bytes, executable: bool) -> None:
    """Create ``destination``/``relative`` anew (its folders too), never through a link."""
    path = destination.joinpath(*relative.split("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags, 0o755 if executable else 0o644)
    except FileExistsError:
        raise ArchiveError(f"archive member {relative[:200]!r} appears twice") from None
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
