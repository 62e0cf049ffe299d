"""Tags as versions: how a skill's OCI repository names its versions in tags, and reads them back (pure logic).

A version is tagged as it is spelt, with ``+`` (not allowed in a tag) written ``_`` as Helm does
(:func:`tag_for`). Reading a repository's tags back, a tag holding ``_`` may be either that ``+`` or PEP
440's own separator (``2.0_post1``): it is listed one way until its index says (:func:`tag_listing`).
Referrers fallback tags (``sha256-<hex>``, distribution-spec v1.1) and other tools' tags are no versions.
The layout of what the tags point to is :mod:`skillpm.registry.oci.layout`; docs/oci.md describes both.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from skillpm.errors import IndexFormatError
from skillpm.index.model import VersionEntry
from skillpm.index.versionkey import VersionKey, version_key

if TYPE_CHECKING:
    from skillpm.index.listing import Listing

#: The most tags read of one repository: over all pages of the registry's list, or as kept for --offline.
MAX_TAGS = 100_000
#: distribution-spec: a tag is ``[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}``.
_TAG_RE = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")


def tag_for(version: str) -> str:
    """The tag of ``version``: the version itself, with ``+`` (not allowed in a tag) as ``_`` as Helm does."""
    tag = version.replace("+", "_")
    if not is_tag(tag):
        raise IndexFormatError(f"version {version[:80]!r} cannot be an OCI tag")
    return tag


def referrers_tag(digest: str) -> str:
    """The referrers fallback tag of a manifest: ``sha256-<hex>`` (distribution-spec v1.1)."""
    algorithm, _, hexdigest = digest.partition(":")
    return f"{algorithm}-{hexdigest}"


def is_tag(text: str) -> bool:
    """Whether ``text`` is a tag by the distribution-spec's grammar."""
    return _TAG_RE.fullmatch(text) is not None


def tag_listing(name: str, tags: Iterable[str], read: Callable[[str], VersionEntry | None], *,
                where: str) -> Listing | None:
    """The versions of package ``name`` (named ``where`` in errors) as its repository's ``tags`` spell them, each
    version's entry read by ``read(tag)`` (its index) when first asked for; None when no tag is a version.

    A tag holding ``_``, which is ``+`` (``1.0.0_local``) or PEP 440's own separator (``1.0_rc1``), is listed as
    :func:`_listed_as` reads it until its index, read when asked for, spells it otherwise
    (:meth:`skillpm.index.listing.Listing.read`); only the indexes :func:`_clashing` names are read here.
    IndexFormatError, before any index is read, when two tags spell one version (``1.0.0`` and ``1.0.0.0``), as
    a static registry's document listing a version twice is refused: which one is installed must not depend
    on the order the registry lists its tags in.
    """
    from skillpm.index.listing import Listing

    versions: dict[VersionKey, str] = {}
    for tag in tags:
        version = _version_of_tag(tag)
        if version is None:
            continue  # a referrers fallback tag, 'latest', or another tool's tag
        if version in versions:
            raise IndexFormatError(
                f"{where}: tags {versions[version][:80]!r} and {tag[:80]!r} "
                "are one version; skillpm will not choose between them",
                hint="the registry's owner must delete one of the tags",
            )
        versions[version] = tag
    if not versions:
        return None
    tag_of = {_listed_as(tag): tag for _, tag in sorted(versions.items())}
    listing = Listing(name, list(tag_of), lambda version: read(tag_of[version]), where=where,
                      unsure=[version for version, tag in tag_of.items() if "_" in tag],
                      spellings=lambda version: _spellings(tag_of[version]))
    for version in _clashing(list(tag_of)):
        listing.read(version)
    return listing


def _version_of_tag(tag: str) -> VersionKey | None:
    """The version ``tag`` names; None for a referrers fallback tag, another tool's tag, or what a registry's
    list holds that is no tag (its grammar allows 128 characters: 5,000 digits made ``int()`` raise
    ValueError, a traceback; ``" 1.0"`` is no tag either), as the kept tag list holds only tags."""
    if tag.startswith("sha256-") or not is_tag(tag):
        return None
    try:
        return version_key(tag.replace("_", "+", 1))
    except ValueError:
        return None


def _listed_as(tag: str) -> str:
    """The version ``tag`` is listed as until its index is read: the tag, but for one holding ``_`` that is no
    version as it stands, its reading with the first ``_`` a ``+`` (``1.0.0_build``, as Helm writes ``+``),
    a local version whatever its index says, which resolution never takes.

    ``_`` may also be PEP 440's own separator (``2.0_post1``): such a tag is listed as it stands, as skillpm,
    which publishes no local version, writes it; a ``+`` that another tool wrote there is found when the walk
    reads its index, and the version is then listed as the index spells it
    (:meth:`skillpm.index.listing.Listing.read`).
    """
    if "_" in tag:
        from packaging.version import InvalidVersion, Version

        try:
            Version(tag)
        except InvalidVersion:
            return tag.replace("_", "+", 1)
    return tag


def _spellings(tag: str) -> Iterator[str]:
    """What the index of ``tag`` (holding ``_``) may hold that is a version: the tag, or with one of its first
    seven ``_`` a ``+`` (a version holds one ``+``, after six ``_`` at most: ``1.0_rc_1_post_2_dev_3``)."""
    yield tag
    for at in [at for at, char in enumerate(tag) if char == "_"][:7]:
        yield f"{tag[:at]}+{tag[at + 1:]}"


def _clashing(versions: list[str]) -> list[str]:
    """Those of ``versions`` (as :func:`_listed_as` lists tags) that are a tag holding ``_`` as it stands and
    equal another of them (``2.0_post1``, ``2.0.post1``): their indexes are read at once, so that a ``+``
    written there is not taken for one version listed twice, which resolution refuses. Those with a ``+``, local
    versions that equal none of them, are not parsed again."""
    from collections import Counter

    parsed = {version: version_key(version) for version in versions if "+" not in version}
    count = Counter(parsed.values())
    return [version for version, key in parsed.items() if "_" in version and count[key] > 1]


def too_many_tags(where: str) -> IndexFormatError:
    """The refusal of the tag list ``where`` names, which holds more than :data:`MAX_TAGS` tags."""
    return IndexFormatError(f"{where}: more than {MAX_TAGS} tags")
