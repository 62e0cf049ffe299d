"""A site's well-known skills index as a read-only source, as the ``skills`` CLI reads it.

Source: vercel-labs/skills, ``src/providers/wellknown.ts`` (read 2026-12). A site publishes
``/.well-known/agent-skills/index.json`` (or the older ``/.well-known/skills/index.json``)
under the URL given: ``{"skills": [{"name", "description", "files": [...]}]}``, each skill's
files beside it under ``<name>/``. skillpm lists the skills from the index and downloads
only the files of a skill that is asked for, each through the hardened transport and
bounded; names and paths are checked as an archive's are (:mod:`skillpm.sources.unpack`).
Nothing pins such a skill but its digest: skills.lock records it, and ``sync`` refuses
other bytes.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from skillpm.errors import RegistryError, RegistryUnreachable, SourceError
from skillpm.index.model import is_valid_name
from skillpm.portable import MAX_FILE_SIZE, MAX_MEMBERS, MAX_TOTAL_SIZE
from skillpm.reading import MAX_DOCUMENT_SIZE
from skillpm.sources.archive_url import fetch
from skillpm.sources.packed import PackedSource
from skillpm.sources.spec import SourceSpec
from skillpm.sources.unpack import checked_path, write_new

if TYPE_CHECKING:
    from skillpm.archive import BuiltArchive
    from skillpm.registry.http import HttpRegistry

WELL_KNOWN_PATHS = (".well-known/agent-skills", ".well-known/skills")
INDEX_NAME = "index.json"


def read_index(data: bytes, where: str) -> dict[str, list[str]]:
    """Each skill's name and files from index ``data``; SourceError naming ``where`` when it is malformed."""
    from skillpm.jsonfile import parse_json

    try:
        document = parse_json(data)
    except ValueError as error:
        raise SourceError(f"{where} is not JSON: {error}") from None
    entries = document.get("skills") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise SourceError(f"{where} has no list of skills")
    skills: dict[str, list[str]] = {}
    for entry in entries:
        name = entry.get("name") if isinstance(entry, dict) else None
        files = entry.get("files") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not is_valid_name(name) or name in skills:
            raise SourceError(f"{where} lists a skill with an invalid or repeated name {str(name)[:80]!r}")
        if not isinstance(files, list) or not 0 < len(files) <= MAX_MEMBERS or "SKILL.md" not in files:
            raise SourceError(f"{where}: skill {name!r} lists no SKILL.md, or more than {MAX_MEMBERS} files")
        if not all(isinstance(path, str) for path in files):
            raise SourceError(f"{where}: skill {name!r} lists a file that is not text")
        skills[name] = [checked_path(path) for path in files]
    return skills


class WellKnownSource(PackedSource):
    """The skills a site's well-known index lists; each one's files downloaded when it is first asked for.

    ``server`` is the index's folder on the site (one connection pool for all its files).
    """

    def __init__(self, spec: SourceSpec, server: HttpRegistry, index: dict[str, list[str]]) -> None:
        self._server = server
        self._index = index
        self._fetched: set[str] = set()
        work = tempfile.TemporaryDirectory(prefix="skillpm-well-known-")
        super().__init__(spec, Path(work.name), keep=work)

    def skills(self) -> dict[str, tuple[Path, ...]]:
        return {name: (self.root / name,) for name in self._index}

    def _pack(self, name: str) -> list[BuiltArchive]:
        """Download skill ``name``'s files (once, at most a skill's size in all), then pack them; under the lock."""
        if name not in self._fetched:
            folder = self.root / name
            shutil.rmtree(folder, ignore_errors=True)  # what a failed download left
            folder.mkdir()
            total = 0
            for path in self._index[name]:
                data = fetch(self._server, f"{name}/{path}", limit=min(MAX_FILE_SIZE, MAX_TOTAL_SIZE - total))
                total += len(data)
                write_new(folder, path, data, False)
            self._fetched.add(name)
        return super()._pack(name)


def open_well_known(spec: SourceSpec) -> WellKnownSource:
    """The index under ``spec.url`` (agent-skills first, then skills); SourceError when the site has neither."""
    from skillpm.registry.http import HttpRegistry

    tried = []
    for folder in WELL_KNOWN_PATHS:
        server = HttpRegistry(f"{spec.url}/{folder}")
        try:
            data = fetch(server, INDEX_NAME, limit=MAX_DOCUMENT_SIZE)
        except RegistryUnreachable:
            raise
        except (RegistryError, SourceError) as error:
            tried.append(f"{server.label}/{INDEX_NAME} ({error.message})")
            continue
        return WellKnownSource(spec, server, read_index(data, f"{server.label}/{INDEX_NAME}"))
    raise SourceError(
        f"{spec.url} publishes no skills index: tried {'; '.join(tried)}",
        hint="give the site's URL (its /.well-known/agent-skills/index.json), a git repository or an archive URL",
    )
