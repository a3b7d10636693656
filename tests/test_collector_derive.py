"""Derived series: zone/site occupancy on a grid, entries per hour, people present; late data corrects the past."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from edge.clock import ManualClock
from edge.collector import derive
from edge.collector.deriver import Deriver
from edge.collector.ingest import classify
from edge.collector.schema import DeskUsage, HourCounts, SiteUsage, StateCounts, ms_of
from edge.collector.store import Store
from edge.contract import DeskOccupancy, DeskState, Event, Reason, encode
from edge.schedule import parse_schedule
from tests.collector_support import TOPICS, access_event, event

OCC, V, U = DeskState.OCCUPIED, DeskState.VACANT, DeskState.UNKNOWN
MIN = 60_000
PARIS = ZoneInfo("Europe/Paris")


def test_occupancy_at_each_instant_uses_each_desks_latest_transition() -> None:
    initial = {"d1": ("z1", V), "d2": ("z1", V)}
    transitions = [
        (30_000, "d1", "z1", OCC),
        (60_000, "d2", "z1", U),
        (90_000, "d1", "z1", V),
        (95_000, "d3", "z2", OCC),
    ]
    series = list(derive.occupancy_series(initial, transitions, [0, MIN, 2 * MIN]))
    assert [(t, zones["z1"]) for t, zones, _ in series] == [
        (0, StateCounts(occupied=0, vacant=2, unknown=0)),
        (MIN, StateCounts(occupied=1, vacant=0, unknown=1)),  # a transition exactly at the instant counts
        (2 * MIN, StateCounts(occupied=0, vacant=1, unknown=1)),
    ]
    assert series[2][1]["z2"] == StateCounts(occupied=1)
    assert series[2][2] == StateCounts(occupied=1, vacant=1, unknown=1)


def test_a_desk_that_moves_zone_leaves_the_old_zone() -> None:
    series = list(derive.occupancy_series({"d1": ("z1", OCC)}, [(10, "d1", "z2", OCC)], [0, 20]))
    assert series[1][1] == {"z2": StateCounts(occupied=1)}


def test_grid_instants_are_multiples_of_the_step() -> None:
    assert list(derive.grid(61_000, 250_000, MIN)) == [120_000, 180_000, 240_000]


@pytest.mark.parametrize(
    ("reader", "granted", "field"),
    [
        ("front-in", True, "entries"),
        ("front-out", True, "exits"),
        ("front-out", False, "denied"),
        ("x", True, "entries"),
    ],
)
def test_hour_counts_classify_decisions_by_reader_direction(reader: str, granted: bool, field: str) -> None:
    directions = {"front-in": "in", "front-out": "out"}
    counts = derive.hour_counts([(0, "front", reader, granted, "granted" if granted else "expired", 3)], directions)
    assert getattr(counts[(0, "front")], field) == 3


def test_hour_counts_keep_attempts_per_reason() -> None:
    rows = [(0, "d", "r", True, "granted", 4), (0, "d", "r", False, "expired", 2), (0, "d", "r2", False, "expired", 1)]
    assert derive.hour_counts(rows, {})[(0, "d")] == HourCounts(4, 0, 3, {"granted": 4, "expired": 3})


def day_start_utc(t_ms: int) -> int:
    return t_ms - t_ms % 86_400_000


def test_people_present_counts_entries_minus_exits_since_midnight_when_exits_are_read() -> None:
    directions = {"in": "in", "out": "out"}
    day = 86_400_000
    accesses = [
        (day + 1000, "d", "in", True, "granted"),
        (day + 2000, "d", "in", True, "granted"),
        (day + 2500, "d", "in", False, "expired"),
        (day + 3000, "d", "out", True, "granted"),
        (2 * day + 10, "d", "out", True, "granted"),  # next day: yesterday's entries no longer count
    ]
    series = dict(
        derive.presence_series([day + 2000, day + 5000, 2 * day + 20], accesses, directions, day_start_utc, 1)
    )
    assert series[day + 2000].present == 2
    assert (series[day + 5000].present, series[day + 5000].exits, series[day + 5000].estimate) == (1, 1, False)
    assert series[2 * day + 20].present == 0  # never negative


def test_people_present_is_an_estimate_from_recent_entries_without_exit_readers() -> None:
    hour = 3_600_000
    accesses = [
        (0, "d", "r", True, "granted"),
        (hour, "d", "r", True, "granted"),
        (2 * hour, "d", "r", True, "granted"),
    ]
    series = dict(derive.presence_series([2 * hour, 5 * hour + 1], accesses, {}, lambda t: 0, 4 * hour))
    assert (series[2 * hour].present, series[2 * hour].estimate) == (3, True)
    assert series[5 * hour + 1].present == 1  # entries older than the assumed stay are gone
    assert series[5 * hour + 1].entries == 3


def test_desk_usage_counts_each_instant_as_one_step_of_the_desks_state() -> None:
    hour = 3_600_000
    instants = range(0, 2 * hour, 10 * MIN)  # six instants per hour
    transitions = [(20 * MIN, "d1", "z1", OCC), (50 * MIN, "d1", "z1", U), (hour, "d1", "z1", V)]
    usage = derive.desk_usage({"d1": ("z1", V)}, transitions, instants, 10 * MIN, lambda t: t >= 30 * MIN)
    _, first = usage[(0, "d1")]
    # 00:00 and 00:10 vacant, 00:20-00:40 occupied, 00:50 unknown (neither occupied nor known)
    assert (first.occupied_s, first.known_s) == (1800, 3000)
    assert (first.open_occupied_s, first.open_known_s) == (1200, 1200)  # 00:30 and 00:40 are within hours
    assert first.open_s == 1800  # 00:30, 00:40 and 00:50 (unknown) are within hours
    assert usage[(hour, "d1")] == (
        "z1",
        DeskUsage(occupied_s=0, known_s=3600, open_occupied_s=0, open_known_s=3600, open_s=3600),
    )


def test_desk_usage_keeps_the_zone_the_desk_is_in_at_the_end_of_the_hour() -> None:
    usage = derive.desk_usage({"d1": ("z1", OCC)}, [(MIN, "d1", "z2", OCC)], [0, MIN], MIN, lambda t: True)
    assert usage[(0, "d1")] == ("z2", DeskUsage(120, 120, 120, 120, 120))


def test_site_usage_sums_the_desks_of_each_hour_and_counts_them() -> None:
    hour = 3_600_000
    instants = range(0, hour, 10 * MIN)
    initial = {"d1": ("z1", OCC), "d2": ("z2", V), "d3": ("z2", U)}
    usage = derive.desk_usage(initial, [(30 * MIN, "d3", "z2", OCC)], instants, 10 * MIN, lambda t: t < 40 * MIN)
    site = derive.site_usage(usage)[0]
    # d1 occupied 6 instants (4 open), d2 vacant 6 (4 open), d3 unknown 3 then occupied 3 (00:30 open)
    assert site == SiteUsage(
        desks=3,
        open_s=2400,
        occupied_s=3600 + 1800,
        known_s=3600 + 3600 + 1800,
        open_occupied_s=2400 + 600,
        open_known_s=2400 + 2400 + 600,
        open_desk_s=3 * 2400,
    )


# -- the deriver, over a real store ----------------------------------------------------------------------------

START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def store_events(store: Store, events: list[Event]) -> None:
    store.commit([classify(TOPICS, e.body.topic(TOPICS), encode(e)) for e in events], 0)


def desk(seq: int, minute: float, name: str, state: DeskState, zone: str = "z1") -> Event:
    ts = START + timedelta(minutes=minute)
    return event(DeskOccupancy(desk=name, zone=zone, state=state, since=ts), seq, ts)


def derived(store: Store, measurement: str) -> dict[int, str]:
    with store._lock:
        rows = store._db.execute(
            "SELECT t_ms, line FROM derived WHERE series LIKE ? ORDER BY t_ms", (measurement + ",%",)
        ).fetchall()
    return {t: line for t, line in rows}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "c.sqlite3")
    yield s  # type: ignore[misc]
    s.close()


def make_deriver(store: Store, clock: ManualClock, **kwargs: object) -> Deriver:
    return Deriver(store, site="s", clock=clock, tz=PARIS, step_s=60, **kwargs)  # type: ignore[arg-type]


def test_grid_points_appear_as_time_passes(store: Store) -> None:
    clock = ManualClock(START + timedelta(minutes=2, seconds=30))
    store_events(store, [desk(1, 0, "d1", OCC), desk(2, 0.5, "d2", V)])
    make_deriver(store, clock).run()
    zone = derived(store, "zone_occupancy")
    assert sorted(zone) == [ms_of(START) + k * MIN for k in range(3)]
    assert "occupied=1i" in zone[ms_of(START) + MIN] and "vacant=1i" in zone[ms_of(START) + MIN]
    assert "vacant=0i" in zone[ms_of(START)]  # d2 became vacant after the first instant: not counted there yet


def test_late_events_recompute_the_instants_they_change(store: Store) -> None:
    clock = ManualClock(START + timedelta(minutes=10))
    store_events(store, [desk(1, 0, "d1", V)])
    deriver = make_deriver(store, clock)
    deriver.run()
    before = derived(store, "zone_occupancy")
    store_events(store, [desk(2, 4.5, "d1", OCC)])  # a node's backlog arrives late
    assert store.marks.dirty_from == ms_of(START + timedelta(minutes=4.5))
    assert deriver.run() > 0
    after = derived(store, "zone_occupancy")
    changed = [t for t in after if after[t] != before[t]]
    assert changed == [ms_of(START) + k * MIN for k in range(5, 10)]
    assert store.marks.dirty_from == -1


def test_entries_per_hour_follow_new_door_decisions(store: Store) -> None:
    clock = ManualClock(START + timedelta(hours=2))
    t = START + timedelta(minutes=5)
    store_events(
        store,
        [
            access_event(1, t, reader="front-in"),
            access_event(2, t + timedelta(seconds=1), reader="front-out"),
            access_event(3, t + timedelta(seconds=2), reason=Reason.EXPIRED),
            access_event(4, t + timedelta(hours=1)),
        ],
    )
    make_deriver(store, clock, directions={"front-out": "out"}).run()
    hourly = derived(store, "entries_hourly")
    assert hourly[ms_of(START)].split(" ")[1] == "denied=1i,entries=1i,exits=1i"
    assert hourly[ms_of(START) + 3_600_000].split(" ")[1] == "denied=0i,entries=1i,exits=0i"
    reasons = derived(store, "access_hourly")
    assert len(reasons) == 2  # one per hour for each series; the first hour has two reasons
    assert store.count("derived") >= 4


def test_unchanged_derived_points_are_not_forwarded_again(store: Store) -> None:
    clock = ManualClock(START + timedelta(minutes=5))
    store_events(store, [desk(1, 0, "d1", OCC)])
    deriver = make_deriver(store, clock)
    deriver.run()
    rows = store.count("derived")
    store.marks.dirty_from = ms_of(START)  # force a recomputation that changes nothing
    assert deriver.run() == 0
    assert store.count("derived") == rows


def test_completeness_is_written_per_node_at_each_new_instant(store: Store) -> None:
    clock = ManualClock(START + timedelta(minutes=3))
    store_events(store, [desk(1, 0, "d1", OCC), desk(4, 1, "d1", V)])
    make_deriver(store, clock).run()
    [line] = derived(store, "data_completeness").values()
    assert "expected=4i" in line and "missing=2i" in line and "node=n1" in line


def test_a_long_gap_is_worked_through_in_bounded_passes(store: Store) -> None:
    clock = ManualClock(START + timedelta(hours=3))
    store_events(store, [desk(1, 0, "d1", OCC)])
    deriver = Deriver(store, site="s", clock=clock, tz=PARIS, step_s=60, max_instants=50)
    passes = 0
    while deriver.run() and passes < 100:
        passes += 1
    assert len(derived(store, "zone_occupancy")) == 180
    assert passes >= 180 // 50


def test_an_event_from_a_wrong_clock_does_not_make_the_grid_reach_back_years(store: Store) -> None:
    clock = ManualClock(START + timedelta(minutes=3))
    store_events(store, [desk(1, -3 * 365 * 24 * 60, "d1", OCC), desk(2, 0, "d2", V)])
    deriver = make_deriver(store, clock)
    while deriver.run():
        pass
    grid = derived(store, "zone_occupancy")
    assert min(grid) >= ms_of(START) - 35 * 86_400_000
    assert max(grid) == ms_of(START) + 2 * MIN


def test_desk_hours_are_written_once_complete_and_cover_the_whole_hour(store: Store) -> None:
    clock = ManualClock(START + timedelta(minutes=58, seconds=30))  # 08:58 is the last instant: hour incomplete
    store_events(store, [desk(1, 0, "d1", OCC), desk(2, 30, "d1", V)])
    deriver = make_deriver(store, clock)
    deriver.run()
    assert derived(store, "desk_hourly") == {}
    clock.advance(60)  # 08:59 is now derived: the hour is complete
    deriver.run()
    [line] = derived(store, "desk_hourly").values()
    assert line.split(" ")[1] == "known_s=3600i,occupied_s=1800i,open_known_s=3600i,open_occupied_s=1800i"


def test_opening_hours_mark_grid_instants_and_desk_hours(store: Store) -> None:
    # START is 09:00 in Paris on a Thursday; open from 09:30
    clock = ManualClock(START + timedelta(hours=1, seconds=30))
    store_events(store, [desk(1, 0, "d1", OCC)])
    make_deriver(store, clock, opening_hours=parse_schedule("thu 09:30-18:00")).run()
    site = derived(store, "site_occupancy")
    assert "in_hours=0i" in site[ms_of(START + timedelta(minutes=29))]
    assert "in_hours=1i" in site[ms_of(START + timedelta(minutes=30))]
    [line] = derived(store, "desk_hourly").values()
    assert "occupied_s=3600i" in line and "open_occupied_s=1800i" in line
