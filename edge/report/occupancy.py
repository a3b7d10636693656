"""Occupancy figures in one pass over the samples, in memory that does not grow with the period.

A year of a 200-desk site sampled every 5 minutes is 105,000 instants times the zones; the samples are streamed
from the source in time order and folded into running sums per zone, for the site, per day and per weekday x
hour cell. What is kept grows with zones, days and cells only. Pure: no I/O.

Definitions (docs/report.md): utilisation while open = occupied desk-time / desk-time with a known state over
the instants inside opening hours; average = mean desks occupied over those instants; peak = most desks occupied
at one instant at any time (the earliest such instant). The site's figures come from the per-instant sum over
zones, so zone peaks do not add up to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from edge.report.model import HeatCell, OccupancyFigures, ZoneSample


@dataclass
class Running:
    """Running sums for one zone, the site, or one day of the site."""

    samples: int = 0
    desks: int = 0
    peak: int = 0
    peak_at_ms: int | None = None
    open_samples: int = 0
    open_occupied: int = 0
    open_known: int = 0
    open_total: int = 0
    open_unknown: int = 0

    def add(self, t_ms: int, occupied: int, vacant: int, unknown: int, is_open: bool) -> None:
        """One sample; the earliest of equal peaks is kept (samples come in time order)."""
        total = occupied + vacant + unknown
        self.samples += 1
        self.desks = max(self.desks, total)
        if self.peak_at_ms is None or occupied > self.peak:
            self.peak, self.peak_at_ms = occupied, t_ms
        if is_open:
            self.open_samples += 1
            self.open_occupied += occupied
            self.open_known += occupied + vacant
            self.open_total += total
            self.open_unknown += unknown

    def figures(self, name: str) -> OccupancyFigures:
        """The occupancy figures these sums give."""
        return OccupancyFigures(
            name=name,
            desks=self.desks,
            peak=self.peak,
            peak_at_ms=self.peak_at_ms,
            average_open=self.open_occupied / self.open_samples if self.open_samples else None,
            utilisation_open=self.open_occupied / self.open_known if self.open_known else None,
            unknown_share_open=self.open_unknown / self.open_total if self.open_total else None,
        )


@dataclass
class Occupancy:
    """Everything the report needs from the occupancy samples of a period."""

    zones: dict[str, Running] = field(default_factory=dict)
    site: Running = field(default_factory=Running)
    days: dict[dt.date, Running] = field(default_factory=dict)
    cells: dict[tuple[int, int], list[int]] = field(default_factory=dict)  # (weekday, hour): samples, occ, known
    occupied_instant_desks: int = 0  # sum over instants of the site's occupied desks (x step = desk-time)

    def heatmap(self) -> list[HeatCell]:
        """Mean desks occupied and utilisation per weekday and hour of day (cells without samples are absent)."""
        return [
            HeatCell(weekday, hour, occupied / n, occupied / known if known else None)
            for (weekday, hour), (n, occupied, known) in sorted(self.cells.items())
        ]


def accumulate(
    samples: Iterable[ZoneSample],
    start_ms: int,
    end_ms: int,
    local: Callable[[int], dt.datetime],
    is_open: Callable[[dt.datetime], bool],
) -> Occupancy:
    """Fold the samples within [start_ms, end_ms) into running sums; ValueError if they are not in time order."""
    out = Occupancy()
    current: int | None = None
    site = [0, 0, 0]
    when: dt.datetime | None = None
    open_now = False

    def flush() -> None:
        if current is None or when is None:
            return
        occupied, vacant, unknown = site
        out.site.add(current, occupied, vacant, unknown, open_now)
        out.days.setdefault(when.date(), Running()).add(current, occupied, vacant, unknown, open_now)
        cell = out.cells.setdefault((when.weekday(), when.hour), [0, 0, 0])
        cell[0] += 1
        cell[1] += occupied
        cell[2] += occupied + vacant
        out.occupied_instant_desks += occupied

    for s in samples:
        if not start_ms <= s.t_ms < end_ms:
            continue
        if s.t_ms != current:
            if current is not None and s.t_ms < current:
                raise ValueError("occupancy samples must come in time order")
            flush()
            current, site = s.t_ms, [0, 0, 0]
            when = local(s.t_ms)
            open_now = is_open(when)
        site[0] += s.occupied
        site[1] += s.vacant
        site[2] += s.unknown
        out.zones.setdefault(s.zone, Running()).add(s.t_ms, s.occupied, s.vacant, s.unknown, open_now)
    flush()
    return out
