"""The documents every registry backend reads, parsed and checked the same way.

A registry is a tree of plain files (docs/index-format.md): ``config.json``, one
document per package under ``index/``, ``search.json``, and artifacts. Each backend
(:mod:`~skillpm.registry.directory`, :mod:`~skillpm.registry.http`) fetches the bytes,
bounded by the limits of :mod:`skillpm.reading`; these functions turn them into the
index model, or raise the one error that names the registry and the document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from skillpm.errors import IndexFormatError, ResolutionError
from skillpm.index.model import PackageDocument, RegistryConfig, SearchEntry, parse_search, shard_path

if TYPE_CHECKING:
    from skillpm.registry.source import Source


def package_path(name: str) -> str:
    """The path of package ``name``'s document relative to the registry root."""
    return f"index/{shard_path(name)}"


def parse_json(label: str, relative: str, data: bytes) -> object:
    """The strict JSON value of a document's bytes; IndexFormatError naming it when refused."""
    from skillpm import jsonfile

    try:
        # Index text is only compared, or shown escaped (skillpm.display): a lone surrogate may stay.
        return jsonfile.parse_json(data, lone_surrogates=True)
    except ValueError as error:
        raise IndexFormatError(
            f"{label}: {relative} is corrupt: {error}",
            hint="regenerate the index with 'skillpm registry rebuild DIR'",
        ) from None


def read_config(label: str, data: object | None) -> RegistryConfig:
    """``config.json`` checked; IndexFormatError when the registry has none."""
    if data is None:
        raise IndexFormatError(
            f"{label} is not a skillpm registry (no config.json)",
            hint="create one with 'skillpm registry init DIR', or check --registry",
        )
    return RegistryConfig.from_json(data, f"{label}: config.json")


def read_package(label: str, relative: str, name: str, data: object | None) -> PackageDocument | None:
    """Package ``name``'s document checked, or ``None`` when the registry has none."""
    if data is None:
        return None
    document = PackageDocument.from_json(data, f"{label}: {relative}")
    if document.name != name:
        raise IndexFormatError(f"{label}: {relative} describes {document.name!r}, not {name!r}")
    return document


def read_search(label: str, data: object | None) -> tuple[SearchEntry, ...]:
    """``search.json`` checked; IndexFormatError when the registry has none."""
    if data is None:
        raise IndexFormatError(
            f"{label} has no search.json",
            hint="regenerate it with 'skillpm registry rebuild DIR'",
        )
    return parse_search(data, f"{label}: search.json")


#: Names a "did you mean" hint compares in full at most: a registry's search.json may list 180,000 names of
#: one length and first letter, each comparison costing up to a millisecond (difflib is quadratic in length).
MAX_NEAR_CANDIDATES = 500


def not_found(registry: Source, name: str) -> NoReturn:
    """Raise the ResolutionError for a package ``registry`` lacks, suggesting near names."""
    close = near_names(name, [entry.name for entry in registry.search_entries()])
    hint = f"did you mean {' or '.join(close)}?" if close else "try 'skillpm search WORDS'"
    raise ResolutionError(f"no package named {name!r} in registry {registry.label}", hint=hint)


def near_names(name: str, names: list[str], *, count: int = 3) -> list[str]:
    """Up to ``count`` of ``names`` like ``name``, as ``difflib.get_close_matches`` finds them (ratio at least
    0.6), compared among the :data:`MAX_NEAR_CANDIDATES` of a length the ratio allows that share the longest
    start and end with ``name``."""
    import difflib
    import heapq
    import os.path

    def could_be(other: str) -> bool:
        shorter, longer = sorted((len(name), len(other)))
        return longer > 0 and 2 * shorter / (shorter + longer) >= 0.6  # the ratio's bound from lengths alone

    def shared(other: str) -> int:
        return len(os.path.commonprefix([name, other])) + len(os.path.commonprefix([name[::-1], other[::-1]]))

    candidates = heapq.nlargest(MAX_NEAR_CANDIDATES, filter(could_be, names), key=shared)
    return difflib.get_close_matches(name, candidates, n=count, cutoff=0.6)
