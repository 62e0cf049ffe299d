"""Horizontal bar charts as inline SVG, drawn from numbers: no chart library, nothing fetched.

Pure. A chart is groups (a model, a problem size, a GELU form) of bars (with the skill, without
it; the kernel, PyTorch eager; SASS per element, its bounds), each a fraction of the scale drawn
``fraction * BAR_WIDTH`` wide, with an optional interval drawn as a whisker. The scale is 0-100%
unless a chart names what its full scale stands for. Each chart carries a ``<title>`` and a ``<desc>``
that say in words what the bars show, and the page gives the same figures in a table.
"""

from __future__ import annotations

import math

from skillpm.pages.markup import coordinate, number, text
from skillpm.records import Record

BAR_LEFT = 110  # where the bars start, after the bar labels
BAR_WIDTH = 300  # the width of a bar at fraction 1
CHART_WIDTH = BAR_LEFT + BAR_WIDTH + 130  # room for the value after the bar
BAR_HEIGHT = 14
ROW = 20  # one bar's row
GROUP_TITLE = 20  # the row naming a group


class Bar(Record):
    """One bar: its label, its fraction of the scale (0..1), an interval, and the value as text."""

    label: str
    fraction: float
    interval: tuple[float, float] | None
    shown: str
    kind: str  # a CSS class: "with", "without", "kernel", "eager", "sass", "bound", "budget"


class Group(Record):
    """Bars drawn together under one heading (a model, a problem size)."""

    label: str
    bars: tuple[Bar, ...]


def _clamped(value: float) -> float:
    return min(1.0, max(0.0, value))


def nice_scale(largest: float) -> float:
    """A chart's full scale: the smallest 1, 2, 2.5 or 5 times a power of ten that is at least ``largest``, as
    the nearest float; ``largest`` itself when that is past the largest float, and 1 when ``largest`` is no
    positive finite number. Each candidate is read from its decimal spelling, which is rounded once: a power
    of ten computed as a float underflows to 0 below about 1e-308 (evidence may say 5e-324, more than 0)."""
    if not (math.isfinite(largest) and largest > 0):
        return 1.0
    power = math.floor(math.log10(largest))
    for exponent in (power - 1, power, power + 1):  # log10 may be off by one at a power of ten
        for step in ("1", "2", "2.5", "5"):
            scale = float(f"{step}e{exponent}")
            if scale >= largest:
                return scale if math.isfinite(scale) else largest
    return largest


def bar_chart(
    groups: list[Group], *, chart_id: str, title: str, description: str, scale: float | None = None
) -> str:
    """An SVG bar chart of ``groups``; ``chart_id`` makes its title's id unique in the page.

    ``scale``: what a bar of fraction 1 stands for, when the bars are not percentages; the
    ticks then say values (the last tick ``scale`` itself) instead of 0-100%.
    """
    height = sum(GROUP_TITLE + ROW * len(group.bars) for group in groups) + 24
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {CHART_WIDTH} {height}" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{text(title)}</title><desc id="{chart_id}-d">{text(description)}</desc>',
    ]
    bottom = height - 20
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = coordinate(BAR_LEFT + tick * BAR_WIDTH)
        parts.append(f'<line class="grid" x1="{x}" y1="0" x2="{x}" y2="{bottom}"/>')
        label = f"{tick * 100:.0f}%" if scale is None else number(tick * scale)
        parts.append(f'<text class="tick" x="{x}" y="{height - 6}" text-anchor="middle">{label}</text>')
    y = 0
    for group in groups:
        parts.append(f'<text class="group" x="0" y="{y + 14}">{text(group.label, 60)}</text>')
        y += GROUP_TITLE
        for bar in group.bars:
            parts.append(_bar(bar, y))
            y += ROW
    parts.append("</svg>")
    return "".join(parts)


def _bar(bar: Bar, y: int) -> str:
    width = coordinate(_clamped(bar.fraction) * BAR_WIDTH)
    middle = y + BAR_HEIGHT / 2
    drawn = [
        f'<text class="label" x="{BAR_LEFT - 6}" y="{y + 11}" text-anchor="end">{text(bar.label, 20)}</text>',
        f'<rect class="bar {bar.kind}" x="{BAR_LEFT}" y="{y}" width="{width}" height="{BAR_HEIGHT}" '
        f'data-fraction="{coordinate(_clamped(bar.fraction))}"/>',
    ]
    right = _clamped(bar.fraction)
    if bar.interval is not None:
        low, high = (_clamped(bound) for bound in bar.interval)
        x1, x2 = coordinate(BAR_LEFT + low * BAR_WIDTH), coordinate(BAR_LEFT + high * BAR_WIDTH)
        top, end = coordinate(middle - 5), coordinate(middle + 5)
        drawn.append(
            f'<path class="whisker" d="M{x1} {coordinate(middle)}H{x2}M{x1} {top}V{end}M{x2} {top}V{end}"/>'
        )
        right = max(right, high)
    value_x = coordinate(BAR_LEFT + right * BAR_WIDTH + 6)
    drawn.append(f'<text class="value" x="{value_x}" y="{y + 11}">{text(bar.shown, 40)}</text>')
    return "".join(drawn)
