"""Static web pages built into a registry, beside its index: a home page and one page per package.

Pure renderers turn index documents (and the evidence verified for them) into HTML bytes:
:mod:`~skillpm.pages.home`, :mod:`~skillpm.pages.package`, with :mod:`~skillpm.pages.evidence`,
:mod:`~skillpm.pages.matrix`, :mod:`~skillpm.pages.plots` and :mod:`~skillpm.pages.markup` below
them and the stylesheet and script in :mod:`~skillpm.pages.assets`. :mod:`~skillpm.pages.writer`
is the only module that reads a registry, verifies attestations and writes files. docs/registries.md
("Browsing a registry") describes the pages.
"""
