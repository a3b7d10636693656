"""Small inline-SVG charts for the report: a heatmap, grouped vertical bars and horizontal bars.

Each function returns one `<svg>` element as text (no script, no external reference), sized by its viewBox so it
scales with the page. Text is escaped; numbers are formatted by the caller.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif"
INK, MUTED, GRID, EMPTY = "#1f2937", "#6b7280", "#e5e7eb", "#f3f4f6"
# Sequential scale (light to dark teal) for the heatmap; colour-blind safe and readable in greyscale.
SCALE = ("#f0f9f8", "#b8e3dc", "#6cc3b5", "#2a9d8f", "#146c63", "#0b3f3a")


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


Number = Callable[[float], str]
"""How a chart writes a number in its labels (the report passes the language's)."""


@dataclass(frozen=True)
class Words:
    """The few words a chart writes itself, in the report's language."""

    no_data: str = "no data"
    low: str = "0 %"
    high: str = "100 %"
    outlined: str = "outlined: opening hours"


def svg(width: float, height: float, body: str, label: str) -> str:
    """An SVG root with an accessible label."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(width)} {_num(height)}" '
        f'width="{_num(width)}" height="{_num(height)}" role="img" aria-label="{escape(label)}" style="{FONT}">'
        f"<title>{escape(label)}</title>{body}</svg>"
    )


def text(x: float, y: float, content: str, *, anchor: str = "start", size: int = 12, fill: str = INK) -> str:
    """A text element."""
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" font-size="{size}" fill="{fill}">'
        f"{escape(content)}</text>"
    )


def rect(x: float, y: float, w: float, h: float, fill: str, tip: str | None = None, extra: str = "") -> str:
    """A rectangle, with a hover tooltip when `tip` is given."""
    inner = f"<title>{escape(tip)}</title>" if tip else ""
    return (
        f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(max(w, 0))}" height="{_num(max(h, 0))}" fill="{fill}"'
        f" {extra}>{inner}</rect>"
    )


def colour(value: float) -> str:
    """The scale's colour for a value in [0, 1] (clamped), interpolated between its stops."""
    v = min(max(value, 0.0), 1.0) * (len(SCALE) - 1)
    i = min(int(v), len(SCALE) - 2)
    a, b = SCALE[i], SCALE[i + 1]
    f = v - i
    mixed = (round(int(a[k : k + 2], 16) * (1 - f) + int(b[k : k + 2], 16) * f) for k in (1, 3, 5))
    return "#" + "".join(f"{c:02x}" for c in mixed)


def nice_max(value: float) -> tuple[float, float]:
    """An axis maximum at or above `value` and its tick step (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0, 1.0
    for_five = value / 5
    power = 10 ** math.floor(math.log10(for_five))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= for_five)
    return step * math.ceil(value / step - 1e-9), step


@dataclass(frozen=True)
class Cell:
    """A heatmap cell: a value in [0, 1] for the colour, its label, and a tooltip."""

    value: float
    label: str
    tip: str


def heatmap(
    rows: Sequence[str],
    cols: Sequence[str],
    cells: dict[tuple[int, int], Cell],
    label: str,
    outlined: Sequence[tuple[int, int, int]] = (),
    words: Words = Words(),
) -> str:
    """A rows x cols grid of coloured cells; `outlined` = (row, first col, last col) spans drawn with a border."""
    cw, ch, left, top = 40, 28, 44, 22
    width, height = left + cw * len(cols) + 2, top + ch * len(rows) + 40
    parts = [
        text(left + c * cw + cw / 2, top - 7, name, anchor="middle", size=10, fill=MUTED) for c, name in enumerate(cols)
    ]
    for r, name in enumerate(rows):
        y = top + r * ch
        parts.append(text(left - 8, y + ch / 2 + 4, name, anchor="end", size=11))
        for c in range(len(cols)):
            cell = cells.get((r, c))
            x = left + c * cw
            if cell is None:
                parts.append(rect(x + 1, y + 1, cw - 2, ch - 2, EMPTY, words.no_data))
                continue
            parts.append(rect(x + 1, y + 1, cw - 2, ch - 2, colour(cell.value), cell.tip, 'class="cell"'))
            ink = "#ffffff" if cell.value > 0.55 else INK
            parts.append(text(x + cw / 2, y + ch / 2 + 4, cell.label, anchor="middle", size=10, fill=ink))
    for r, first, last in outlined:
        parts.append(
            f'<rect x="{left + first * cw}" y="{top + r * ch}" width="{(last - first + 1) * cw}" height="{ch}"'
            f' fill="none" stroke="{INK}" stroke-width="1.5"/>'
        )
    legend_y = top + ch * len(rows) + 14
    for i in range(11):
        parts.append(rect(left + i * 24, legend_y, 24, 10, colour(i / 10)))
    parts.append(text(left, legend_y + 24, words.low, size=10, fill=MUTED))
    parts.append(text(left + 11 * 24, legend_y + 24, words.high, anchor="end", size=10, fill=MUTED))
    parts.append(text(left + 11 * 24 + 12, legend_y + 9, words.outlined, size=10, fill=MUTED))
    return svg(width, height, "".join(parts), label)


@dataclass(frozen=True)
class Series:
    """One bar per category; None draws nothing, a string draws a marker bar with that label (e.g. `<5`)."""

    name: str
    values: Sequence[float | str | None]
    fill: str


def bars(
    categories: Sequence[str],
    series: Sequence[Series],
    label: str,
    *,
    unit: str = "",
    width: float = 900,
    height: float = 260,
    value_labels: bool = True,
    number: Number = _num,
    thin_labels: bool = True,
) -> str:
    """Grouped vertical bars with a y axis, category labels (thinned when crowded, unless the caller already left
    most of them empty) and a legend."""
    left, right, top, bottom = 48, 12, 28, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    numbers = [v for s in series for v in s.values if isinstance(v, (int, float))]
    top_value, step = nice_max(max(numbers, default=0.0))
    parts = []
    tick = 0.0
    while tick <= top_value + 1e-9:
        y = top + plot_h - tick / top_value * plot_h
        parts.append(f'<line x1="{left}" x2="{_num(width - right)}" y1="{_num(y)}" y2="{_num(y)}" stroke="{GRID}"/>')
        parts.append(text(left - 6, y + 4, number(tick), anchor="end", size=10, fill=MUTED))
        tick += step
    if unit:
        parts.append(text(4, top - 12, unit, size=10, fill=MUTED))
    group_w = plot_w / max(len(categories), 1)
    bar_w = min(group_w * 0.8 / max(len(series), 1), 48)
    every = max(1, math.ceil(len(categories) * 70 / plot_w)) if thin_labels else 1
    gap = min(1.0, bar_w / 4)  # a year of daily bars is 2 px a bar: no room for a whole pixel each side
    for c, name in enumerate(categories):
        x0 = left + c * group_w + (group_w - bar_w * len(series)) / 2
        for s_index, s in enumerate(series):
            value = s.values[c]
            x = x0 + s_index * bar_w
            if isinstance(value, str):
                dashed = f'stroke="{MUTED}" stroke-dasharray="3 2"'
                parts.append(rect(x + gap, top + plot_h - 14, bar_w - 2 * gap, 14, EMPTY, f"{name}: {value}", dashed))
                parts.append(text(x + bar_w / 2, top + plot_h - 18, value, anchor="middle", size=9, fill=MUTED))
            elif value is not None:
                h = value / top_value * plot_h
                tip = f"{name} · {s.name}: {number(value)}"
                parts.append(rect(x + gap, top + plot_h - h, bar_w - 2 * gap, h, s.fill, tip))
                if value_labels and bar_w >= 16:
                    parts.append(text(x + bar_w / 2, top + plot_h - h - 3, number(value), anchor="middle", size=9))
        if c % every == 0 and name:
            parts.append(text(left + c * group_w + group_w / 2, top + plot_h + 16, name, anchor="middle", size=10))
    parts.append(
        f'<line x1="{left}" x2="{_num(width - right)}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{INK}"/>'
    )
    x = left
    for s in series:
        parts.append(rect(x, height - 16, 10, 10, s.fill))
        parts.append(text(x + 14, height - 7, s.name, size=11))
        x += 24 + 7 * len(s.name)
    return svg(width, height, "".join(parts), label)


def hbars(
    rows: Sequence[tuple[str, float | None, str]], label: str, *, width: float = 900, fill: str = "#2a9d8f"
) -> str:
    """Horizontal bars of values in [0, 1] (e.g. utilisation): (label, value or None, text shown at the bar's end)."""
    left, bar_h, gap, top = 150, 22, 10, 8
    plot_w = width - left - 80
    height = top + len(rows) * (bar_h + gap) + 4
    parts = []
    for i, (name, value, shown) in enumerate(rows):
        y = top + i * (bar_h + gap)
        parts.append(text(left - 10, y + bar_h / 2 + 4, name, anchor="end", size=12))
        parts.append(rect(left, y, plot_w, bar_h, EMPTY))
        if value is not None:
            parts.append(rect(left, y, plot_w * min(max(value, 0.0), 1.0), bar_h, fill, f"{name}: {shown}"))
        parts.append(text(left + plot_w + 8, y + bar_h / 2 + 4, shown, size=12))
    return svg(width, height, "".join(parts), label)
