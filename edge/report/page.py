"""The report as one self-contained HTML page: inline CSS, inline SVG charts, no script, no external resource.

Pure: figures and context in, text out. Nothing about a person reaches this module (see `edge.report.model`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edge.report import fmt, svg
from edge.report.fmt import html
from edge.report.model import DayFigures, Figures, OccupancyFigures, Withheld
from edge.report.period import Assumptions, Period
from edge.schedule import Schedule

TEAL, AMBER, SLATE = "#2a9d8f", "#e9a23b", "#64748b"

CSS = """
*{box-sizing:border-box}body{margin:0;background:#f8fafc;color:#1f2937;
font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}
main{max-width:1000px;margin:0 auto;padding:32px 24px 48px}
h1{font-size:28px;margin:0 0 4px}h2{font-size:20px;margin:0 0 8px}h3{font-size:16px;margin:18px 0 6px}
.sub{color:#6b7280;margin:0 0 24px}
section{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:20px 22px;margin:0 0 20px}
section>p{margin:4px 0 12px;color:#374151}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;background:none;border:0;padding:0}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:14px 16px}
.card .v{font-size:26px;font-weight:650;color:#0b3f3a}.card .k{font-size:13px;color:#6b7280}
.card .n{font-size:12px;color:#9ca3af}
table{border-collapse:collapse;width:100%;font-size:14px;margin:8px 0}
th,td{padding:5px 8px;border-bottom:1px solid #eef0f3;text-align:right}
th:first-child,td:first-child{text-align:left}th{color:#6b7280;font-weight:600}
tr.closed td{color:#9ca3af}
svg{max-width:100%;height:auto;display:block;margin:8px 0}
.note{background:#fff7e6;border:1px solid #f3d9a4;border-radius:8px;padding:10px 14px;margin:0 0 20px}
.method li{margin:4px 0}footer{color:#9ca3af;font-size:13px;text-align:center}
"""


@dataclass(frozen=True)
class Context:
    """What the figures are about and how they were made."""

    site: str
    period: Period
    hours: Schedule
    assumptions: Assumptions
    source: str
    step_s: int
    generated: str
    notes: list[str] = field(default_factory=list)


def render(figures: Figures, ctx: Context) -> str:
    """The whole page."""
    title = f"Occupancy and impact report · {ctx.site} · {ctx.period.label()}"
    body = "".join(
        [
            "<header><h1>Occupancy and impact report</h1>",
            f'<p class="sub">{html(ctx.site)} · {html(ctx.period.label())} ({html(ctx.period.tz.key)}) · open '
            f"{html(str(ctx.hours))} · source: {html(ctx.source)}</p></header>",
            "".join(f'<div class="note">{html(n)}</div>' for n in ctx.notes),
            _cards(figures, ctx),
            _heatmap(figures, ctx),
            _utilisation(figures),
            _concurrency(figures, ctx),
            _members(figures, ctx),
            _visits(figures, ctx),
            _commuting(figures, ctx),
            _completeness(figures),
            _method(figures, ctx),
            f"<footer>Generated {html(ctx.generated)} by edge report. Aggregates only: no member is named or"
            " identifiable in this report.</footer>",
        ]
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html(title)}</title><style>{CSS}</style></head><body><main>{body}</main></body></html>\n"
    )


def _table(head: list[str], rows: list[list[str]], row_classes: list[str] | None = None) -> str:
    cells = "".join(f"<th>{html(h)}</th>" for h in head)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{html(c)}</td>" for c in row) + "</tr>")
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _card(value: str, key: str, note: str = "") -> str:
    return f'<div class="card"><div class="v">{html(value)}</div><div class="k">{html(key)}</div>' + (
        f'<div class="n">{html(note)}</div></div>' if note else "</div>"
    )


def _cards(f: Figures, ctx: Context) -> str:
    counted = f.members.counted
    co2 = f.commuting.kg_co2
    tonnes = co2 if isinstance(co2, Withheld) else co2 / 1000
    return (
        '<section class="cards">'
        + _card(fmt.count(f.members.member_days), "member-days", "counted" if counted else "estimated from entries")
        + _card(fmt.count(f.members.unique_members), "unique members", "over the period" if counted else "not counted")
        + _card(fmt.number(f.members.average_per_open_day), "members per opening day", "average")
        + _card(fmt.pct(f.site.utilisation_open), "desk utilisation", "within opening hours")
        + _card(
            f"{f.site.peak} / {f.site.desks}", "peak concurrent desks", fmt.local_time(f.site.peak_at_ms, ctx.period.tz)
        )
        + _card(fmt.duration(f.visits.average_s), "average visit", f.visits.method)
        + _card(
            f"{fmt.number(f.commuting.km, 0)} km", "commuting avoided", f"≈ {fmt.number(tonnes, 2)} t CO₂ (estimate)"
        )
        + _card(fmt.pct(f.completeness.ratio), "events received", "data completeness")
        + "</section>"
    )


def _open_hours(hours: Schedule, weekday: int) -> list[tuple[int, int]]:
    """Runs of hours of the day (first, last) with some minute inside opening hours, for the heatmap's outline."""
    runs: list[tuple[int, int]] = []
    for hour in range(24):
        if hours.open_in_hour(weekday, hour):
            if runs and runs[-1][1] == hour - 1:
                runs[-1] = (runs[-1][0], hour)
            else:
                runs.append((hour, hour))
    return runs


def _heatmap(f: Figures, ctx: Context) -> str:
    weekdays = sorted({d.weekday() for d in ctx.period.days()})  # a short period shows only its own weekdays
    row = {weekday: i for i, weekday in enumerate(weekdays)}
    cells = {
        (row[c.weekday], c.hour): svg.Cell(
            c.utilisation if c.utilisation is not None else 0.0,
            fmt.pct(c.utilisation).replace(" %", ""),
            f"{fmt.WEEKDAYS[c.weekday]} {c.hour:02d}:00–{c.hour + 1:02d}:00: {fmt.pct(c.utilisation)} of known desks"
            f" occupied, {c.average_occupied:.1f} desks on average",
        )
        for c in f.heatmap
        if c.weekday in row
    }
    outlined = [(row[d], first, last) for d in weekdays for first, last in _open_hours(ctx.hours, d)]
    chart = svg.heatmap(
        [fmt.WEEKDAYS[d] for d in weekdays],
        [f"{h:02d}" for h in range(24)],
        cells,
        "Desk utilisation by weekday and hour",
        outlined,
    )
    return (
        "<section id='heatmap'><h2>When the space is used</h2>"
        "<p>Share of desks occupied (among desks whose state is known), by weekday and hour of the day, averaged"
        " over the period. Grey cells: no data.</p>" + chart + "</section>"
    )


def _utilisation(f: Figures) -> str:
    everything = [*f.zones, f.site]
    rows = [(z.name, z.utilisation_open, fmt.pct(z.utilisation_open)) for z in everything]
    table = _table(
        ["Zone", "Desks", "Utilisation while open", "Desk-time with unknown state"],
        [[z.name, str(z.desks), fmt.pct(z.utilisation_open), fmt.pct(z.unknown_share_open)] for z in everything],
    )
    return (
        "<section id='utilisation'><h2>Utilisation per zone within opening hours</h2>"
        "<p>Occupied desk-time divided by desk-time with a known state, over opening hours only. A desk whose sensor"
        " was offline counts in neither; the last column says how much desk-time that was.</p>"
        + svg.hbars(rows, "Utilisation per zone within opening hours")
        + table
        + "</section>"
    )


def _occupancy_row(z: OccupancyFigures, ctx: Context) -> list[str]:
    when = fmt.local_time(z.peak_at_ms, ctx.period.tz)
    return [z.name, str(z.desks), str(z.peak), when, fmt.number(z.average_open)]


def _concurrency(f: Figures, ctx: Context) -> str:
    everything = [*f.zones, f.site]
    chart = svg.bars(
        [z.name for z in everything],
        [
            svg.Series("peak", [z.peak for z in everything], AMBER),
            svg.Series("average while open", [z.average_open for z in everything], TEAL),
        ],
        "Peak and average concurrent occupancy per zone and for the site",
        unit="desks",
        height=240,
    )
    daily = ""
    if len(f.days) > 1:
        daily = "<h3>Site, day by day</h3>" + svg.bars(
            [fmt.day(d.day) for d in f.days],
            [
                svg.Series("peak", [d.peak for d in f.days], AMBER),
                svg.Series("average while open", [d.average_open for d in f.days], TEAL),
            ],
            "Site peak and average concurrent occupancy per day",
            unit="desks",
            value_labels=len(f.days) <= 14,
        )
    return (
        "<section id='concurrency'><h2>Peak and average concurrent occupancy</h2>"
        "<p>Desks occupied at the same time. The peak is the busiest instant of the period (at any hour); the"
        " average is over opening hours. Peaks of zones do not add up to the site's peak: rooms fill at different"
        " times, so the site row is measured on its own.</p>"
        + chart
        + _table(
            ["Zone", "Desks", "Peak", "Peak at", "Average while open"], [_occupancy_row(z, ctx) for z in everything]
        )
        + daily
        + "</section>"
    )


def _member_value(d: DayFigures) -> float | str | None:
    value = d.unique_members
    if isinstance(value, Withheld):
        return str(value)
    return value


def _members(f: Figures, ctx: Context) -> str:
    m = f.members
    k = ctx.assumptions.min_count
    intro = (
        "<p>A member counts once per day however often they come in (distinct badge holders with a granted entry or"
        f" exit). Member-days add up the daily counts. Counts from 1 to {k - 1} are withheld (shown as &lt;{k}) so"
        " that no small group can be singled out.</p>"
        if m.counted
        else "<p>This source holds no member pseudonym, so members cannot be counted: member-days are estimated as"
        " granted entries (a member entering twice in a day counts twice, so this is an upper bound).</p>"
    )
    chart = ""
    if m.counted and len(f.days) > 1:
        chart = svg.bars(
            [fmt.day(d.day) for d in f.days],
            [svg.Series("unique members", [_member_value(d) for d in f.days], TEAL)],
            "Unique members per day",
            unit="members",
            value_labels=len(f.days) <= 31,
        )
    days = _table(
        ["Day", "Open", "Unique members", "Granted entries", "Peak desks", "Utilisation while open"],
        [
            [
                fmt.day(d.day),
                "yes" if d.open else "no",
                fmt.count(d.unique_members),
                fmt.count(d.entries),
                fmt.count(d.peak),
                fmt.pct(d.utilisation_open),
            ]
            for d in f.days
        ],
        ["" if d.open else "closed" for d in f.days],
    )
    weeks = _table(
        ["ISO week", "Days in period", "Unique members"],
        [[w.label, f"{fmt.day(w.first)} – {fmt.day(w.last)}", fmt.count(w.unique_members)] for w in f.weeks],
    )
    totals = _table(
        ["Figure", "Value"],
        [
            ["Member-days" + ("" if m.counted else " (estimated from entries)"), fmt.count(m.member_days)],
            ["Unique members over the period", fmt.count(m.unique_members)],
            ["Average members per opening day", fmt.number(m.average_per_open_day)],
            ["Opening days in the period", str(f.open_days)],
            ["Granted entries", fmt.count(f.entries)],
            ["Denied attempts", str(f.denied)],
        ],
    )
    return (
        "<section id='members'><h2>Members: unique per day and week, member-days</h2>"
        + intro
        + totals
        + chart
        + "<h3>Per day</h3>"
        + days
        + "<h3>Per week</h3>"
        + weeks
        + "</section>"
    )


def _visits(f: Figures, ctx: Context) -> str:
    v = f.visits
    if v.method == "measured":
        text = (
            "<p>Time on site per member-day, measured from door records: the sum of each entry to the same"
            f" member's next exit that day ({v.measured_days} member-days; {v.incomplete_days} with an entry or exit"
            " that has no pair, e.g. someone let out by the exit button, are left out). Median"
            f" {html(fmt.duration(v.median_s))}.</p>"
        )
    elif v.method == "estimated":
        text = (
            "<p><b>Estimate</b>: no exit reader records departures, so the visit length is estimated as occupied"
            " desk-time over the period divided by member-days. It leaves out time away from a desk (meetings,"
            " kitchen) and counts desks used by guests without a badge.</p>"
        )
    else:
        text = "<p>No member-days in the period: no visit length.</p>"
    chart = ""
    if v.histogram:
        chart = svg.bars(
            [label for label, _ in v.histogram],
            [svg.Series("member-days", [str(n) if isinstance(n, Withheld) else n for _, n in v.histogram], SLATE)],
            "Member-days by time on site",
            unit="member-days",
            height=220,
        )
    value = f'<p style="font-size:22px;margin:4px 0"><b>{html(fmt.duration(v.average_s))}</b> on average</p>'
    return (
        "<section id='visits'><h2>Average visit length (time on site per member-day)</h2>"
        + value
        + text
        + chart
        + "</section>"
    )


def _commuting(f: Figures, ctx: Context) -> str:
    a, c = ctx.assumptions, f.commuting
    rows = [
        ["Member-days" + ("" if f.members.counted else " (estimated from entries)"), fmt.count(c.member_days), ""],
        ["Commuting distance avoided per member-day (round trip)", fmt.number(a.commute_km_per_member_day), "km"],
        ["Emission factor", f"{a.kg_co2_per_km:.3f}", "kg CO₂ per km"],
        ["Distance not travelled", fmt.number(c.km, 0), "km"],
        ["CO₂ not emitted", fmt.number(c.kg_co2, 0), "kg"],
    ]
    return (
        "<section id='commuting'><h2>Commuting avoided (estimate)</h2>"
        "<p>Each member-day spent here instead of commuting to a distant workplace saves the round trip. The"
        " estimate is member-days × distance × emission factor; every input is listed below and can be changed"
        " when the report is made (<code>--commute-km</code>, <code>--co2-per-km</code>).</p>"
        + _table(["Input or result", "Value", "Unit"], rows)
        + "</section>"
    )


def _completeness(f: Figures) -> str:
    c = f.completeness
    rows = [
        [n.node, str(n.expected), str(n.received), str(n.missing), str(n.gaps), fmt.pct(n.received / n.expected)]
        for n in c.nodes
        if n.expected
    ]
    rows.append(["all nodes", str(c.expected), str(c.received), str(c.expected - c.received), "", fmt.pct(c.ratio)])
    return (
        "<section id='completeness'><h2>How complete the evidence is</h2>"
        "<p>Every device numbers its events in sequence, so the collector knows how many it should have received"
        " (expected) and how many it holds. Missing events are lost or still waiting on a device. Occupancy data"
        f" covers <b>{fmt.pct(c.occupancy_coverage_open)}</b> of the opening hours of the period.</p>"
        + _table(["Node", "Expected", "Received", "Missing", "Gaps", "Complete"], rows)
        + "</section>"
    )


def _method(f: Figures, ctx: Context) -> str:
    a = ctx.assumptions
    items = [
        f"Period: {ctx.period.label()}, local days in {ctx.period.tz.key}, both ends included.",
        f"Opening hours: {ctx.hours}; {f.open_days} opening days. Utilisation"
        " and average occupancy count only instants inside opening hours; peaks count every instant.",
        f"Desk states are sampled every {_step(ctx.step_s)}; each sample stands for the interval that follows it."
        " A desk whose sensor is offline or warming up is 'unknown' and counts neither as occupied nor as vacant.",
        "Unique members: distinct badge holders with a granted passage that day (or week); staff badges count"
        " like members. Member-days: sum of the daily counts."
        if f.members.counted
        else "Members cannot be counted from this source; member-days are estimated as granted entries.",
        "Visit length: "
        + (
            "time on site per member-day, from each entry to the same member's next exit that day."
            if f.visits.method == "measured"
            else "estimated as occupied desk-time / member-days (no exit reader)."
        ),
        f"Commuting avoided: {a.commute_km_per_member_day:g} km per member-day (round trip) × {a.kg_co2_per_km:g}"
        " kg CO₂/km (average French car, ADEME-like figure). It assumes every member-day replaces a car commute of"
        " that length; set a figure from a member survey, and a lower factor if some would have travelled by"
        " public transport, bike or on foot. Rebound effects (other trips) are not counted.",
        f"Privacy: only aggregates. Counts of people from 1 to {a.min_count - 1} are withheld (<{a.min_count}),"
        " together with the averages and estimates they would reveal. Desk occupancy is anonymous by design. No"
        " member id, badge token or name is read into the page.",
    ]
    return (
        "<section id='method' class='method'><h2>Method, assumptions and privacy</h2><ul>"
        + "".join(f"<li>{html(i)}</li>" for i in items)
        + "</ul></section>"
    )


def _step(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"
