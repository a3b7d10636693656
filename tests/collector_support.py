"""Shared helpers for the collector tests: event factories, a real publisher, a collector process, read-back."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge.collector.schema import AGGREGATE_POLICY, MEASUREMENTS, Bucket
from edge.contract import (
    Alarm,
    BadgeScan,
    Body,
    DeskOccupancy,
    DeskState,
    DoorAccess,
    DoorAlarm,
    DoorMode,
    DoorState,
    Envelope,
    Event,
    NodeStatus,
    Reason,
    Topics,
    ZoneOccupancy,
    encode,
)
from tests.rig.mqtt import Recorder
from tests.rig.process import EdgeProcess
from tests.rig.servers import InfluxDB16, VictoriaMetrics

SITE = "testsite"
TOPICS = Topics(SITE)
# Recent, so that time-series servers accept the points and the derived grid covers them; whole hour for
# readable timestamps.
BASE = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
TOKEN = "0123456789abcdef0123456789abcdef"
# One body of each event kind, at a fixed instant with a sub-second part.
BODY_TS = datetime(2026, 11, 26, 9, 0, 0, 123000, tzinfo=UTC)
BODIES = [
    DeskOccupancy(desk="d1", zone="z1", state=DeskState.OCCUPIED, since=BODY_TS),
    DoorAccess(
        door="front", reader="r1", token=TOKEN, member="m-1", granted=False, reason=Reason.EXPIRED, latency_ms=3.0
    ),
    DoorAlarm(door="front", alarm=Alarm.HELD_OPEN, active=True),
    DoorState(door="front", locked=True, open=None, mode=DoorMode.LOCKDOWN, members_version=None),
    DoorState(door="front", locked=False, open=True, mode=DoorMode.NORMAL, members_version=7),
    BadgeScan(reader="r1", token=TOKEN),
    ZoneOccupancy(zone="z1", occupied=3, vacant=2, unknown=1, total=6),
    NodeStatus(state="online", version="0.1.0", uptime_s=12.5, clock_synced=True, counters={"events_sent": 4}),
]


def event(body: Body, seq: int, ts: datetime = BASE, node: str = "n1", event_id: str | None = None) -> Event:
    """An event with a chosen envelope."""
    return Event(Envelope(id=event_id or f"{node}-{seq}", ts=ts, node=node, seq=seq), body)


def desk_event(i: int, node: str = "n1", state: DeskState | None = None, desks: int = 50) -> Event:
    """The i-th desk event of a deterministic stream: distinct ms timestamps, seq i + 1."""
    ts = BASE + timedelta(milliseconds=i)
    chosen = state or (DeskState.OCCUPIED if i % 3 else DeskState.VACANT)
    body = DeskOccupancy(desk=f"d{i % desks}", zone=f"z{i % 5}", state=chosen, since=ts)
    return event(body, i + 1, ts, node)


def access_event(
    seq: int, ts: datetime, *, door: str = "front", reader: str = "front-in", reason: Reason = Reason.GRANTED
) -> Event:
    """A door decision."""
    body = DoorAccess(
        door=door,
        reader=reader,
        token=TOKEN,
        member="m-1" if reason is not Reason.UNKNOWN_BADGE else None,
        granted=reason is Reason.GRANTED,
        reason=reason,
        latency_ms=2.5,
    )
    return event(body, seq, ts)


def wire(e: Event) -> tuple[str, bytes]:
    """(topic, payload) of an event."""
    return e.body.topic(TOPICS), encode(e)


class Publisher:
    """A real paho QoS 1 publisher that waits for the broker's acknowledgements."""

    def __init__(self, port: int) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(200)
        self.client.connect("127.0.0.1", port, 30)
        self.client.loop_start()

    def send(self, messages: Iterable[tuple[str, bytes]], *, pause: float = 0.0, retain: bool = False) -> int:
        """Publish every message at QoS 1 and wait until each is acknowledged; returns how many."""
        infos = []
        for topic, payload in messages:
            infos.append(self.client.publish(topic, payload, qos=1, retain=retain))
            if pause:
                time.sleep(pause)
        for info in infos:
            info.wait_for_publish(30)
        return len(infos)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def collector_yaml(
    mqtt_port: int,
    state_dir: Path,
    *,
    node: str = "col",
    victoria: VictoriaMetrics | None = None,
    extra: str = "",
    site: str = SITE,
) -> str:
    """A collector node config for tests: fast status, fast reconnects, short backoff."""
    lines = [
        f"site: {site}",
        f"node: {node}",
        f"state_dir: {state_dir}",
        "status_interval_s: 0.5",
        "mqtt:",
        "  host: 127.0.0.1",
        f"  port: {mqtt_port}",
        "  reconnect_min_s: 0.2",
        "  reconnect_max_s: 1",
        "  keepalive: 5",
        "collector:",
        "  backoff_max_s: 1",
        "  derive_step_s: 60",
    ]
    if victoria is not None:
        lines += ["  influx:", f"    url: {victoria.url}", "    bucket: edge", "    timeout_s: 2"]
    return "\n".join(lines) + "\n" + extra


RUNNING: list[EdgeProcess] = []  # every collector process started, for cleanup after a failed test


def kill_leftovers() -> None:
    """SIGKILL collector processes a failed test left running."""
    while RUNNING:
        RUNNING.pop().kill9()


class CollectorProcess(EdgeProcess):
    """`edge collector -c FILE` as a real process, its log beside its config."""

    def __init__(self, config: Path, mqtt_port: int, node: str = "col", site: str = SITE) -> None:
        super().__init__("collector", "-c", str(config), log=config.with_suffix(".log"))
        self.topics = Topics(site)
        self.config = config
        self.mqtt_port = mqtt_port
        self.node = node

    def start(self, wait_online: bool = True) -> CollectorProcess:
        """Start it and (by default) wait until its status says online, i.e. it has subscribed."""
        recorder = Recorder(self.mqtt_port, self.topics.node_status(self.node)) if wait_online else None
        super().start()
        RUNNING.append(self)
        if recorder is not None:
            online = recorder.wait_for(
                lambda ms: any(json.loads(m.payload).get("state") == "online" for m in ms), timeout=20
            )
            recorder.close()
            assert online, self.output()
        return self


def store_ids(path: Path) -> list[str]:
    """Event ids in a collector store, read through a separate connection (the process may be running)."""
    with sqlite3.connect(path) as db:
        return [r[0] for r in db.execute("SELECT id FROM events WHERE kind != 'node_status' ORDER BY rid")]


def store_value(path: Path, sql: str) -> object:
    """One value from a collector store."""
    with sqlite3.connect(path) as db:
        row = db.execute(sql).fetchone()
    return None if row is None else row[0]


def samples(victoria: VictoriaMetrics, metric: str) -> list[tuple[tuple[tuple[str, str], ...], int]]:
    """Every stored sample of one metric as (labels, timestamp ms), duplicates kept."""
    out = []
    for series in victoria.export(f'{{__name__="{metric}"}}'):
        labels = tuple(sorted((k, str(v)) for k, v in dict(series["metric"]).items()))  # type: ignore[call-overload]
        out += [(labels, int(t)) for t in series["timestamps"]]  # type: ignore[union-attr]
    return out


def desk_timestamps(n: int, offset: int = 0) -> list[int]:
    """The ms timestamps of desk_event(offset) ... desk_event(offset + n - 1)."""
    base = int(BASE.timestamp() * 1000)
    return [base + i for i in range(offset, offset + n)]


def state_names() -> list[str]:
    """Desk states in the order the one-hot fields use."""
    return [s.value for s in DeskState]


def create_policies(server: InfluxDB16, db: str) -> None:
    """A database as the deployment makes it: raw series in the default policy, derived ones in `longterm`
    (both kept for ever here: the tests' data is dated in the past)."""
    server.query(f'CREATE DATABASE "{db}" WITH DURATION INF NAME "raw"')
    server.query(f'CREATE RETENTION POLICY "{AGGREGATE_POLICY}" ON "{db}" DURATION INF REPLICATION 1')


def write_by_policy(server: InfluxDB16, db: str, lines: Iterable[str], batch: int = 20_000) -> None:
    """Write lines as the collector does: raw measurements to the default policy, derived ones to `longterm`."""
    split: dict[str | None, list[str]] = {None: [], AGGREGATE_POLICY: []}
    for text in lines:
        for line in text.splitlines():
            derived = MEASUREMENTS[line.split(",", 1)[0]].bucket is Bucket.AGGREGATE
            split[AGGREGATE_POLICY if derived else None].append(line)
    for policy, chosen in split.items():
        for i in range(0, len(chosen), batch):
            server.write(db, "\n".join(chosen[i : i + batch]), rp=policy)


@pytest.fixture
def no_leftover_collectors() -> Iterator[None]:
    """After the test, SIGKILL the collector processes a failing test left running."""
    yield
    kill_leftovers()
