"""skillpm.records.Record behaves as typing.NamedTuple does: each class is defined both ways and compared."""

from __future__ import annotations

import copy
import pickle
import re
from typing import Any, NamedTuple, get_type_hints

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillpm.records import CheckedRecord, Record


class Plain(NamedTuple):
    """A point."""

    x: int
    y: str = "y"
    z: tuple[int, ...] = ()

    def doubled(self) -> int:
        return self.x * 2

    @property
    def label(self) -> str:
        return f"{self.x}{self.y}"

    @classmethod
    def origin(cls) -> Any:
        return cls(0)


class Fast(Record):
    """A point."""

    x: int
    y: str = "y"
    z: tuple[int, ...] = ()

    def doubled(self) -> int:
        return self.x * 2

    @property
    def label(self) -> str:
        return f"{self.x}{self.y}"

    @classmethod
    def origin(cls) -> Any:
        return cls(0)


class Bare(Record):
    a: int
    b: int


class BareTuple(NamedTuple):
    a: int
    b: int


class Empty(Record):
    pass


class EmptyTuple(NamedTuple):
    pass


def outcome(make: Any, *args: Any, **kwargs: Any) -> Any:
    """What calling ``make`` gives: its fields as a plain tuple, or the type of the error."""
    try:
        return tuple(make(*args, **kwargs))
    except Exception as error:  # noqa: BLE001 - the type is what is compared
        return type(error)


values = st.one_of(st.integers(), st.text(max_size=3), st.none())
names = st.sampled_from(["x", "y", "z", "w", "_x"])


@given(st.lists(values, max_size=4), st.dictionaries(names, values, max_size=3))
def test_construction_agrees_with_namedtuple_for_any_arguments(args: list, kwargs: dict) -> None:
    assert outcome(Fast, *args, **kwargs) == outcome(Plain, *args, **kwargs)
    assert outcome(Bare, *args, **kwargs) == outcome(BareTuple, *args, **kwargs)
    assert outcome(Empty, *args, **kwargs) == outcome(EmptyTuple, *args, **kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs", "says"),
    [
        ((1, "a", (), 4), {}, "positional arguments but"),
        ((1,), {"x": 2}, "got multiple values for argument 'x'"),
        ((), {"y": "b"}, "missing 1 required"),
        ((1,), {"q": 1}, "got an unexpected keyword argument 'q'"),
    ],
)
def test_a_wrong_call_is_worded_as_namedtuple_words_it(args: tuple, kwargs: dict, says: str) -> None:
    for make in (Fast, Plain):
        with pytest.raises(TypeError, match=re.escape(says)):
            make(*args, **kwargs)


@given(st.lists(values, max_size=5), st.dictionaries(names, values, max_size=3))
def test_make_and_replace_agree_with_namedtuple(items: list, changes: dict) -> None:
    assert outcome(Fast._make, items) == outcome(Plain._make, items)
    assert outcome(Fast(1)._replace, **changes) == outcome(Plain(1)._replace, **changes)


def test_a_record_is_the_tuple_of_its_fields_with_the_namedtuple_api() -> None:
    fast, plain = Fast(3, "a", (1,)), Plain(3, "a", (1,))
    assert isinstance(fast, tuple) and fast == plain == (3, "a", (1,)) and hash(fast) == hash(plain)
    assert (fast.x, fast.y, fast.z, fast[0], fast[-1]) == (3, "a", (1,), 3, (1,))
    assert Fast._fields == Plain._fields == ("x", "y", "z") == Fast.__match_args__
    assert Fast._field_defaults == Plain._field_defaults == {"y": "y", "z": ()}
    assert fast._asdict() == plain._asdict() == {"x": 3, "y": "a", "z": (1,)}
    assert repr(fast) == repr(plain).replace("Plain", "Fast") == "Fast(x=3, y='a', z=(1,))"
    assert (fast.doubled(), fast.label, Fast.origin()) == (6, "3a", (0, "y", ()))
    assert Fast.__doc__ == "A point." and Bare.__doc__ == BareTuple.__doc__.replace("BareTuple", "Bare")
    assert Fast.__module__ == __name__ and Fast.__qualname__ == "Fast"
    assert get_type_hints(Fast) == get_type_hints(Plain) == {"x": int, "y": str, "z": tuple[int, ...]}
    match fast:
        case Fast(x, y):
            assert (x, y) == (3, "a")


def test_a_record_cannot_be_changed_nor_given_attributes() -> None:
    fast = Fast(1)
    with pytest.raises(AttributeError):
        fast.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        fast.other = 2  # type: ignore[attr-defined]
    assert not hasattr(fast, "__dict__")


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_record_pickles_and_copies_as_itself(protocol: int) -> None:
    fast = Fast(1, "b", (2,))
    again = pickle.loads(pickle.dumps(fast, protocol))
    assert type(again) is Fast and again == fast
    assert copy.copy(fast) == copy.deepcopy(fast) == fast


def definition_error(base: Any, body: str) -> Any:
    try:
        exec(f"class Made(base):\n{body}", {"base": base})
    except Exception as error:  # noqa: BLE001
        return type(error)
    return None


@pytest.mark.parametrize(
    "body",
    [
        "    a: int = 1\n    b: int\n",  # a field without a default after one with
        "    _a: int\n",  # a field named with an underscore
        "    a: int\n    def _replace(self): pass\n",  # a method the record defines
        "    a: int\n    def __new__(cls): pass\n",
        "    a: int\n    _fields = ()\n",
        "    a: int\n    def method(self): pass\n",  # allowed
    ],
)
def test_definitions_namedtuple_refuses_are_refused(body: str) -> None:
    assert definition_error(Record, body) is definition_error(NamedTuple, body)


def test_only_record_itself_may_be_inherited_from_in_a_definition() -> None:
    with pytest.raises(TypeError):
        class Mixed(Record, int):  # type: ignore[misc]
            a: int


class _Fields(Record):
    name: str
    size: int = 0


class Checked(CheckedRecord, _Fields):
    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        record = super().__new__(cls, *args, **kwargs)
        if record.size < 0:
            raise ValueError("size must not be negative")
        return record


def test_a_checked_record_checks_every_way_it_is_made() -> None:
    assert Checked("a", 1) == ("a", 1) and type(Checked("a")._replace(size=2)) is Checked
    for make in (lambda: Checked("a", -1), lambda: Checked._make(["a", -1]), lambda: Checked("a")._replace(size=-1)):
        with pytest.raises(ValueError, match="negative"):
            make()
    assert pickle.loads(pickle.dumps(Checked("a", 3))) == Checked("a", 3)
