"""Tests for skillpm.jsonfile and skillpm.reading: strict JSON and bounded reads of files from outside."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillpm.jsonfile import MAX_DEPTH, MAX_INT_DIGITS, parse_json, read_json
from skillpm.reading import read_at_most
from tests.security.test_reads import plant


@pytest.mark.parametrize(
    "text",
    ['{"a": 1, "b": [true, null, "x"]}', '[1.5e308, -0.0, 0]', '"\\ud83d\\ude00"', '"a[{"', '"\\\\ud800"',
     "[" * MAX_DEPTH + "]" * MAX_DEPTH, '{"k": "' + "[" * 1000 + '"}', "9" * MAX_INT_DIGITS],
    ids=["plain", "finite-floats", "surrogate-pair", "brackets-in-string", "escaped-backslash",
         "at-depth-limit", "brackets-in-string-deep", "at-digit-limit"],
)
def test_accepted(text: str) -> None:
    import json

    assert parse_json(text) == json.loads(text)
    assert parse_json(text.encode()) == json.loads(text)


def test_lone_surrogates_only_where_the_caller_allows_them() -> None:
    assert parse_json('{"a": "x\\ud800"}', lone_surrogates=True) == {"a": "x\ud800"}
    with pytest.raises(ValueError, match="NaN is not finite"):
        parse_json("[NaN]", lone_surrogates=True)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[NaN]", "NaN is not finite"),
        ('{"x": Infinity}', "Infinity is not finite"),
        ("-Infinity", "-Infinity is not finite"),
        ("1e999", "overflows"),
        ("[-1e400]", "overflows"),
        ("9" * (MAX_INT_DIGITS + 1), f"more than {MAX_INT_DIGITS} digits"),
        ("-" + "9" * 5000, f"more than {MAX_INT_DIGITS} digits"),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), f"nested more than {MAX_DEPTH} levels"),
        ('{"a":' * 100_000 + "1" + "}" * 100_000, f"nested more than {MAX_DEPTH} levels"),
        ('{"a": "\\ud800"}', "lone surrogate"),
        ('["\\udfff\\ud800"]', "lone surrogate"),
        ('{"\\udcff": 1}', "lone surrogate"),
        ("{broken", "Expecting property name"),
        ("\ufeff{}", "BOM"),
    ],
)
def test_refused_with_one_line(text: str, reason: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_json(text)
    message = str(refused.value)
    assert message.startswith("not valid JSON") and reason in message and "\n" not in message


@pytest.mark.parametrize("raw", [b'{"a": "caf\xe9"}', b"\xff\xfe{\x00}\x00", b'"\xed\xa0\x80"'])
def test_bytes_must_be_utf8(raw: bytes) -> None:
    with pytest.raises(ValueError, match=r"not valid JSON \(not UTF-8: byte 0x[0-9a-f]{2} at offset \d+\)"):
        parse_json(raw)


@pytest.mark.parametrize(("kind", "error"), [("fifo", OSError), ("dev-zero", OSError), ("directory", OSError),
                                           ("sparse-1gib", ValueError)])
def test_only_regular_files_within_the_limit_are_read(tmp_path: Path, kind: str, error: type) -> None:
    path = tmp_path / "file.json"
    plant(path, kind)
    with pytest.raises(error, match="not a regular file|larger than 100 bytes"):
        read_json(path, 100)


def test_read_limit_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "file.json"
    path.write_text("[" + " " * 98 + "]")
    assert read_json(path, 100) == []
    with pytest.raises(ValueError, match="larger than 99 bytes"):
        read_at_most(path, 99)


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_json(tmp_path / "absent.json", 100)
