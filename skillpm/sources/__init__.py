"""Sources beyond a registry: a folder, a git repository, an archive URL, a site's well-known index.

One module per kind (:mod:`~skillpm.sources.git`, :mod:`~skillpm.sources.archive_url`,
:mod:`~skillpm.sources.wellknown`; a folder needs none), each turning a
:class:`~skillpm.sources.spec.SourceSpec` into a :class:`~skillpm.sources.packed.PackedSource`:
the fetched skills presented as a registry, so install, sync and policy treat them as a
registry's. :mod:`~skillpm.sources.factory` opens one from its spec or a skills.lock label.
"""
