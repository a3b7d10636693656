"""InfluxDB as a report source, against a real InfluxDB 1.6.7 loaded with line protocol that the collector's
own store and deriver produced from two days of events. It must give the same inputs as the store it came from.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from edge.clock import ManualClock
from edge.collector.aggregates import MemberAggregator, YearKeys
from edge.collector.deriver import Deriver
from edge.collector.ingest import classify
from edge.collector.store import Store
from edge.contract import DeskOccupancy, DeskState, DoorAccess, Event, NodeStatus, Reason
from edge.errors import SourceError
from edge.report.build import make_report
from edge.report.influx_source import InfluxSettings, InfluxSource, quote, windows
from edge.report.period import Assumptions, Period
from edge.report.store_source import StoreSource
from edge.schedule import parse_schedule
from tests.collector_support import SITE, TOPICS, event, wire
from tests.rig.servers import InfluxDB16, free_port

TZ = ZoneInfo("Europe/Paris")
MON, TUE = dt.date(2026, 11, 23), dt.date(2026, 11, 24)
DIRECTIONS = {"front-out": "out"}
HOURS = parse_schedule("mon-fri 08:00-19:00")


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), TZ)


def desk(seq: int, when: dt.datetime, name: str, zone: str, state: DeskState) -> Event:
    return event(DeskOccupancy(desk=name, zone=zone, state=state, since=when), seq, when, node="desks")


def door(seq: int, when: dt.datetime, member: str, reader: str = "front-in", granted: bool = True) -> Event:
    body = DoorAccess(
        door="front",
        reader=reader,
        token=f"{abs(hash(member)) % 16**32:032x}",
        member=member,
        granted=granted,
        reason=Reason.GRANTED if granted else Reason.EXPIRED,
        latency_ms=2.0,
    )
    return event(body, seq, when, node="door")


def status(node: str, seq: int, when: dt.datetime) -> Event:
    return event(NodeStatus(state="online", version="1", node_name=node), seq, when, node=node)


MONDAY = [
    desk(1, local(MON, 7), "d1", "z1", DeskState.VACANT),
    desk(2, local(MON, 7), "d2", "z1", DeskState.VACANT),
    desk(3, local(MON, 7), "d3", "z2", DeskState.VACANT),
    desk(4, local(MON, 8, 50), "d1", "z1", DeskState.OCCUPIED),
    desk(5, local(MON, 9, 10), "d3", "z2", DeskState.OCCUPIED),
    desk(6, local(MON, 12, 20), "d1", "z1", DeskState.VACANT),
    desk(7, local(MON, 17, 40), "d3", "z2", DeskState.VACANT),
    door(1, local(MON, 8, 45), "m-a"),
    door(2, local(MON, 9, 5), "m-b"),
    door(3, local(MON, 9, 6), "m-c", granted=False),
    door(4, local(MON, 12, 25), "m-a", "front-out"),
    door(5, local(MON, 17, 45), "m-b", "front-out"),
    status("desks", 7, local(MON, 20)),
    status("door", 5, local(MON, 20)),
]
TUESDAY = [
    desk(10, local(TUE, 9), "d2", "z1", DeskState.OCCUPIED),  # 8 and 9 lost overnight
    desk(11, local(TUE, 10), "d3", "z2", DeskState.UNKNOWN),
    desk(12, local(TUE, 14), "d3", "z2", DeskState.VACANT),
    desk(13, local(TUE, 16, 30), "d2", "z1", DeskState.VACANT),
    door(6, local(TUE, 8, 55), "m-b"),
    door(7, local(TUE, 16, 35), "m-b", "front-out"),
    status("desks", 14, local(TUE, 20)),  # 14 announced, never received
    status("door", 7, local(TUE, 20)),
]


def collect(store: Store, deriver: Deriver, clock: ManualClock, events: list[Event], until: dt.datetime) -> None:
    """The collector's day: store the events, then derive up to `until` as the running collector would."""
    store.commit([classify(TOPICS, *wire(e)) for e in events], 0)
    clock.set(until + dt.timedelta(seconds=3))
    while deriver.run():
        pass


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("report-influx")
    store = Store(tmp / "c.sqlite3")
    clock = ManualClock(local(MON, 7))
    deriver = Deriver(store, site=SITE, clock=clock, tz=TZ, step_s=60, directions=DIRECTIONS)
    collect(store, deriver, clock, MONDAY, local(MON, 20))
    collect(store, deriver, clock, TUESDAY, local(TUE, 20))
    with sqlite3.connect(store.path) as db:
        lines = [r[0] for r in db.execute("SELECT lines FROM events UNION ALL SELECT line FROM derived")]
    # A second database as a collector with member aggregates (this version) fills it
    aggregator = MemberAggregator(
        store, site=SITE, clock=clock, tz=TZ, retention_days=90, directions=DIRECTIONS, keys=YearKeys(tmp / "keys")
    )
    aggregator.run(force=True)
    with sqlite3.connect(store.path) as db:
        with_members = [r[0] for r in db.execute("SELECT lines FROM events UNION ALL SELECT line FROM derived")]
    store.close()
    server = InfluxDB16(tmp / "influx")
    server.start()
    server.query("CREATE DATABASE edge")
    server.write("edge", "\n".join(lines))
    server.query("CREATE DATABASE edge_members")
    server.write("edge_members", "\n".join(with_members))
    influx = InfluxSource(InfluxSettings.from_bucket(server.url, "edge"), site=SITE)
    local_store = StoreSource(tmp / "c.sqlite3", directions=DIRECTIONS)
    yield influx, local_store, server
    local_store.close()
    server.kill()


@pytest.mark.parametrize("step_s", [60, 300, 3600])
@pytest.mark.parametrize("day", [MON, TUE])
def test_occupancy_samples_match_the_store(loaded, day, step_s) -> None:
    influx, store, _ = loaded
    period = Period.one_day(day, TZ)
    got = list(influx.occupancy(period.start_ms, period.end_ms, step_s * 1000))
    assert got and got == list(store.occupancy(period.start_ms, period.end_ms, step_s * 1000))


def test_a_range_longer_than_one_query_window_is_read_in_pieces(loaded) -> None:
    influx, store, _ = loaded
    period = Period(MON - dt.timedelta(days=6), TUE + dt.timedelta(days=6), TZ)
    # 14 days in windows of 5000 rows of 60 s (3.47 days): 4 full windows and a short one
    assert len(windows(period.start_ms, period.end_ms, 60_000 * 5000)) == 5
    got = list(influx.occupancy(period.start_ms, period.end_ms, 60_000))
    assert got == list(store.occupancy(period.start_ms, period.end_ms, 60_000))


def test_door_hours_match_the_store(loaded) -> None:
    influx, store, _ = loaded
    period = Period(MON, TUE, TZ)
    got = influx.door_hours(period.start_ms, period.end_ms)
    assert got == store.door_hours(period.start_ms, period.end_ms)
    assert [(h.entries, h.exits, h.denied) for h in got] == [
        (1, 0, 0),
        (1, 0, 1),
        (0, 1, 0),
        (0, 1, 0),
        (1, 0, 0),
        (0, 1, 0),
    ]


@pytest.mark.parametrize(
    ("day", "desks", "door"),
    [
        (MON, (7, 7, 0), (5, 5, 0)),
        # desks: 8..14 expected (7), 10..13 received (4); gaps: 8-9 and 14
        (TUE, (7, 4, 2), (2, 2, 0)),
    ],
)
def test_completeness_per_day_matches_the_store(loaded, day, desks, door) -> None:
    influx, store, _ = loaded
    period = Period.one_day(day, TZ)
    got = {n.node: (n.expected, n.received, n.gaps) for n in influx.completeness(period.start_ms, period.end_ms)}
    assert got == {"desks": desks, "door": door}
    expected = {n.node: (n.expected, n.received, n.gaps) for n in store.completeness(period.start_ms, period.end_ms)}
    assert got == expected


def test_influxdb_holds_no_pseudonym_so_members_are_estimated(loaded) -> None:
    influx, _, _ = loaded
    period = Period(MON, TUE, TZ)
    assert influx.passages(period.start_ms, period.end_ms) is None
    report = make_report(influx, period, HOURS, Assumptions(min_count=1), lang="en")
    m = report.figures.members
    assert (m.counted, m.member_days, m.unique_members) == (False, 3, None)  # 3 granted entries
    assert "no member pseudonym" in report.html


def test_with_the_collectors_member_series_influxdb_counts_members_per_day(loaded) -> None:
    _, store, server = loaded
    influx = InfluxSource(InfluxSettings.from_bucket(server.url, "edge_members"), site=SITE, tz=TZ)
    assert influx.members(MON, TUE).days == store.members(MON, TUE).days
    assert [(d.day, d.members) for d in influx.members(MON, TUE).days] == [(MON, 2), (TUE, 1)]  # m-c was refused
    months = influx.members(MON, TUE).months
    assert [(m.month, m.members, m.frequency) for m in months] == [(dt.date(2026, 11, 1), 2, (1, 1, 0, 0))]
    [year] = influx.members(MON, TUE).years
    assert (year.year, year.members, year.first_day, year.final) == (2026, 2, dt.date(2026, 11, 1), False)
    report = make_report(influx, Period(MON, TUE, TZ), HOURS, Assumptions(min_count=1), lang="en")
    m = report.figures.members
    # member-days counted (a + b on Monday, b on Tuesday), not estimated; two days are not a whole month: the
    # distinct count over them needs the access records, which InfluxDB never holds
    assert (m.counted, m.member_days, m.unique_members, m.unique_how) == (True, 3, None, "unavailable")
    assert [d.unique_members for d in report.figures.days] == [2, 1]
    assert report.figures.visits.method == "measured"  # a and b each have an entry and an exit on Monday
    month = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30), TZ)
    november = make_report(influx, month, HOURS, Assumptions(min_count=1))
    assert (november.figures.members.unique_members, november.figures.members.unique_how) == (2, "month")
    year = make_report(influx, Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31), TZ), HOURS, Assumptions(min_count=1))
    y = year.figures.members
    assert (y.unique_members, y.unique_how, y.unique_error, y.unique_since) == (2, "year", 0, dt.date(2026, 11, 1))


def test_a_report_from_influxdb_has_the_stores_occupancy_figures(loaded) -> None:
    influx, store, _ = loaded
    period = Period(MON, TUE, TZ)
    from_influx = make_report(influx, period, HOURS, Assumptions()).figures
    from_store = make_report(store, period, HOURS, Assumptions()).figures
    assert (from_influx.zones, from_influx.site) == (from_store.zones, from_store.site)
    assert from_influx.heatmap == from_store.heatmap
    assert from_influx.completeness == from_store.completeness


def test_an_unknown_database_is_a_source_error_naming_it(loaded) -> None:
    _, _, server = loaded
    source = InfluxSource(InfluxSettings.from_bucket(server.url, "nope"), site=SITE)
    with pytest.raises(SourceError, match="database not found"):
        source.door_hours(0, 3_600_000)


def test_an_unreachable_server_is_a_source_error() -> None:
    source = InfluxSource(InfluxSettings(f"http://127.0.0.1:{free_port()}", "edge", timeout_s=2), site=SITE)
    with pytest.raises(SourceError, match="cannot read InfluxDB"):
        source.door_hours(0, 3_600_000)


@pytest.mark.parametrize(
    ("bucket", "database", "policy"), [("edge", "edge", None), ("edge/aggregates", "edge", "aggregates")]
)
def test_a_bucket_name_gives_database_and_retention_policy(bucket, database, policy) -> None:
    settings = InfluxSettings.from_bucket("http://influx:8086/", bucket, token="secret")
    assert (settings.url, settings.database, settings.retention_policy) == ("http://influx:8086", database, policy)
    assert "secret" not in InfluxSource(settings, site="s").describe()


def test_site_names_are_quoted_as_influxql_strings() -> None:
    assert quote("it's") == "'it\\'s'"


def test_the_retention_policy_is_sent_with_each_query(loaded, tmp_path: Path) -> None:
    _, _, server = loaded
    server.query('CREATE RETENTION POLICY "short" ON "edge" DURATION 1h REPLICATION 1')
    source = InfluxSource(InfluxSettings.from_bucket(server.url, "edge/short"), site=SITE)
    period = Period(MON, TUE, TZ)
    assert source.door_hours(period.start_ms, period.end_ms) == []  # that policy holds nothing
