"""Sources beyond a registry: a folder, a git repository, an archive URL, a site's well-known index.

One module per kind (:mod:`~skillpm.sources.git`, :mod:`~skillpm.sources.archive_url`,
:mod:`~skillpm.sources.wellknown`; a folder needs none), each turning a
:class:`~skillpm.sources.spec.SourceSpec` into a :class:`~skillpm.sources.packed.PackedSource`:
the fetched skills presented as a registry, so install, sync and policy treat them as a
registry's. :mod:`~skillpm.sources.factory` opens one from its spec or a skills.lock label.
"""

from __future__ import annotations

#: The kinds of source, as a skills.lock label writes each before its URL (``git+https://host/org/repo@...``).
KINDS = ("dir", "git", "archive", "well-known")


def names_a_source(label: str) -> bool:
    """Whether a skills.lock ``registry`` label is a source's (``KIND+URL``) rather than a registry's, told from
    its scheme alone: reading a registry's entries needs none of the source modules."""
    scheme = label.split("://", 1)[0]
    return "+" in scheme and scheme.split("+", 1)[0] in KINDS
