"""The documented InfluxQL queries, run against a real InfluxDB 1.6.7 loaded with the collector's own output."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from edge.clock import ManualClock
from edge.collector.aggregates import MemberAggregator, YearKeys
from edge.collector.deriver import Deriver
from edge.collector.ingest import classify
from edge.collector.queries import QUERIES
from edge.collector.store import Store
from edge.contract import DeskOccupancy, DeskState, Event, NodeStatus, Reason
from tests.collector_support import SITE, TOPICS, access_event, create_policies, event, wire, write_by_policy
from tests.rig.fixtures import REPO
from tests.rig.servers import InfluxDB16

START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
END = START + timedelta(hours=2)
TIME_FILTER = (
    f"time >= '{START.isoformat().replace('+00:00', 'Z')}' AND time < '{END.isoformat().replace('+00:00', 'Z')}'"
)


def desk(seq: int, minutes: int, name: str, zone: str, state: DeskState, *, since: int | None = None) -> Event:
    """A desk change (ts = since), or with `since` a heartbeat re-confirming the state it took then."""
    ts = START + timedelta(minutes=minutes)
    changed = START + timedelta(minutes=minutes if since is None else since)
    return event(DeskOccupancy(desk=name, zone=zone, state=state, since=changed), seq, ts, node="desks")


def scenario() -> list[Event]:
    """Two hours of a small site: zone z1 (d1 busy the first hour, d2 free), zone z2 (d3's sensor unknown)."""
    events = [
        desk(1, 0, "d1", "z1", DeskState.OCCUPIED),
        desk(2, 0, "d2", "z1", DeskState.VACANT),
        desk(3, 0, "d3", "z2", DeskState.UNKNOWN),
        desk(4, 60, "d1", "z1", DeskState.VACANT),
        # heartbeats: points in desk_state, but no transition
        desk(7, 30, "d1", "z1", DeskState.OCCUPIED, since=0),
        desk(8, 90, "d1", "z1", DeskState.VACANT, since=60),
        desk(9, 90, "d2", "z1", DeskState.VACANT, since=0),
    ]
    minute = START + timedelta(minutes=1)
    decisions = [
        (5, "front-in", Reason.GRANTED),
        (10, "front-in", Reason.GRANTED),
        (20, "front-in", Reason.EXPIRED),
        (30, "front-in", Reason.UNKNOWN_BADGE),
        (40, "front-in", Reason.GRANTED),
        (65, "front-in", Reason.GRANTED),
        (70, "front-out", Reason.GRANTED),
        (80, "front-in", Reason.GRANTED),
    ]
    for seq, (minutes, reader, reason) in enumerate(decisions, start=1):
        events.append(access_event(seq, minute + timedelta(minutes=minutes), reader=reader, reason=reason))
    status = NodeStatus(state="online", version="1", uptime_s=5.0, outbox_depth=2, node_name="desks")
    events.append(event(status, 6, START + timedelta(minutes=90), node="desks"))  # announces seqs up to 6
    return events


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("influxql")
    store = Store(tmp / "c.sqlite3")
    store.commit([classify(TOPICS, *wire(e)) for e in scenario()], 0)
    clock = ManualClock(END - timedelta(seconds=57))  # the last grid instant is 09:59
    deriver = Deriver(
        store, site=SITE, clock=clock, tz=ZoneInfo("Europe/Paris"), step_s=60, directions={"front-out": "out"}
    )
    while deriver.run():
        pass
    aggregator = MemberAggregator(
        store,
        site=SITE,
        clock=clock,
        tz=ZoneInfo("Europe/Paris"),
        retention_days=90,
        directions={"front-out": "out"},
        keys=YearKeys(tmp / "keys"),
    )
    aggregator.run(force=True)
    with sqlite3.connect(store.path) as db:
        lines = [r[0] for r in db.execute("SELECT lines FROM events UNION ALL SELECT line FROM derived")]
    store.close()
    server = InfluxDB16(tmp / "influx")
    server.start()
    create_policies(server, "edge")
    write_by_policy(server, "edge", lines)
    yield server
    server.kill()


def run(server: InfluxDB16, name: str, interval: str = "1h", time_filter: str = TIME_FILTER) -> list[dict[str, Any]]:
    query = QUERIES[name].replace("$timeFilter", time_filter).replace("$__interval", interval).replace("$site", SITE)
    answer = server.query(query, db="edge")
    result = answer["results"][0]  # type: ignore[index]
    assert "error" not in result, result
    return result.get("series", [])  # type: ignore[no-any-return]


def rows(series: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(series["columns"], values, strict=True)) for values in series["values"]]


def hour(n: int) -> int:
    return int((START + timedelta(hours=n)).timestamp())


def test_occupancy_per_zone_is_a_time_weighted_mean(loaded: InfluxDB16) -> None:
    by_zone = {s["tags"]["zone"]: rows(s) for s in run(loaded, "occupancy_per_zone")}
    z1 = {r["time"]: r for r in by_zone["z1"]}
    assert (z1[hour(0)]["occupied"], z1[hour(0)]["vacant"], z1[hour(0)]["utilisation"]) == (1, 1, 0.5)
    assert (z1[hour(1)]["occupied"], z1[hour(1)]["utilisation"]) == (0, 0)
    assert [(r["unknown"], r["utilisation"]) for r in by_zone["z2"]] == [(1, None), (1, None)]


def test_site_peak_occupancy(loaded: InfluxDB16) -> None:
    [series] = run(loaded, "site_occupancy_peak")
    [day] = [r for r in rows(series) if r["peak"] is not None]
    assert (day["peak"], day["average"]) == (1, 0.5)


@pytest.mark.parametrize("name", ["entries_per_hour", "entries_per_hour_raw"])
def test_entries_per_hour(loaded: InfluxDB16, name: str) -> None:
    [series] = run(loaded, name)
    values = {r["time"]: list(r.values())[1] for r in rows(series)}
    # derived: entries only (the exit at 09:11 is not an entry); raw: every granted decision
    expected_second = 2 if name == "entries_per_hour" else 3
    assert (values[hour(0)], values[hour(1)]) == (3, expected_second)


@pytest.mark.parametrize("name", ["denied_by_reason", "denied_by_reason_raw"])
def test_denied_attempts_by_reason(loaded: InfluxDB16, name: str) -> None:
    totals = {s["tags"]["reason"]: rows(s)[0][s["columns"][1]] for s in run(loaded, name)}
    totals = {reason: n for reason, n in totals.items() if n}
    assert totals == {"expired": 1, "unknown_badge": 1}


def test_people_present_counts_exits_when_an_exit_reader_is_configured(loaded: InfluxDB16) -> None:
    [series] = run(loaded, "people_present", interval="30m")
    last = rows(series)[-1]
    assert (last["present"], last["estimate"]) == (4, 0)  # 5 entries - 1 exit


def test_data_completeness_shows_events_announced_but_not_received(loaded: InfluxDB16) -> None:
    by_node = {s["tags"]["node"]: rows(s)[0] for s in run(loaded, "data_completeness")}
    # seqs 1..9 numbered, 5 and 6 never received
    assert (by_node["desks"]["expected"], by_node["desks"]["received"], by_node["desks"]["missing"]) == (9, 7, 2)


def test_desk_transitions_count_changes_and_not_heartbeats(loaded: InfluxDB16) -> None:
    transitions = {s["tags"]["desk"]: rows(s)[0]["transitions"] for s in run(loaded, "desk_transitions")}
    assert transitions == {"d1": 2, "d2": 1, "d3": 1}
    answer = loaded.query('SELECT count("occupied") FROM "desk_state" GROUP BY "desk"', db="edge")
    points = {s["tags"]["desk"]: s["values"][0][1] for s in answer["results"][0]["series"]}  # type: ignore[index]
    assert points == {"d1": 4, "d2": 2, "d3": 1}  # every message is a point: the state is known in any interval


def test_node_health(loaded: InfluxDB16) -> None:
    by_node = {s["tags"]["node"]: rows(s)[0] for s in run(loaded, "node_health")}
    assert (by_node["desks"]["online"], by_node["desks"]["outbox_depth"]) == (1, 2)


YEAR_FILTER = "time >= '2026-01-01T00:00:00Z' - 1h AND time < '2027-01-01T00:00:00Z'"


def test_members_per_day_month_and_year(loaded: InfluxDB16) -> None:
    # every granted decision is member m-1's: one member on 26 November, whose entries and exit do not pair
    # (two entries in a row): no measured visit, one incomplete member-day
    [day] = run(loaded, "members_per_day", time_filter=YEAR_FILTER)
    paris_midnight = int(datetime(2026, 11, 26, tzinfo=ZoneInfo("Europe/Paris")).timestamp())
    days = {r["time"]: (r["members"], r["measured"], r["visit_s"]) for r in rows(day)}
    assert len(days) == 26  # every day of November up to the 26th: the quiet ones count zero members
    assert days[paris_midnight] == (1, 0, 0)
    assert sum(members for members, _, _ in days.values()) == 1
    [month] = run(loaded, "members_per_month", time_filter=YEAR_FILTER)
    assert [(r["members"], r["member_days"], r["came_1"], r["came_2_4"]) for r in rows(month)] == [(1, 1, 1, 0)]
    [year] = run(loaded, "members_per_year", time_filter=YEAR_FILTER)
    assert [(r["members"], r["error"], r["member_days"], r["final"]) for r in rows(year)] == [(1, 0, 1, 0)]


def test_every_query_is_documented_verbatim() -> None:
    doc = (REPO / "docs" / "data-model.md").read_text()
    for name, query in QUERIES.items():
        assert query in doc, f"{name} is not in docs/data-model.md as written in edge/collector/queries.py"


def test_queries_use_only_declared_measurements() -> None:
    from edge.collector.schema import AGGREGATE_POLICY, MEASUREMENTS, Bucket

    for query in QUERIES.values():
        [(policy, measurement)] = re.findall(r'FROM (?:"(\w+)"\.)?"(\w+)"', query)
        assert measurement in MEASUREMENTS
        # derived series are read from the long-term policy, raw ones from the default (90-day) one
        assert (policy == AGGREGATE_POLICY) == (MEASUREMENTS[measurement].bucket is Bucket.AGGREGATE)
