"""The report's figures as one CSV in long form: section, subject, metric, value, unit, note.

Values are plain numbers (ratios in [0, 1], durations in seconds) so a spreadsheet can compute with them; a
withheld count has an empty value and the note `withheld (<k)`. Pure: rows out, the caller writes the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from edge.report.fmt import WEEKDAYS, local_time
from edge.report.model import Figures, OccupancyFigures, Withheld
from edge.report.page import Context

HEADER = ["section", "subject", "metric", "value", "unit", "note"]
Value = float | int | str | Withheld | None
Add = Callable[..., None]


def _cell(value: Value) -> tuple[str, str]:
    if isinstance(value, Withheld):
        return "", f"withheld ({value})"
    if value is None:
        return "", "no data"
    if isinstance(value, float):
        return f"{value:.6g}", ""
    return str(value), ""


def rows(f: Figures, ctx: Context) -> list[list[str]]:
    """Every figure as a row."""
    out: list[list[str]] = []

    def add(section: str, subject: str, metric: str, value: Value, unit: str = "", note: str = "") -> None:
        shown, why = _cell(value)
        out.append([section, subject, metric, shown, unit, "; ".join(n for n in (note, why) if n)])

    a = ctx.assumptions
    add("report", ctx.site, "first_day", str(ctx.period.first))
    add("report", ctx.site, "last_day", str(ctx.period.last))
    add("report", ctx.site, "timezone", ctx.period.tz.key)
    add("report", ctx.site, "opening_hours", str(ctx.hours))
    add("report", ctx.site, "opening_days", f.open_days, "days")
    add("report", ctx.site, "source", ctx.source)
    add("report", ctx.site, "sampling_step", ctx.step_s, "s")
    add("assumption", "commuting", "km_per_member_day", a.commute_km_per_member_day, "km", "round trip avoided")
    add("assumption", "commuting", "kg_co2_per_km", a.kg_co2_per_km, "kg/km", "average French car, ADEME-like")
    add("assumption", "privacy", "min_count", a.min_count, "people", "smaller non-zero counts are withheld")
    for z in [*f.zones, f.site]:
        _occupancy(add, z, ctx)
    for cell in f.heatmap:
        subject = f"{WEEKDAYS[cell.weekday]} {cell.hour:02d}:00"
        add("heatmap", subject, "average_occupied", cell.average_occupied, "desks")
        add("heatmap", subject, "utilisation", cell.utilisation, "ratio")
    for d in f.days:
        subject = str(d.day)
        add("day", subject, "open", int(d.open))
        add("day", subject, "peak_occupied", d.peak, "desks")
        add("day", subject, "average_occupied_open", d.average_open, "desks")
        add("day", subject, "utilisation_open", d.utilisation_open, "ratio")
        add("day", subject, "granted_entries", d.entries)
        if d.unique_members is not None:
            add("day", subject, "unique_members", d.unique_members, "people")
    for w in f.weeks:
        if w.unique_members is not None:
            add("week", w.label, "unique_members", w.unique_members, "people", f"{w.first} to {w.last}")
    m = f.members
    how = "counted" if m.counted else "estimated from granted entries"
    add("members", ctx.site, "member_days", m.member_days, "member-days", how)
    if m.unique_members is not None:
        add("members", ctx.site, "unique_members", m.unique_members, "people")
    add("members", ctx.site, "average_per_open_day", m.average_per_open_day, "people", how)
    add("doors", ctx.site, "granted_entries", f.entries)
    add("doors", ctx.site, "denied_attempts", f.denied)
    v = f.visits
    add("visits", ctx.site, "method", v.method)
    add("visits", ctx.site, "average_length", v.average_s, "s", v.method)
    if v.method == "measured":
        add("visits", ctx.site, "median_length", v.median_s, "s")
        add("visits", ctx.site, "member_days_measured", v.measured_days, "member-days")
        add("visits", ctx.site, "member_days_incomplete", v.incomplete_days, "member-days", "unpaired passage")
        for label, days in v.histogram:
            add("visit_length", label, "member_days", days, "member-days")
    c = f.commuting
    add("commuting", ctx.site, "km_avoided", c.km, "km", "estimate")
    add("commuting", ctx.site, "kg_co2_avoided", c.kg_co2, "kg", "estimate")
    comp = f.completeness
    for node in comp.nodes:
        add("completeness", node.node, "expected", node.expected, "events")
        add("completeness", node.node, "received", node.received, "events")
        add("completeness", node.node, "missing", node.missing, "events")
        add("completeness", node.node, "gaps", node.gaps)
    add("completeness", "all", "received_ratio", comp.ratio, "ratio")
    add("completeness", "all", "occupancy_coverage_open", comp.occupancy_coverage_open, "ratio")
    return out


def _occupancy(add: Add, z: OccupancyFigures, ctx: Context) -> None:
    add("occupancy", z.name, "desks", z.desks, "desks")
    add("occupancy", z.name, "peak_occupied", z.peak, "desks", local_time(z.peak_at_ms, ctx.period.tz))
    add("occupancy", z.name, "average_occupied_open", z.average_open, "desks")
    add("occupancy", z.name, "utilisation_open", z.utilisation_open, "ratio")
    add("occupancy", z.name, "unknown_share_open", z.unknown_share_open, "ratio")


def render(f: Figures, ctx: Context) -> str:
    """The CSV text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows(f, ctx))
    return buffer.getvalue()
