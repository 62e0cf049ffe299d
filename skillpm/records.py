"""Immutable records: :class:`Record`, a ``typing.NamedTuple`` that costs next to nothing to define.

Every command imports dozens of record classes, and defining one is the cost: a frozen
dataclass exec()s its generated methods; ``typing.NamedTuple`` compiles each field's
annotation (a string, under ``from __future__ import annotations``) into a ForwardRef and
has ``collections.namedtuple`` eval() a ``__new__``. Measured in instructions, 46 such
classes of four fields cost 0.31x of ``python -c "import click"``. A :class:`Record` is
the same kind of class, a tuple subclass with the same fields, defaults, methods and
errors, built with no compiling at all: type checkers see ``typing.NamedTuple`` itself, and
tests/test_records.py holds the two to the same behaviour. Write one as a NamedTuple::

    class Point(Record):
        x: int
        y: int = 0

A record with invariants is a record of its fields subclassed with :class:`CheckedRecord`
first and a ``__new__`` that checks::

    class _Fields(Record):
        name: str

    class Named(CheckedRecord, _Fields):
        __slots__ = ()

        def __new__(cls, *args, **kwargs):
            record = super().__new__(cls, *args, **kwargs)
            ...  # raise on a bad value
            return record
"""

from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from typing import NamedTuple as Record
else:
    #: What a record class defines itself; a class body may not define these (as NamedTuple's may not).
    _OWN = frozenset({
        "__new__", "__init__", "__slots__", "__getnewargs__", "_fields", "_field_defaults", "_make", "_replace",
        "_asdict", "_source",
    })

    def _new(cls: type, *args: Any, **kwargs: Any) -> Any:
        fields = cls._fields
        if kwargs or len(args) != len(fields):
            args = _bind(cls, fields, args, kwargs)
        return tuple.__new__(cls, args)

    def _bind(cls: type, fields: tuple[str, ...], args: tuple, kwargs: dict[str, Any]) -> tuple:
        """``args`` and ``kwargs`` as the values of ``fields`` in order, defaults filled in (TypeError as a call's)."""
        if len(args) > len(fields):
            raise TypeError(f"{cls.__name__}() takes {len(fields)} positional arguments but {len(args)} were given")
        for name in fields[: len(args)]:
            if name in kwargs:
                raise TypeError(f"{cls.__name__}() got multiple values for argument {name!r}")
        values = list(args)
        defaults = cls._field_defaults
        missing = []
        for name in fields[len(args):]:
            if name in kwargs:
                values.append(kwargs.pop(name))
            elif name in defaults:
                values.append(defaults[name])
            else:
                missing.append(name)
        if kwargs:
            raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {next(iter(kwargs))!r}")
        if missing:
            raise TypeError(f"{cls.__name__}() missing {len(missing)} required argument(s): "
                            + ", ".join(map(repr, missing)))
        return tuple(values)

    @classmethod
    def _make(cls: type, iterable: Iterable[Any]) -> Any:
        result = tuple.__new__(cls, iterable)
        if len(result) != len(cls._fields):
            raise TypeError(f"Expected {len(cls._fields)} arguments, got {len(result)}")
        return result

    def _replace(self: Any, /, **changes: Any) -> Any:
        result = self._make(map(changes.pop, self._fields, self))
        if changes:
            raise ValueError(f"Got unexpected field names: {list(changes)!r}")
        return result

    def _repr(self: Any) -> str:
        return f"{type(self).__name__}({', '.join(f'{n}={v!r}' for n, v in zip(self._fields, self))})"

    def _asdict(self: Any) -> dict[str, Any]:
        return dict(zip(self._fields, self))

    def _getnewargs(self: Any) -> tuple:
        return tuple(self)

    class _RecordMeta(type):
        """Makes each ``class X(Record)`` a tuple subclass, as ``typing.NamedTuple`` does, compiling nothing."""

        def __new__(mcs, typename: str, bases: tuple[type, ...], ns: dict[str, Any]) -> type:
            if not bases:
                return super().__new__(mcs, typename, bases, ns)
            if bases != (Record,):
                raise TypeError("can only inherit from a NamedTuple type and Generic")
            fields = tuple(ns.get("__annotations__", {}))
            defaults = {name: ns[name] for name in fields if name in ns}
            for index, name in enumerate(fields):
                if name.startswith("_"):
                    raise ValueError(f"Field names cannot start with an underscore: {name!r}")
                if name not in defaults and any(field in defaults for field in fields[:index]):
                    raise TypeError(f"Non-default namedtuple field {name} cannot follow default field"
                                    f"{'s' if len(defaults) > 1 else ''} {', '.join(defaults)}")
            namespace: dict[str, Any] = {
                "__doc__": f"{typename}({', '.join(fields)})", "__slots__": (), "_fields": fields,
                "_field_defaults": defaults, "__match_args__": fields, "__new__": _new, "_make": _make,
                "_replace": _replace, "__repr__": _repr, "_asdict": _asdict, "__getnewargs__": _getnewargs,
            }
            for index, name in enumerate(fields):
                namespace[name] = property(itemgetter(index), doc=f"Alias for field number {index}")
            for key, value in ns.items():
                if key in _OWN:
                    raise AttributeError(f"Cannot overwrite NamedTuple attribute {key}")
                if key not in fields and (key != "__doc__" or value is not None):
                    namespace[key] = value
            return type(typename, (tuple,), namespace)

    class Record(metaclass=_RecordMeta):
        """The base of a record class: ``class X(Record)`` with annotated fields, as ``typing.NamedTuple``."""


class CheckedRecord:
    """The first base of a record subclass whose ``__new__`` checks its invariants: ``_make``
    and ``_replace`` build through that ``__new__`` too (a record's own skip it)."""

    __slots__ = ()

    @classmethod
    def _make(cls, iterable: Iterable[Any]) -> Any:
        return cls(*iterable)
