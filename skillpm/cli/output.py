"""Printing for the CLI: JSON documents, aligned tables, notices on stderr."""

from __future__ import annotations

import json
from typing import Sequence

import click


def emit_json(data: object) -> None:
    """Print ``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2))


def report(as_json: bool, data: object, text: str) -> None:
    """What a command did: ``data`` as JSON with --json, else the line ``text``."""
    if as_json:
        emit_json(data)
    else:
        click.echo(text)


def notice(message: str) -> None:
    """A one-line note on stderr, kept out of stdout so --json output stays clean."""
    click.echo(message, err=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print rows under headers, in columns as wide as their widest cell."""
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[index]) for row in cells) for index in range(len(headers))]
    for row in cells:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
