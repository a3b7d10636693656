"""The report's figures as one CSV in long form: section, subject, metric, value, unit, note.

The CSV is for machines and analysts, whatever the page's language: stable English keys, plain numbers (ratios in
[0, 1], durations in seconds, times in ISO 8601), so that a script written against one report reads every other.
A withheld count has an empty value and the note `withheld (<k)`. Two dialects: `standard` (comma-separated,
`.` decimals, UTF-8) and `excel-fr` (what Excel opens directly on a French system: `;`-separated, `,` decimals,
UTF-8 with a byte-order mark); the keys and the rows are the same. Pure: text out, the caller writes the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Literal
from zoneinfo import ZoneInfo

from edge.report.factors import NO_TRIP
from edge.report.model import Figures, OccupancyFigures, Withheld
from edge.report.page import Context

HEADER = ["section", "subject", "metric", "value", "unit", "note"]
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
Dialect = Literal["standard", "excel-fr"]
DIALECTS: tuple[Dialect, ...] = ("standard", "excel-fr")
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
    commute = a.commute
    add("report", ctx.site, "first_day", str(ctx.period.first))
    add("report", ctx.site, "last_day", str(ctx.period.last))
    add("report", ctx.site, "timezone", ctx.period.tz.key)
    add("report", ctx.site, "opening_hours", str(ctx.hours))
    add("report", ctx.site, "opening_days", f.open_days, "days")
    add("report", ctx.site, "source", ctx.source)
    add("report", ctx.site, "sampling_step", ctx.step_s, "s")
    add("report", ctx.site, "opening_hours_from", ctx.hours_source)
    add("assumption", "commuting", "configured", int(commute.configured), "", "0: edge's defaults, not the site's")
    add("assumption", "commuting", "round_trips_per_member_day", commute.round_trips)
    if commute.survey is not None:
        add("assumption", "commuting", "survey_answers", commute.survey.respondents, "people", commute.survey.when)
    for share in commute.modes:
        mode_factor = commute.factor(share.mode)
        add("assumption", f"commuting:{share.mode}", "share", share.share, "ratio")
        if share.mode not in NO_TRIP:
            add("assumption", f"commuting:{share.mode}", "one_way_km", share.one_way_km, "km")
        parts = (mode_factor.source, mode_factor.dataset, mode_factor.year)
        unsourced = "no trip" if share.mode in NO_TRIP else "figure given by the site"
        source = "; ".join(str(p) for p in parts if p) or unsourced
        add("assumption", f"commuting:{share.mode}", "kg_co2e_per_km", mode_factor.kg_per_km, "kg/km", source)
    add("assumption", "privacy", "min_count", a.min_count, "people", "smaller non-zero counts are withheld")
    for z in [*f.zones, f.site]:
        _occupancy(add, z, ctx.period.tz)
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
    k = Withheld(a.min_count)
    for line in c.lines:
        subject = f"mode:{line.mode}"
        add("commuting", subject, "member_days", k if line.member_days is None else line.member_days, "member-days")
        add("commuting", subject, "km_avoided", k if line.km is None else line.km, "km", "estimate")
        add("commuting", subject, "kg_co2e_avoided", k if line.kg_co2e is None else line.kg_co2e, "kg", "estimate")
    add("commuting", ctx.site, "km_avoided", k if c.km is None else c.km, "km", "estimate")
    add("commuting", ctx.site, "kg_co2e_avoided", k if c.kg_co2e is None else c.kg_co2e, "kg", "estimate")
    comp = f.completeness
    for node in comp.nodes:
        add("completeness", node.node, "expected", node.expected, "events")
        add("completeness", node.node, "received", node.received, "events")
        add("completeness", node.node, "missing", node.missing, "events")
        add("completeness", node.node, "gaps", node.gaps)
    add("completeness", "all", "received_ratio", comp.ratio, "ratio")
    add("completeness", "all", "occupancy_coverage_open", comp.occupancy_coverage_open, "ratio")
    return out


def iso_local(t_ms: int | None, tz: ZoneInfo) -> str:
    """An instant as ISO 8601 local time with its offset (`2026-11-23T09:00+01:00`), or empty."""
    if t_ms is None:
        return ""
    return dt.datetime.fromtimestamp(t_ms / 1000, tz).isoformat(timespec="minutes")


def _occupancy(add: Add, z: OccupancyFigures, tz: ZoneInfo) -> None:
    add("occupancy", z.name, "desks", z.desks, "desks")
    add("occupancy", z.name, "peak_occupied", z.peak, "desks", iso_local(z.peak_at_ms, tz))
    add("occupancy", z.name, "average_occupied_open", z.average_open, "desks")
    add("occupancy", z.name, "utilisation_open", z.utilisation_open, "ratio")
    add("occupancy", z.name, "unknown_share_open", z.unknown_share_open, "ratio")


def render(f: Figures, ctx: Context, dialect: Dialect = "standard") -> str:
    """The CSV text in one dialect."""
    buffer = io.StringIO()
    out = rows(f, ctx)
    if dialect == "excel-fr":
        buffer.write("\ufeff")  # Excel reads UTF-8 only after a byte-order mark
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        out = [[*r[:3], r[3].replace(".", ",") if _numeric(r[3]) else r[3], *r[4:]] for r in out]
    else:
        writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(out)
    return buffer.getvalue()


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
