"""Member aggregates: what a yearly report needs, computed from the access records before they expire.

Access records (with their pseudonymous member ids) are kept `collector.retention_days` (90 days). A funder's
yearly report needs more: members per day, member-days, how often members came each month, and the number of
different members over the year. The aggregator computes, on the store's writer thread:

* per local day (`member_days`): distinct members, granted entries, measured time on site (edge.collector.members);
* per calendar month (`member_months`): distinct members and how many came on 1, 2-4, 5-9, 10+ days;
* per calendar year (`member_years`): distinct members, estimated from a keyed sketch (edge.collector.sketch)
  whose key is a random file in the key folder, destroyed with the sketch's registers when the year closes.

A day or month is (re)computed only while all of its records are still stored (its start is within
`retention_days`); afterwards its figures are final. `Collector.purge` runs the aggregator before deleting
records, so no day is lost. Every figure is also written as a derived series (members_daily, members_monthly,
members_yearly) and forwarded to InfluxDB's aggregate bucket. Nothing stored here names or points at a member.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo

from edge.clock import Clock
from edge.collector import derive
from edge.collector.lineprotocol import Point
from edge.collector.members import (
    DayMembers,
    MonthMembers,
    Passage,
    Visitor,
    YearMembers,
    day_members,
    month_members,
)
from edge.collector.schema import members_daily_point, members_monthly_point, members_yearly_point, ms_of
from edge.collector.sketch import KEY_BYTES, Sketch, keyed_hash
from edge.collector.store import NO_MARK, Store

log = logging.getLogger(__name__)

DAY_MS = 86_400_000
CLOSE_AFTER_DAYS = 7  # a year closes a week into the next one: late events of 31 December still count
AGGREGATE_EVERY_S = 900.0


def key_folder(store_path: Path) -> Path:
    """Where the year keys live: next to the store, never inside it (a copy of the store holds no key)."""
    return store_path.with_name(store_path.name + ".yearkeys")


class YearKeys:
    """The random key of each open year, one file each (0600 in a 0700 folder), destroyed when the year closes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, year: int) -> Path:
        """The key file of a year."""
        return self.folder / f"{year}.key"

    def get(self, year: int) -> bytes | None:
        """The year's key, or None when it has none (never made, or destroyed)."""
        try:
            key = self.path(year).read_bytes()
        except FileNotFoundError:
            return None
        return key if len(key) == KEY_BYTES else None

    def make(self, year: int) -> bytes:
        """A new random key for the year, written durably before it is used."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = os.urandom(KEY_BYTES)
        tmp = self.path(year).with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, key)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path(year))
        _sync_folder(self.folder)
        return key

    def destroy(self, year: int) -> None:
        """Overwrite the key with zeros, then remove it (on flash storage the overwrite is best effort)."""
        path = self.path(year)
        if not path.exists():
            return
        with path.open("r+b") as f:
            f.write(b"\0" * max(path.stat().st_size, KEY_BYTES))
            f.flush()
            os.fsync(f.fileno())
        path.unlink()
        _sync_folder(self.folder)


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class MemberAggregator:
    """Computes and saves the member aggregates; `run` is called from the store's writer thread."""

    def __init__(
        self,
        store: Store,
        *,
        site: str,
        clock: Clock,
        tz: ZoneInfo,
        retention_days: int,
        directions: Mapping[str, str] | None = None,
        keys: YearKeys | None = None,
        every_s: float = AGGREGATE_EVERY_S,
        yearly_sketch: bool = True,
    ) -> None:
        self.store = store
        self.site = site
        self.clock = clock
        self.tz = tz
        self.retention_ms = retention_days * DAY_MS
        self.directions = dict(directions or {})
        self.keys = keys or YearKeys(key_folder(store.path))
        self.every_ms = int(every_s * 1000)
        self.yearly_sketch = yearly_sketch
        self._checked_ms: int | None = None  # the last pass, or the last look for work

    # -- local time -----------------------------------------------------------------------------------------

    def day_of(self, t_ms: int) -> dt.date:
        """The local day of an instant."""
        return dt.datetime.fromtimestamp(t_ms / 1000, self.tz).date()

    def midnight(self, day: dt.date) -> int:
        """Local midnight starting `day`, in ms."""
        return ms_of(dt.datetime.combine(day, dt.time(0), self.tz).astimezone(dt.UTC))

    # -- one pass -------------------------------------------------------------------------------------------

    def due(self) -> bool:
        """Whether a pass has work: new door decisions, a new day, a year to close; checked every `every_s`."""
        now_ms = ms_of(self.clock.now())
        if self._checked_ms is not None and now_ms - self._checked_ms < self.every_ms:
            return False
        self._checked_ms = now_ms
        return self._has_work(now_ms)

    def _has_work(self, now_ms: int) -> bool:
        marks = self.store.marks
        new_day = marks.members_upto != NO_MARK and self.day_of(now_ms) > self.day_of(marks.members_upto)
        return marks.members_from != NO_MARK or new_day or bool(self._closable(now_ms))

    def run(self, *, force: bool = False) -> int:
        """Recompute what new door decisions changed and close finished years; returns points new or changed."""
        now_ms = ms_of(self.clock.now())
        if not force and not self._has_work(now_ms):
            return 0
        self._checked_ms = now_ms
        marks = dataclasses.replace(self.store.marks)
        # Days whose start is within the retention still have every record; earlier ones are final.
        first_complete = self.day_of(now_ms - self.retention_ms) + dt.timedelta(days=1)
        today = self.day_of(now_ms)
        days: list[DayMembers] = []
        months: list[MonthMembers] = []
        years: dict[int, YearMembers] = {}
        # From the earliest new door decision, or the last day computed (it may have been partial), to today:
        # quiet days get their zeros too, once aggregation has begun.
        starts = [self.day_of(t) for t in (marks.members_from, marks.members_upto) if t != NO_MARK]
        if starts:
            start = max(min(starts), first_complete)
            month = start.replace(day=1)
            while month <= today:
                nxt = _next_month(month)
                self._month(month, nxt, first_complete, today, days, months, years)
                month = nxt
            marks.members_from = NO_MARK
            marks.members_upto = self.midnight(today)
        for year in self._closable(now_ms):
            closing = years.get(year) or self.store.member_year(year)
            if closing is not None:
                years[year] = dataclasses.replace(closing, final=True, registers=None)
        points = self._points(days, months, list(years.values()))
        changed = self.store.save_members(days, months, list(years.values()), points, marks)
        closed = [y for y in years.values() if y.final]
        if closed:
            self.store.checkpoint()  # no copy of the erased registers stays in the write-ahead log
        for y in closed:
            self.keys.destroy(y.year)
            log.info("member aggregates: year %d closed at %d members (± %d); its key is destroyed", *_y(y))
        return changed

    def _month(
        self,
        month: dt.date,
        nxt: dt.date,
        first_complete: dt.date,
        today: dt.date,
        days: list[DayMembers],
        months: list[MonthMembers],
        years: dict[int, YearMembers],
    ) -> None:
        first = max(month, first_complete)
        last = min(nxt - dt.timedelta(days=1), today)
        if last < first:
            return
        by_day: dict[dt.date, list[Passage]] = defaultdict(list)
        for t_ms, member, reader in self.store.door_passages(self.midnight(first), self.midnight(last) + DAY_MS):
            exit_ = derive.direction(self.directions, reader) == derive.OUT
            by_day[self.day_of(t_ms)].append(Passage(t_ms, member, exit_))
        span = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        days.extend(day_members(day, by_day.get(day, []), self.day_of) for day in span)
        visitors = {day: {p.visitor for p in by_day.get(day, [])} for day in span}
        if first == month:  # every record of the month so far is here: its distinct count is exact
            months.append(month_members(month, visitors, len(span)))
        if self.yearly_sketch:
            self._add_to_year(month.year, first, last, visitors, years)

    def _add_to_year(
        self,
        year: int,
        first: dt.date,
        last: dt.date,
        visitors: Mapping[dt.date, set[Visitor]],
        years: dict[int, YearMembers],
    ) -> None:
        current = years.get(year) or self.store.member_year(year)
        if current is not None and current.final:
            return  # closed: its key is gone, late records cannot join it
        key = self.keys.get(year)
        interrupted = current.interrupted if current is not None else False
        if key is None:
            if current is not None and current.registers and any(current.registers):
                log.warning("member aggregates: the key of year %d is missing; members may now count twice", year)
                interrupted = True
            key = self.keys.make(year)
        sketch = Sketch(current.registers if current is not None else None)
        for members in visitors.values():
            for member in members:
                sketch.add(keyed_hash(key, str(member)))
        estimate = sketch.estimate()
        years[year] = YearMembers(
            year=year,
            members=estimate.value,
            error=estimate.error,
            first_day=min(first, current.first_day) if current is not None else first,
            last_day=max(last, current.last_day) if current is not None else last,
            final=False,
            interrupted=interrupted,
            registers=bytes(sketch.registers),
        )

    def _closable(self, now_ms: int) -> list[int]:
        today = self.day_of(now_ms)
        return [y for y in self.store.open_years() if today >= dt.date(y + 1, 1, 1) + dt.timedelta(CLOSE_AFTER_DAYS)]

    def _points(self, days: list[DayMembers], months: list[MonthMembers], years: list[YearMembers]) -> list[Point]:
        points = [members_daily_point(self.site, self.midnight(d.day), d) for d in days]
        for m in months:
            merged = self._merged_days(m.month, _next_month(m.month), days)
            points.append(members_monthly_point(self.site, self.midnight(m.month), m, sum(merged.values())))
        for y in years:
            merged = self._merged_days(dt.date(y.year, 1, 1), dt.date(y.year + 1, 1, 1), days)
            first = self.midnight(dt.date(y.year, 1, 1))
            points.append(members_yearly_point(self.site, first, y, sum(merged.values()), len(merged)))
        return points

    def _merged_days(self, first: dt.date, nxt: dt.date, new: list[DayMembers]) -> dict[dt.date, int]:
        """Members per day from `first` to before `nxt`: the stored days, updated by the ones just computed."""
        stored = self.store.member_days_between(first, nxt - dt.timedelta(days=1))
        return {d.day: d.members for d in stored} | {d.day: d.members for d in new if first <= d.day < nxt}


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _y(y: YearMembers) -> tuple[int, int, int]:
    return y.year, y.members, y.error
