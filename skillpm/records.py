"""Immutable records that check their values, at a NamedTuple's cost.

A frozen dataclass exec()s its generated methods when its module is imported, about
0.7 ms a class in a cold process; a ``typing.NamedTuple`` costs a tenth of that, and
every command imports dozens of records. A record with invariants is a NamedTuple of
its fields subclassed with :class:`CheckedRecord` first and a ``__new__`` that checks::

    class _Fields(NamedTuple):
        name: str

    class Named(CheckedRecord, _Fields):
        __slots__ = ()

        def __new__(cls, *args, **kwargs):
            record = super().__new__(cls, *args, **kwargs)
            ...  # raise on a bad value
            return record
"""

from __future__ import annotations

from typing import Any, Iterable


class CheckedRecord:
    """The first base of a NamedTuple subclass whose ``__new__`` checks its invariants: ``_make``
    and ``_replace`` build through that ``__new__`` too (a NamedTuple's own skip it)."""

    __slots__ = ()

    @classmethod
    def _make(cls, iterable: Iterable[Any]) -> Any:
        return cls(*iterable)
