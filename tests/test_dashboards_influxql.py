"""Every panel's query against a real InfluxDB 1.6.7 holding a simulated week written by the collector's own code.

Queries are sent as Grafana sends them (macros and template variables substituted, tests/grafana_support.py).
Each panel has its own expectation, mostly compared with figures computed here from the simulated events
themselves (an independent oracle), so a wrong field, filter, grouping or derived series shows up as a number.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from edge.contract import DeskOccupancy, DeskState, DoorAccess, DoorAlarm, Event
from edge.dashboards import DASHBOARDS
from tests import dashboards_render, grafana_support
from tests import dashboards_week as week
from tests.grafana_support import Series, interpolate, tag_values
from tests.rig.fixtures import REPO
from tests.rig.servers import InfluxDB16

FILES = REPO / "deploy" / "roles" / "edge_grafana" / "files" / "dashboards"
START = week.WEEK_START.astimezone(UTC)
END = week.WEEK_END.astimezone(UTC) - timedelta(seconds=1)  # Sunday 23:59:59: whole hours and days
ALL_ZONES = sorted(week.ZONES)
ALL_NODES = sorted(week.NODES)


@pytest.fixture(scope="module")
def influx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxDB16]:
    """A real InfluxDB 1.6.7 with both sites' week in it (loaded once for the module)."""
    tmp = tmp_path_factory.mktemp("dashboards")
    server = InfluxDB16(tmp / "influx")
    server.start()
    try:
        week.load(server, tmp / "collector")
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return week.simulate().events()


def dashboard(name: str) -> dict[str, Any]:
    return json.loads((FILES / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


BOARDS = {name: dashboard(name) for name in DASHBOARDS}
PANELS = [(name, panel) for name, board in BOARDS.items() for panel in board["panels"]]
IDS = [f"{name}:{panel['title']}" for name, panel in PANELS]


def default_values(site: str = week.SITE) -> dict[str, str | list[str]]:
    """What a user sees first: the site chosen, every zone, door and node ("All")."""
    return {"site": site, "zone": ALL_ZONES, "door": list(week.DOORS), "node": ALL_NODES}


def query_panel(
    server: InfluxDB16,
    name: str,
    panel: dict[str, Any],
    *,
    values: dict[str, str | list[str]] | None = None,
    start: datetime = START,
    end: datetime = END,
    interval: str = "1h",
) -> list[Series]:
    """Every target of a panel of dashboard `name`, as Grafana sends it."""
    return grafana_support.query_panel(
        server,
        BOARDS[name],
        panel,
        values=values or default_values(),
        start=start,
        end=end,
        interval=interval,
        db=week.DATABASE,
    )


# -- oracle: figures computed straight from the simulated events ------------------------------------------------


def accesses(events: list[Event]) -> list[DoorAccess]:
    return [e.body for e in events if isinstance(e.body, DoorAccess)]


def in_hours(t: datetime) -> bool:
    local = t.astimezone(week.PARIS)
    hour = local.hour + local.minute / 60
    return (local.weekday() < 5 and 8 <= hour < 19) or (local.weekday() == 5 and 9 <= hour < 13)


def desk_minutes(events: list[Event]) -> dict[str, tuple[int, int, int, int]]:
    """Per desk, on the collector's 60 s grid: (occupied, known, occupied in hours, known in hours) minutes."""
    transitions: dict[str, list[tuple[datetime, DeskState]]] = {}
    for e in events:
        if isinstance(e.body, DeskOccupancy):
            transitions.setdefault(e.body.desk, []).append((e.envelope.ts, e.body.state))
    out = {}
    for desk, changes in transitions.items():
        changes.sort(key=lambda c: c[0])
        figures = [0, 0, 0, 0]
        state, i, t = DeskState.UNKNOWN, 0, START
        while t < week.WEEK_END:
            while i < len(changes) and changes[i][0] <= t:
                state = changes[i][1]
                i += 1
            if state is not DeskState.UNKNOWN:
                occupied = int(state is DeskState.OCCUPIED)
                figures[0] += occupied
                figures[1] += 1
                if in_hours(t):
                    figures[2] += occupied
                    figures[3] += 1
            t += timedelta(minutes=1)
        out[desk] = (figures[0], figures[1], figures[2], figures[3])
    return out


# -- expectations, one per panel --------------------------------------------------------------------------------

Check = Callable[[InfluxDB16, str, dict[str, Any], list[Event]], None]
CHECKS: dict[str, Check] = {}


def expect(title: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        CHECKS[title] = check
        return check

    return register


def one(series: list[Series]) -> Series:
    assert len(series) == 1, [s.tags for s in series]
    return series[0]


def by_tag(series: list[Series], *keys: str) -> dict[tuple[str, ...], Series]:
    return {tuple(s.tags[k] for k in keys): s for s in series}


def busy_morning() -> tuple[datetime, datetime]:
    """Wednesday 08:00 to 11:00, local: people in, desks taken."""
    return week.at(2, 8), week.at(2, 11)


@expect("Desks occupied now")
def _desks_now(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    [row] = one(query_panel(server, name, panel)).rows
    assert (row["occupied"], row["total"]) == (0, week.DESKS)  # Sunday night
    start, end = busy_morning()
    [row] = one(query_panel(server, name, panel, start=start, end=end)).rows
    assert 5 <= row["occupied"] <= week.DESKS and row["total"] == week.DESKS


@expect("Site utilisation now")
def _utilisation_now(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    start, end = busy_morning()
    [row] = one(query_panel(server, name, panel, start=start, end=end)).rows
    assert 0.15 < row["utilisation"] <= 1


@expect("People present now")
def _present_now(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    [row] = one(query_panel(server, name, panel)).rows
    assert (row["present"], row["estimate"]) == (0, 0)  # the count restarts at midnight; exits are read
    start, end = busy_morning()
    [row] = one(query_panel(server, name, panel, start=start, end=end)).rows
    assert row["present"] >= 5


@expect("Entries in the period")
def _entries_total(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    [row] = one(query_panel(server, name, panel)).rows
    assert row["entries"] == sum(1 for a in accesses(events) if a.granted and a.reader != "front-out")


@expect("Site occupancy over time")
def _site_over_time(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    series = one(query_panel(server, name, panel))
    assert series.columns == ["time", "occupied", "vacant", "unknown"]
    assert len(series.rows) == 7 * 24
    for row in series.rows:
        assert row["occupied"] + row["vacant"] + row["unknown"] == pytest.approx(week.DESKS)
    assert 15 <= max(series.column("occupied")) <= week.DESKS
    assert max(series.column("unknown")) > 0  # the studio sensor on Wednesday


@expect("Occupied desks per zone")
def _zones_over_time(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    zones = by_tag(query_panel(server, name, panel), "zone")
    assert sorted(z for (z,) in zones) == ALL_ZONES  # not the annexe's loft
    for (zone,), series in zones.items():
        assert 0 < max(series.column("occupied")) <= week.ZONES[zone]
    quiet = query_panel(server, name, panel, values={**default_values(), "zone": ["quiet"]})
    assert [s.tags["zone"] for s in quiet] == ["quiet"]


@expect("Zones now")
def _zones_now(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    start, end = busy_morning()
    zones = by_tag(query_panel(server, name, panel, start=start, end=end), "zone")
    assert sorted(z for (z,) in zones) == ALL_ZONES
    assert all(0 <= s.rows[0]["utilisation"] <= 1 for s in zones.values())
    assert zones[("open-space",)].rows[0]["utilisation"] > 0


@expect("Entries and exits per hour")
def _entries_per_hour(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    series = one(query_panel(server, name, panel))
    assert len(series.rows) == 7 * 24  # fill(0): every hour, quiet ones as 0
    granted = [a for a in accesses(events) if a.granted]
    assert sum(series.column("entries")) == sum(1 for a in granted if a.reader != "front-out")
    assert sum(series.column("exits")) == sum(1 for a in granted if a.reader == "front-out")


@expect("People present over time")
def _present_over_time(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    series = one(query_panel(server, name, panel))
    present = series.present("present")
    entries_per_day = max(Counter(e.envelope.ts.date() for e in events if isinstance(e.body, DoorAccess)).values())
    assert min(present) == 0 and 10 <= max(present) <= entries_per_day


@expect("Members per day")
def _members_per_day(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    rows = one(query_panel(server, name, panel)).rows
    expected: dict[int, set[str]] = {}
    for e in events:
        if isinstance(e.body, DoorAccess) and e.body.granted:
            day = e.envelope.ts.astimezone(week.PARIS).date()
            midnight = int(datetime(day.year, day.month, day.day, tzinfo=week.PARIS).timestamp())
            expected.setdefault(midnight, set()).add(e.body.member or e.body.token)
    got = {row["time"]: row["members"] for row in rows}
    assert {t: n for t, n in got.items() if n} == {t: len(m) for t, m in expected.items()}
    assert all(n == 0 for t, n in got.items() if t not in expected)  # quiet days count zero, they are not missing


@expect("Site: peak and average desks occupied per day (opening hours)")
def _site_peak(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    rows = one(query_panel(server, name, panel)).rows
    assert len(rows) == 6  # Monday to Saturday; closed on Sunday
    for row in rows:
        assert 0 < row["average"] < row["peak"] <= row["desks"] == week.DESKS
    saturday = rows[-1]
    assert saturday["peak"] < min(r["peak"] for r in rows[:-1])


@expect("Zone utilisation per day (opening hours)")
def _zone_per_day(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    zones = by_tag(query_panel(server, name, panel), "zone")
    assert sorted(z for (z,) in zones) == ALL_ZONES
    for series in zones.values():
        assert len(series.rows) == 6 and all(0 <= u <= 1 for u in series.column("utilisation"))
    mean = {z: sum(s.column("utilisation")) / 6 for (z,), s in zones.items()}
    assert mean["open-space"] > mean["studio"]  # 80% of its desks used on a working day, against 40%


@expect("Zones: peak versus average (opening hours)")
def _zone_peak(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    zones = by_tag(query_panel(server, name, panel), "zone")
    assert sorted(z for (z,) in zones) == ALL_ZONES
    for (zone,), series in zones.items():
        [row] = series.rows
        assert series.columns == ["time", "desks", "peak", "average", "utilisation"]
        assert row["desks"] == week.ZONES[zone]
        assert 0 < row["average"] < row["peak"] <= row["desks"]
        assert 0 < row["utilisation"] < 1


def desk_rows(server: InfluxDB16, name: str, panel: dict[str, Any]) -> dict[str, dict[str, Any]]:
    series = query_panel(server, name, panel)
    assert sorted({s.tags["zone"] for s in series}) == ALL_ZONES
    rows = {s.tags["desk"]: one([s]).rows[0] for s in series}
    assert len(rows) == week.DESKS
    return rows


@expect("Desk utilisation (opening hours)")
def _desk_utilisation(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    oracle = desk_minutes(events)
    for desk, row in desk_rows(server, name, panel).items():
        _, _, occupied_in_hours, known_in_hours = oracle[desk]
        assert row["utilisation"] == pytest.approx(occupied_in_hours / known_in_hours), desk


@expect("Desks: hours occupied")
def _desk_hours(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    oracle = desk_minutes(events)
    for desk, row in desk_rows(server, name, panel).items():
        occupied, known, occupied_in_hours, known_in_hours = oracle[desk]
        assert row["hours_occupied"] == pytest.approx(occupied / 60), desk
        assert row["utilisation"] == pytest.approx(occupied_in_hours / known_in_hours), desk
        assert row["utilisation_all_hours"] == pytest.approx(occupied / known), desk
        assert row["utilisation_all_hours"] <= row["utilisation"] or occupied_in_hours == 0


@expect("Site utilisation per hour")
def _site_hourly(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    values = one(query_panel(server, name, panel)).present("utilisation")
    assert len(values) == 7 * 24 and all(0 <= u <= 1 for u in values)
    assert max(values) > 0.3 and min(values) == 0


@expect("Decisions per hour")
def _decisions(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    series = one(query_panel(server, name, panel))
    made = accesses(events)
    assert sum(series.column("denied")) == sum(1 for a in made if not a.granted)
    assert sum(series.column("entries")) == sum(1 for a in made if a.granted and a.reader != "front-out")
    back = one(query_panel(server, name, panel, values={**default_values(), "door": ["back"]}))
    assert sum(back.column("entries")) == sum(1 for a in made if a.granted and a.door == "back")
    assert sum(back.column("exits")) == 0  # no exit reader at the back


def denials(events: list[Event]) -> Counter[str]:
    return Counter(str(a.reason) for a in accesses(events) if not a.granted)


@expect("Denied attempts by reason")
def _denied_by_reason(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    totals = {s.tags["reason"]: one([s]).rows[0]["attempts"] for s in query_panel(server, name, panel)}
    assert totals == dict(denials(events))
    assert set(totals) == set(week.DENIAL_REASONS)


@expect("Denied attempts per hour by reason")
def _denied_over_time(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    totals = {s.tags["reason"]: sum(s.present("attempts")) for s in query_panel(server, name, panel)}
    assert totals == dict(denials(events))


def alarms_raised(events: list[Event]) -> Counter[tuple[str, str]]:
    return Counter((e.body.door, str(e.body.alarm)) for e in events if isinstance(e.body, DoorAlarm) and e.body.active)


@expect("Alarms raised")
def _alarms_raised(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    raised = {
        key: one([s]).rows[0]["raised"] for key, s in by_tag(query_panel(server, name, panel), "door", "alarm").items()
    }
    assert raised == dict(alarms_raised(events))


@expect("Door alarms")
def _alarm_timeline(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    series = by_tag(query_panel(server, name, panel, interval="1m"), "door", "alarm")
    assert set(series) == set(alarms_raised(events))
    for s in series.values():
        assert set(s.present("active")) == {0, 1}  # raised, then cleared (fill(previous) holds each state)
    forced = series[("back", "forced_open")]
    active = [row["time"] for row in forced.rows if row["active"] == 1]
    assert len(active) == 1 and datetime.fromtimestamp(active[0], UTC) == week.at(3, 22.2).replace(second=0)


@expect("Door state")
def _door_state(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    doors = by_tag(query_panel(server, name, panel, interval="10m"), "door")
    assert sorted(d for (d,) in doors) == sorted(week.DOORS)
    front, back = doors[("front",)], doors[("back",)]
    assert back.present("open") == []  # no contact sensor at the back door
    assert set(front.present("open")) == {0, 1}
    assert set(front.present("locked")) == {0, 1}
    assert 1 in front.present("lockdown") and set(back.present("lockdown")) == {0}
    assert set(front.present("unlocked_mode")) == {0}


@expect("Decision latency")
def _latency(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    rows = one(query_panel(server, name, panel, interval="1d")).rows
    worst = max(a.latency_ms for a in accesses(events))
    assert max(r["max"] for r in rows) == pytest.approx(worst)
    assert all(0 < r["p95"] <= r["max"] for r in rows)


@expect("Doors now")
def _doors_now(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    doors = {d: one([s]).rows[0] for (d,), s in by_tag(query_panel(server, name, panel), "door").items()}
    assert sorted(doors) == sorted(week.DOORS)
    assert all((row["locked"], row["lockdown"], row["members_version"]) == (1, 0, 42) for row in doors.values())


@expect("Online")
def _online(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    nodes = by_tag(query_panel(server, name, panel, interval="10m"), "node")
    assert sorted(n for (n,) in nodes) == ALL_NODES
    offline = [datetime.fromtimestamp(r["time"], UTC) for r in nodes[("door-back",)].rows if r["online"] == 0]
    assert (min(offline), max(offline)) == (week.BACK_OFFLINE[0], week.BACK_OFFLINE[1] - timedelta(minutes=10))
    assert all(set(s.present("online")) == {1} for (n,), s in nodes.items() if n != "door-back")


@expect("Nodes now")
def _nodes_now(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    nodes = {n: one([s]).rows[0] for (n,), s in by_tag(query_panel(server, name, panel), "node").items()}
    assert sorted(nodes) == ALL_NODES
    assert all((r["online"], r["clock_synced"], r["outbox_depth"]) == (1, 1, 0) for r in nodes.values())
    assert {n: r["outbox_dropped"] for n, r in nodes.items() if r["outbox_dropped"]} == {"desks-west": 3}
    assert nodes["door-back"]["uptime_s"] < nodes["door-front"]["uptime_s"]  # it rebooted on Wednesday


@expect("Member snapshot per door")
def _snapshot_per_door(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    rows = {key: one([s]).rows[0] for key, s in by_tag(query_panel(server, name, panel), "door", "node").items()}
    assert rows.keys() == {("front", "door-front"), ("back", "door-back")}
    assert {r["members_version"] for r in rows.values()} == {42}
    before = query_panel(server, name, panel, end=week.at(2, 12))  # Wednesday noon: back is still behind
    assert {s.tags["door"]: s.rows[0]["members_version"] for s in before} == {"front": 42, "back": 41}


@expect("Outbox depth")
def _outbox(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    nodes = by_tag(query_panel(server, name, panel), "node")
    assert {n: max(s.present("outbox_depth")) for (n,), s in nodes.items()} == {
        n: (25 if n == "door-back" else 0) for n in ALL_NODES
    }


@expect("Events dropped")
def _dropped(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    nodes = by_tag(query_panel(server, name, panel), "node")
    assert {n: max(s.present("outbox_dropped")) for (n,), s in nodes.items()} == {
        n: (3 if n == "desks-west" else 0) for n in ALL_NODES
    }


@expect("Clock synchronised")
def _clock(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    nodes = by_tag(query_panel(server, name, panel, interval="10m"), "node")
    unsynced = {n for (n,), s in nodes.items() if 0 in s.present("clock_synced")}
    assert unsynced == {"door-back"}


@expect("Member snapshot version per door")
def _snapshot_over_time(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    doors = by_tag(query_panel(server, name, panel, start=week.at(2, 9), end=week.at(2, 15), interval="10m"), "door")

    def first_42(door: str) -> datetime:
        return datetime.fromtimestamp(next(r["time"] for r in doors[(door,)].rows if r["members_version"] == 42), UTC)

    assert first_42("front") == week.SNAPSHOT_PUSH
    assert first_42("back") - first_42("front") == timedelta(hours=4)  # the revocation lag of the offline door


@expect("Events missing per node")
def _missing(server: InfluxDB16, name: str, panel: dict[str, Any], events: list[Event]) -> None:
    nodes = by_tag(query_panel(server, name, panel), "node")
    assert {n: s.present("missing")[-1] for (n,), s in nodes.items() if s.present("missing")[-1]} == {"desks-west": 3}


# -- the tests -------------------------------------------------------------------------------------------------


def test_every_panel_has_an_expectation() -> None:
    assert sorted({panel["title"] for _, panel in PANELS}) == sorted(CHECKS)


@pytest.mark.parametrize(("name", "panel"), PANELS, ids=IDS)
def test_panel_returns_the_expected_data(
    influx: InfluxDB16, events: list[Event], name: str, panel: dict[str, Any]
) -> None:
    series = query_panel(influx, name, panel)
    assert series, "no data"
    assert all(s.rows for s in series)
    CHECKS[panel["title"]](influx, name, panel, events)


@pytest.mark.parametrize(("name", "panel"), PANELS, ids=IDS)
def test_panel_shows_only_the_selected_site(influx: InfluxDB16, name: str, panel: dict[str, Any]) -> None:
    values = {**default_values(week.OTHER_SITE), "zone": ["loft"], "node": ["annexe-desks"]}
    annexe = query_panel(influx, name, panel, values=values)
    measurements = {re.findall(r'FROM (?:"\w+"\.)?"(\w+)"', t["query"])[0] for t in panel["targets"]}
    if not measurements & ANNEXE_MEASUREMENTS:
        assert annexe == []  # the annexe has no doors
        return
    assert annexe, "the annexe has data for this panel"
    for series in annexe:
        assert series.tags.get("zone", "loft") == "loft"
        assert series.tags.get("node", "annexe-desks") == "annexe-desks"
        assert series.tags.get("desk", "lo-").startswith("lo-")
        for column in ("total", "desks", "occupied", "peak"):
            assert all(v <= 4 for v in series.present(column)) if column in series.columns else True


ANNEXE_MEASUREMENTS = {
    "site_occupancy",
    "zone_occupancy",
    "desk_hourly",
    "people_present",
    "data_completeness",
    "node_health",
}


@pytest.mark.parametrize(
    ("board", "variable", "values"),
    [
        ("edge-site.json", "site", {week.SITE, week.OTHER_SITE}),
        ("edge-site.json", "zone", set(week.ZONES)),
        ("edge-utilisation.json", "zone", set(week.ZONES)),
        ("edge-doors.json", "door", set(week.DOORS)),
        ("edge-nodes.json", "node", set(week.NODES)),
    ],
)
def test_template_variables_list_the_sites_tag_values(
    influx: InfluxDB16, board: str, variable: str, values: set[str]
) -> None:
    [declared] = [v for v in BOARDS[board]["templating"]["list"] if v["name"] == variable]
    query = interpolate(declared["query"], variables=BOARDS[board]["templating"]["list"], values=default_values(),
                        start=START, end=END, interval="1h")  # fmt: skip
    assert tag_values(influx, query, week.DATABASE) == values


def test_the_zone_variable_follows_the_selected_site(influx: InfluxDB16) -> None:
    variables = BOARDS["edge-site.json"]["templating"]["list"]
    [zone] = [v for v in variables if v["name"] == "zone"]
    values = default_values(week.OTHER_SITE)
    query = interpolate(zone["query"], variables=variables, values=values, start=START, end=END, interval="1h")
    assert tag_values(influx, query, week.DATABASE) == {"loft"}


def test_the_week_loads_through_the_collectors_own_code(tmp_path: Path) -> None:
    lines = week.collector_lines(week.simulate_annexe(), tmp_path, week.at(1, 0))
    measurements = Counter(line.split(",")[0] for line in lines)
    assert measurements["desk_state"] == 12 and measurements["node_health"] == 1
    assert measurements["desk_hourly"] == 4 * 24 and measurements["site_occupancy"] == 24 * 60 + 1


@pytest.mark.parametrize("name", DASHBOARDS)
def test_the_pictures_in_the_docs_are_rendered_from_these_panels_and_this_data(influx: InfluxDB16, name: str) -> None:
    assert dashboards_render.picture(name).read_text(encoding="utf-8") == dashboards_render.render(influx, name), (
        "docs/img is out of date: run `python -m tests.dashboards_render` and commit the result"
    )
