"""What a skill's tree may hold so that every file system installs it the same. Pure.

The path rules and size limits that archives enforce when built and extracted
(:mod:`skillpm.archive`) and that ``skillpm validate`` reports (:mod:`skillpm.validation.paths`):
names some file system would misread, version-control folders and files
(``.git/config`` may name a program git runs), paths too long or deep, paths
that a case-insensitive or normalising file system would see as one.
"""

from __future__ import annotations

import re
import unicodedata

from skillpm.containment import folded, is_vcs_name

MAX_FILE_SIZE = 16 * 1024 * 1024  # one file of a skill
MAX_TOTAL_SIZE = 64 * 1024 * 1024  # all its files
MAX_MEMBERS = 10_000  # files of a skill
MAX_FOLDERS = 1_000  # folders the files' paths create: each takes an inode and a block of disk
MAX_PATH_LENGTH = 1024  # characters of a path in the tree
MAX_PATH_DEPTH = 32  # folders and file name of a path in the tree
MAX_NAME_BYTES = 255  # one folder or file name in UTF-8, as Linux and macOS allow

#: A name that some file system does not keep as it is: with a character Windows refuses (``:``
#: would name a drive, so that ``a/C:/x`` is ``C:x``, or an alternate data stream), ending in a dot
#: or space (Windows drops them; this covers ``.`` and ``..``), or a Windows device (``NUL``, ``com1.txt``,
#: and ``nul .md``: Windows drops the spaces before the extension when it looks for a device name,
#: as Go's ``path/filepath`` ``isReservedName`` does).
#: The group that matches names the reason in :data:`_UNSAFE_REASONS`.
_UNSAFE_NAME = re.compile(
    r'(?P<character>.*[<>:"|?*\\].*)|(?P<end>.*[. ])'
    r"|(?P<device>(?:con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³]) *(?:\..*)?)",
    re.IGNORECASE | re.DOTALL,
)
_UNSAFE_REASONS = {
    "character": 'has a character Windows refuses (<>:"|?*\\)',
    "end": "ends in a dot or space, which Windows drops",
    "device": "is a Windows device name",
}


def unsafe_name_reason(name: str) -> str | None:
    """Why some file system would not keep the file or folder ``name`` as it is, or None.

    A name is refused when it is empty, not printable (control, format and bidirectional-override
    characters, line separators; bytes that are not UTF-8, read with ``surrogateescape``), ends in a
    space no one sees, is one a file system may read as a version-control folder
    (:func:`skillpm.containment.is_vcs_name`: ``.git``, ``.HG``, ``git~1``, a ``.git`` file too, at
    any depth), or :data:`_UNSAFE_NAME`. Spaces other than ASCII's (Unicode's space separators) are
    printable here: every file system keeps them, and macOS writes U+202F into each screenshot's
    name (``Screenshot 2025-12-27 at 3.05.04\u202fAM.png``). The reason completes a sentence whose
    subject is the name.
    """
    if not name:
        return "is empty"
    if not name.isprintable() and not all(char.isprintable() or _is_space(char) for char in name):
        return "has a control or other unprintable character, or bytes that are not UTF-8"
    if name[-1] != " " and _is_space(name[-1]):
        return f"ends in a space no one sees (U+{ord(name[-1]):04X})"
    if is_vcs_name(name):
        return "is a version-control folder or file (.git, .hg, .svn), whose configuration can run programs"
    match = _UNSAFE_NAME.fullmatch(name)
    return None if match is None else _UNSAFE_REASONS[match.lastgroup or ""]


def _is_space(char: str) -> bool:
    """Whether ``char`` is one of Unicode's space separators (``Zs``: U+00A0, U+202F, U+3000...)."""
    return unicodedata.category(char) == "Zs"


def path_length_reason(relative: str) -> str | None:
    """Why the tree path ``relative`` (posix, under ``skill/``) is too long for an archive, or None.

    The reason completes a sentence whose subject is the path.
    """
    if len(relative) > MAX_PATH_LENGTH:
        return f"is longer than {MAX_PATH_LENGTH} characters"
    if relative.count("/") >= MAX_PATH_DEPTH:
        return f"is deeper than {MAX_PATH_DEPTH} levels"
    if max(map(len, relative.encode(errors="surrogateescape").split(b"/"))) > MAX_NAME_BYTES:
        return f"has a name over {MAX_NAME_BYTES} bytes in UTF-8"
    return None


class FoldedTree:
    """The files of a tree, and the folders their paths make, as a case-insensitive, normalising file system sees them.

    Two paths clash when such a file system (macOS, Windows) would see one file or folder
    twice, or a file where a folder is: :func:`skillpm.archive.extract` would fail there part-way, or
    merge two folders, and succeed elsewhere.
    """

    def __init__(self) -> None:
        self._files: dict[str, str] = {}  # folded path (see folded) -> the path as spelled
        self._folders: dict[str, str] = {}  # folded path -> the path as first spelled

    @property
    def folder_count(self) -> int:
        """How many folders the paths added make, counting those that differ only in case or form once."""
        return len(self._folders)

    def add(self, relative: str) -> str | None:
        """Add the file path ``relative`` (posix); or, when it clashes with a path added before, return that one.

        The path returned, as first spelled, is a file or folder equal to ``relative`` but for
        case or Unicode form, one of ``relative``'s folders spelled otherwise, or a file where
        ``relative`` needs a folder. A clashing path is not added.
        """
        key = folded(relative)
        clash = self._files.get(key) or self._folders.get(key)
        parents: dict[str, str] = {}  # folded path -> the path as spelled here
        end = relative.find("/")
        while end != -1:
            folder = relative[:end]
            folder_key = folded(folder)
            first = self._folders.get(folder_key, folder)
            clash = clash or self._files.get(folder_key) or (None if first == folder else first)
            parents[folder_key] = folder
            end = relative.find("/", end + 1)
        if clash is None:
            self._files[key] = relative
            self._folders.update(parents)
        return clash
