"""The report's arithmetic: from occupancy samples, numbered door passages and seq figures to the figures a
funder reads. Pure: no I/O, no clock; the period and opening hours say which local times count.

Definitions (docs/report.md explains them for readers):
* Utilisation while open = occupied desk-time / desk-time with a known state (occupied or vacant), over the grid
  instants inside opening hours. A desk whose sensor is offline (unknown) counts in neither.
* Average concurrent occupancy = mean desks occupied over the open instants; peak = most desks occupied at one
  instant at any time. The site's figures come from the per-instant sum over zones (zone peaks do not add up).
* Unique members per day / week = distinct visitor numbers with a granted passage in that local day / ISO week;
  member-days = the sum of the daily counts.
* Visit length = time on site per member-day. Measured: the sum of a visitor's entry -> next exit intervals that
  local day (days with an unpaired passage are left out). Estimated (no exit reader): occupied desk-time over
  the period / member-days.
* People counts below the threshold (and above zero) are withheld, with the figures that would reveal them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from edge.report.commute import CommuteFigures, estimate
from edge.report.model import (
    Completeness,
    DayFigures,
    DoorHour,
    Figures,
    NodeCompleteness,
    PeopleCount,
    ReportData,
    Withheld,
    ZoneSample,
)
from edge.report.occupancy import Running, accumulate
from edge.report.people import people, people_figures
from edge.report.period import Assumptions, Period
from edge.schedule import Schedule

SITE = "site"
HOUR_S = 3600


def site_samples(samples: Iterable[ZoneSample]) -> list[ZoneSample]:
    """The site at each instant: the sum over zones of the samples taken at that instant, in time order."""
    sums: dict[int, list[int]] = {}
    for s in samples:
        row = sums.setdefault(s.t_ms, [0, 0, 0])
        row[0] += s.occupied
        row[1] += s.vacant
        row[2] += s.unknown
    return [ZoneSample(t, SITE, o, v, u) for t, (o, v, u) in sorted(sums.items())]


def commuting(member_days: int, assumptions: Assumptions) -> CommuteFigures:
    """Kilometres and CO2e not emitted per mode (withheld with member-days: they would reveal them)."""
    shown = people(member_days, assumptions.min_count)
    return estimate(None if isinstance(shown, Withheld) else member_days, assumptions.commute)


def open_instants(period: Period, hours: Schedule, step_ms: int) -> int:
    """Grid instants of the period that fall inside opening hours."""
    first = -(-period.start_ms // step_ms) * step_ms
    return sum(1 for t in range(first, period.end_ms, step_ms) if hours.contains(period.local(t)))


def completeness(nodes: Sequence[NodeCompleteness], seen_open: int, expected_open: int) -> Completeness:
    """Seq completeness over every node and the share of open instants that have occupancy data."""
    return Completeness(
        nodes=sorted(nodes, key=lambda n: n.node),
        expected=sum(n.expected for n in nodes),
        received=sum(min(n.received, n.expected) for n in nodes),
        occupancy_coverage_open=seen_open / expected_open if expected_open else None,
    )


def compute(data: ReportData, period: Period, hours: Schedule, assumptions: Assumptions) -> Figures:
    """Every figure of the report for one period (the samples are read once, in time order)."""
    k = assumptions.min_count
    start_ms, end_ms = period.start_ms, period.end_ms

    def local(t_ms: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(t_ms / 1000, period.tz)

    def day_of(t_ms: int) -> dt.date:
        return local(t_ms).date()

    seen = accumulate(data.samples, start_ms, end_ms, local, hours.contains)
    hours_in = [h for h in data.door_hours if start_ms <= h.hour_ms < end_ms]
    entries_by_day = _entries_by_day(hours_in, day_of)
    open_days = [d for d in period.days() if hours.opens_on(d)]
    occupied_desk_s = seen.occupied_instant_desks * data.step_ms / 1000
    who = people_figures(data, period, open_days, day_of, entries_by_day, occupied_desk_s, k)
    return Figures(
        zones=[seen.zones[z].figures(z) for z in sorted(seen.zones)],
        site=seen.site.figures(SITE),
        heatmap=seen.heatmap(),
        days=_days(period, hours, seen.days, entries_by_day, who.daily, k),
        weeks=who.weeks,
        months=who.months,
        members=who.members,
        visits=who.visits,
        commuting=commuting(who.member_days, assumptions),
        completeness=completeness(
            data.completeness, seen.site.open_samples, open_instants(period, hours, data.step_ms)
        ),
        entries=people(sum(h.entries for h in hours_in), k),
        denied=sum(h.denied for h in hours_in),
        open_days=len(open_days),
    )


def _entries_by_day(hours_in: Iterable[DoorHour], day_of: Callable[[int], dt.date]) -> dict[dt.date, int]:
    out: dict[dt.date, int] = defaultdict(int)
    for h in hours_in:
        out[day_of(h.hour_ms)] += h.entries
    return out


def _days(
    period: Period,
    hours: Schedule,
    per_day: dict[dt.date, Running],
    entries_by_day: dict[dt.date, int],
    daily: dict[dt.date, PeopleCount | None],
    k: int,
) -> list[DayFigures]:
    out = []
    for day in period.days():
        figures = per_day.get(day, Running()).figures(SITE)
        out.append(
            DayFigures(
                day=day,
                open=hours.opens_on(day),
                peak=figures.peak if day in per_day else None,
                average_open=figures.average_open,
                utilisation_open=figures.utilisation_open,
                entries=people(entries_by_day.get(day, 0), k),
                unique_members=daily.get(day),
            )
        )
    return out
