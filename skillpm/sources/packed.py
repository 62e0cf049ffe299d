"""A fetched source presented as a registry: its skills packed on demand, as ``publish`` packs them.

:class:`PackedSource` holds a folder on this machine (the user's own, or one a git
clone, an archive or a well-known index was put into) and answers what a
:class:`~skillpm.registry.source.Registry` answers. Each skill in it is validated and
packed into a reproducible archive (:func:`skillpm.pack.pack`) when it is first
asked for, so install, sync and policy run on it exactly as on a registry's
archives: the same digest checks, safe extraction, atomic placement and attestation
policy (a source has no attestations: it installs only when the policy allows that,
with the one warning for unattested skills).
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from skillpm.errors import ResolutionError, SkillpmError, SourceError
from skillpm.lockfile import LockedSource
from skillpm.reading import MAX_ARTIFACT_SIZE, artifact_limit, read_regular_file
from skillpm.sources.spec import SourceSpec

if TYPE_CHECKING:
    from skillpm.archive import BuiltArchive
    from skillpm.index.listing import Listing
    from skillpm.index.model import PackageDocument, RegistryConfig, SearchEntry


def tree_digest(files: Mapping[str, str]) -> str:
    """One sha256 for a tree: of the lines ``<sha256>  <path>`` of its files (path -> sha256), sorted by path."""
    lines = "".join(f"{files[path]}  {path}\n" for path in sorted(files))
    return hashlib.sha256(lines.encode()).hexdigest()


class PackedSource:
    """The skills in ``root`` (a folder already on this machine) as a read-only registry.

    ``requested`` is the source as asked for; ``resolved`` the commit or digest it was
    fetched at, to which :attr:`spec` (and ``label``, what skills.lock records and
    ``sync`` opens again) is pinned. ``keep`` holds whatever must live as long as the
    source (the temporary folder of a clone).
    """

    def __init__(
        self, requested: SourceSpec, root: Path, *, resolved: str | None = None, keep: object = None
    ) -> None:
        self.requested = requested
        self.spec = requested.pinned(resolved) if resolved else requested
        self.root = root
        self.resolved = resolved
        self.label = self.spec.label
        self._keep = keep
        self._work = tempfile.TemporaryDirectory(prefix="skillpm-source-")
        self._folders: dict[str, tuple[Path, ...]] | None = None
        self._others: dict[str, tuple[Path, ...]] | None = None
        self._packed: dict[str, list[BuiltArchive]] = {}
        self._lock = threading.RLock()  # sync resolves locked skills in parallel threads

    def __repr__(self) -> str:
        return f"PackedSource({self.label!r})"

    # --- what the source holds ----------------------------------------------------------------

    def skills(self) -> dict[str, tuple[Path, ...]]:
        """Each skill's name and the folders that give it (one, but for a name several folders share: see
        :meth:`_folder`), found as ``skillpm validate`` finds them (:mod:`skillpm.validation.discover`)."""
        with self._lock:
            return self._find_skills()

    def _find_skills(self) -> dict[str, tuple[Path, ...]]:
        if self._folders is None:
            from skillpm.validation.discover import MANIFEST_NAME, SKILL_MD, discover
            from skillpm.validation.skillnames import skill_names

            # discover() answers [root] for a folder holding no skill at all: that is no skill, not a broken one
            folders = [f for f in discover(self.root) if (f / SKILL_MD).is_file() or (f / MANIFEST_NAME).is_file()]
            # A broken skill among many is left out: installing another one must still work.
            self._folders, unreadable = skill_names(folders)
            if len(folders) == 1 and unreadable:
                raise self._named(unreadable[folders[0]]) from None
        return self._folders

    def packed(self, name: str) -> list[BuiltArchive]:
        """Skill ``name``'s variant archives, validated and packed once."""
        with self._lock:
            return self._pack(name)

    def _pack(self, name: str) -> list[BuiltArchive]:
        if name not in self._packed:
            from skillpm.pack import pack

            folder = self._folder(name)
            out = Path(self._work.name) / name
            out.mkdir(exist_ok=True)
            try:
                self._packed[name] = pack(folder, out)
            except SkillpmError as error:
                raise self._named(error) from None
        return self._packed[name]

    def _folder(self, name: str) -> Path:
        """The folder of skill ``name``: the first, when others that give that name are copies of it;
        SourceError when they would install other files, for skillpm will not choose between them (one
        may be a look-alike another contributor added)."""
        from skillpm.validation.skillnames import install_alike

        first, *others = self.skills()[name]
        others += self._unlisted().get(name, ())
        if not others or install_alike((first, *others)):
            return first
        where = self.requested.describe()
        shown = ", ".join(repr(folder.relative_to(self.root).as_posix() or ".") for folder in (first, *others))
        raise SourceError(
            f"{where} has {len(others) + 1} different skills named {name!r} (in {shown}); skillpm will not choose one",
            hint="install the one you mean by its own folder (a path, or git's and archives' #subdirectory=PATH), "
                 "and tell the source's owner",
        )

    def _unlisted(self) -> dict[str, tuple[Path, ...]]:
        """The names of the skills only the deeper search finds (:func:`~skillpm.validation.discover.unlisted`),
        with their folders: one giving a listed skill's name is compared with it as a listed one is."""
        if self._others is None:
            from skillpm.validation.discover import unlisted
            from skillpm.validation.skillnames import skill_names

            listed = [folder for folders in self.skills().values() for folder in folders]
            self._others = skill_names(unlisted(self.root, listed))[0] if listed else {}
        return self._others

    def _named(self, error: SkillpmError) -> SkillpmError:
        """``error`` about a fetched copy, naming the source instead (the copy is gone when the user reads it)."""
        if self.spec.kind == "dir":
            return error
        where = self.requested.describe()
        return type(error)(
            error.message.replace(str(self.root), where),
            hint=f"the source's owner must fix it; 'skillpm validate' on a copy of {where} shows every problem",
        )

    def origin(self, name: str, target: str) -> LockedSource:
        """The ``[skill.source]`` record of skill ``name``'s ``target`` variant."""
        archive = next(a for a in self.packed(name) if a.metadata.target == target)
        return LockedSource(self.spec.kind, self.requested.label, self.resolved, tree_digest(archive.metadata.files))

    # --- the Registry protocol ------------------------------------------------------------------

    def config(self) -> RegistryConfig:
        from skillpm.index.model import RegistryConfig

        return RegistryConfig(name=self.spec.describe())

    def package(self, name: str) -> PackageDocument | None:
        """The one version of ``name`` the source holds, one variant per target; ``None`` when it has no such skill."""
        if name not in self.skills():
            return None
        from skillpm.index.model import PackageDocument, Variant, VersionEntry

        archives = self.packed(name)
        first = archives[0].metadata
        variants = tuple(Variant(a.metadata.target, a.sha256, a.size, a.path.name) for a in archives)
        entry = VersionEntry(first.version, first.description, variants, first.license, first.keywords, first.agents)
        return PackageDocument(name, (entry,))

    def require_package(self, name: str) -> PackageDocument:
        document = self.package(name)
        if document is None:
            raise ResolutionError(
                f"{self.spec.describe()} holds no skill named {name!r}",
                hint=f"it holds: {', '.join(sorted(self.skills())) or 'no skills'}",
            )
        return document

    def listing(self, name: str) -> Listing | None:
        """:meth:`package` as a listing."""
        from skillpm.index.listing import listed

        return listed(self.package(name))

    def locate(self, name: str) -> tuple[PackedSource, Listing]:
        from skillpm.index.listing import Listing

        return self, Listing.of(self.require_package(name))

    def search_entries(self) -> tuple[SearchEntry, ...]:
        from skillpm.index.model import SearchEntry

        return tuple(SearchEntry(name, "", "") for name in sorted(self.skills()))

    def artifact(self, relative: str, *, limit: int = MAX_ARTIFACT_SIZE) -> bytes:
        """A packed archive by its file name (what :meth:`package` lists as the variant's path)."""
        for archives in self._packed.values():
            for archive in archives:
                if archive.path.name == relative:
                    return read_regular_file(archive.path, artifact_limit(limit))
        raise SourceError(f"{self.label}: no packed archive {relative!r}")
