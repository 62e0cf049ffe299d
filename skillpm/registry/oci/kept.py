"""What an OCI registry's tags and version indexes said when last read, kept for ``--offline``.

install, resolve and info read an OCI registry's tag lists and version indexes
(:mod:`.registry`); the archives and attestation bundles these name are blobs, which the
artifact cache keeps by sha256. Each online read of a tag list or of a version index is kept
under ``cache_root()/oci/<registry>/<repository>/``, and ``--offline`` reads only these, as a
static registry's documents are read from their cache. Like anything in a cache they may
have been written by someone else: a kept tag list is read bounded and must be a list of
tags, a kept index is read bounded and then parsed by the strict reader the registry's
answers go through, and a repository or tag that is not a valid OCI name never becomes a path.

An online walk may keep thousands of indexes, so they are written as a cache that only saves
work: not synced to disk one by one, and the leftovers of killed writes swept from each folder
by the first write into it alone (:meth:`KeptReads._keep`).
"""

from __future__ import annotations

import json
from pathlib import Path

from skillpm.cache import write_cache_file
from skillpm.jsonfile import read_json
from skillpm.reading import MAX_DOCUMENT_SIZE, read_at_most
from skillpm.registry.oci import layout
from skillpm.registry.oci.tags import MAX_TAGS, is_tag, too_many_tags

_TAGS = "tags.json"
_INDEXES = "indexes"


class KeptReads:
    """The tag lists and version indexes of one OCI registry as last read, under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._swept: set[Path] = set()  # the folders a write has swept (one KeptReads per registry a command opens)

    def tags(self, repository: str, *, where: str) -> list[str] | None:
        """``repository``'s tags as last read; None when none were kept (or what is kept is not a tag list).

        IndexFormatError, naming ``where``, when the list holds more than MAX_TAGS, as a registry's list
        online is refused (skillpm keeps no longer one): 16 MiB of short tags are 1.3 million versions.
        """
        try:
            data = read_json(self._folder(repository) / _TAGS, MAX_DOCUMENT_SIZE)  # bounded nesting, as any cache
        except (OSError, ValueError):
            return None
        if not isinstance(data, list):
            return None
        if len(data) > MAX_TAGS:
            raise too_many_tags(where)
        if not all(isinstance(tag, str) and is_tag(tag) for tag in data):
            return None
        return data

    def keep_tags(self, repository: str, tags: list[str]) -> None:
        """Keep ``tags`` that are OCI tags (no other is read as a version either)."""
        kept = [tag for tag in tags if is_tag(tag)]
        self._keep(self._folder(repository) / _TAGS, json.dumps(kept).encode())

    def index(self, repository: str, tag: str) -> bytes | None:
        """The index ``tag`` held when last read (``b""``: the registry had no such tag); None when not kept."""
        try:
            return read_at_most(self._index_path(repository, tag), MAX_DOCUMENT_SIZE)
        except (OSError, ValueError):
            return None

    def keep_index(self, repository: str, tag: str, body: bytes | None) -> None:
        """Keep what ``tag`` holds: ``body``, or None when the registry has no such tag (a tag that is
        no OCI tag, which a registry's list may hold, is not kept)."""
        if is_tag(tag):
            self._keep(self._index_path(repository, tag), body or b"")

    def _keep(self, path: Path, data: bytes) -> None:
        """Write ``path`` as any cache file (:func:`write_cache_file`), but not synced to disk, and sweeping
        its folder for killed writes' leftovers at the first write into it alone.

        Two syncs and a listing of the folder a write made keeping the 10,000 indexes of an online walk
        cost 74 s of CPU, not 7 (``bench/oci_kept_writes.py``). After a power loss a file may be left empty: a
        tag list then reads as never kept (offline says so), an index as the registry's "no such tag",
        which whoever writes the cache can leave anyway; the next online read writes it again.
        """
        write_cache_file(path, data, sweep=path.parent not in self._swept, durable=False)
        self._swept.add(path.parent)

    def _folder(self, repository: str) -> Path:
        # One folder per repository: '+' is in no repository name, so skills/a and skills/a/indexes stay apart.
        return self.root / layout.check_repository(repository).replace("/", "+")

    def _index_path(self, repository: str, tag: str) -> Path:
        if not is_tag(tag):
            raise ValueError(f"{tag[:80]!r} is not an OCI tag")
        return self._folder(repository) / _INDEXES / tag
