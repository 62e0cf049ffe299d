"""The static index's documents as frozen values, read and written as JSON.

Pure logic, no I/O, and no pydantic: these parsers sit on the ``resolve`` and
``install`` paths, which must start fast. Every document is checked strictly
on the way in; anything malformed raises :class:`IndexFormatError` naming the
document and the field. The format is described in docs/index-format.md and
schemas/index-*.schema.json.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from skillpm.errors import IndexFormatError
from skillpm.index.limits import MAX_ATTESTATIONS, document_problem
from skillpm.records import Record
from skillpm.spelling import is_lowercase_words, is_sha256

if TYPE_CHECKING:
    from skillpm.index.versionkey import VersionKey

FORMAT = "skillpm-index"
FORMAT_VERSION = 1

MAX_NAME_LENGTH = 64
#: Longer version strings are refused: PEP 440 sets no limit, but Python will not turn more
#: than 4300 digits into an int, and no real version is this long.
MAX_VERSION_LENGTH = 256


def archive_name(name: str, version: str, target: str) -> str:
    """The file name of a variant's archive (docs/index-format.md, ``artifacts/``)."""
    return f"{name}-{version}-{target}.tar.gz"


def shard_path(name: str) -> str:
    """Where a package's document lives under ``index/``, sharded as cargo's index is.

    ``a`` -> ``1/a.json``, ``ab`` -> ``2/ab.json``, ``abc`` -> ``3/a/abc.json``,
    ``kernel-builder-cuda`` -> ``ke/rn/kernel-builder-cuda.json``.
    """
    if len(name) <= 2:
        return f"{len(name)}/{name}.json"
    if len(name) == 3:
        return f"3/{name[0]}/{name}.json"
    return f"{name[:2]}/{name[2:4]}/{name}.json"


class _Reader:
    """Typed access to one JSON object, with errors that name the document and field."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise IndexFormatError(f"{where}: expected a JSON object")
        self.data: dict[str, Any] = data
        self.where = where

    def _get(self, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        if key not in self.data:
            if default is _REQUIRED:
                raise IndexFormatError(f"{self.where}: missing field {key!r}")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise IndexFormatError(f"{self.where}: field {key!r} has the wrong type")
        return value

    def text(self, key: str, default: Any = None) -> Any:
        return self._get(key, str, default)

    def count(self, key: str) -> int:
        value = self._get(key, int, _REQUIRED)
        if value < 0:
            raise IndexFormatError(f"{self.where}: field {key!r} is negative")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        return self._get(key, bool, default)

    def strings(self, key: str) -> tuple[str, ...]:
        values = self._get(key, list, [])
        if not all(isinstance(value, str) for value in values):
            raise IndexFormatError(f"{self.where}: field {key!r} must list strings")
        return tuple(values)

    def objects(self, key: str) -> list[object]:
        return self._get(key, list, [])


_REQUIRED = object()


def _check_format_version(reader: _Reader) -> None:
    version = reader.count("format-version")
    if version != FORMAT_VERSION:
        raise IndexFormatError(
            f"{reader.where}: index format version {_shown(version)} is not supported "
            f"(this skillpm reads version {FORMAT_VERSION})",
            hint="upgrade skillpm, or ask the registry's owner which version it serves",
        )


def is_valid_name(name: str) -> bool:
    """Whether ``name`` is a package name: lowercase letters and digits in runs joined by single hyphens."""
    return len(name) <= MAX_NAME_LENGTH and is_lowercase_words(name)


def check_name(name: str, where: str) -> str:
    """Return ``name`` when it is a valid package name, else raise IndexFormatError."""
    if not is_valid_name(name):
        raise IndexFormatError(f"{where}: invalid package name {name[:80]!r}")
    return name


class Attestation(Record):
    """An attestation attached to a variant (filled in by ``publish``)."""

    path: str
    sha256: str
    predicate_type: str

    @classmethod
    def from_json(cls, data: object, where: str) -> Attestation:
        reader = _Reader(data, where)
        return cls(
            path=_relative_path(reader.text("path", _REQUIRED), where),
            sha256=check_sha256(reader.text("sha256", _REQUIRED), where),
            predicate_type=reader.text("predicate-type", _REQUIRED),
        )

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "predicate-type": self.predicate_type}


class Variant(Record):
    """One archive of one version, written for one GPU target."""

    target: str
    sha256: str
    size: int
    path: str
    yanked: bool = False
    attestations: tuple[Attestation, ...] = ()

    @classmethod
    def from_json(cls, data: object, where: str) -> Variant:
        reader = _Reader(data, where)
        target = reader.text("target", _REQUIRED)
        where = reader.where = f"{where} variant {_shown(target)}"
        listed = reader.objects("attestations")
        if len(listed) > MAX_ATTESTATIONS:  # refused before any is read (skillpm.index.limits)
            raise IndexFormatError(f"{where}: more than the {MAX_ATTESTATIONS} attestations a variant may list")
        return cls(
            target=target,
            sha256=check_sha256(reader.text("sha256", _REQUIRED), where),
            size=reader.count("size"),
            path=_relative_path(reader.text("path", _REQUIRED), where),
            yanked=reader.flag("yanked"),
            attestations=tuple(
                Attestation.from_json(item, f"{where} attestation") for item in listed
            ),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "sha256": self.sha256,
            "size": self.size,
            "path": self.path,
            "yanked": self.yanked,
            "attestations": [item.to_json() for item in self.attestations],
        }


class VersionEntry(Record):
    """One published version of a package and its variants."""

    version: str
    description: str
    variants: tuple[Variant, ...]
    license: str | None = None
    keywords: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()

    @property
    def yanked(self) -> bool:
        """A version is yanked when every one of its variants is."""
        return all(variant.yanked for variant in self.variants)

    def with_yank(self, target: str | None, *, undo: bool = False) -> tuple[VersionEntry, list[str]]:
        """This entry with its variants (or the one for ``target``) yanked, or not with ``undo``, and
        the targets changed; LookupError naming the variants when it has none for ``target``."""
        chosen = [variant.target for variant in self.variants if target is None or variant.target == target]
        if not chosen:
            raise LookupError(f"has no variant {target} (variants: {', '.join(v.target for v in self.variants)})")
        variants = tuple(v._replace(yanked=not undo) if v.target in chosen else v for v in self.variants)
        return self._replace(variants=variants), chosen

    @classmethod
    def from_json(cls, data: object, where: str) -> VersionEntry:
        reader = _Reader(data, where)
        version = reader.text("version", _REQUIRED)
        where = reader.where = f"{where} version {_shown(version)}"
        if len(version) > MAX_VERSION_LENGTH:
            raise IndexFormatError(f"{where}: the version is longer than {MAX_VERSION_LENGTH} characters")
        variants = tuple(
            Variant.from_json(item, where) for item in reader.objects("variants")
        )
        if len({variant.target for variant in variants}) != len(variants):
            raise IndexFormatError(f"{where}: a target is listed twice")
        return cls(
            version=version,
            description=reader.text("description", ""),
            variants=variants,
            license=reader.text("license"),
            keywords=reader.strings("keywords"),
            agents=reader.strings("agents"),
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"version": self.version, "description": self.description}
        if self.license is not None:
            data["license"] = self.license
        data["keywords"] = list(self.keywords)
        data["agents"] = list(self.agents)
        data["variants"] = [variant.to_json() for variant in self.variants]
        return data


class PackageDocument(Record):
    """Everything the index knows of one package: ``index/<shard>/<name>.json``."""

    name: str
    versions: tuple[VersionEntry, ...] = ()

    @classmethod
    def from_json(cls, data: object, where: str = "package document") -> PackageDocument:
        reader = _Reader(data, where)
        _check_format_version(reader)
        name = check_name(reader.text("name", _REQUIRED), where)
        where = reader.where = f"{where} of {name!r}"
        versions = tuple(VersionEntry.from_json(item, where) for item in reader.objects("versions"))
        if len({_version_key(entry.version) for entry in versions}) != len(versions):
            raise IndexFormatError(f"{where}: a version is listed twice")
        problem = document_problem(versions)
        if problem is not None:
            raise IndexFormatError(f"{where}: {problem}")
        return cls(name=name, versions=versions)

    def to_json(self) -> dict[str, Any]:
        return {
            "format-version": FORMAT_VERSION,
            "name": self.name,
            "versions": [entry.to_json() for entry in self.versions],
        }

    def with_version(self, entry: VersionEntry) -> PackageDocument:
        """A copy with ``entry`` added or replacing the entry of the same version."""
        others = [item for item in self.versions if item.version != entry.version]
        return self._replace(versions=tuple([*others, entry]))

    def search_entry(self) -> SearchEntry:
        """The package's entry in search: its highest version that is not wholly yanked (else its highest),
        a public one when there is one (clients never install a local version, ``1.0.0+label``)."""
        public = [entry for entry in self.versions if "+" not in entry.version] or list(self.versions)
        live = [entry for entry in public if not entry.yanked] or public
        return SearchEntry.of(self.name, max(live, key=version_order))


class RegistryConfig(Record):
    """The registry's root document, ``config.json``.

    ``index_keys``: the fingerprints of the keys that sign the registry's
    ``snapshot.json`` (docs/security.md, "Index integrity"); empty for an unsigned registry.
    """

    name: str = "skillpm-registry"
    index_keys: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: object, where: str = "config.json") -> RegistryConfig:
        reader = _Reader(data, where)
        if reader.text("format", _REQUIRED) != FORMAT:
            raise IndexFormatError(f"{where}: not a skillpm index (format is not {FORMAT!r})")
        _check_format_version(reader)
        keys = tuple(check_sha256(key, f"{where} index-keys") for key in reader.strings("index-keys"))
        return cls(name=reader.text("name", "skillpm-registry"), index_keys=keys)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"format": FORMAT, "format-version": FORMAT_VERSION, "name": self.name}
        if self.index_keys:
            data["index-keys"] = list(self.index_keys)
        return data


class SearchEntry(Record):
    """One package in the compact search document, ``search.json``."""

    name: str
    version: str
    description: str
    keywords: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()

    @classmethod
    def of(cls, name: str, entry: VersionEntry) -> SearchEntry:
        """The package ``name`` as search shows it: as its version ``entry`` describes it."""
        return cls(name=name, version=entry.version, description=entry.description, keywords=entry.keywords,
                   targets=tuple(variant.target for variant in entry.variants))

    @classmethod
    def from_json(cls, data: object, where: str) -> SearchEntry:
        reader = _Reader(data, where)
        return cls(
            name=check_name(reader.text("name", _REQUIRED), where),
            version=reader.text("version", _REQUIRED),
            description=reader.text("description", ""),
            keywords=reader.strings("keywords"),
            targets=reader.strings("targets"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "keywords": list(self.keywords),
            "targets": list(self.targets),
        }


def parse_search(data: object, where: str = "search.json") -> tuple[SearchEntry, ...]:
    """Read the search document."""
    reader = _Reader(data, where)
    _check_format_version(reader)
    return tuple(SearchEntry.from_json(item, where) for item in reader.objects("packages"))


def search_document(entries: list[SearchEntry]) -> dict[str, Any]:
    """The search document for ``entries``, sorted by name."""
    ordered = sorted(entries, key=lambda entry: entry.name)
    return {"format-version": FORMAT_VERSION, "packages": [entry.to_json() for entry in ordered]}


def _shown(value: object) -> str:
    """``repr(value)`` cut to a readable length: hostile documents carry megabyte-long strings."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:80]}... ({len(text)} characters)"


def version_order(entry: VersionEntry) -> tuple[int, VersionKey | str]:
    """Sort key of an index entry: PEP 440 order; a version that does not parse (which clients skip)
    sorts first, by its text, so that whatever reads or rewrites a document keeps it as it is."""
    return version_text_order(entry.version)


def version_text_order(version: str) -> tuple[int, VersionKey | str]:
    """:func:`version_order` of a version as spelt, its entry not read."""
    key = _version_key(version)
    return (0, version) if isinstance(key, str) else (1, key)


def _version_key(text: str) -> VersionKey | str:
    """A version as PEP 440 compares it (``1.0`` and ``1.0.0`` are one version), or the text itself."""
    from skillpm.index.versionkey import version_key  # here: pack and validate read no index

    try:
        return version_key(text)
    except ValueError:  # InvalidVersion, or a number too long for int()
        return text


def check_sha256(value: str, where: str) -> str:
    """Return ``value`` when it is 64 lowercase hex digits, else raise IndexFormatError."""
    if not is_sha256(value):
        raise IndexFormatError(f"{where}: sha256 is not 64 lowercase hex digits")
    return value


def _relative_path(value: str, where: str) -> str:
    """Accept only plain relative paths: no scheme, no absolute path, no '..', no backslash; printable ASCII
    without a space, ``%``, ``?`` or ``#``, so that the path joined to a registry's URL is that file's URL
    (skillpm writes nothing else)."""
    parts = value.split("/")
    plain = value.isascii() and value.isprintable() and not any(char in value for char in " %?#")
    unsafe = not plain or ":" in value or "\\" in value or ".." in parts
    if not value or value.startswith("/") or unsafe:
        raise IndexFormatError(f"{where}: unsafe path {value[:120]!r}")
    return value


def search(entries: tuple[SearchEntry, ...], words: list[str]) -> list[SearchEntry]:
    """The entries whose name, description or keywords contain every word (case-insensitive)."""
    wanted = [word.lower() for word in words]
    return [
        entry
        for entry in entries
        if all(word in " ".join([entry.name, entry.description, *entry.keywords]).lower() for word in wanted)
    ]
