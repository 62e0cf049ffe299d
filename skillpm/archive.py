"""Variant archives: build them reproducibly, read their metadata, extract them safely.

An archive is a gzip-compressed tar holding ``skillpm-variant.json`` (first) and
the variant's tree under ``skill/``. Building is byte-for-byte reproducible:
entries sorted, times, owners and modes fixed, gzip header time zero.
Extraction trusts nothing: only regular files under ``skill/``, with names
every file system keeps apart and reads as plain names (no absolute paths,
``..``, drive letters, device names or version-control folders such as
``.git``), no links or device files, bounded
counts and sizes (checked from each header, and on the decompressed stream, as
it is read), and every file's digest checked against the metadata.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import stat
import tarfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Iterator, Mapping

from skillpm.atomic import atomic_write
from skillpm.errors import ArchiveError
from skillpm.index.model import archive_name
from skillpm.portable import (
    MAX_FILE_SIZE,
    MAX_FOLDERS,
    MAX_MEMBERS,
    MAX_NAME_BYTES,
    MAX_PATH_DEPTH,
    MAX_PATH_LENGTH,
    MAX_TOTAL_SIZE,
    FoldedTree,
    path_length_reason,
    unsafe_name_reason,
)
from skillpm.jsonfile import parse_json
from skillpm.reading import problem, read_at_most
from skillpm.records import Record
from skillpm.spelling import is_sha256

METADATA_NAME = "skillpm-variant.json"
TREE_PREFIX = "skill/"
METADATA_FORMAT_VERSION = 1
FIXED_MTIME = 315532800  # 1980-01-01, as wheels use for reproducible timestamps
MAX_METADATA_SIZE = 1024 * 1024
#: The largest archive file ``registry add`` reads, and the most bytes any archive may decompress to:
#: the files' limit, the metadata's, and room for tar headers (pax records make up to three 512-byte
#: blocks per member) and gzip's overhead on incompressible data.
MAX_ARCHIVE_SIZE = MAX_TOTAL_SIZE + MAX_METADATA_SIZE + 16 * 1024 * 1024
#: What tarfile raises on a corrupt or hostile stream: besides its own errors, ValueError (a pax
#: sparse map that is not numbers) and RecursionError (it reads a chain of extended headers recursively).
CORRUPT = (tarfile.TarError, OSError, EOFError, ValueError, RecursionError, zlib.error)


def archive_limit(path: str, size: int) -> int:
    """How many bytes to read of the archive at ``path``, which an index says is ``size`` bytes long: ``size``.

    ArchiveError, before anything is read, when ``size`` is over :data:`MAX_ARCHIVE_SIZE`: no skillpm
    archive is that large, and an index's word must not make skillpm read gigabytes into memory.
    """
    if size > MAX_ARCHIVE_SIZE:
        raise ArchiveError(
            f"{path} is {size} bytes by the index, over the {MAX_ARCHIVE_SIZE}-byte limit of an archive; "
            "nothing was downloaded",
            hint="the registry serves an archive skillpm cannot use; tell its owner",
        )
    return min(size, MAX_ARCHIVE_SIZE)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class VariantMetadata(Record):
    """What ``skillpm-variant.json`` says of the archive it is in."""

    name: str
    version: str
    target: str
    description: str
    license: str | None
    authors: tuple[str, ...]
    keywords: tuple[str, ...]
    agents: tuple[str, ...]
    files: Mapping[str, str]  # relative path -> sha256
    #: The digest of the variant's test set (skillpm.evaluation.testset), which is never packed:
    #: eval evidence about this archive must name it. ``None`` when the variant has none.
    test_set: str | None = None

    def to_json(self) -> dict[str, Any]:
        extra = {} if self.test_set is None else {"test-set": self.test_set}
        return {
            **extra,
            "format-version": METADATA_FORMAT_VERSION,
            "name": self.name,
            "version": self.version,
            "target": self.target,
            "description": self.description,
            "license": self.license,
            "authors": list(self.authors),
            "keywords": list(self.keywords),
            "agents": list(self.agents),
            "files": dict(sorted(self.files.items())),
        }

    @classmethod
    def from_json(cls, data: object) -> VariantMetadata:
        if not isinstance(data, dict) or data.get("format-version") != METADATA_FORMAT_VERSION:
            raise ArchiveError(f"{METADATA_NAME} is missing or of an unknown format version")
        try:
            files = data["files"]
            if not isinstance(files, dict) or not all(
                isinstance(key, str) and isinstance(value, str) for key, value in files.items()
            ):
                raise TypeError
            texts = [data[key] for key in ("name", "version", "target", "description")]
            if not all(isinstance(text, str) for text in texts):
                raise TypeError
            if any(not text.isprintable() or any(char.isspace() for char in text) for text in texts[:3]):
                raise TypeError  # a name, version or target with a space, newline or control character
            lists = [data.get(key, []) for key in ("authors", "keywords", "agents")]
            if not all(isinstance(value, list) and all(isinstance(item, str) for item in value) for value in lists):
                raise TypeError  # one archive's [{"x": 1}] as keywords broke every later read of its registry
            lists = [tuple(value) for value in lists]
            license_ = data.get("license")
            if license_ is not None and not isinstance(license_, str):
                raise TypeError
            test_set = data.get("test-set")
            if test_set is not None and not (isinstance(test_set, str) and is_sha256(test_set)):
                raise TypeError
        except (KeyError, TypeError):
            raise ArchiveError(f"{METADATA_NAME} is malformed") from None
        return cls(*texts, license_, *lists, files=files, test_set=test_set)


class BuiltArchive(Record):
    """An archive written to disk by :func:`write_archive`."""

    path: Path
    sha256: str
    size: int
    metadata: VariantMetadata


def build_archive(metadata_fields: dict[str, Any], files: Mapping[str, Path]) -> tuple[bytes, VariantMetadata]:
    """Build a variant archive in memory from ``files`` (relative path -> file on disk).

    ``metadata_fields`` are VariantMetadata's fields other than ``files``.
    Only regular files (or links to them) are accepted, within the limits that
    :func:`extract` enforces, judged from their sizes before any is read; the
    archive built must then pass :func:`scan`.
    """
    if len(files) > MAX_MEMBERS:
        raise ArchiveError(f"the tree has {len(files)} files; an archive holds at most {MAX_MEMBERS}")
    modes: dict[str, int] = {}
    total = 0
    for relative, path in sorted(files.items()):
        try:
            info = path.stat()
        except OSError as error:
            raise ArchiveError(f"cannot read {path}: {error.strerror}") from None
        if not stat.S_ISREG(info.st_mode):
            raise ArchiveError(f"{path} is not a regular file; archives hold regular files only")
        total += info.st_size
        if info.st_size > MAX_FILE_SIZE or total > MAX_TOTAL_SIZE:
            raise ArchiveError(
                f"{path} is too large: an archive holds files of at most {MAX_FILE_SIZE} bytes "
                f"and {MAX_TOTAL_SIZE} bytes in all"
            )
        modes[relative] = 0o755 if info.st_mode & stat.S_IXUSR else 0o644
    contents = {relative: (_read_at_most(files[relative], MAX_FILE_SIZE), mode) for relative, mode in modes.items()}
    digests = {relative: sha256_bytes(data) for relative, (data, _) in contents.items()}
    metadata = VariantMetadata(**metadata_fields, files=digests)
    metadata_bytes = (json.dumps(metadata.to_json(), indent=2, sort_keys=True) + "\n").encode()

    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
            _add(tar, METADATA_NAME, metadata_bytes, 0o644)
            for relative, (data, mode) in contents.items():
                _add(tar, TREE_PREFIX + relative, data, mode)
    built = raw.getvalue()
    scan(built)  # names and folders as extract checks them: never build what every client refuses
    return built, metadata


def _read_at_most(path: Path, limit: int) -> bytes:
    """A file's bytes, refused when it has grown past ``limit`` since it was measured."""
    try:
        return read_at_most(path, limit)
    except OSError as error:
        raise ArchiveError(f"cannot read {path}: {problem(error)}") from None
    except ValueError as error:
        raise ArchiveError(f"{path} is {error}") from None


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = FIXED_MTIME
    info.mode = mode
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def write_archive(directory: Path, data: bytes, metadata: VariantMetadata) -> BuiltArchive:
    """Write archive bytes atomically into ``directory`` under their canonical name."""
    path = directory / archive_name(metadata.name, metadata.version, metadata.target)
    atomic_write(path, data)
    return BuiltArchive(path, sha256_bytes(data), len(data), metadata)


def read_metadata(data: bytes) -> VariantMetadata:
    """Read ``skillpm-variant.json``, the archive's first member."""
    with open_tar_gz(data) as tar:
        return _read_head(tar)


def scan(data: bytes | BinaryIO) -> VariantMetadata:
    """Run every check :func:`extract` runs on the archive ``data`` (bytes, or a stream read once, as
    needed: a file is never held whole), writing nothing; its metadata.

    ``registry add`` scans an archive before publishing it, so a registry never
    serves an archive that every client would refuse.
    """
    with open_tar_gz(data) as tar:
        metadata = _read_head(tar)
        for _ in _checked_members(tar, metadata):
            pass
    return metadata


def extract(data: bytes, destination: Path) -> VariantMetadata:
    """Extract the archive's tree into the existing empty directory ``destination``, safely.

    Raises ArchiveError on anything unsafe or inconsistent; the caller owns
    ``destination`` and removes it then. Callers check the archive's digest first.
    """
    with open_tar_gz(data) as tar:
        metadata = _read_head(tar)
        for relative, member, content in _checked_members(tar, metadata):
            target = destination.joinpath(*PurePosixPath(relative).parts)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with target.open("xb") as handle:
                    handle.write(content)
                target.chmod(0o755 if member.mode & stat.S_IXUSR else 0o644)
            except OSError as error:
                raise ArchiveError(f"cannot extract {member.name!r}: {error.strerror}") from None
    return metadata


def _checked_members(
    tar: tarfile.TarFile, metadata: VariantMetadata
) -> Iterator[tuple[str, tarfile.TarInfo, bytes]]:
    """Each file member after the metadata, as (path under ``skill/``, member, content), once every check passed.

    The one place the member checks live (paths, types, counts, sizes, clashes as
    :class:`FoldedTree` finds them); once the members are exhausted, the files must be
    exactly those the metadata lists, with its digests.
    """
    seen: dict[str, str] = {}
    tree = FoldedTree()
    total = 0
    while (member := next_member(tar)) is not None:
        relative = _safe_relative(member)
        if len(seen) >= MAX_MEMBERS:
            raise ArchiveError(f"archive has more than {MAX_MEMBERS} files")
        if member.size > MAX_FILE_SIZE or total + member.size > MAX_TOTAL_SIZE:
            raise ArchiveError(f"archive member {member.name!r} is too large")
        total += member.size
        if tree.add(relative) is not None:
            raise ArchiveError(
                f"archive member {member.name[:200]!r} clashes with another: the same path but for case or "
                "Unicode form, or a file where a folder is"
            )
        if tree.folder_count > MAX_FOLDERS:
            raise ArchiveError(f"archive has more than {MAX_FOLDERS} folders")
        content = member_bytes(tar, member)
        seen[relative] = sha256_bytes(content)
        yield relative, member, content
    if seen != dict(metadata.files):
        raise ArchiveError("archive contents do not match the file digests in its metadata")


class _Inflated:
    """The decompressed bytes of gzip ``data`` (bytes, or a stream read as needed), refused past
    :data:`MAX_ARCHIVE_SIZE` as they are read.

    tarfile reads the whole data of a pax or GNU long-name header into memory before
    skillpm sees the member it describes; this bound keeps a small archive from
    inflating one into gigabytes.
    """

    def __init__(self, data: bytes | BinaryIO) -> None:
        self._stream = gzip.GzipFile(fileobj=io.BytesIO(data) if isinstance(data, bytes) else data, mode="rb")
        self._left = MAX_ARCHIVE_SIZE

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(self._left + 1 if size < 0 else min(size, self._left + 1))
        self._left -= len(chunk)
        if self._left < 0:
            raise ArchiveError(f"archive inflates to more than {MAX_ARCHIVE_SIZE} bytes")
        return chunk


def open_tar_gz(data: bytes | BinaryIO) -> tarfile.TarFile:
    """A streaming reader of the gzip-compressed tar ``data`` (bytes, or a stream read as needed).

    Decompression is the gzip module's, not tarfile's own ``r|gz`` stream, whose
    header parser raises TypeError on a truncated gzip header.
    """
    try:
        return tarfile.open(fileobj=_Inflated(data), mode="r|")
    except CORRUPT as error:
        raise ArchiveError(f"not a valid archive: {error}") from None


def next_member(tar: tarfile.TarFile) -> tarfile.TarInfo | None:
    try:
        return tar.next()
    except CORRUPT as error:
        raise ArchiveError(f"corrupt archive: {error}") from None


def _read_head(tar: tarfile.TarFile) -> VariantMetadata:
    """Read the first member, which must be the metadata document."""
    member = next_member(tar)
    if member is None or member.name != METADATA_NAME:
        raise ArchiveError(f"archive does not start with {METADATA_NAME}")
    check_regular(member)
    if member.size > MAX_METADATA_SIZE:
        raise ArchiveError(f"{METADATA_NAME} is too large")
    try:
        data = parse_json(member_bytes(tar, member))
    except ValueError as error:
        raise ArchiveError(f"{METADATA_NAME} is {error}") from None
    return VariantMetadata.from_json(data)


def member_bytes(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    """A regular member's content, with a truncated or corrupt stream reported as ArchiveError."""
    source = tar.extractfile(member)
    if source is None:
        raise ArchiveError(f"archive member {member.name!r} has no content")
    try:
        content = source.read(member.size)
    except CORRUPT as error:
        raise ArchiveError(f"corrupt archive: {error}") from None
    if len(content) != member.size:
        raise ArchiveError(f"corrupt archive: {member.name!r} is truncated")
    return content


def check_regular(member: tarfile.TarInfo) -> None:
    """Refuse a member that is not a regular file: a link, device, fifo, directory or sparse file."""
    if not member.isfile() or member.issparse():
        kind = "link" if member.issym() or member.islnk() else "special file or directory"
        kind = "sparse file" if member.isfile() else kind
        raise ArchiveError(f"archive member {member.name[:200]!r} is a {kind}; only regular files are allowed")


def check_member_path(name: str, relative: str) -> None:
    """Refuse ``relative``, the path of member ``name``, when a part fails :func:`unsafe_name_reason`
    or the path :func:`path_length_reason`."""
    for part in relative.split("/"):
        reason = unsafe_name_reason(part)
        if reason:
            raise ArchiveError(f"archive member {name[:200]!r} has an unsafe path: {part[:80]!r} {reason}")
    if path_length_reason(relative):
        raise ArchiveError(
            f"archive member {name[:80]!r}... has a path longer than {MAX_PATH_LENGTH} characters, "
            f"deeper than {MAX_PATH_DEPTH} levels, or with a name over {MAX_NAME_BYTES} bytes"
        )


def _safe_relative(member: tarfile.TarInfo) -> str:
    """The member's path inside the tree, refusing anything unsafe.

    Every name must pass :func:`unsafe_name_reason`, and the path :func:`path_length_reason`.
    """
    check_regular(member)
    name = member.name
    if not name.startswith(TREE_PREFIX):
        raise ArchiveError(f"archive member {name[:200]!r} is outside {TREE_PREFIX}")
    relative = name[len(TREE_PREFIX) :]
    check_member_path(name, relative)
    return relative
