"""What leaves a site: one allow-list of anonymous, derived, zone- or site-level series; everything else stays."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.collector.aggregates import CLOSE_AFTER_DAYS
from edge.collector.egress import (
    LEAVES_SITE,
    YEAR_CLOSES_AFTER_DAYS,
    EgressFilter,
    integer_field,
    measurement_of,
    period_end_ms,
)
from edge.collector.lineprotocol import Point
from edge.collector.schema import (
    MEASUREMENTS,
    Bucket,
    Completeness,
    DeskUsage,
    HourCounts,
    Presence,
    SiteUsage,
    StateCounts,
    completeness_point,
    desk_hourly_point,
    event_points,
    hourly_points,
    people_present_point,
    site_hourly_point,
    site_occupancy_point,
    zone_occupancy_point,
)
from edge.contract import Envelope, Event
from tests.collector_support import BODIES

# Tags that would point below zone level or at people, doors or readers: none may leave.
PLACE_TAGS = {"site", "zone", "node"}
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
EGRESS = EgressFilter(min_desks=3)


@pytest.mark.parametrize("name", sorted(LEAVES_SITE))
def test_every_series_that_leaves_is_a_declared_anonymous_aggregate(name: str) -> None:
    declared = MEASUREMENTS[name]
    assert declared.bucket is Bucket.AGGREGATE
    assert set(declared.tags) <= PLACE_TAGS, f"{name} has tags {declared.tags} below zone level"


@pytest.mark.parametrize("name", sorted(n for n, e in LEAVES_SITE.items() if e.desks_field))
def test_the_desk_count_of_an_occupancy_series_is_one_of_its_integer_fields(name: str) -> None:
    field = LEAVES_SITE[name].desks_field
    assert MEASUREMENTS[name].fields[field or ""] is int


def test_exactly_zone_and_site_occupancy_site_hourly_completeness_and_member_counts_leave() -> None:
    assert set(LEAVES_SITE) == {
        "zone_occupancy",
        "site_occupancy",
        "site_hourly",
        "data_completeness",
        "members_daily",
        "members_monthly",
        "members_yearly",
    }


def lines_of(points: list[Point]) -> list[str]:
    return [p.line() for p in points]


ALLOWED = [
    zone_occupancy_point("s", "open-space", 60_000, StateCounts(3, 1, 2)),
    site_occupancy_point("s", 60_000, StateCounts(0, 0, 4)),
    site_hourly_point("s", 3_600_000, SiteUsage(4, 3600, 1800, 7200, 900, 3600, 14400)),
    completeness_point("s", "desks-1", 60_000, Completeness(expected=10, received=8, gaps=1)),
    Point("members_daily", {"site": "s"}, {"members": 1, "entries": 2, "measured": 1, "visit_s": 3600}, 0),
    Point("members_monthly", {"site": "s"}, {"members": 12, "member_days": 40, "days": 30}, 0),
    Point("members_yearly", {"site": "s"}, {"members": 120, "error": 7, "final": 0}, 0),
]
KEPT = [
    desk_hourly_point("s", "open-space", "d01", 3_600_000, DeskUsage(1800, 3600, 1800, 3600, 3600)),
    *hourly_points("s", "front", 3_600_000, HourCounts(5, 2, 1, {"granted": 7, "expired": 1})),
    people_present_point("s", 60_000, Presence(3, 5, 2, estimate=False)),
]


@pytest.mark.parametrize("point", ALLOWED, ids=lambda p: p.measurement)
def test_allowed_series_leave(point: Point) -> None:
    assert EGRESS.leaves(point.line())


@pytest.mark.parametrize("point", KEPT, ids=lambda p: p.measurement)
def test_desk_level_door_and_presence_series_stay_on_the_site(point: Point) -> None:
    assert not EGRESS.leaves(point.line())
    assert EGRESS.select(point.line()) == ""


def envelope(seq: int) -> Envelope:
    return Envelope(id=f"e{seq}", ts=NOW, node="n1", seq=seq)


@pytest.mark.parametrize("body", BODIES, ids=lambda b: type(b).__name__)
def test_no_raw_event_of_any_kind_ever_leaves(body: object) -> None:
    for point in event_points("s", Event(envelope(1), body)):  # type: ignore[arg-type]
        assert not EGRESS.leaves(point.line())


def test_an_occupancy_point_covering_fewer_desks_than_the_minimum_stays() -> None:
    two = zone_occupancy_point("s", "booth", 60_000, StateCounts(1, 1, 0)).line()
    three = zone_occupancy_point("s", "booth", 60_000, StateCounts(1, 1, 1)).line()
    assert not EGRESS.leaves(two)
    assert EGRESS.leaves(three)
    assert not EgressFilter(min_desks=4).leaves(three)
    small_site = site_hourly_point("s", 0, SiteUsage(desks=2, open_s=3600)).line()
    assert not EGRESS.leaves(small_site)


def test_a_row_of_several_lines_keeps_only_those_that_leave() -> None:
    row = "\n".join(lines_of([ALLOWED[0], KEPT[0], ALLOWED[1]]))
    assert EGRESS.select(row) == "\n".join(lines_of([ALLOWED[0], ALLOWED[1]]))


names = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\n\r\t"), min_size=1, max_size=20)


@given(zone=names, occupied=st.integers(0, 50), vacant=st.integers(0, 50), unknown=st.integers(0, 50))
def test_any_zone_name_is_read_back_and_leaves_exactly_when_it_has_enough_desks(
    zone: str, occupied: int, vacant: int, unknown: int
) -> None:
    line = zone_occupancy_point("s", zone, 60_000, StateCounts(occupied, vacant, unknown)).line()
    assert measurement_of(line) == "zone_occupancy"
    assert integer_field(line, "total") == occupied + vacant + unknown
    assert EGRESS.leaves(line) == (occupied + vacant + unknown >= 3)


# Line protocol does not escape a backslash in a measurement; ours are plain names from the schema.
measurements = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\n\r\t\\"), min_size=1, max_size=20)


@given(measurement=measurements, zone=names)
def test_a_measurement_that_is_not_on_the_list_never_leaves_whatever_its_name(measurement: str, zone: str) -> None:
    line = Point(measurement, {"site": "s", "zone": zone}, {"total": 10}, 0).line()
    assert measurement_of(line) == measurement
    assert EGRESS.leaves(line) == (measurement in LEAVES_SITE)


PARIS_TZ = ZoneInfo("Europe/Paris")


def paris_ms(*when: int) -> int:
    return int(datetime(*when, tzinfo=PARIS_TZ).timestamp() * 1000)


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("day", (2026, 12, 5), (2026, 12, 6)),
        ("day", (2026, 10, 25), (2026, 10, 26)),  # 25 hours: summer time ends
        ("month", (2026, 2, 1), (2026, 3, 1)),
        ("month", (2026, 12, 1), (2027, 1, 1)),
        ("year", (2026, 1, 1), (2027, 1, 8)),  # a year's count is final a week into the next one
    ],
)
def test_a_running_figure_is_released_when_its_period_is_over(
    period: str, start: tuple[int, int, int], end: tuple[int, int, int]
) -> None:
    assert period_end_ms(period, paris_ms(*start), PARIS_TZ) == paris_ms(*end)


def test_only_the_member_counts_are_running_figures_and_the_year_closes_when_the_collector_closes_it() -> None:
    egress = EgressFilter(tz=PARIS_TZ)
    day = Point("members_daily", {"site": "s"}, {"members": 4}, paris_ms(2026, 12, 5) * 1_000_000).line()
    assert egress.release_ms(day) == paris_ms(2026, 12, 6)
    assert all(egress.release_ms(p.line()) == 0 for p in ALLOWED if not p.measurement.startswith("members_"))
    assert YEAR_CLOSES_AFTER_DAYS == CLOSE_AFTER_DAYS
