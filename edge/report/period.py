"""What a report covers: a period of local days, the opening hours, and the assumptions behind its estimates.

Pure values; no I/O. Opening hours are an `edge.schedule.Schedule`, in the syntax of every schedule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from edge.report.commute import Commute
from edge.schedule import Schedule, parse_schedule

DEFAULT_OPENING_HOURS: Schedule = parse_schedule("mon-fri 08:00-19:00")
"""The report's opening hours when none are given."""


def local_ms(day: dt.date, tz: ZoneInfo) -> int:
    """Milliseconds since the epoch of local midnight starting `day` in `tz`."""
    midnight = dt.datetime.combine(day, dt.time(0), tz)
    return int(midnight.timestamp()) * 1000


@dataclass(frozen=True)
class Period:
    """Local days from `first` to `last` inclusive, in the site's time zone."""

    first: dt.date
    last: dt.date
    tz: ZoneInfo

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"the period ends ({self.last}) before it starts ({self.first})")

    @classmethod
    def one_day(cls, day: dt.date, tz: ZoneInfo) -> Period:
        """A period of a single local day."""
        return cls(day, day, tz)

    @property
    def start_ms(self) -> int:
        """Local midnight starting the first day."""
        return local_ms(self.first, self.tz)

    @property
    def end_ms(self) -> int:
        """Local midnight ending the last day (exclusive)."""
        return local_ms(self.last + dt.timedelta(days=1), self.tz)

    def days(self) -> Iterator[dt.date]:
        """Every local day of the period, in order."""
        day = self.first
        while day <= self.last:
            yield day
            day += dt.timedelta(days=1)

    def local(self, t_ms: int) -> dt.datetime:
        """An instant as local wall time."""
        return dt.datetime.fromtimestamp(t_ms / 1000, self.tz)

    def label(self) -> str:
        """`2026-11-23 to 2026-11-29`, or the single day."""
        return str(self.first) if self.first == self.last else f"{self.first} to {self.last}"


@dataclass(frozen=True)
class Assumptions:
    """The numbers behind the estimates; every one is printed in the report."""

    commute: Commute = field(default_factory=Commute)
    min_count: int = 5  # person counts below this (and above 0) are not shown

    def __post_init__(self) -> None:
        if self.min_count < 1:
            raise ValueError("the small-count threshold must be at least 1")
