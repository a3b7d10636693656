"""Draw each dashboard as an SVG from its panels' query results: a rendering of the data, not a Grafana screenshot.

Grafana cannot be installed here, so docs/dashboards.md shows what each panel's InfluxQL returns for the simulated
week (tests/dashboards_week.py) in a real InfluxDB 1.6.7, laid out on the dashboard's own grid. The drawing is
deliberately plain: lines for time series, segments for state timelines, bars for bar gauges, numbers for stats,
rows for tables. Regenerate with `python -m tests.dashboards_render` (a test checks the committed files).
"""

from __future__ import annotations

import itertools
import json
import math
import sys
import tempfile
from datetime import UTC
from html import escape
from pathlib import Path
from typing import Any

from edge.dashboards import DASHBOARDS
from tests import dashboards_week as week
from tests.grafana_support import Series, query_panel
from tests.rig.fixtures import REPO
from tests.rig.servers import InfluxDB16

OUT = REPO / "docs" / "img"
FILES = REPO / "deploy" / "roles" / "edge_grafana" / "files" / "dashboards"
START = week.WEEK_START.astimezone(UTC)
NOW = week.at(4, 17.5)  # Friday 17:30 local: "now" in the pictures
INTERVAL = "30m"
COL, ROW, HEADER = 50, 30, 64
PALETTE = ("#7eb26d", "#eab839", "#6ed0e0", "#ef843c", "#e24d42", "#1f78c1", "#ba43a9", "#705da0", "#508642")
COLOURS = {"green": "#37872d", "red": "#c4162a", "blue": "#3274d9", "orange": "#ff780a", "transparent": "#22252b"}


def values() -> dict[str, str | list[str]]:
    """The selection the pictures show: the main site, every zone, door and node."""
    return {"site": week.SITE, "zone": sorted(week.ZONES), "door": list(week.DOORS), "node": sorted(week.NODES)}


def lines(panel: dict[str, Any], series: list[Series]) -> list[tuple[str, list[tuple[int, float | None]]]]:
    """(name, [(time, value)]) for every series and value column, named by tags like Grafana's aliases."""
    out = []
    for s in series:
        columns = [c for c in s.columns if c != "time"]
        for column in columns:
            parts = list(s.tags.values())
            if len(columns) > 1 or not parts:
                parts.append(column)
            out.append((" ".join(parts), [(int(r["time"]), r[column]) for r in s.rows]))
    return out


class Canvas:
    """An SVG being written: panels are placed in grid units, drawn in pixels."""

    def __init__(self, title: str, height_units: int) -> None:
        self.width = 24 * COL
        self.height = HEADER + height_units * ROW + 10
        self.parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
            f'viewBox="0 0 {self.width} {self.height}" font-family="sans-serif" font-size="11">',
            f'<rect width="{self.width}" height="{self.height}" fill="#111217"/>',
            f'<text x="10" y="24" fill="#d8d9da" font-size="17">{escape(title)}</text>',
            f'<text x="10" y="46" fill="#eab839" font-size="12">Rendering of the panel data (a simulated week in '
            f"InfluxDB 1.6.7, each panel's own InfluxQL), not a Grafana screenshot. Site {week.SITE}, all zones, "
            f"{START.astimezone(week.PARIS):%a %d %b %H:%M} to {NOW.astimezone(week.PARIS):%a %d %b %H:%M} "
            f"(Europe/Paris).</text>",
        ]

    def add(self, text: str) -> None:
        """Append raw SVG."""
        self.parts.append(text)

    def svg(self) -> str:
        """The finished document."""
        return "\n".join([*self.parts, "</svg>"]) + "\n"


def fmt(value: float | None) -> str:
    """A number as a panel shows it."""
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.2f}"
    return str(int(value))


def draw_panel(canvas: Canvas, panel: dict[str, Any], series: list[Series]) -> None:
    """One panel: frame, title, and its data drawn by kind."""
    pos = panel["gridPos"]
    x, y = pos["x"] * COL + 4, HEADER + pos["y"] * ROW + 4
    w, h = pos["w"] * COL - 8, pos["h"] * ROW - 8
    canvas.add(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="#181b1f" stroke="#2c3235" rx="3"/>')
    canvas.add(f'<text x="{x + 8}" y="{y + 16}" fill="#d8d9da" font-size="12">{escape(panel["title"])}</text>')
    body = (x + 8, y + 26, w - 16, h - 34)
    kind = panel["type"]
    data = lines(panel, series)
    if kind in ("stat", "gauge"):
        _stat(canvas, panel, data, body)
    elif kind == "timeseries":
        _timeseries(canvas, panel, data, body)
    elif kind == "state-timeline":
        _timeline(canvas, panel, data, body)
    elif kind in ("bargauge", "piechart"):
        _bars(canvas, panel, data, body)
    elif kind == "table":
        _table(canvas, series, body)


def _last(points: list[tuple[int, float | None]]) -> float | None:
    present = [v for _, v in points if v is not None]
    return present[-1] if present else None


def _stat(canvas: Canvas, panel: dict[str, Any], data: list[Any], box: tuple[int, int, int, int]) -> None:
    x, y, w, h = box
    unit = panel["fieldConfig"]["defaults"].get("unit")
    slot = w / max(1, len(data))
    for i, (name, points) in enumerate(data):
        value = _last(points)
        text = f"{value * 100:.0f}%" if unit == "percentunit" and value is not None else fmt(value)
        cx = x + slot * i + slot / 2
        canvas.add(f'<text x="{cx:.0f}" y="{y + h / 2 + 8:.0f}" fill="{PALETTE[i]}" font-size="34" '
                   f'text-anchor="middle">{escape(text)}</text>')  # fmt: skip
        canvas.add(f'<text x="{cx:.0f}" y="{y + h - 4}" fill="#8e8e8e" text-anchor="middle">{escape(name)}</text>')


def _axis_max(panel: dict[str, Any], data: list[Any]) -> float:
    declared = panel["fieldConfig"]["defaults"].get("max")
    if declared is not None:
        return float(declared)
    top = max((v for _, points in data for _, v in points if v is not None), default=1.0)
    return float(top) or 1.0


def _axis_min(panel: dict[str, Any], data: list[Any]) -> float:
    """The panel's declared minimum, else the data's (Grafana's default axis fits the data)."""
    declared = panel["fieldConfig"]["defaults"].get("min")
    if declared is not None:
        return float(declared)
    return float(min((v for _, points in data for _, v in points if v is not None), default=0.0))


def _timeseries(canvas: Canvas, panel: dict[str, Any], data: list[Any], box: tuple[int, int, int, int]) -> None:
    x, y, w, h = box
    legend_h = 14 * math.ceil(len(data) / 4)
    plot_h = h - legend_h - 12
    top, bottom = _axis_max(panel, data), _axis_min(panel, data)
    span = (top - bottom) or 1.0
    t0, t1 = START.timestamp(), NOW.timestamp()
    canvas.add(f'<text x="{x}" y="{y + 8}" fill="#8e8e8e">{fmt(top)}</text>')
    canvas.add(f'<text x="{x}" y="{y + plot_h}" fill="#8e8e8e">{fmt(bottom)}</text>')
    canvas.add(f'<line x1="{x + 28}" y1="{y + plot_h}" x2="{x + w}" y2="{y + plot_h}" stroke="#2c3235"/>')
    bars = panel["fieldConfig"]["defaults"].get("custom", {}).get("drawStyle") == "bars"
    times = sorted({t for _, points in data for t, _ in points})
    step = min((b - a for a, b in itertools.pairwise(times)), default=3600)
    slot = (w - 28) * step / (t1 - t0) / max(1, len(data)) * 0.8
    for i, (_, points) in enumerate(data):
        if bars:
            for t, v in points:
                if not v:
                    continue
                px = x + 28 + (t - t0) / (t1 - t0) * (w - 28) + i * slot
                bh = (float(v) - bottom) / span * (plot_h - 4)
                colour = PALETTE[i % len(PALETTE)]
                canvas.add(f'<rect x="{px:.1f}" y="{y + plot_h - bh:.1f}" width="{max(slot, 1):.1f}" '
                           f'height="{bh:.1f}" fill="{colour}"/>')  # fmt: skip
            continue
        path, pen = [], "M"
        for t, v in points:
            if v is None:
                pen = "M"
                continue
            px = x + 28 + (t - t0) / (t1 - t0) * (w - 28)
            py = y + plot_h - (float(v) - bottom) / span * (plot_h - 4)
            path.append(f"{pen}{px:.1f},{py:.1f}")
            pen = "L"
        if path:
            colour = PALETTE[i % len(PALETTE)]
            canvas.add(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="1.2"/>')
    for i, (name, _) in enumerate(data):
        lx, ly = x + (i % 4) * (w / 4), y + plot_h + 14 + (i // 4) * 14
        canvas.add(f'<rect x="{lx:.0f}" y="{ly - 8}" width="10" height="3" fill="{PALETTE[i % len(PALETTE)]}"/>')
        canvas.add(f'<text x="{lx + 14:.0f}" y="{ly}" fill="#d8d9da">{escape(name)}</text>')


def _state_colours(panel: dict[str, Any]) -> dict[float, str]:
    """Value -> colour, from the panel's own value mappings."""
    out = {}
    for mapping in panel["fieldConfig"]["defaults"]["mappings"]:
        for raw, shown in mapping["options"].items():
            out[float(raw)] = COLOURS.get(shown["color"], "#8e8e8e")
    return out


def _timeline(canvas: Canvas, panel: dict[str, Any], data: list[Any], box: tuple[int, int, int, int]) -> None:
    x, y, w, h = box
    label_w = 170
    row_h = min(22.0, h / max(1, len(data)))
    t0, t1 = START.timestamp(), NOW.timestamp()
    for i, (name, points) in enumerate(data):
        ry = y + i * row_h
        canvas.add(f'<text x="{x}" y="{ry + row_h * 0.7:.0f}" fill="#d8d9da">{escape(name)}</text>')
        colours = _state_colours(panel)
        for t, end, v in _runs(points, int(t1)):
            px = x + label_w + (t - t0) / (t1 - t0) * (w - label_w)
            pw = max(0.5, (end - t) / (t1 - t0) * (w - label_w))
            colour = colours.get(float(v), "#8e8e8e")
            canvas.add(
                f'<rect x="{px:.1f}" y="{ry + 2:.1f}" width="{pw:.1f}" height="{row_h - 4:.1f}" fill="{colour}"/>'
            )


def _runs(points: list[tuple[int, float | None]], last: int) -> list[tuple[int, int, float]]:
    """Consecutive equal values merged into (start, end, value), as the state timeline's mergeValues does."""
    runs: list[tuple[int, int, float]] = []
    for j, (t, v) in enumerate(points):
        end = points[j + 1][0] if j + 1 < len(points) else last
        if v is None:
            continue
        if runs and runs[-1][2] == v and runs[-1][1] == t:
            runs[-1] = (runs[-1][0], end, v)
        else:
            runs.append((t, end, v))
    return runs


def _bars(canvas: Canvas, panel: dict[str, Any], data: list[Any], box: tuple[int, int, int, int]) -> None:
    x, y, w, h = box
    total = panel["options"].get("reduceOptions", {}).get("calcs") == ["sum"]
    figures = [(name, sum(v for _, v in p if v is not None) if total else _last(p)) for name, p in data]
    top = _axis_max(panel, [(n, [(0, v)]) for n, v in figures])
    row_h = min(18.0, h / max(1, len(figures)))
    percent = panel["fieldConfig"]["defaults"].get("unit") == "percentunit"
    for i, (name, value) in enumerate(figures):
        ry = y + i * row_h
        canvas.add(f'<text x="{x}" y="{ry + row_h * 0.75:.0f}" fill="#d8d9da">{escape(name)}</text>')
        bw = (w - 230) * float(value or 0) / top
        colour = PALETTE[i % len(PALETTE)]
        canvas.add(f'<rect x="{x + 170}" y="{ry + 2:.1f}" width="{bw:.1f}" height="{row_h - 4:.1f}" fill="{colour}"/>')
        text = f"{float(value or 0) * 100:.0f}%" if percent else fmt(value)
        canvas.add(f'<text x="{x + w - 4}" y="{ry + row_h * 0.75:.0f}" fill="#d8d9da" text-anchor="end">{text}</text>')


def _table(canvas: Canvas, series: list[Series], box: tuple[int, int, int, int]) -> None:
    x, y, w, h = box
    if not series:
        return
    tags = list(series[0].tags)
    columns = tags + [c for c in series[0].columns if c != "time"]
    cell = w / len(columns)
    for j, column in enumerate(columns):
        canvas.add(f'<text x="{x + j * cell:.0f}" y="{y + 8}" fill="#6e9fff">{escape(column)}</text>')
    for i, s in enumerate(series[: int((h - 14) // 15)]):
        row = {**s.tags, **s.rows[-1]}
        for j, column in enumerate(columns):
            value = row[column]
            text = value if isinstance(value, str) else fmt(value)
            ty = y + 24 + i * 15
            canvas.add(f'<text x="{x + j * cell:.0f}" y="{ty}" fill="#d8d9da">{escape(str(text))}</text>')


def render(server: InfluxDB16, name: str) -> str:
    """One dashboard's SVG from its committed JSON and the loaded InfluxDB."""
    board = json.loads((FILES / name).read_text(encoding="utf-8"))
    height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in board["panels"])
    canvas = Canvas(board["title"], height)
    for panel in board["panels"]:
        series = query_panel(
            server, board, panel, values=values(), start=START, end=NOW, interval=INTERVAL, db=week.DATABASE
        )
        draw_panel(canvas, panel, series)
    return canvas.svg()


def picture(name: str) -> Path:
    """Where a dashboard's picture is committed."""
    return OUT / name.replace(".json", ".svg")


def main() -> int:
    """Load the week into a temporary InfluxDB 1.6.7 and write docs/img/edge-*.svg."""
    with tempfile.TemporaryDirectory() as tmp:
        server = InfluxDB16(Path(tmp) / "influx")
        server.start()
        try:
            week.load(server, Path(tmp) / "collector")
            OUT.mkdir(parents=True, exist_ok=True)
            for name in DASHBOARDS:
                picture(name).write_text(render(server, name), encoding="utf-8")
                print(f"wrote {picture(name)}")
        finally:
            server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
