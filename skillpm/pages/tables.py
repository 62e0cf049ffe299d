"""Tables of figures on a package page, shared by every kind of evidence.

Pure. A table sits in a scroll box that a keyboard can reach (a wide table scrolls inside
it; the page itself never scrolls sideways); the first cell of each row heads it. Cells of
:func:`row` are registry text and escaped here; cells of :func:`html_row` are markup
already escaped by the caller.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from skillpm.pages.markup import text

MAX_ROWS = 16  # models, problem sizes, kernels or figures shown per attestation


def table(label: str, headings: Sequence[str], rows: Sequence[str], *, caption: str = "", kind: str = "figures") -> str:
    """A table of ``rows`` under ``headings`` (markup), named ``label`` for screen readers; ``caption`` is markup."""
    head = "".join(f'<th scope="col">{heading}</th>' for heading in headings)
    return (
        f'<div class="scroll" tabindex="0" role="region" aria-label="{text(label, 200)}"><table class="{kind}">'
        f"{f'<caption>{caption}</caption>' if caption else ''}"
        f"{f'<thead><tr>{head}</tr></thead>' if head else ''}<tbody>{''.join(rows)}</tbody></table></div>"
    )


def html_row(heading: str, cells: Sequence[str]) -> str:
    """A row whose heading and cells are markup already."""
    return f'<tr><th scope="row">{heading}</th>' + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def row(heading: str, *cells: str) -> str:
    """A row of registry text, escaped."""
    return html_row(text(heading, 120), [text(cell) for cell in cells])


def more(count: int, what: str) -> str:
    """A note saying how many rows past :data:`MAX_ROWS` were left out, when any were."""
    return f'<p class="note">and {count - MAX_ROWS} more {what}</p>' if count > MAX_ROWS else ""


def object_at(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """``data[key]`` when it is an object, else an empty one."""
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def objects_at(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """The objects in the list ``data[key]``; none when it is not a list."""
    value = data.get(key)
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []
