"""Keeps the derived series up to date in the store: new grid instants as time passes, and recomputation of
instants and hours that late events (a node's backlog after an outage) changed.

Runs on the store's writer thread. Each pass computes at most `max_instants` grid instants, so a long backlog
is worked through in bounded steps. A recomputed point has the same series and time as before, so InfluxDB
replaces it: late data corrects the past instead of piling up beside it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from edge.clock import Clock
from edge.collector import derive
from edge.collector.lineprotocol import Point
from edge.collector.schema import (
    completeness_point,
    desk_hourly_point,
    hourly_points,
    ms_of,
    people_present_point,
    site_hourly_point,
    site_occupancy_point,
    zone_occupancy_point,
)
from edge.collector.store import HOUR_MS, NO_MARK, DirtyMarks, Store
from edge.schedule import ALWAYS, Schedule

GRACE_MS = 2000  # events of the last instants may still be in flight; later ones trigger a recomputation
# The grid is never (re)computed further back than this: an event stamped years ago by a node whose clock was
# wrong must not make the collector fill years of grid. Older events are still stored and forwarded raw.
HORIZON_MS = 35 * 86_400_000


class Deriver:
    """Computes derived points from the store and saves them (with the new marks) in one transaction."""

    def __init__(
        self,
        store: Store,
        *,
        site: str,
        clock: Clock,
        tz: ZoneInfo,
        step_s: int = 60,
        directions: Mapping[str, str] | None = None,
        assumed_stay_h: float = 4.0,
        max_instants: int = 240,
        opening_hours: Schedule = ALWAYS,
    ) -> None:
        self.store = store
        self.site = site
        self.clock = clock
        self.tz = tz
        self.step_ms = step_s * 1000
        self.directions = dict(directions or {})
        self.stay_ms = int(assumed_stay_h * HOUR_MS)
        self.max_instants = max_instants
        self.opening_hours = opening_hours
        self.behind = False  # the last pass stopped short of now: call again soon

    def day_start(self, t_ms: int) -> int:
        """Local midnight (site time zone) of the day that contains t_ms."""
        local = datetime.fromtimestamp(t_ms / 1000, UTC).astimezone(self.tz)
        midnight = datetime(local.year, local.month, local.day, tzinfo=self.tz)
        return ms_of(midnight.astimezone(UTC))

    def in_hours(self, t_ms: int) -> bool:
        """Whether t_ms falls within the site's opening hours (`collector.opening_hours`, always by default)."""
        if self.opening_hours.is_always:
            return True
        # A real instant, as for a door's unlocked schedule: `active_at` (see edge.schedule for DST nights).
        return self.opening_hours.active_at(datetime.fromtimestamp(t_ms / 1000, UTC), self.tz)

    def run(self) -> int:
        """One pass; returns how many derived points were new or changed."""
        now_ms = ms_of(self.clock.now())
        target = (now_ms - GRACE_MS) // self.step_ms * self.step_ms
        marks = dataclasses.replace(self.store.marks)
        self.behind = False
        points: list[Point] = []
        points += self._grid(marks, target)
        points += self._hours(marks)
        points += self._completeness(marks, target)
        if not points and marks == self.store.marks:
            return 0
        return self.store.save_derived(points, marks)

    def _grid(self, marks: DirtyMarks, target: int) -> list[Point]:
        horizon = target - HORIZON_MS
        if marks.derived_upto == NO_MARK:
            first = self.store.first_derivable_ms()
            if first is None:
                return []
            start = -(-max(first, horizon) // self.step_ms) * self.step_ms
        else:
            start = max(marks.derived_upto + self.step_ms, horizon)
            if marks.dirty_from != NO_MARK:
                start = min(start, -(-max(marks.dirty_from, horizon) // self.step_ms) * self.step_ms)
        end = min(target, start + (self.max_instants - 1) * self.step_ms)
        self.behind = end < target
        if end < start:
            return []
        instants = range(start, end + 1, self.step_ms)
        points: list[Point] = []
        occupancy = derive.occupancy_series(
            self.store.desks_at(start), self.store.desk_transitions(start, end), instants
        )
        for t, zones, site in occupancy:
            in_hours = self.in_hours(t)
            points += [
                zone_occupancy_point(self.site, zone, t, counts, in_hours=in_hours) for zone, counts in zones.items()
            ]
            if zones:
                points.append(site_occupancy_point(self.site, t, site, in_hours=in_hours))
        points += self._desk_hours(start, end)
        since = min(self.day_start(start), start - self.stay_ms)
        presence = derive.presence_series(
            instants, self.store.accesses(since, end), self.directions, self.day_start, self.stay_ms
        )
        points += [people_present_point(self.site, t, p) for t, p in presence]
        if marks.derived_upto != NO_MARK and end < marks.derived_upto:
            marks.dirty_from = end + 1  # recomputation continues on the next pass
        else:
            marks.dirty_from = NO_MARK
        marks.derived_upto = max(marks.derived_upto, end)
        return points

    def _desk_hours(self, start: int, end: int) -> list[Point]:
        # Only complete hours are written (once each, not every minute); the hour `start` falls in is recomputed
        # from its beginning, so a pass that begins mid-hour still writes the whole hour.
        first_hour = start - start % HOUR_MS
        complete_to = (end + self.step_ms) - (end + self.step_ms) % HOUR_MS
        if complete_to <= first_hour:
            return []
        instants = range(first_hour, complete_to, self.step_ms)
        usage = derive.desk_usage(
            self.store.desks_at(first_hour),
            self.store.desk_transitions(first_hour, instants[-1]),
            instants,
            self.step_ms,
            self.in_hours,
        )
        points = [
            desk_hourly_point(self.site, zone, desk, hour, figures)
            for (hour, desk), (zone, figures) in sorted(usage.items())
        ]
        return points + [site_hourly_point(self.site, hour, s) for hour, s in sorted(derive.site_usage(usage).items())]

    def _hours(self, marks: DirtyMarks) -> list[Point]:
        if marks.hours_from == NO_MARK:
            return []
        rows = self.store.hour_rows(marks.hours_from, marks.hours_to + HOUR_MS)
        points: list[Point] = []
        for (hour, door), counts in sorted(derive.hour_counts(rows, self.directions).items()):
            points += hourly_points(self.site, door, hour, counts)
        marks.hours_from = marks.hours_to = NO_MARK
        return points

    def _completeness(self, marks: DirtyMarks, target: int) -> list[Point]:
        if target <= marks.complete_upto:
            return []
        marks.complete_upto = target
        return [completeness_point(self.site, node, target, c) for node, c in sorted(self.store.completeness().items())]
