"""Server-rendered SVG charts (web.md: "a small function: axes, bars or a line, <title> tooltips").

:func:`bar_chart` computes the geometry; the template ``_macros/charts.html`` draws it, autoescaped, with
no inline style or script (CSP): colours come from classes in distribu.css. Each bar sits in a column as
tall as the plot whose ``<title>`` is the bar's tooltip, so hovering anywhere above a day shows its
figures, however thin the bar.

The chart stretches to its box's width while its text keeps its size: there is no viewBox (a 960-wide drawing
shrunk onto a phone made 11 px labels 4 px tall). Heights are pixels; across, the template places every bar
and label at a percentage of the plot (:meth:`BarChart.across`), and the stylesheet leaves the plot's margins
beside it for the y labels. On a narrow screen every other x label (``Tick.minor``) steps aside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Sequence


MAX_BAR_WIDTH = 36.0  # a week's seven bars stay bars, not blocks
NARROW_X_LABELS = 4  # more x labels than this: every other one is minor (hidden on a phone)


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    y: float
    height: float
    column_x: float
    column_width: float
    title: str
    empty: bool


@dataclass(frozen=True)
class Tick:
    position: float
    label: str
    minor: bool = False  # left out on a narrow screen (distribu.css), so the labels there do not overlap


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    plot_left: float
    plot_top: float
    plot_right: float
    plot_bottom: float
    bars: tuple[Bar, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    title: str
    description: str

    def across(self, x: float) -> float:
        """``x`` of the drawing as a percentage of the plot's width (0 at its left edge, 100 at its right)."""
        return round((x - self.plot_left) * 100 / (self.plot_right - self.plot_left), 3)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^n at or above ``value`` (axes end on a round number)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value - 1e-9:
            return step * magnitude
    return 10 * magnitude


def bar_chart(values: Sequence[float | Decimal], titles: Sequence[str], x_labels: Sequence[str | None], *,
              y_label: Callable[[float], str], title: str, description: str, width: int = 960,
              height: int = 260, y_tick_count: int = 4) -> BarChart:
    """Bars of ``values`` (one per column), each with its tooltip ``titles[i]``; ``x_labels[i]`` labels a
    column on the x axis (None: no label)."""
    left, right, top, bottom = 64.0, 8.0, 10.0, 28.0
    plot_width, plot_height = width - left - right, height - top - bottom
    count = max(len(values), 1)
    highest = nice_ceiling(float(max(values, default=0) or 0))
    column = plot_width / count
    gap = min(column * 0.2, 3.0) if column >= 3 else 0.0
    bar_width = min(max(column - gap, 0.5), MAX_BAR_WIDTH)
    bars = []
    for number, (value, tip) in enumerate(zip(values, titles)):
        amount = float(value)
        bar_height = plot_height * amount / highest if highest else 0.0
        if amount > 0:
            bar_height = max(bar_height, 1.0)  # a small day still shows
        x = left + number * column
        bars.append(Bar(round(x + (column - bar_width) / 2, 2), round(bar_width, 2), round(top + plot_height - bar_height, 2),
                        round(bar_height, 2), round(x, 2), round(column, 2), tip, amount <= 0))
    y_ticks = tuple(Tick(round(top + plot_height - plot_height * step / y_tick_count, 2),
                         y_label(highest * step / y_tick_count)) for step in range(y_tick_count + 1))
    labelled = [(number, label) for number, label in enumerate(x_labels) if label]
    x_ticks = tuple(Tick(round(left + (number + 0.5) * column, 2), label,
                         minor=len(labelled) > NARROW_X_LABELS and index % 2 == 1)
                    for index, (number, label) in enumerate(labelled))
    return BarChart(width, height, left, top, width - right, top + plot_height, tuple(bars), y_ticks, x_ticks,
                    title, description)
