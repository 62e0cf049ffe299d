"""docs/security.md's threat table names, for every threat, the test that proves its defence: those tests exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "security.md"
_REFERENCE = re.compile(r"^(?:(?P<file>(?:(?:security|oci|pages)/)?test_[a-z0-9_]+\.py))?::(?P<name>test_[A-Za-z0-9_]+)(?:\[(?P<case>[^\]]+)\])?$")


def threat_rows() -> list[tuple[str, list[str]]]:
    """Each row of the threat table (the part of the page before the details): its threat and test references."""
    table = DOC.read_text(encoding="utf-8").split("## Details:", 1)[0]
    rows = []
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] not in ("Threat", "---"):
            rows.append((cells[0], re.findall(r"`([^`]+)`", cells[2])))
    return rows


def referenced_tests() -> list[tuple[str, str, str | None]]:
    """(file, function, case id or None) for every reference, a bare ``::name`` taking the file before it."""
    found = []
    for threat, references in threat_rows():
        current = None
        for reference in references:
            match = _REFERENCE.match(reference)
            if match is None:
                case = re.fullmatch(r"\[([^\]]+)\]", reference)
                assert case and found, f"{threat[:60]!r}: cannot read the test reference {reference!r}"
                found.append((found[-1][0], found[-1][1], case[1]))
                continue
            current = match["file"] or current
            assert current, f"{threat[:60]!r}: {reference!r} names no file"
            found.append((current, match["name"], match["case"]))
    return found


def test_the_table_has_a_test_for_every_threat() -> None:
    rows = threat_rows()
    assert len(rows) >= 40
    assert all(references for _, references in rows), [threat for threat, references in rows if not references]


@pytest.mark.parametrize(("file", "name", "case"), referenced_tests(), ids=lambda value: str(value))
def test_every_test_the_table_names_exists(file: str, name: str, case: str | None) -> None:
    source = (REPO / "tests" / file).read_text(encoding="utf-8")
    assert re.search(rf"^def {name}\(", source, re.M), f"tests/{file} has no {name}"
    if case is not None:
        assert f'"{case}"' in source, f"tests/{file} has no case {case!r}"
