"""`edge collector` end to end, as a real process between a real Mosquitto and a real VictoriaMetrics.

Every event is a desk transition at its own millisecond, so "present exactly once" is checked by comparing
the timestamps VictoriaMetrics holds for `desk_state_occupied` with the ones that were published. The rig's
VictoriaMetrics runs without deduplication and keeps every sample it is sent, so these lists count writes: where
a re-send is legitimate (a kill between InfluxDB's 2xx and the cursor update), the tests name the one batch that
may appear twice and check that nothing else does.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.bus import Bus
from edge.clock import ManualClock
from edge.collector.service import Collector
from edge.config import parse_config
from edge.config.collector import CollectorConfig
from edge.contract import DeskOccupancy, DeskState, Topics
from tests.collector_support import (
    BASE,
    SITE,
    TOPICS,
    CollectorProcess,
    Publisher,
    collector_yaml,
    desk_event,
    desk_timestamps,
    event,
    samples,
    store_ids,
    store_value,
    wire,
)
from tests.rig.mqtt import Received, Recorder
from tests.rig.servers import Mosquitto, VictoriaMetrics
from tests.rig.waiting import wait_until

pytestmark = pytest.mark.usefixtures("no_leftover_collectors")  # a collector a failed test left running


def start_collector(
    tmp_path: Path, mosquitto: Mosquitto, victoria: VictoriaMetrics | None, extra: str = ""
) -> CollectorProcess:
    config = tmp_path / "collector.yaml"
    config.write_text(collector_yaml(mosquitto.port, tmp_path / "state", victoria=victoria, extra=extra))
    return CollectorProcess(config, mosquitto.port).start()


def timestamps(victoria: VictoriaMetrics) -> list[int]:
    return sorted(t for _, t in samples(victoria, "desk_state_occupied"))


BATCH_SIZE = CollectorConfig().batch_size  # rows per write; the test configs keep the default


def unforwarded_ids(store: Path, limit: int) -> list[str]:
    """Ids of the first `limit` raw rows after the forwarder's cursor (events and node statuses alike)."""
    with sqlite3.connect(store) as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'cursor_raw'").fetchone()
        cursor = int(row[0]) if row else 0
        return [r[0] for r in db.execute("SELECT id FROM events WHERE rid > ? ORDER BY rid LIMIT ?", (cursor, limit))]


def status_counters(port: int, node: str = "col") -> dict[str, int]:
    recorder = Recorder(port, TOPICS.node_status(node))
    recorder.wait_for(lambda ms: bool(ms), timeout=5)
    recorder.close()
    counters: dict[str, int] = json.loads(recorder.messages[-1].payload)["counters"]
    return counters


@pytest.mark.slow  # thousands of events through an outage
def test_every_event_reaches_influx_exactly_once_across_an_outage_under_load(
    mosquitto: Mosquitto, victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    collector = start_collector(tmp_path, mosquitto, victoria)
    publisher = Publisher(mosquitto.port)
    messages = [wire(desk_event(i)) for i in range(3000)]
    publisher.send(messages[:1000])
    victoria.stop()
    publisher.send(messages[1000:2500])
    wait_until(lambda: status_counters(mosquitto.port).get("forward_retries", 0) >= 2, 15)
    victoria.start()
    publisher.send(messages[2500:])
    wait_until(lambda: len(set(timestamps(victoria))) >= 3000, 30, info=lambda: collector.output()[-2000:])
    time.sleep(1)  # anything sent twice would show up now
    assert timestamps(victoria) == desk_timestamps(3000)
    publisher.close()
    assert collector.stop() == 0


@pytest.mark.slow  # 4,000 events through a kill -9
def test_a_killed_collector_loses_nothing_and_stores_nothing_twice(
    mosquitto: Mosquitto, victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    collector = start_collector(tmp_path, mosquitto, victoria)
    store = tmp_path / "state" / "collector.sqlite3"
    publisher = Publisher(mosquitto.port)
    events = [desk_event(i) for i in range(4000)]
    sender = threading.Thread(target=publisher.send, args=([wire(e) for e in events],), kwargs={"pause": 0.0002})
    sender.start()
    wait_until(lambda: len(store_ids(store)) >= 1000, 20)
    collector.kill9()
    killed_at = len(store_ids(store))
    # The one batch the forwarder may have had in flight: the rows right after its cursor. A kill between
    # InfluxDB's 2xx and the cursor update sends these again after the restart; nothing else may be re-sent.
    in_flight = unforwarded_ids(store, limit=BATCH_SIZE)
    sender.join(30)
    collector.start()
    wait_until(lambda: len(store_ids(store)) >= 4000, 30, info=lambda: collector.output()[-2000:])
    ids = store_ids(store)
    assert killed_at < 4000
    assert sorted(ids) == sorted(e.envelope.id for e in events)  # every event stored exactly once
    # This VictoriaMetrics keeps duplicate samples, so the read-back counts every write: every event arrived,
    # and only the in-flight batch may have been written twice (InfluxDB would hold each of those points once).
    wait_until(lambda: set(timestamps(victoria)) == set(desk_timestamps(4000)), 20)
    time.sleep(1)  # anything sent twice would show up now
    ts_of = {e.envelope.id: desk_timestamps(1, offset=i)[0] for i, e in enumerate(events)}
    written_twice = {t for t, n in Counter(timestamps(victoria)).items() if n > 1}
    assert written_twice <= {ts_of[i] for i in in_flight if i in ts_of}, sorted(written_twice)[:10]
    publisher.close()
    assert collector.stop() == 0


def test_a_broker_restart_loses_nothing_and_duplicates_nothing(
    mosquitto: Mosquitto, victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    collector = start_collector(tmp_path, mosquitto, victoria)
    node = parse_config(
        f"site: {SITE}\nnode: desks\nstate_dir: {tmp_path}/producer\noutbox:\n  synchronous: normal\n"
        f"mqtt:\n  host: 127.0.0.1\n  port: {mosquitto.port}\n  reconnect_min_s: 0.2\n  reconnect_max_s: 1\n"
    )
    bus = Bus(node, "presence")
    bus.start()
    assert bus.wait_connected(10)

    def publish(first: int, count: int) -> None:
        for i in range(first, first + count):
            ts = BASE + timedelta(milliseconds=i)
            bus.publish_event(DeskOccupancy(desk=f"d{i % 20}", zone="z1", state=DeskState.OCCUPIED, since=ts), ts)

    publish(0, 1000)
    mosquitto.restart()
    publish(1000, 1000)
    assert bus.wait_drained(30)
    bus.stop()
    wait_until(lambda: len(set(timestamps(victoria))) >= 2000, 30, info=lambda: collector.output()[-2000:])
    time.sleep(1)
    assert timestamps(victoria) == desk_timestamps(2000)
    assert (
        store_value(
            tmp_path / "state" / "collector.sqlite3", "SELECT COUNT(*) FROM events WHERE kind = 'desk_occupancy'"
        )
        == 2000
    )
    assert collector.stop() == 0


def test_malformed_payloads_are_quarantined_and_counted_and_the_rest_flows(
    mosquitto: Mosquitto, victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    collector = start_collector(tmp_path, mosquitto, victoria)
    publisher = Publisher(mosquitto.port)
    good = [wire(desk_event(i)) for i in range(100)]
    bad = [
        ("edge/testsite/desk/d1/occupancy", b"\xff\xfe"),
        ("edge/testsite/desk/d1/occupancy", b"{oops"),
        ("edge/testsite/desk/d1/occupancy", b'{"v":1,"id":"x"}'),
        ("edge/testsite/desk/d9/occupancy", wire(desk_event(1))[1]),
        ("edge/testsite/lift/l1/state", b"{}"),
    ]
    publisher.send(good[:50] + bad + good[50:])
    wait_until(lambda: len(set(timestamps(victoria))) >= 100, 20, info=lambda: collector.output()[-2000:])
    assert timestamps(victoria) == desk_timestamps(100)
    store = tmp_path / "state" / "collector.sqlite3"
    assert store_value(store, "SELECT COUNT(*) FROM quarantine") == 5
    wait_until(lambda: status_counters(mosquitto.port).get("quarantined") == 5, 10)
    counters = status_counters(mosquitto.port)
    for reason in ("not_utf8", "not_json", "invalid", "topic_mismatch", "unknown_topic"):
        assert counters[f"quarantined_{reason}"] == 1
    publisher.close()
    assert collector.stop() == 0


def test_without_influx_the_local_store_is_the_whole_pipeline(mosquitto: Mosquitto, tmp_path: Path) -> None:
    collector = start_collector(tmp_path, mosquitto, None)
    publisher = Publisher(mosquitto.port)
    publisher.send([wire(desk_event(i)) for i in range(200)])
    store = tmp_path / "state" / "collector.sqlite3"
    wait_until(lambda: len(store_ids(store)) == 200, 20)
    wait_until(lambda: store_value(store, "SELECT COUNT(*) FROM derived") != 0, 10)
    publisher.close()
    assert collector.stop() == 0


@pytest.mark.slow  # two collectors, 4,000 events, a kill -9
def test_shared_subscription_members_split_the_load_and_a_killed_member_loses_nothing(
    mosquitto: Mosquitto, victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    # `derive: false`: a deriving member also subscribes unshared to desk and door events, so every deriving
    # member would store and forward all of them (docs/collector.md); this test is about the shared part alone.
    members = {}
    for name in ("col-a", "col-b"):
        config = tmp_path / f"{name}.yaml"
        extra = "  shared_group: collectors\n  derive: false\n"
        config.write_text(collector_yaml(mosquitto.port, tmp_path / name, node=name, victoria=victoria, extra=extra))
        members[name] = CollectorProcess(config, mosquitto.port, node=name).start()
    stores = {name: tmp_path / name / "collector.sqlite3" for name in members}
    publisher = Publisher(mosquitto.port)
    events = [desk_event(i) for i in range(4000)]
    sender = threading.Thread(target=publisher.send, args=([wire(e) for e in events],), kwargs={"pause": 0.0002})
    sender.start()
    wait_until(lambda: len(store_ids(stores["col-a"])) >= 500, 20)
    members["col-a"].kill9()
    in_flight = unforwarded_ids(stores["col-a"], limit=BATCH_SIZE)  # what col-a may write again after its restart
    time.sleep(1)  # the broker keeps queueing col-a's share in its persistent session
    members["col-a"].start()  # as systemd would restart it
    sender.join(30)

    def union() -> list[str]:
        return store_ids(stores["col-a"]) + store_ids(stores["col-b"])

    wait_until(lambda: len(set(union())) >= 4000, 30)
    a, b = store_ids(stores["col-a"]), store_ids(stores["col-b"])
    assert a and b
    assert not set(a) & set(b)  # each event was stored by one member only
    assert sorted(a + b) == sorted(e.envelope.id for e in events)
    # Both members forward to the same VictoriaMetrics, which keeps duplicate samples: every event is there, and
    # only col-a's in-flight batch at the kill may have been written twice.
    wait_until(lambda: set(timestamps(victoria)) == set(desk_timestamps(4000)), 20)
    time.sleep(1)  # anything sent twice would show up now
    ts_of = {e.envelope.id: desk_timestamps(1, offset=i)[0] for i, e in enumerate(events)}
    written_twice = {t for t, n in Counter(timestamps(victoria)).items() if n > 1}
    assert written_twice <= {ts_of[i] for i in in_flight if i in ts_of}, sorted(written_twice)[:10]
    publisher.close()
    assert all(member.stop() == 0 for member in members.values())


@pytest.mark.slow  # two brokers bridged through an outage
def test_events_bridged_from_a_site_broker_arrive_after_the_central_broker_was_down(
    victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    central = Mosquitto(tmp_path / "central")
    central.start()
    bridge = "\n".join(
        [
            "connection central",
            f"address 127.0.0.1:{central.port}",
            "topic edge/# out 1",
            "cleansession false",
            "restart_timeout 1",
            "notifications false",
        ]
    )
    site = Mosquitto(tmp_path / "site", extra=bridge)
    site.start()
    try:
        collector = start_collector(tmp_path, central, victoria)
        store = tmp_path / "state" / "collector.sqlite3"
        publisher = Publisher(site.port)
        publisher.send([wire(desk_event(i)) for i in range(500)])
        wait_until(lambda: len(store_ids(store)) == 500, 20)
        central.stop()
        publisher.send([wire(desk_event(i)) for i in range(500, 1000)])  # queued by the site broker
        time.sleep(2)
        central.start()
        wait_until(lambda: len(store_ids(store)) >= 1000, 30, info=lambda: collector.output()[-2000:])
        assert sorted(store_ids(store)) == sorted(desk_event(i).envelope.id for i in range(1000))
        wait_until(lambda: timestamps(victoria) == desk_timestamps(1000), 20)
        publisher.close()
        assert collector.stop() == 0
    finally:
        site.kill()
        central.kill()


def test_after_its_connection_drops_the_collector_says_online_again_at_once(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    # A long status interval: only the reconnection itself can bring `online` back within seconds.
    config = tmp_path / "collector.yaml"
    text = collector_yaml(mosquitto.port, tmp_path / "state").replace(
        "status_interval_s: 0.5", "status_interval_s: 300"
    )
    config.write_text(text)
    collector = CollectorProcess(config, mosquitto.port).start()
    watcher = Recorder(mosquitto.port, Topics(SITE).node_status("col"))

    def states(messages: list[Received]) -> list[str]:
        return [json.loads(m.payload)["state"] for m in messages]

    try:
        # A client taking over the collector's client id drops its connection: the broker publishes its will.
        impostor = Recorder(mosquitto.port, "nothing/here", client_id=f"edge-{SITE}-col-collector")
        impostor.close()
        assert watcher.wait_for(lambda ms: "offline" in states(ms)), states(watcher.messages)
        assert watcher.wait_for(lambda ms: states(ms)[-1] == "online", timeout=10), states(watcher.messages)
    finally:
        watcher.close()
    assert collector.stop() == 0


def desk_points(victoria: VictoriaMetrics, field: str) -> dict[str, list[tuple[int, float]]]:
    """Each desk's samples of `desk_state_<field>` as (timestamp ms, value), in time order."""
    out: dict[str, list[tuple[int, float]]] = {}
    for series in victoria.export(f'{{__name__="desk_state_{field}"}}'):
        desk = str(dict(series["metric"])["desk"])  # type: ignore[call-overload]
        points = zip(series["timestamps"], series["values"], strict=True)  # type: ignore[call-overload]
        out[desk] = sorted(out.get(desk, []) + [(int(t), float(v)) for t, v in points])
    return out


def test_an_event_dated_years_ahead_is_written_at_its_receipt_time_and_expires_with_it(
    mosquitto: Mosquitto, victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    collector = start_collector(tmp_path, mosquitto, victoria)
    publisher = Publisher(mosquitto.port)
    ahead = BASE + timedelta(days=5 * 365)  # a Pi whose clock runs five years ahead
    late = BASE - timedelta(hours=5)  # an outbox replayed hours after an outage
    events = [
        event(DeskOccupancy(desk="d-ahead", zone="z1", state=DeskState.OCCUPIED, since=ahead), 1, ahead, "pi-ahead"),
        event(DeskOccupancy(desk="d-late", zone="z1", state=DeskState.VACANT, since=late), 1, late, "pi-late"),
        desk_event(0),
    ]
    before = int(time.time() * 1000)
    publisher.send([wire(e) for e in events])
    store = tmp_path / "state" / "collector.sqlite3"
    wait_until(lambda: len(store_ids(store)) == 3, 20, info=lambda: collector.output()[-2000:])
    after = int(time.time() * 1000)
    wait_until(lambda: len(desk_points(victoria, "occupied")) == 3, 20, info=lambda: collector.output()[-2000:])
    points = desk_points(victoria, "occupied")
    [(at, occupied)] = points["d-ahead"]
    assert before <= at <= after and occupied == 1  # at its receipt, not in five years
    assert points["d-late"] == [(int(late.timestamp() * 1000), 0)]  # a late replay keeps its own time
    assert points["d0"] == [(desk_timestamps(1)[0], 0)]
    wait_until(lambda: status_counters(mosquitto.port).get("clock_ahead") == 1, 10)
    assert "node pi-ahead: 1 event(s) dated up to" in collector.output()
    publisher.close()
    assert collector.stop() == 0
    # The store the process wrote, purged 90 days (the default retention) and a minute after the receipt: the
    # anonymous desk events stay for raw_retention_days, so purge as if that were 90 days too.
    config = parse_config(
        collector_yaml(mosquitto.port, tmp_path / "state") + "  raw_retention_days: 90\n", check_secrets=False
    )
    clock = ManualClock(datetime.fromtimestamp(after / 1000, UTC) + timedelta(days=90, minutes=1))
    later = Collector(config, clock=clock)
    later.purge()
    assert store_ids(store) == []  # the event dated five years ahead went with the others
    later.stop()


def test_heartbeats_reach_influx_as_points_that_are_not_transitions(
    mosquitto: Mosquitto, victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    collector = start_collector(tmp_path, mosquitto, victoria)
    publisher = Publisher(mosquitto.port)
    since = BASE
    body = DeskOccupancy(desk="d1", zone="z1", state=DeskState.OCCUPIED, since=since)
    vacant = DeskOccupancy(desk="d1", zone="z1", state=DeskState.VACANT, since=since + timedelta(minutes=3))
    messages = [
        event(body, 1, since),  # the change: ts = since
        event(body, 2, since + timedelta(minutes=1)),  # heartbeats: the same since, ts = when sent
        event(body, 3, since + timedelta(minutes=2)),
        event(vacant, 4, since + timedelta(minutes=3)),
        event(vacant, 5, since + timedelta(minutes=4)),
    ]
    publisher.send([wire(e) for e in messages])
    wait_until(
        lambda: len(desk_points(victoria, "transition").get("d1", [])) == 5, 20, info=lambda: collector.output()[-2000:]
    )
    assert [v for _, v in desk_points(victoria, "transition")["d1"]] == [1, 0, 0, 1, 0]
    assert [v for _, v in desk_points(victoria, "occupied")["d1"]] == [1, 1, 1, 0, 0]
    store = tmp_path / "state" / "collector.sqlite3"
    assert store_value(store, "SELECT COUNT(*) FROM desk_transitions") == 2
    publisher.close()
    assert collector.stop() == 0
