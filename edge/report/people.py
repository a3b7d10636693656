"""The report's figures about people: members per day, week, month and period, member-days, time on site.

Two inputs, merged day by day: door passages by visitor number, for the days whose access records are all still
held (`ReportData.passages_from_ms`), and the collector's anonymous member aggregates for the other days
(edge/collector/aggregates.py). Unique members over several days need one of:
* passages for every day of the span (exact);
* the span is a calendar month with its aggregate (exact, counted before its records expired);
* the span is a calendar year with its aggregate (estimated from the year's sketch, with a standard error).
Otherwise the count is not available, and the page says why. A source with neither (InfluxDB without member
series) estimates member-days from granted entries, as before. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from edge.collector.members import (
    FREQUENCY_BUCKETS,
    VISIT_BINS,
    DayMembers,
    Passage,
    Visitor,
    frequency,
    time_on_site,
    visit_bin,
)
from edge.report.model import (
    MemberFigures,
    MonthMembersFigures,
    PeopleCount,
    ReportData,
    UniqueHow,
    VisitFigures,
    WeekFigures,
    Withheld,
)
from edge.report.period import Period, local_ms


def people(n: int, threshold: int) -> PeopleCount:
    """A count of people as it may be shown: zero and counts at or above the threshold; otherwise withheld."""
    return Withheld(threshold) if 0 < n < threshold else n


@dataclass(frozen=True)
class People:
    """Everything about people for one period."""

    members: MemberFigures
    daily: dict[dt.date, PeopleCount | None]  # unique members per day; None: no figure for that day
    weeks: list[WeekFigures]
    months: list[MonthMembersFigures]
    visits: VisitFigures
    member_days: int


def month_start(day: dt.date) -> dt.date:
    """The first day of the day's month."""
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    """The first day of the next month."""
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def people_figures(
    data: ReportData,
    period: Period,
    open_days: Sequence[dt.date],
    day_of: Callable[[int], dt.date],
    entries_by_day: Mapping[dt.date, int],
    occupied_desk_s: float,
    k: int,
) -> People:
    """Members, weeks, months and visits for the period (see the module's docstring for the sources)."""
    days = list(period.days())
    passages = None
    if data.passages is not None:
        passages = [p for p in data.passages if period.start_ms <= p.t_ms < period.end_ms]
    held = _held_days(days, period, data.passages_from_ms) if passages is not None else set()
    by_day: dict[dt.date, set[Visitor]] = defaultdict(set)
    for p in passages or ():
        by_day[day_of(p.t_ms)].add(p.visitor)
    aggregated = {a.day: a for a in data.aggregates.days if period.first <= a.day <= period.last and a.day not in held}
    counts: dict[dt.date, int | None] = {
        d: len(by_day.get(d, ())) if d in held else (aggregated[d].members if d in aggregated else None) for d in days
    }
    if all(v is None for v in counts.values()):
        return _estimated_from_entries(days, period, open_days, entries_by_day, occupied_desk_s, k)
    member_days = sum(v for v in counts.values() if v)
    unique, how, error, since, interrupted = _unique(period, days, held, by_day, data)
    members = MemberFigures(
        counted=True,
        member_days=people(member_days, k),
        unique_members=None if unique is None else people(unique, k),
        average_per_open_day=_average(counts, open_days, k),
        unique_how=how,
        unique_error=error,
        unique_since=since,
        interrupted=interrupted,
        missing_days=_missing(counts),
    )
    held_passages = [p for p in passages or () if day_of(p.t_ms) in held]
    return People(
        members=members,
        daily={d: None if v is None else people(v, k) for d, v in counts.items()},
        weeks=_weeks(days, held, by_day, k),
        months=_months(days, held, by_day, counts, data, open_days, k),
        visits=_visits(held_passages, day_of, aggregated.values(), occupied_desk_s, member_days, by_day, k),
        member_days=member_days,
    )


def _missing(counts: Mapping[dt.date, int | None]) -> int:
    """Days without a figure, before the last day that has one (later days have simply not happened yet)."""
    known = [d for d, v in counts.items() if v is not None]
    return sum(1 for d, v in counts.items() if v is None and d < max(known)) if known else 0


def _held_days(days: Iterable[dt.date], period: Period, from_ms: int | None) -> set[dt.date]:
    """Days all of whose access records the source still holds."""
    return {d for d in days if from_ms is None or local_ms(d, period.tz) >= from_ms}


def _unique(
    period: Period,
    days: Sequence[dt.date],
    held: set[dt.date],
    by_day: Mapping[dt.date, set[Visitor]],
    data: ReportData,
) -> tuple[int | None, UniqueHow, int | None, dt.date | None, bool]:
    """(count, how, standard error, first day counted when later than the period's, key lost during the year)."""
    if all(d in held for d in days):
        return len(set().union(*by_day.values())) if by_day else 0, "counted", None, None, False
    first, last = period.first, period.last
    if first.day == 1 and last == next_month(first) - dt.timedelta(days=1):
        month = next((m for m in data.aggregates.months if m.month == first), None)
        if month is not None:
            return month.members, "month", None, None, False
    if (first.month, first.day, last.month, last.day) == (1, 1, 12, 31) and first.year == last.year:
        year = next((y for y in data.aggregates.years if y.year == first.year), None)
        if year is not None:
            since = year.first_day if year.first_day > first else None
            return year.members, "year", year.error, since, year.interrupted
    return None, "unavailable", None, None, False


def _average(counts: Mapping[dt.date, int | None], open_days: Sequence[dt.date], k: int) -> float | Withheld | None:
    known = [counts[d] or 0 for d in open_days if counts.get(d) is not None]
    if not known:
        return None
    total = sum(known)
    return Withheld(k) if 0 < total < k else total / len(known)


def _weeks(
    days: Sequence[dt.date], held: set[dt.date], by_day: Mapping[dt.date, set[Visitor]], k: int
) -> list[WeekFigures]:
    """Distinct members per ISO week (its days inside the period), when passages cover all of them."""
    grouped: dict[tuple[int, int], list[dt.date]] = {}
    for day in days:
        year, week, _ = day.isocalendar()
        grouped.setdefault((year, week), []).append(day)
    out = []
    for (year, week), own in grouped.items():
        count: PeopleCount | None = None
        if all(d in held for d in own):
            count = people(len(set().union(*(by_day.get(d, set()) for d in own))), k)
        out.append(WeekFigures(f"{year}-W{week:02d}", own[0], own[-1], count))
    return out


def _months(
    days: Sequence[dt.date],
    held: set[dt.date],
    by_day: Mapping[dt.date, set[Visitor]],
    counts: Mapping[dt.date, int | None],
    data: ReportData,
    open_days: Sequence[dt.date],
    k: int,
) -> list[MonthMembersFigures]:
    """Per calendar month of the period: distinct members and how often they came, member-days."""
    aggregates = {m.month: m for m in data.aggregates.months}
    grouped: dict[dt.date, list[dt.date]] = {}
    for day in days:
        grouped.setdefault(month_start(day), []).append(day)
    opening = set(open_days)
    out = []
    for month, own in grouped.items():
        whole = own[0] == month and own[-1] == next_month(month) - dt.timedelta(days=1)
        unique: int | None = None
        came: tuple[int, ...] | None = None
        if all(d in held for d in own):
            per_member: dict[Visitor, int] = defaultdict(int)
            for d in own:
                for visitor in by_day.get(d, ()):
                    per_member[visitor] += 1
            unique, came = len(per_member), frequency(per_member.values())
        elif whole and month in aggregates:
            unique, came = aggregates[month].members, aggregates[month].frequency
        month_days = sum(counts[d] or 0 for d in own)
        open_here = [d for d in own if d in opening]
        known_open = [d for d in open_here if counts[d] is not None]
        average: float | Withheld | None = None
        if known_open:
            total = sum(counts[d] or 0 for d in known_open)
            average = Withheld(k) if 0 < total < k else total / len(known_open)
        out.append(
            MonthMembersFigures(
                month=month,
                days=len(own),
                open_days=len(open_here),
                unique_members=None if unique is None else people(unique, k),
                member_days=people(month_days, k),
                average_per_open_day=average,
                frequency=None
                if came is None
                else [(label, people(n, k)) for (_, _, label), n in zip(FREQUENCY_BUCKETS, came, strict=True)],
            )
        )
    return out


def _visits(
    passages: Sequence[Passage],
    day_of: Callable[[int], dt.date],
    aggregated: Iterable[DayMembers],
    occupied_desk_s: float,
    member_days: int,
    by_day: Mapping[dt.date, set[Visitor]],
    k: int,
) -> VisitFigures:
    """Time on site per member-day: measured (passages and daily aggregates) when exits are recorded, else
    occupied desk-time per member-day."""
    agg = [a for a in aggregated if a.measured or a.incomplete]
    if not any(p.exit for p in passages) and not agg:
        if not member_days:
            return VisitFigures("none", 0, 0, None, None)
        estimate = occupied_desk_s / member_days
        return VisitFigures("estimated", 0, 0, Withheld(k) if member_days < k else estimate, None)
    visits, incomplete = time_on_site(passages, day_of) if any(p.exit for p in passages) else ([], 0)
    measured = len(visits) + sum(a.measured for a in agg)
    incomplete += sum(a.incomplete for a in agg)
    if not measured:
        return VisitFigures("measured", 0, incomplete, None, None)
    distinct = len({v for v, _ in visits}) if not agg else measured  # aggregates know no visitor: count days
    if distinct < k:
        return VisitFigures("measured", measured, incomplete, Withheld(k), Withheld(k))
    seconds = [s for _, s in visits]
    bins = [0] * len(VISIT_BINS)
    for s in seconds:
        bins[visit_bin(s)] += 1
    for a in agg:
        for i, n in enumerate(a.bins):
            bins[i] += n
    average = (sum(seconds) + sum(a.visit_s for a in agg)) / measured
    median = statistics.median(seconds) if seconds and not any(a.measured for a in agg) else None
    histogram = [(label, people(n, k)) for (_, label), n in zip(VISIT_BINS, bins, strict=True)]
    return VisitFigures("measured", measured, incomplete, average, median, histogram)


def _estimated_from_entries(
    days: Sequence[dt.date],
    period: Period,
    open_days: Sequence[dt.date],
    entries_by_day: Mapping[dt.date, int],
    occupied_desk_s: float,
    k: int,
) -> People:
    """No pseudonym and no aggregate: member-days are estimated as granted entries (an upper bound)."""
    daily = {d: entries_by_day.get(d, 0) for d in days}
    member_days = sum(daily.values())
    opening = [d for d in open_days if d in daily]
    total = sum(daily[d] for d in opening)
    average: float | Withheld | None = None
    if opening:
        average = Withheld(k) if 0 < total < k else total / len(opening)
    members = MemberFigures(
        counted=False,
        member_days=people(member_days, k),
        unique_members=None,
        average_per_open_day=average,
        unique_how="none",
    )
    visits = _visits([], lambda t: period.first, [], occupied_desk_s, member_days, {}, k)
    weeks = [WeekFigures(w.label, w.first, w.last, None) for w in _weeks(days, set(), {}, k)]
    return People(members, dict.fromkeys(days), weeks, [], visits, member_days)
