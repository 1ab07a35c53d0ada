"""A line chart of a KPI series, drawn on the server as inline SVG.

No JavaScript and no chart library: the chart is a few SVG elements with a
title and a description for screen readers, labelled axes, and a gap where
a period has no value. The table next to it carries the exact figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 48
MAX_X_LABELS = 12


@dataclass(frozen=True)
class ChartPoint:
    label: str
    value: float | None


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round axis values covering [low, high], about `count` of them."""
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    raw_step = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    first = math.floor(low / step) * step
    last = math.ceil(high / step) * step
    ticks, value = [], first
    while value <= last + step / 2:
        ticks.append(round(value, 10))
        value += step
    return ticks


def format_tick(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def line_chart(
    points: Sequence[ChartPoint], title: str, description: str, unit_label: str
) -> SafeString:
    """The SVG of a series; an empty string when no period has a value."""
    known = [p.value for p in points if p.value is not None]
    if not known:
        return SafeString("")
    ticks = nice_ticks(min(known), max(known))
    low, high = ticks[0], ticks[-1]
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM

    def x(index: int) -> float:
        if len(points) == 1:
            return LEFT + plot_w / 2
        return LEFT + plot_w * index / (len(points) - 1)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - low) / (high - low))

    parts = [
        format_html(
            '<svg class="chart" viewBox="0 0 {} {}" role="img" '
            'aria-labelledby="chart-title chart-desc" '
            'xmlns="http://www.w3.org/2000/svg">'
            '<title id="chart-title">{}</title><desc id="chart-desc">{}</desc>',
            WIDTH,
            HEIGHT,
            title,
            description,
        )
    ]
    parts += _y_axis(ticks, y, unit_label)
    parts += _x_axis(points, x)
    parts += _lines(points, x, y)
    parts.append(SafeString("</svg>"))
    return mark_safe("".join(parts))  # noqa: S308 - every part is escaped


def _y_axis(
    ticks: list[float], y: Callable[[float], float], unit_label: str
) -> list[SafeString]:
    parts = []
    for tick in ticks:
        at = y(tick)
        parts.append(
            format_html(
                '<line class="chart__grid" x1="{}" x2="{}" y1="{}" '
                'y2="{}"/><text class="chart__tick" x="{}" y="{}" '
                'text-anchor="end" dominant-baseline="middle">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                _n(at),
                _n(at),
                LEFT - 6,
                _n(at),
                format_tick(tick),
            )
        )
    parts.append(
        format_html(
            '<text class="chart__unit" x="{}" y="{}" text-anchor="middle" '
            'transform="rotate(-90 {} {})">{}</text>',
            14,
            _n(TOP + (HEIGHT - TOP - BOTTOM) / 2),
            14,
            _n(TOP + (HEIGHT - TOP - BOTTOM) / 2),
            unit_label,
        )
    )
    return parts


def _x_axis(
    points: Sequence[ChartPoint], x: Callable[[int], float]
) -> list[SafeString]:
    every = max(1, math.ceil(len(points) / MAX_X_LABELS))
    base = HEIGHT - BOTTOM
    parts = [
        format_html(
            '<line class="chart__axis" x1="{}" x2="{}" y1="{}" y2="{}"/>',
            LEFT,
            WIDTH - RIGHT,
            base,
            base,
        )
    ]
    for index, point in enumerate(points):
        if index % every and index != len(points) - 1:
            continue
        parts.append(
            format_html(
                '<text class="chart__tick" x="{}" y="{}" '
                'text-anchor="middle">{}</text>',
                _n(x(index)),
                base + 18,
                point.label,
            )
        )
    return parts


def _lines(
    points: Sequence[ChartPoint],
    x: Callable[[int], float],
    y: Callable[[float], float],
) -> list[SafeString]:
    """One path per run of known values, and a dot on every value."""
    runs: list[list[str]] = [[]]
    dots = []
    for index, point in enumerate(points):
        if point.value is None:
            runs.append([])
            continue
        px, py = x(index), y(point.value)
        runs[-1].append(f"{px:.1f},{py:.1f}")
        dots.append(
            format_html(
                '<circle class="chart__dot" cx="{}" cy="{}" r="3">'
                "<title>{}: {}</title></circle>",
                _n(px),
                _n(py),
                point.label,
                format_tick(point.value),
            )
        )
    paths = [
        format_html(
            '<polyline class="chart__line" fill="none" points="{}"/>',
            " ".join(run),
        )
        for run in runs
        if len(run) > 1
    ]
    return [*paths, *dots]


def _n(value: float) -> str:
    return f"{value:.1f}"


def describe(points: Sequence[ChartPoint], kpi_label: str) -> str:
    """A one-sentence summary for the chart's description."""
    known = [p for p in points if p.value is not None]
    if not known:
        return f"No values of {kpi_label}."
    first, last = known[0], known[-1]
    return (
        f"{kpi_label} from {first.label} ({format_tick(first.value or 0)}) "
        f"to {last.label} ({format_tick(last.value or 0)}), "
        f"{len(known)} of {len(points)} periods with a value."
    )
