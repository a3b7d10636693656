"""What a report covers: a period of local days, the opening hours, and the assumptions behind its estimates.

Pure values with their parsers (the CLI and `write_report` build them from text); no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


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
class OpeningHours:
    """When the space is open: the same hours on each listed weekday (0 = Monday)."""

    opens: dt.time = dt.time(8, 0)
    closes: dt.time = dt.time(19, 0)
    weekdays: frozenset[int] = frozenset(range(5))

    def __post_init__(self) -> None:
        if self.closes <= self.opens:
            raise ValueError("opening hours must close after they open, on the same day")
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise ValueError("opening days must be among mon..sun")

    @classmethod
    def parse(cls, hours: str = "08:00-19:00", days: str = "mon-fri") -> OpeningHours:
        """From `HH:MM-HH:MM` and a day list such as `mon-fri`, `mon-sat` or `mon,wed,fri`; ValueError if bad."""
        match = _HOURS.match(hours)
        if match is None:
            raise ValueError(f"opening hours {hours!r}: expected HH:MM-HH:MM, e.g. 08:00-19:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            opens = dt.time(h1, m1)
            closes = dt.time.max if (h2, m2) == (24, 0) else dt.time(h2, m2)
        except ValueError:
            raise ValueError(f"opening hours {hours!r}: not a time of day") from None
        return cls(opens, closes, parse_days(days))

    def is_open_day(self, day: dt.date) -> bool:
        """The space opens on this day."""
        return day.weekday() in self.weekdays

    def contains(self, local: dt.datetime) -> bool:
        """The space is open at this local wall time."""
        return local.weekday() in self.weekdays and self.opens <= local.time() < self.closes

    def hours_label(self) -> str:
        """`08:00-19:00`."""
        closes = "24:00" if self.closes == dt.time.max else f"{self.closes:%H:%M}"
        return f"{self.opens:%H:%M}-{closes}"

    def days_label(self) -> str:
        """`mon-fri`, or the list of days."""
        days = sorted(self.weekdays)
        if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
            return f"{DAY_NAMES[days[0]]}-{DAY_NAMES[days[-1]]}"
        return ",".join(DAY_NAMES[d] for d in days)


def parse_days(text: str) -> frozenset[int]:
    """`mon-fri`, `sat,sun`, `mon-wed,fri` -> weekday numbers (0 = Monday); ValueError if bad."""
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        ends = part.split("-")
        if len(ends) > 2 or any(e not in DAY_NAMES for e in ends):
            raise ValueError(f"opening days {text!r}: use day names mon..sun, e.g. mon-fri or mon,wed,fri")
        first, last = DAY_NAMES.index(ends[0]), DAY_NAMES.index(ends[-1])
        if last < first:
            raise ValueError(f"opening days {text!r}: {part} runs backwards")
        days.update(range(first, last + 1))
    return frozenset(days)


@dataclass(frozen=True)
class Assumptions:
    """The numbers behind the estimates; every one is printed in the report."""

    commute_km_per_member_day: float = 20.0  # round trip not driven because the member worked here
    kg_co2_per_km: float = 0.193  # average French car, ADEME-like figure
    min_count: int = 5  # person counts below this (and above 0) are not shown

    def __post_init__(self) -> None:
        if self.commute_km_per_member_day < 0 or self.kg_co2_per_km < 0:
            raise ValueError("commuting distance and emission factor must not be negative")
        if self.min_count < 1:
            raise ValueError("the small-count threshold must be at least 1")
