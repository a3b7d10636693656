"""Where a report reads its data: one small interface, implemented by the collector's local store
(`StoreSource`) and by InfluxDB through InfluxQL (`InfluxSource`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Protocol

from edge.report.model import DoorHour, MemberAggregates, NodeCompleteness, Note, Passage, ReportData, ZoneSample
from edge.report.period import Period

HOUR_MS = 3_600_000


class Source(Protocol):
    """A reader of the figures' inputs for a time range [start_ms, end_ms)."""

    def describe(self) -> str:
        """Where the data comes from, for the report's header (no credentials)."""
        ...

    def site(self) -> str:
        """The site's name."""
        ...

    def occupancy(self, start_ms: int, end_ms: int, step_ms: int) -> Iterator[ZoneSample]:
        """Desks per state per zone at each grid instant (multiples of step_ms) that has data, in time order.

        Streamed: a year of samples is never held in memory at once.
        """
        ...

    def door_hours(self, start_ms: int, end_ms: int) -> list[DoorHour]:
        """Granted entries, exits and denied attempts of the whole site per hour."""
        ...

    def passages(self, start_ms: int, end_ms: int) -> list[Passage] | None:
        """Granted passages by visitor number (pseudonyms replaced); None when the source holds no pseudonym."""
        ...

    def passages_from_ms(self) -> int | None:
        """The instant from which `passages` are complete (earlier access records expired); None: no gap."""
        ...

    def members(self, first: dt.date, last: dt.date) -> MemberAggregates:
        """The collector's anonymous member aggregates: days first..last, their months and their years."""
        ...

    def completeness(self, start_ms: int, end_ms: int) -> list[NodeCompleteness]:
        """Per node: events numbered during the range versus events held."""
        ...

    def notes(self, start_ms: int, end_ms: int) -> list[Note]:
        """Caveats the reader of this period's report must know (missing data, retention)."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


def read(source: Source, period: Period, step_ms: int) -> ReportData:
    """Everything the figures need for one period."""
    if step_ms <= 0 or HOUR_MS % step_ms:
        raise ValueError("the sampling step must divide an hour (e.g. 60, 300 or 900 seconds)")
    start, end = period.start_ms, period.end_ms
    passages = source.passages(start, end)
    return ReportData(
        samples=source.occupancy(start, end, step_ms),
        step_ms=step_ms,
        door_hours=source.door_hours(start, end),
        passages=passages,
        completeness=source.completeness(start, end),
        source=source.describe(),
        site=source.site(),
        notes=source.notes(start, end),
        aggregates=source.members(period.first, period.last),
        passages_from_ms=source.passages_from_ms() if passages is not None else None,
    )
