"""The report's data: what a source hands over (anonymous samples, numbered passages) and the figures computed.

Nothing here names a person: a source replaces each member pseudonym by a number that lives only while the
report is built, and every figure about people is a count that may be withheld (`Withheld`) when it is small.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from edge.collector.members import DayMembers, MonthMembers, Passage, YearMembers
from edge.report.commute import CommuteFigures

__all__ = ["DayMembers", "MonthMembers", "Passage", "YearMembers"]  # re-exported: what a source hands over

# -- inputs -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ZoneSample:
    """Desks per state in one zone at one grid instant; it stands for the grid step that starts there."""

    t_ms: int
    zone: str
    occupied: int
    vacant: int
    unknown: int

    @property
    def total(self) -> int:
        """Desks counted."""
        return self.occupied + self.vacant + self.unknown


@dataclass(frozen=True, slots=True)
class DoorHour:
    """Door decisions of the whole site in one hour (UTC hour start): granted entries, exits, denied attempts."""

    hour_ms: int
    entries: int
    exits: int
    denied: int


@dataclass(frozen=True, slots=True)
class NodeCompleteness:
    """Events a node numbered during the period versus events the collector holds; gaps are holes in the seqs."""

    node: str
    expected: int
    received: int
    gaps: int

    @property
    def missing(self) -> int:
        """Events numbered but not received."""
        return max(0, self.expected - self.received)


@dataclass(frozen=True)
class Note:
    """A caveat a source raises for a period, translated by the page: `unreadable_records` (`count` door records
    could not be read), `door_records_expired` (door records before the period are gone and no aggregate says
    what they held)."""

    code: Literal["unreadable_records", "door_records_expired"]
    count: int = 0


@dataclass(frozen=True)
class MemberAggregates:
    """The collector's anonymous member figures (edge/collector/aggregates.py) for the period's days, months and
    years: what is left of the access records once they expire."""

    days: list[DayMembers] = field(default_factory=list)
    months: list[MonthMembers] = field(default_factory=list)
    years: list[YearMembers] = field(default_factory=list)


@dataclass(frozen=True)
class ReportData:
    """Everything a source provides for one period.

    `passages` is None when the source holds no member pseudonym (InfluxDB); member figures then come from the
    collector's aggregates, or without them are estimated from door entries (visit lengths from desk time).
    """

    samples: Iterable[ZoneSample]  # in time order; read once
    step_ms: int
    door_hours: list[DoorHour]
    passages: list[Passage] | None
    completeness: list[NodeCompleteness]
    source: str
    site: str
    notes: list[Note] = field(default_factory=list)  # the source's caveats for this period
    aggregates: MemberAggregates = field(default_factory=MemberAggregates)
    passages_from_ms: int | None = None  # passages are complete from here on (earlier records expired); None: all


# -- outputs ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Withheld:
    """A count of people too small to show (0 < n < threshold): it could point at someone."""

    threshold: int

    def __str__(self) -> str:
        return f"<{self.threshold}"


PeopleCount = int | Withheld
Seconds = float | Withheld | None


@dataclass(frozen=True)
class OccupancyFigures:
    """Concurrent occupancy of a zone or of the whole site."""

    name: str
    desks: int  # most desks known at one instant
    peak: int  # most desks occupied at one instant, at any time
    peak_at_ms: int | None
    average_open: float | None  # mean desks occupied while open
    utilisation_open: float | None  # occupied desk-time / known desk-time, while open
    unknown_share_open: float | None  # desk-time with an unknown state / all desk-time, while open


@dataclass(frozen=True)
class HeatCell:
    """One weekday x hour-of-day cell of the occupancy heatmap (site level)."""

    weekday: int
    hour: int
    average_occupied: float
    utilisation: float | None


@dataclass(frozen=True)
class DayFigures:
    """One local day."""

    day: dt.date
    open: bool
    peak: int | None
    average_open: float | None
    utilisation_open: float | None
    entries: PeopleCount  # granted entries (badge passages are about people: small counts withheld)
    unique_members: PeopleCount | None  # None: the source cannot count members


@dataclass(frozen=True)
class WeekFigures:
    """One ISO week (only its days inside the period)."""

    label: str
    first: dt.date
    last: dt.date
    unique_members: PeopleCount | None


UniqueHow = Literal["counted", "month", "year", "unavailable", "none"]


@dataclass(frozen=True)
class MemberFigures:
    """Members over the period.

    `unique_how`: `counted` from passages, `month` / `year` from the collector's aggregate of that calendar month
    or year (a year's is an estimate with `unique_error`, counting from `unique_since` when later than 1 January),
    `unavailable` (the period is neither covered by passages nor a whole month or year), `none` (not counted).
    """

    counted: bool  # True: distinct members from door records or their aggregates; False: estimated from entries
    member_days: PeopleCount
    unique_members: PeopleCount | None
    average_per_open_day: float | Withheld | None
    unique_how: UniqueHow = "counted"
    unique_error: int | None = None
    unique_since: dt.date | None = None
    interrupted: bool = False  # the year's key was lost: some members may count twice
    missing_days: int = 0  # days of the period without any member figure


@dataclass(frozen=True)
class MonthMembersFigures:
    """One calendar month (its days inside the period): members, member-days, how often members came."""

    month: dt.date
    days: int
    open_days: int
    unique_members: PeopleCount | None
    member_days: PeopleCount
    average_per_open_day: float | Withheld | None
    frequency: list[tuple[str, PeopleCount]] | None  # members who came on 1, 2-4, 5-9, 10+ days


VisitMethod = Literal["measured", "estimated", "none"]


@dataclass(frozen=True)
class VisitFigures:
    """Time on site per member-day: measured from entries and exits, or estimated from desk time."""

    method: VisitMethod
    measured_days: int  # member-days whose every entry has its exit the same day
    incomplete_days: int  # member-days with an unpaired entry or exit (left out of the figures)
    average_s: Seconds
    median_s: Seconds
    histogram: list[tuple[str, PeopleCount]] = field(default_factory=list)


@dataclass(frozen=True)
class Completeness:
    """How complete the evidence is."""

    nodes: list[NodeCompleteness]
    expected: int
    received: int
    occupancy_coverage_open: float | None  # open grid instants with occupancy data / open grid instants

    @property
    def ratio(self) -> float | None:
        """Events received / events expected over every node."""
        return self.received / self.expected if self.expected else None


@dataclass(frozen=True)
class Figures:
    """Every figure of the report."""

    zones: list[OccupancyFigures]
    site: OccupancyFigures
    heatmap: list[HeatCell]
    days: list[DayFigures]
    weeks: list[WeekFigures]
    months: list[MonthMembersFigures]
    members: MemberFigures
    visits: VisitFigures
    commuting: CommuteFigures
    completeness: Completeness
    entries: PeopleCount
    denied: int
    open_days: int
