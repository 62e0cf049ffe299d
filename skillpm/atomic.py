"""Atomic filesystem writes: a reader sees the old content or the new, never a mix.

Everything a write makes beside its target lives in a *leftover folder* of its
own, ``.<name>.<random>.skillpm-<kind>``, which holds the marker folder
:data:`MARKER` and one entry:

- ``tmp``: ``data``, a file :func:`atomic_write` (or a link :func:`atomic_symlink`)
  had not yet renamed into place;
- ``new``: ``tree``, a tree being built by :func:`staging_dir`;
- ``old``: ``tree``, the previous tree, renamed aside by :func:`replace_dir` or
  :func:`move_aside`; when ``<name>`` itself is absent, the kill fell between the
  two renames and the aside tree is the complete old one.

A process killed part-way leaves at most such folders, which :func:`recover_folder`
and :func:`remove_temporaries` clean up (under the lock the writer held), or
:func:`remove_stale_temporaries` once they are old (where no lock covers the
folder). They touch nothing else: only a folder of that name form that holds
the marker and nothing but its entry, or nothing at all (a kill between its
creation and its marker): no file of the user's, whatever its name, is removed.

A rename is durable across a power loss only once its directory is synced:
:func:`atomic_write` and :func:`replace_dir` sync it after the rename that
publishes their result (:func:`fsync_directory`).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import time
from collections.abc import Container, Iterator
from functools import cache
from pathlib import Path

from skillpm.errors import InstallError

#: The marker in every leftover folder: an empty folder of this name, made right after it (a mkdir: all
#: or nothing, so a kill leaves a leftover folder empty or marked, never half-marked).
MARKER = ".skillpm-leftover"
#: The one entry of a leftover folder of each kind.
_ENTRY = {"tmp": "data", "new": "tree", "old": "tree"}


def _leftover(final: Path, kind: str) -> Path:
    """A new leftover folder of ``kind`` beside ``final``, marked; the path of its entry (not created).

    Made as ``tempfile.mkdtemp`` makes one (a mkdir of a random name, mode 0700, again on a name
    taken), without importing tempfile: with the random and shutil modules it loads, that is
    about 0.03x of ``import click`` on every command that writes.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        folder = final.parent / f".{final.name}.{os.urandom(4).hex()}.skillpm-{kind}"
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        (folder / MARKER).mkdir()
        return folder / _ENTRY[kind]
    raise FileExistsError(errno.EEXIST, "every name tried for a temporary folder is taken", str(final.parent))


def _is_marked(folder: Path) -> bool:
    """Whether ``folder`` (of the name form, not a link) is a leftover folder: empty, or marked and holding only its entry."""
    try:
        if not stat.S_ISDIR(folder.lstat().st_mode):
            return False
        names = set(os.listdir(folder))
        if not names:
            return True
        marker = folder / MARKER
        return (
            MARKER in names
            and names <= {MARKER, _ENTRY[_kind(folder)]}
            and stat.S_ISDIR(marker.lstat().st_mode)
            and not os.listdir(marker)
        )
    except OSError:
        return False


@cache
def _leftover_name() -> re.Pattern[str]:
    """A leftover folder's name: ``.<name>.<random>.skillpm-<kind>``, the random part 8 hex digits (or,
    made by an older skillpm through tempfile, 8 of ``a-z0-9_``). Compiled on first use: commands that
    only read never look for leftovers."""
    return re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.skillpm-(?P<kind>tmp|new|old)", re.DOTALL)


def _kind(folder: Path) -> str:
    match = _leftover_name().fullmatch(folder.name)
    return "" if match is None else match["kind"]


def _leftovers(folder: Path, *, name: str | None = None, kinds: str = "tmp new old") -> Iterator[tuple[Path, str]]:
    """Each leftover folder in ``folder`` (of ``kinds``, for the target ``name``), with its target's name."""
    try:
        names = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in names:
        match = _leftover_name().fullmatch(entry)
        if match is None or match["kind"] not in kinds.split() or name not in (None, match["name"]):
            continue
        if _is_marked(folder / entry):
            yield folder / entry, match["name"]


def _remove_leftover(folder: Path) -> None:
    """Remove a leftover folder: its entry first, then its marker, so that a kill at any point leaves it marked or empty."""
    remove_path(folder / _ENTRY[_kind(folder)])
    for path in (folder / MARKER, folder):
        try:
            os.rmdir(path)
        except FileNotFoundError:
            pass


def discard(entry: Path) -> None:
    """Remove what :func:`staging_dir` or :func:`move_aside` returned, with its leftover folder; absent is fine."""
    _remove_leftover(entry.parent)


def fsync_directory(path: Path) -> None:
    """Flush the entries of the directory ``path`` to disk, so that renames into it survive a power loss.

    Does nothing where directories cannot be opened (no ``os.O_DIRECTORY``, as on
    Windows), nor where the file system cannot sync a directory (``EINVAL``).
    """
    if not hasattr(os, "O_DIRECTORY"):
        return
    handle = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    except OSError as error:
        if error.errno != errno.EINVAL:
            raise
    finally:
        os.close(handle)


def atomic_write(path: Path, data: bytes, *, mode: int = 0o666, durable: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it and a rename.

    The file's data is synced before the rename and its directory after it, so
    that after a power loss ``path`` holds the old content or the new; ``durable=False``
    syncs neither (a reader, or a kill, still sees the old file or the new one). The file
    gets ``mode`` less the umask (by default, the mode of an ordinary new file);
    a secret written with ``mode=0o600`` is never readable by others, not even
    while it is written.
    """
    temporary = _leftover(path, "tmp")
    try:
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        os.replace(temporary, path)
    finally:
        discard(temporary)
    if durable:
        fsync_directory(path.parent)


def atomic_symlink(path: Path, target: str) -> None:
    """Make ``path`` a symbolic link to ``target``, replacing a link there, through a rename.

    Raises OSError where the file system or the user's rights allow no links (the
    caller may then copy instead); ``path`` is then as it was.
    """
    temporary = _leftover(path, "tmp")
    try:
        os.symlink(target, temporary, target_is_directory=True)
        os.replace(temporary, path)
    finally:
        discard(temporary)
    fsync_directory(path.parent)


def remove_temporaries(path: Path) -> None:
    """Remove the temporary files that killed :func:`atomic_write` calls for ``path`` left."""
    for leftover, _ in _leftovers(path.parent, name=path.name, kinds="tmp"):
        _remove_leftover(leftover)


def remove_stale_temporaries(folder: Path, *, max_age: float) -> None:
    """Remove the temporary files of :func:`atomic_write` in ``folder`` last modified over ``max_age`` seconds ago.

    Unlike :func:`remove_temporaries` this needs no lock, given a ``max_age`` far
    longer than any write takes: a live writer creates, fills and renames its
    temporary file within one call, so only one a killed process left grows that
    old. Another process may be removing the same files at the same time.

    Each removal is a few calls, whoever filled the folder: a temporary is a file or a link,
    so one holding a folder is no killed write's and is left, as is one that cannot be removed.
    """
    cutoff = time.time() - max_age
    for leftover, _ in _leftovers(folder, kinds="tmp"):
        try:
            if leftover.lstat().st_mtime < cutoff and not _holds_a_folder(leftover):
                _remove_leftover(leftover)
        except OSError:
            pass  # removed by another process meanwhile, or left for a later write


def _holds_a_folder(leftover: Path) -> bool:
    """Whether the entry of the leftover folder ``leftover`` is a directory (not a link to one); absent is not."""
    try:
        return stat.S_ISDIR((leftover / _ENTRY[_kind(leftover)]).lstat().st_mode)
    except FileNotFoundError:
        return False


def staging_dir(final: Path) -> Path:
    """A new empty directory beside ``final`` (same filesystem, ordinary mode) to build its replacement in.

    It lies in a leftover folder: :func:`discard` it when done.
    """
    staged = _leftover(final, "new")
    staged.mkdir()
    return staged


def move_aside(final: Path) -> Path | None:
    """Rename ``final`` into a leftover folder beside it; its new path, or ``None`` when it is absent.

    :func:`discard` it when done.
    """
    if not (final.exists() or final.is_symlink()):
        return None
    old = _leftover(final, "old")
    try:
        os.replace(final, old)
    except BaseException:
        discard(old)
        raise
    return old


def replace_dir(staged: Path, final: Path) -> None:
    """Put the directory ``staged`` in place of ``final`` (which may be absent).

    The old tree is first renamed aside, then the new one renamed in, then the old
    one removed: at every instant ``final`` is either the complete old tree, absent
    for the moment between two renames (the old tree then complete beside it, see
    :func:`recover_folder`), or the complete new tree.
    """
    old = move_aside(final)
    try:
        os.replace(staged, final)
    except BaseException:
        if old is not None:
            os.replace(old, final)
            discard(old)
        raise
    fsync_directory(final.parent)  # makes both renames durable
    if old is not None:
        discard(old)


def recover_folder(folder: Path, *, restore: Container[Path]) -> None:
    """Finish or undo what killed :func:`replace_dir`, :func:`move_aside` and :func:`atomic_write` calls left in ``folder``.

    Only marked leftover folders are touched. An aside tree is renamed back when
    it is a real directory and its target is absent and in ``restore`` (the kill
    fell between the two renames of a swap, or before a removal was recorded);
    every other leftover folder is removed.
    """
    for leftover, name in _leftovers(folder):
        final, aside = folder / name, leftover / _ENTRY["old"]
        restorable = _kind(leftover) == "old" and final in restore and not (final.exists() or final.is_symlink())
        if restorable and aside.is_dir() and not aside.is_symlink():
            os.replace(aside, final)
        _remove_leftover(leftover)


#: The most folder levels a tree skillpm removes may nest: archives hold 32, and Python's removal
#: (:func:`shutil.rmtree`) recurses once per level, up to its recursion limit of about a thousand.
MAX_REMOVE_DEPTH = 256


def remove_path(path: Path) -> None:
    """Remove a file, link, fifo or directory tree; absent is fine. A tree nested more than
    :data:`MAX_REMOVE_DEPTH` deep is refused (InstallError) before anything of it is removed, and a
    tree that cannot be removed (another program writing in it) is named in an InstallError."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(mode):  # a fifo too: shutil.rmtree would open it, and wait for a writer forever
        path.unlink(missing_ok=True)
        return
    import shutil  # here, not at the top: commands that only read never load it

    check_removable(path)
    try:
        shutil.rmtree(path)
    except OSError as error:  # another program writing in the tree meanwhile: say which tree, not just a name in it
        inner = f" ({error.filename})" if error.filename else ""
        raise InstallError(
            f"cannot remove {path}: {error.strerror or error}{inner}",
            hint="another program may be writing in it; run the command again when it is done",
        ) from error


def check_removable(path: Path) -> None:
    """InstallError when the folder ``path`` nests deeper than skillpm removes trees (:data:`MAX_REMOVE_DEPTH`)."""
    from skillpm.walking import deeper_than

    if path.is_dir() and not path.is_symlink() and deeper_than(path, MAX_REMOVE_DEPTH):
        raise InstallError(
            f"{path} nests folders more than {MAX_REMOVE_DEPTH} deep, which skillpm never makes; nothing was changed",
            hint="look at what it holds, and remove it by hand",
        )
