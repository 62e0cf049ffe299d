"""Finding an answer's fenced code blocks in one pass (:mod:`skillpm.evaluation.fences`)."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillpm.evaluation.fences import code_blocks

#: The expression code blocks were found with before: quadratic when openings never close.
OLD = re.compile(
    r"^[ \t]{0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[^\s`{]*)[^\n]*\n(?P<code>.*?)^[ \t]{0,3}(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


def old_blocks(answer: str) -> list[tuple[str, str]]:
    return [(match["lang"].lower(), match["code"]) for match in OLD.finditer(answer)]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("```python\nx = 1\n```", [("python", "x = 1\n")]),
        ("```\n```\n", [("", "")]),
        ("   ~~~CUDA {.x}\na\n\nb\n   ~~~  \nafter", [("cuda", "a\n\nb\n")]),
        ("````md\n```py\ninner\n```\n````\n", [("md", "```py\ninner\n```\n")]),
        ("```a\nunclosed\n", []),
        ("```a\n```b\ncode\n```\n", [("a", "```b\ncode\n")]),
        ("~~~a\nx\n```b\ncode\n```\n", [("b", "code\n")]),  # the unclosed opening is read as prose
        ("    ```py\nindented four\n```\n", []),  # four spaces: code, not a fence, then an unclosed opening
        ("```py\nx\n~~~\n", []),
        ("text ```py\nx\n```", []),
        ("```py", []),
    ],
)
def test_blocks(answer, expected):
    assert code_blocks(answer) == expected


@pytest.mark.parametrize("line", ["```a", "~~~a", "```", "````python x"])
def test_thousands_of_openings_that_never_close_take_no_time(line):
    answer = (line + "\n") * 20_000
    start = time.perf_counter()
    found = code_blocks(answer)
    assert time.perf_counter() - start < 1.0
    assert found == ([("", "")] * 10_000 if line == "```" else [])


prose = st.text(st.characters(blacklist_characters="\n`~\r"), max_size=20)
inner_line = st.text(st.sampled_from("ab `~{}\t"), max_size=12)


@st.composite
def blocks(draw) -> str:
    char = draw(st.sampled_from("`~"))
    fence = char * draw(st.integers(3, 6))
    indent = draw(st.sampled_from(["", " ", "  ", "   ", "\t"]))
    lang = draw(st.sampled_from(["", "python", "CUDA", "c++", "py3"]))
    info = draw(st.sampled_from(["", " ", " {.x}", " title=x"]))
    code = draw(st.lists(inner_line.filter(lambda line: re.fullmatch(rf"[ \t]{{0,3}}{re.escape(fence)}[ \t]*", line) is None), max_size=4))
    close = draw(st.sampled_from(["", " ", "\t", "  "]))
    body = "".join(line + "\n" for line in code)
    return f"{indent}{fence}{draw(st.sampled_from(['', ' ']))}{lang}{info}\n{body}{draw(st.sampled_from(['', ' ', '   ']))}{fence}{close}"


@given(st.lists(st.one_of(prose, blocks()), max_size=8), st.booleans())
def test_well_formed_answers_give_what_the_expression_gave(parts, trailing_newline):
    answer = "\n".join(parts) + ("\n" if trailing_newline else "")
    assert code_blocks(answer) == old_blocks(answer)
