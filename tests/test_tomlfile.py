"""parse_toml: tomllib for files anyone may have written, with dotted keys bounded before tomllib sees them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillpm.tomlfile import MAX_TOML_DOTS, parse_toml


def test_dots_in_strings_and_comments_do_not_count():
    text = 'url = "https://a.b.c.d.e.f.g.h.i.example/x.y.z"  # v1.2.3.4.5.6.7.8.9\nname = \'a.b.c.d.e.f.g.h.i.j\'\n'
    assert parse_toml(text.encode())["url"].startswith("https://a.b.c")


def test_a_key_dotted_too_often_is_refused_naming_its_line():
    text = "version = 1\n" + ".".join(["a"] * (MAX_TOML_DOTS + 2)) + " = 1\n"
    with pytest.raises(ValueError, match=r"dotted more than 8 times \(near line 2\)"):
        parse_toml(text.encode())


def test_a_key_dotted_after_a_multi_line_string_is_counted_on_its_own_line():
    """A multi-line string joins lines in the text the check reads: the key after it still counts."""
    key = ".".join(["b"] * (MAX_TOML_DOTS + 2))
    text = f'a = """x\ny"""\n{key} = 1\n'
    with pytest.raises(ValueError, match="dotted more than"):
        parse_toml(text.encode())


@st.composite
def toml_line(draw: st.DrawFn) -> tuple[int, str]:
    """The dots of a line's key, and the rest of the line: `` = value  # comment``, both of which may hold dots."""
    dots = draw(st.integers(0, 2 * MAX_TOML_DOTS))
    dotted = st.text(st.sampled_from("ab.9"), max_size=40)
    value = draw(st.one_of(st.integers(0, 9).map(str), dotted.map(lambda text: f'"{text}"'),
                           dotted.map(lambda text: f"'{text}'")))
    comment = draw(st.one_of(st.just(""), dotted.map(lambda text: f"  # {text}")))
    return dots, f" = {value}{comment}"


@given(st.lists(toml_line(), min_size=1, max_size=6))
def test_a_file_is_refused_exactly_when_a_key_has_too_many_dots(lines):
    """The shortcut (no line with that many dots at all: no regex) never lets a long dotted key through."""
    keys = [f"line{number}" + "".join(f".k{index}" for index in range(dots)) for number, (dots, _) in enumerate(lines)]
    text = "".join(f"{key}{rest}\n" for key, (_, rest) in zip(keys, lines))
    if any(dots > MAX_TOML_DOTS for dots, _ in lines):
        with pytest.raises(ValueError, match="dotted more than"):
            parse_toml(text.encode())
    else:
        assert sorted(parse_toml(text.encode())) == sorted(key.split(".")[0] for key in keys)
