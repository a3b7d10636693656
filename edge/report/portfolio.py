"""The network's portfolio: comparable indicators per site and for the whole network, and the sites whose data
for the period is not complete. Pure: readings of the central store in, figures out (no I/O, no clock).

Indicators (docs/report.md, "The network's portfolio"), all within each site's own opening hours:

* utilisation: occupied desk-time / desk-time with a known state (`site_hourly` open_occupied_s / open_known_s);
* average desks occupied while open: occupied desk-time / time open; occupied desk-hours: occupied desk-time;
* the peak: the most desks occupied at one instant (at any hour; peaks of sites do not add up);
* unknown desk-time: the share of desk-time while open with no known state (sensors offline);
* coverage: the hours of the period the central store has figures for, of those it should have by now;
* events received: of the events the site's nodes numbered during the period (their seq numbers);
* member-days, entries and the average visit (from each site's daily member aggregates), and unique members when
  the period is one calendar month or year (a site's monthly count, or its yearly estimate). Counts of people from
  1 to `min_count` - 1 are withheld (`Withheld`), as in each site's own report; unique members do not add up
  across sites (a member may use two), so the network has none.

The network's row adds what adds up (desks, desk-time, hours, events) and recomputes ratios from those sums, over
the sites of the network's list (a site the central store holds but the list lacks is shown, flagged, left out).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from edge.report.central import SiteReadings

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class Flag:
    """Why a site's data for the period is not complete (`code`), with the figures that say by how much."""

    code: str  # no_data, hours_missing, events_missing, unknown_desks, not_listed
    count: int = 0
    total: int = 0
    share: float = 0.0
    last_ms: int | None = None


@dataclass(frozen=True)
class Withheld:
    """A count of people from 1 to `below` - 1, not shown (and what is computed from it)."""

    below: int


Count = int | Withheld | None


def people(value: float | None, min_count: int) -> Count:
    """A count of people as it may be shown: None when unknown, Withheld when small but not zero."""
    if value is None:
        return None
    count = round(value)
    return Withheld(min_count) if 0 < count < min_count else count


@dataclass(frozen=True)
class Members:
    """A site's member figures for the period (all None when the central store has none)."""

    member_days: Count = None
    entries: Count = None
    visit_avg_s: float | Withheld | None = None
    unique: Count = None
    unique_error: int | None = None  # the yearly estimate's standard error
    unique_final: bool | None = None  # the yearly estimate is final (its year closed)


@dataclass(frozen=True)
class SiteFigures:
    """One site's indicators for the period (or the network's, with `id` empty)."""

    id: str
    name: str
    desks: int
    open_hours: float
    utilisation: float | None
    average_occupied: float | None
    occupied_desk_hours: float
    unknown_share: float | None
    peak: int | None
    peak_ms: int | None
    hours_expected: int
    hours_with_data: int
    events_expected: int
    events_received: int
    flags: tuple[Flag, ...] = ()
    members: Members = Members()

    @property
    def coverage(self) -> float | None:
        """Share of the expected hours the central store has figures for."""
        return None if not self.hours_expected else min(1.0, self.hours_with_data / self.hours_expected)

    @property
    def completeness(self) -> float | None:
        """Share of the events numbered during the period that the site received."""
        return None if not self.events_expected else self.events_received / self.events_expected

    @property
    def complete(self) -> bool:
        """No flag: the figures stand on complete data."""
        return not self.flags


@dataclass(frozen=True)
class Portfolio:
    """Every site's figures, in the configured order, and the network's."""

    sites: list[SiteFigures]
    network: SiteFigures
    flagged: list[SiteFigures] = field(default_factory=list)


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, None when there is nothing to divide by."""
    return numerator / denominator if denominator else None


def hours_expected(start_ms: int, end_ms: int, expected_end_ms: int) -> int:
    """Whole hours of [start_ms, end_ms) that ended by `expected_end_ms`."""
    upto = min(end_ms, expected_end_ms - expected_end_ms % HOUR_MS)
    return max(0, (upto - start_ms) // HOUR_MS)


def events(readings: SiteReadings) -> tuple[int, int]:
    """Events the site's nodes numbered during the period, and how many of them the site received."""
    expected = received = 0
    for node, (e_end, r_end, _gaps) in readings.completeness_end.items():
        e_start, r_start, _ = readings.completeness_start.get(node, (0, 0, 0))
        expected += max(0, e_end - e_start)
        received += max(0, r_end - r_start)
    return expected, min(received, expected)


def member_figures(readings: SiteReadings, min_count: int) -> Members:
    """A site's member figures, small counts withheld."""
    m, u = readings.members, readings.unique
    if not m and not u:
        return Members()
    measured = round(m.get("measured", 0))
    visit: float | Withheld | None = None
    if measured >= min_count:
        visit = m.get("visit_s", 0) / measured
    elif measured:
        visit = Withheld(min_count)
    return Members(
        member_days=people(m.get("members"), min_count) if m else None,
        entries=people(m.get("entries"), min_count) if m else None,
        visit_avg_s=visit,
        unique=people(u.get("members"), min_count) if "members" in u else None,
        unique_error=round(u["error"]) if "error" in u else None,
        unique_final=bool(u["final"]) if "final" in u else None,
    )


def site_figures(
    site: str,
    name: str,
    readings: SiteReadings,
    expected_hours: int,
    *,
    listed: bool,
    max_unknown_share: float,
    min_count: int = 5,
) -> SiteFigures:
    """One site's indicators and flags."""
    h = readings.hourly
    expected, received = events(readings)
    unknown = None if not h.get("open_desk_s") else 1 - h.get("open_known_s", 0) / h["open_desk_s"]
    flags = []
    if not listed:
        flags.append(Flag("not_listed"))
    if not readings.desk_site and readings.completeness_end:
        expected_hours = 0  # a site without desk sensors (doors only) sends no hourly desk figures: none are expected
    if readings.hours_with_data == 0 and expected_hours:
        flags.append(Flag("no_data", total=expected_hours))
    elif readings.hours_with_data < expected_hours:
        missing = expected_hours - readings.hours_with_data
        flags.append(Flag("hours_missing", missing, expected_hours, missing / expected_hours, readings.last_hour_ms))
    if received < expected:
        flags.append(Flag("events_missing", expected - received, expected, (expected - received) / expected))
    if unknown is not None and unknown > max_unknown_share:
        flags.append(Flag("unknown_desks", share=unknown))
    return SiteFigures(
        id=site,
        name=name,
        desks=readings.desks,
        open_hours=h.get("open_s", 0) / 3600,
        utilisation=ratio(h.get("open_occupied_s", 0), h.get("open_known_s", 0)),
        average_occupied=ratio(h.get("open_occupied_s", 0), h.get("open_s", 0)),
        occupied_desk_hours=h.get("open_occupied_s", 0) / 3600,
        unknown_share=unknown,
        peak=readings.peak,
        peak_ms=readings.peak_ms,
        hours_expected=expected_hours,
        hours_with_data=min(readings.hours_with_data, expected_hours),
        events_expected=expected,
        events_received=received,
        flags=tuple(flags),
        members=member_figures(readings, min_count),
    )


def network_figures(
    sites: Sequence[SiteFigures], readings: Mapping[str, SiteReadings], min_count: int = 5
) -> SiteFigures:
    """The network's row: sums of what adds up, ratios recomputed from the sums; no peak (peaks do not add up) and
    no unique members (a member may use two sites)."""

    def total(name: str) -> float:
        return sum(r.hourly.get(name, 0) for r in readings.values())

    def members(name: str) -> float | None:
        values = [r.members[name] for r in readings.values() if name in r.members]
        return sum(values) if values else None

    measured, visit_s = members("measured"), members("visit_s")
    visit: float | Withheld | None = None
    if measured and visit_s is not None:
        visit = visit_s / measured if measured >= min_count else Withheld(min_count)

    return SiteFigures(
        id="",
        name="",
        desks=sum(s.desks for s in sites),
        open_hours=sum(s.open_hours for s in sites),
        utilisation=ratio(total("open_occupied_s"), total("open_known_s")),
        average_occupied=None,
        occupied_desk_hours=sum(s.occupied_desk_hours for s in sites),
        unknown_share=None if not total("open_desk_s") else 1 - total("open_known_s") / total("open_desk_s"),
        peak=None,
        peak_ms=None,
        hours_expected=sum(s.hours_expected for s in sites),
        hours_with_data=sum(s.hours_with_data for s in sites),
        events_expected=sum(s.events_expected for s in sites),
        events_received=sum(s.events_received for s in sites),
        members=Members(
            member_days=people(members("members"), min_count),
            entries=people(members("entries"), min_count),
            visit_avg_s=visit,
        ),
    )


def compute(
    readings: Mapping[str, SiteReadings],
    listed: Sequence[tuple[str, str]],
    start_ms: int,
    end_ms: int,
    expected_end_ms: int,
    *,
    max_unknown_share: float = 0.1,
    min_count: int = 5,
) -> Portfolio:
    """The portfolio of the listed sites (id, name), in that order, then of any other site the store holds."""
    expected_hours = hours_expected(start_ms, end_ms, expected_end_ms)
    names = dict(listed)
    order = [site for site, _ in listed] + sorted(set(readings) - set(names))
    sites = [
        site_figures(
            site,
            names.get(site) or site,
            readings.get(site, SiteReadings()),
            expected_hours,
            listed=site in names or not names,
            max_unknown_share=max_unknown_share,
            min_count=min_count,
        )
        for site in order
    ]
    # The network's row is the network's list: a site the store holds but the list lacks is shown and flagged only.
    members = [s for s in sites if s.id in names] if names else sites
    considered = {s.id: readings.get(s.id, SiteReadings()) for s in members}
    return Portfolio(sites, network_figures(members, considered, min_count), [s for s in sites if not s.complete])
