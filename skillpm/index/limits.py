"""How much one package's document may list, so that reading it costs what it holds (pure logic).

Every archive and attestation bundle a document lists is read, hashed and parsed by ``info``,
``verify`` and ``install``: a document naming one 4 MiB bundle 98,000 times (16 MiB of JSON)
would cost hours. A bundle vouches for one variant (its evidence names the package, version and
target), so no writer lists one twice; and no real package comes near the counts below.
docs/index-format.md states them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from skillpm.index.model import VersionEntry

#: At most this many attestations on one variant (one per statement and signer: a handful in practice).
MAX_ATTESTATIONS = 64
#: At most this many variants in one package document, over all its versions.
MAX_VARIANTS = 10_000


def document_problem(versions: Iterable[VersionEntry]) -> str | None:
    """What breaks the limits in one package's ``versions``, or ``None``: more than MAX_VARIANTS
    variants, a variant with more than MAX_ATTESTATIONS attestations, or an attestation bundle
    (by path or sha256) listed twice, on one variant or two."""
    entries = list(versions)
    count = sum(len(entry.variants) for entry in entries)
    if count > MAX_VARIANTS:
        return f"{count} variants, more than the {MAX_VARIANTS} a package may list"
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        for variant in entry.variants:
            where = f"version {entry.version[:80]!r} variant {variant.target[:80]!r}"
            if len(variant.attestations) > MAX_ATTESTATIONS:
                return (f"{where}: {len(variant.attestations)} attestations, more than the "
                        f"{MAX_ATTESTATIONS} a variant may list")
            for kind, key in [pair for item in variant.attestations
                              for pair in (("path", item.path), ("sha256", item.sha256))]:
                if (kind, key) in seen:
                    return f"{where}: the attestation {kind} {key[:80]!r} is listed twice"
                seen.add((kind, key))
    return None
