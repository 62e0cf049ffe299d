"""A registry write's journal: every file of one write reaches the registry, or none does, even when
the writer is killed (SIGKILL, out of memory, power loss).

:func:`commit` runs under the registry's lock, in four steps:

1. each new file is staged in ``.skillpm-journal/files/<n>`` at the registry's root (the same
   file system: a rename moves each one in): bytes made in memory (documents, keys) are written and
   synced; a file received into the registry's folder (:mod:`.incoming`: an archive or bundle, synced
   as it was received, its sha256 computed on the way) is renamed there, never read into memory;
2. ``.skillpm-journal/journal.json`` is written by a rename, and synced: each file's path, the
   sha256 of what it replaces (none when it is new) and of its new bytes, the files to remove,
   and the pages to rewrite. From here on the write is decided;
3. each staged file is renamed onto its path in order (archives and bundles, the package
   documents, ``search.json``, the keys, ``snapshot.json``, its signature last), the files to
   remove are removed, and their folders synced;
4. the pages are rewritten, and the journal folder removed.

A writer killed in step 1 leaves a journal folder without ``journal.json``: nothing in the
registry changed, and :func:`recover` removes it. Killed later, it leaves a journal, which
:func:`recover` finishes: a file still staged is renamed in, one already moved must hold its new
bytes. The registry then holds exactly what the write meant, signed snapshot included, without
the key. Every locked writer (:func:`writing`) recovers first, before it reads the index.

A journal is read as hostile (a registry's folder may come from anyone): bounded strict JSON,
every path a plain path of the registry's own kinds that stays inside it after links, every
staged file a regular file holding the bytes the journal names, and every file it replaces
still holding what it replaced. Otherwise nothing is changed and the writer is refused with
what to do.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, NamedTuple, Sequence, Union

from skillpm.atomic import atomic_write, fsync_directory, recover_folder, remove_path
from skillpm.errors import IndexFormatError, RegistryError
from skillpm.locks import lock_for
from skillpm.reading import MAX_DOCUMENT_SIZE, problem
from skillpm.registry.directory import JOURNAL, LocalRegistry
from skillpm.registry.store.files import dump, file_digest, open_for_writing
from skillpm.registry.store.incoming import Content, Hashed, remove_abandoned, sha256_of

#: Which pages a write rewrites once its files are in place: the home page and those of these
#: packages, every page (``"all"``), or none (``None``).
Pages = Union[tuple[str, ...], Literal["all"], None]

_RECORD = "journal.json"
_FILES = "files"
_FORMAT_VERSION = 1
#: The files a registry write makes at the top, and the folders it makes the others in.
_TOP_FILES = ("config.json", "search.json", "snapshot.json", "snapshot.json.sig")
_FOLDERS = ("keys", "index", "artifacts", "attestations")
#: The most files one journal names: a registry write makes one per variant archive, document and bundle.
_MOST_STEPS = 100_000
_SHA256 = re.compile(r"[0-9a-f]{64}")


class _Write(NamedTuple):
    path: str  # relative to the registry's root
    before: str | None  # sha256 of the file it replaces; None: there was none
    after: str  # sha256 of its new bytes


class _Remove(NamedTuple):
    path: str
    before: str


@contextmanager
def writing(root: Path) -> Iterator[LocalRegistry]:
    """The registry at ``root``, to write, under its lock, once the write a killed writer left is finished."""
    open_for_writing(root)  # a folder that holds no registry: refused before the lock (which would make it) and recovery
    with lock_for(root):
        recover(root)
        yield open_for_writing(root)


def commit(root: Path, writes: Sequence[tuple[str, Content]], *, removed: Sequence[str] = (),
           pages: Pages = None) -> None:
    """Put ``writes`` (paths relative to ``root``) in place in order and remove ``removed``, all or none,
    then rewrite ``pages``; under the registry's lock, after :func:`recover`. A failure before the files
    move changes nothing (a received file staged by then is removed with the journal folder)."""
    if not writes and not removed and pages is None:
        return
    folder = root / JOURNAL
    folder.mkdir()
    try:
        (folder / _FILES).mkdir()
        steps: list[_Write] = []
        for index, (relative, content) in enumerate(writes):
            steps.append(_Write(relative, file_digest(_target(root, relative)), sha256_of(content)))
            _stage(folder / _FILES / str(index), content)
        gone = [_Remove(relative, before) for relative in removed if (before := file_digest(_target(root, relative)))]
        fsync_directory(folder / _FILES)
        atomic_write(folder / _RECORD, dump(_record(steps, gone, pages)))
        fsync_directory(root)
    except BaseException:
        remove_path(folder)
        raise
    _finish(root, steps, gone, pages)


def recover(root: Path) -> None:
    """Finish the write a killed writer left in the registry at ``root``, or drop one not yet decided, and
    remove the temporary files killed writes left at its top and in ``keys/`` (when it is a real folder of
    the registry, not a link: a cloned registry's ``keys -> ~/.claude/skills`` would have skillpm's
    leftovers there removed), and the incoming folders of writers now gone; under the registry's lock."""
    for folder in (root, *real_folders(root, ("keys",))):
        recover_folder(folder, restore=())
    remove_abandoned(root)
    folder = root / JOURNAL
    if not (folder.exists() or folder.is_symlink()):
        return
    if folder.is_symlink() or not folder.is_dir():
        raise _unfinishable(root, f"{JOURNAL} is not a folder skillpm made")
    if not (folder / _RECORD).exists():  # killed while staging: nothing in the registry changed
        remove_path(folder)
        return
    staged = folder / _FILES
    if staged.is_symlink() or (staged.exists() and not staged.is_dir()):  # its files would come from elsewhere
        raise _unfinishable(root, f"{JOURNAL}/{_FILES} is not a folder skillpm made")
    steps, gone, pages = _read(root)
    for index, step in enumerate(steps):
        _check(root, step, folder / _FILES / str(index))
    for step in gone:
        if file_digest(_target(root, step.path)) not in (None, step.before):
            raise _unfinishable(root, f"{step.path} changed since")
    _finish(root, steps, gone, pages)


def sweep(root: Path) -> None:
    """Remove the temporary files killed writes left anywhere in the registry at ``root``; under its lock.

    Only in its real folders: a top folder that is a link (a cloned registry's ``attestations -> ~``) is
    not entered, nor is any link below one, so nothing outside the registry is ever removed."""
    from skillpm.walking import walk

    for top in real_folders(root, (*_FOLDERS, "pages")):
        for folder, _, _ in walk(top):
            recover_folder(Path(folder), restore=())


def real_folders(root: Path, names: Sequence[str]) -> list[Path]:
    """``root/name`` for each of ``names`` that is a real folder (not a link to one, which may lead anywhere)."""
    found = []
    for name in names:
        try:
            if stat.S_ISDIR((root / name).lstat().st_mode):
                found.append(root / name)
        except OSError:  # absent, or cannot be read: nothing of skillpm's to clean there
            pass
    return found


def _finish(root: Path, steps: list[_Write], gone: list[_Remove], pages: Pages) -> None:
    """Steps 3 and 4: move each staged file in, remove ``gone``, sync, rewrite ``pages``, drop the journal.

    Interrupted (Ctrl-C, a stopping signal), the write is decided but not done: the interruption carries a note
    saying what finishes it, which the CLI prints instead of "nothing was left half-written".
    """
    from skillpm.pages.writer import update_pages

    build = f"'skillpm registry build {root}'"
    try:
        _put_in_place(root, steps, gone)
    except KeyboardInterrupt as stopped:
        stopped.add_note(f"the registry write was decided: the next write to {root} finishes it ({build}, say)")
        raise
    try:
        if pages is not None:
            update_pages(root, None if pages == "all" else pages)
    except KeyboardInterrupt as stopped:
        stopped.add_note(f"the registry write is in place, not all its pages: {build} writes them")
        raise
    finally:
        remove_path(root / JOURNAL)
        fsync_directory(root)


def _put_in_place(root: Path, steps: list[_Write], gone: list[_Remove]) -> None:
    """Step 3: move each staged file in, remove ``gone``, sync their folders."""
    staged = root / JOURNAL / _FILES
    folders: set[Path] = set()
    try:
        for index, step in enumerate(steps):
            path = root.joinpath(*step.path.split("/"))
            made = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
            path.parent.mkdir(parents=True, exist_ok=True)
            folders.update(folder.parent for folder in made)
            if (staged / str(index)).exists():
                _move(staged / str(index), path)
            folders.add(path.parent)
        for step in gone:
            path = root.joinpath(*step.path.split("/"))
            path.unlink(missing_ok=True)
            folders.add(path.parent)
        for folder in sorted(folders):
            fsync_directory(folder)
            recover_folder(folder, restore=())  # what killed writes of older skillpm versions left there
    except OSError as error:
        raise RegistryError(
            f"writing {root} stopped half-way: {problem(error)}",
            hint=f"once that is fixed, any write to it finishes this one (for instance 'skillpm registry build {root}')",
        ) from None


def _move(staged: Path, path: Path) -> None:
    try:
        os.replace(staged, path)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        atomic_write(path, staged.read_bytes())  # a folder mounted from another file system: copied
        staged.unlink()


def _check(root: Path, step: _Write, staged: Path) -> None:
    """That ``step`` of a journal can be finished: its file staged whole over what it replaces, or in place."""
    current = file_digest(_target(root, step.path))
    try:
        held = staged.lstat()
    except FileNotFoundError:
        if current != step.after:
            raise _unfinishable(root, f"{step.path} is neither staged nor in place") from None
        return
    if not stat.S_ISREG(held.st_mode) or file_digest(staged) != step.after:
        raise _unfinishable(root, f"the file staged for {step.path} is not the one it names")
    if current not in (step.before, step.after):
        raise _unfinishable(root, f"{step.path} changed since")


def _record(steps: list[_Write], gone: list[_Remove], pages: Pages) -> dict[str, object]:
    return {
        "format-version": _FORMAT_VERSION,
        "writes": [{"path": step.path, "before": step.before, "after": step.after} for step in steps],
        "removes": [{"path": step.path, "before": step.before} for step in gone],
        "pages": list(pages) if isinstance(pages, tuple) else pages,
    }


def _read(root: Path) -> tuple[list[_Write], list[_Remove], Pages]:
    """The journal of the registry at ``root``; RegistryError when it is not one skillpm writes."""
    from skillpm.index.model import check_name
    from skillpm.jsonfile import read_json

    try:
        record = read_json(root / JOURNAL / _RECORD, MAX_DOCUMENT_SIZE)
        if not isinstance(record, dict) or record.get("format-version") != _FORMAT_VERSION:
            raise ValueError("not a journal of this skillpm")
        steps = [_Write(item["path"], item["before"], item["after"]) for item in record["writes"]]
        gone = [_Remove(item["path"], item["before"]) for item in record["removes"]]
        pages = record["pages"]
        named = [step.path for step in [*steps, *gone]]
        if len(named) > _MOST_STEPS or len(set(named)) != len(named):  # each path hashed once, and so many
            raise ValueError(f"it names more than {_MOST_STEPS} files, or one file twice")
        for step in [*steps, *gone]:
            for digest in step[1:]:
                if digest is not None and not (isinstance(digest, str) and _SHA256.fullmatch(digest)):
                    raise ValueError(f"a digest of {str(step.path)[:100]!r} is not a sha256")
            _target(root, step.path)
        if isinstance(pages, list):
            pages = tuple(check_name(name, JOURNAL) for name in pages)
        elif pages not in (None, "all"):
            raise ValueError("pages is neither a list of packages, 'all' nor null")
    except (OSError, ValueError, TypeError, KeyError, IndexFormatError, RegistryError) as error:
        detail = error.message if isinstance(error, (IndexFormatError, RegistryError)) else problem(error)
        raise _unfinishable(root, f"its journal cannot be read ({detail})") from None
    return steps, gone, pages


def _target(root: Path, relative: object) -> Path:
    """``root/relative``; RegistryError unless it is a path a registry write makes, reached through real
    folders only and itself a regular file or none: a link anywhere on the way (``attestations`` ->
    ``.git/hooks`` in a cloned registry) would make a write land where the link leads, inside the
    registry's folder or out of it."""
    parts = relative.split("/") if isinstance(relative, str) else [""]
    plain = all(part not in ("", ".", "..") and "\\" not in part and "\0" not in part for part in parts)
    if not (plain and (relative in _TOP_FILES or (parts[0] in _FOLDERS and 1 < len(parts) <= 5))):
        raise RegistryError(f"{str(relative)[:200]!r} is not a path a registry write makes")
    path = root.joinpath(*parts)
    if not _plain_path(root, parts):
        raise RegistryError(f"{root}: {relative} is reached through a link, or is not a regular file; nothing was "
                            "written", hint="a registry's files are its own: replace the link with a folder or file")
    return path


def _plain_path(root: Path, parts: list[str]) -> bool:
    """Whether every folder of ``root/parts`` below ``root`` is a real folder or absent (the write makes it), and
    the file itself a regular file or absent."""
    where = root
    try:
        for index, part in enumerate(parts):
            where = where / part
            try:
                mode = where.lstat().st_mode
            except FileNotFoundError:
                return True  # made by the write: real folders, and a regular file
            last = index == len(parts) - 1
            if not (stat.S_ISREG(mode) if last else stat.S_ISDIR(mode)):
                return False
    except OSError:  # a name too long for the file system, or a folder that cannot be read
        return False
    return True


def _stage(path: Path, content: Content) -> None:
    if isinstance(content, Hashed):  # synced as it was received
        os.replace(content.path, path)
        return
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(handle, "wb") as stream:
        stream.write(content)
        stream.flush()
        os.fsync(stream.fileno())


def _unfinishable(root: Path, detail: str) -> RegistryError:
    return RegistryError(
        f"a write to {root} was interrupted and cannot be finished: {detail}; nothing was changed",
        hint=f"remove {root / JOURNAL}, then regenerate and sign the index with 'skillpm registry rebuild {root}'",
    )
