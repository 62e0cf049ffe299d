"""Printing for the CLI: JSON documents, aligned tables, notices on stderr.

Every line of text goes through :func:`skillpm.display.clean`, so nothing a registry
sends reaches the terminal as control characters or unbounded; JSON is printed exact
(``json.dumps`` escapes every control and non-ASCII character).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import click

from skillpm.display import FIELD, LINE, clean

if TYPE_CHECKING:
    from skillpm.validation import Finding


def emit_json(data: object) -> None:
    """Print ``data`` as indented JSON on stdout: ASCII only, every string exact.

    Written as it is encoded, never built whole: the indented text of a large document
    (``info --json`` of 10,000 variants) is several times the size of the data.
    """
    import json  # only with --json: text output (validate's) never loads it

    pieces: list[str] = []
    for piece in json.JSONEncoder(indent=2, ensure_ascii=True).iterencode(data):
        pieces.append(piece)
        if len(pieces) == 4096:  # a write per piece would cost more than the encoding
            click.echo("".join(pieces), nl=False)
            pieces.clear()
    click.echo("".join(pieces))


def say(text: str, *, err: bool = False) -> None:
    """Print one line of text (on stderr with ``err``), made safe for a terminal."""
    click.echo(clean(text, LINE), err=err)


def report(as_json: bool, data: object, text: str) -> None:
    """What a command did: ``data`` as JSON with --json, else the line ``text``."""
    if as_json:
        emit_json(data)
    else:
        say(text)


def notice(message: str) -> None:
    """A one-line note on stderr, kept out of stdout so --json output stays clean."""
    say(message, err=True)


def warn_of(finding: Finding) -> None:
    """Print a warning ``pack`` or ``publish`` finds as it goes (:func:`notice`)."""
    notice(f"warning: {finding.message}")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, limit: int = FIELD) -> None:
    """Print rows under headers, in columns as wide as their widest cell (each cell at most ``limit``)."""
    cells = [[clean(cell, limit) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[index]) for row in cells) for index in range(len(headers))]
    for row in cells:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


