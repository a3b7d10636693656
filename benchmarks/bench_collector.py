"""Collector benchmarks against real servers; prints a table with the targets of issue 6 (reported, not asserted).

    python -m benchmarks.bench_collector [--events 30000] [--backlog 100000] [--only throughput,memory]

Targets (issue 6): >= 5,000 events/s written to VictoriaMetrics (and the ratio to the ceiling measured in the same
run); a 1-hour backlog drained well under a minute; resident memory < 60 MB whatever the backlog.

1. Ceiling and throughput: N desk events are queued by Mosquitto for a persistent session, then drained
   (a) by a bare paho QoS 1 subscriber (auto-acknowledge, nothing else: what paho can receive; issue 17's
   ceiling), (b) by the collector's own receive path alone, its link through the tap (edge/bus/tap.py),
   acknowledging each batch as it arrives: the peer that moved the ceiling, measured side by side, and
   (c) by `edge collector` (validate, commit, acknowledge, forward to VictoriaMetrics), then (a) again. Draining
   a queue is the sustained capacity: the broker keeps the subscriber busy the whole time. Rates run from the
   first message stored to the last one stored / written to VictoriaMetrics (process start-up excluded). The
   ratio is taken against the higher of the two paho ceilings, so a machine that got busier during the
   collector's run does not flatter it; the ratio to (b) says how much of its own receive path the store leaves.
2. One hour of a realistic site (200 desks in 10 zones changing every ~5 minutes, 2 doors with 150 decisions an
   hour each, 5 nodes' statuses every minute) collected while VictoriaMetrics is down, then the time to drain it
   (raw events and derived series) once it is back.
3. Resident memory: idle with and without InfluxDB configured, and the peak while a large backlog is ingested
   with VictoriaMetrics down and then drained.
4. Keeping the derived series up to date on a live site (in-process store and deriver, a manual clock): 200
   desks that change every ~5 minutes and send a heartbeat every minute otherwise; each minute's messages are
   committed and the grid derived up to that minute. CPU seconds for ingesting and for deriving.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from benchmarks.common import Measure, report, sized, terminate
from edge.collector.link import Inbound, Link
from edge.config import MqttConfig
from edge.contract import (
    Body,
    DeskOccupancy,
    DeskState,
    DoorAccess,
    Envelope,
    Event,
    NodeStatus,
    Reason,
    Topics,
    encode,
)
from edge.metrics import Counters
from tests.rig.fixtures import REPO, edge_command, edge_env
from tests.rig.mqtt import Recorder
from tests.rig.servers import Mosquitto, VictoriaMetrics

SITE = "bench"
TOPICS = Topics(SITE)
TOKEN = "0123456789abcdef0123456789abcdef"


# -- producing ------------------------------------------------------------------------------------------------


def publish_all(port: int, messages: Iterator[tuple[str, bytes]]) -> int:
    """Publish at QoS 1 with a wide window and wait for every acknowledgement."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port, 60)
    client.loop_start()
    count = 0
    infos = []
    for topic, payload in messages:
        infos.append(client.publish(topic, payload, qos=1))
        if len(infos) == 20_000:  # packet ids are 16 bits: never have more outstanding than that
            count += _wait(infos)
    count += _wait(infos)
    client.disconnect()
    client.loop_stop()
    return count


def _wait(infos: list[mqtt.MQTTMessageInfo]) -> int:
    for info in infos:
        info.wait_for_publish(120)
    done = len(infos)
    infos.clear()
    return done


def wire(body: Body, seq: int, ts: datetime, node: str) -> tuple[str, bytes]:
    event = Event(Envelope(id=f"{node}-{seq}", ts=ts, node=node, seq=seq), body)
    return body.topic(TOPICS) if not isinstance(body, NodeStatus) else TOPICS.node_status(node), encode(event)


def desk_stream(n: int, start: datetime) -> Iterator[tuple[str, bytes]]:
    """n desk transitions, 1 ms apart."""
    for i in range(n):
        ts = start + timedelta(milliseconds=i)
        state = DeskState.OCCUPIED if i % 3 else DeskState.VACANT
        yield wire(DeskOccupancy(desk=f"d{i % 200}", zone=f"z{i % 10}", state=state, since=ts), i + 1, ts, "desks")


def realistic_hour(end: datetime, rng: random.Random) -> list[tuple[str, bytes]]:
    """One hour of a 200-desk, 2-door site, in time order per node."""
    start = end - timedelta(hours=1)
    desks: list[tuple[datetime, Body]] = []
    for d in range(200):
        t = start + timedelta(seconds=rng.uniform(0, 300))
        state = DeskState.VACANT
        while t < end:
            state = DeskState.OCCUPIED if state is not DeskState.OCCUPIED else DeskState.VACANT
            if rng.random() < 0.02:
                state = DeskState.UNKNOWN
            desks.append((t, DeskOccupancy(desk=f"d{d}", zone=f"z{d % 10}", state=state, since=t)))
            t += timedelta(seconds=rng.expovariate(1 / 300))
    doors: list[tuple[datetime, Body]] = []
    for door in ("front", "back"):
        for _ in range(150):
            t = start + timedelta(seconds=rng.uniform(0, 3600))
            reason = Reason.GRANTED if rng.random() > 0.1 else rng.choice([Reason.EXPIRED, Reason.UNKNOWN_BADGE])
            reader = f"{door}-out" if rng.random() < 0.4 else f"{door}-in"
            body = DoorAccess(
                door=door,
                reader=reader,
                token=TOKEN,
                member=None,
                granted=reason is Reason.GRANTED,
                reason=reason,
                latency_ms=rng.uniform(1, 20),
            )
            doors.append((t, body))
    out: list[tuple[str, bytes]] = []
    for node, items in (("desks", desks), ("doors", doors)):
        for seq, (t, body) in enumerate(sorted(items, key=lambda x: x[0]), start=1):
            out.append(wire(body, seq, t, node))
    for n in range(5):
        for minute in range(60):
            status = NodeStatus(state="online", version="1", uptime_s=minute * 60.0, node_name=f"node{n}")
            out.append(wire(status, minute, start + timedelta(minutes=minute), f"node{n}"))
    return out


# -- the bare subscriber --------------------------------------------------------------------------------------


def bare_subscriber_rate(port: int, n: int) -> float:
    """Messages per second a bare paho QoS 1 subscriber drains from a queued persistent session."""
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    got = [0]
    first = [0.0]
    last = [0.0]

    def on_message(_c: mqtt.Client, _u: object, _m: mqtt.MQTTMessage) -> None:
        got[0] += 1
        last[0] = time.perf_counter()
        if got[0] == 1:
            first[0] = last[0]

    def connect() -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare", protocol=mqtt.MQTTv5)
        client.on_message = on_message
        client.connect("127.0.0.1", port, 60, clean_start=False, properties=props)
        client.loop_start()
        return client

    client = connect()
    client.subscribe(TOPICS.everything(), 1)
    time.sleep(0.5)
    client.disconnect()
    client.loop_stop()
    publish_all(port, desk_stream(n, datetime.now(UTC) - timedelta(hours=2)))
    got[0] = 0
    client = connect()
    deadline = time.monotonic() + 300
    while got[0] < n and time.monotonic() < deadline:
        time.sleep(0.01)
    client.disconnect()
    client.loop_stop()
    return (n - 1) / (last[0] - first[0])


def tap_subscriber_rate(port: int, n: int) -> float:
    """Messages per second the collector's link alone drains from a queued persistent session, acknowledging each
    batch as soon as it is handed over (the tap's ceiling: what the collector's receive path can take)."""
    config = MqttConfig(host="127.0.0.1", port=port)
    got, first, last = [0, 0], [0.0], [0.0]  # messages, messages in the first batch
    done = threading.Event()
    links: list[Link] = []  # the current one last (retained statuses may arrive while the first one subscribes)

    def deliver(batch: list[Inbound]) -> None:
        now = time.perf_counter()
        if not got[0]:
            first[0], got[1] = now, len(batch)
        got[0] += len(batch)
        last[0] = now
        links[-1].ack(batch[0].generation, [m.mid for m in batch if m.qos])
        if got[0] >= n:
            done.set()

    def connect() -> Link:
        made = Link(
            config, "bench-tap", subscriptions=[TOPICS.everything()], deliver=deliver, counters=Counters(),
            session_expiry_s=3600, receive_maximum=500,
        )  # fmt: skip
        links.append(made)
        made.start()
        if not made.wait_connected(30):
            raise RuntimeError("the tap subscriber did not connect")
        return made

    link = connect()
    time.sleep(0.5)  # the subscription is made on connect; its SUBACK comes right after
    link.stop()
    publish_all(port, desk_stream(n, datetime.now(UTC) - timedelta(hours=2)))
    got[0] = 0
    link = connect()
    finished = done.wait(300)
    link.stop()
    if not finished:
        raise RuntimeError(f"the tap subscriber received {got[0]} of {n} messages")
    return (got[0] - got[1]) / (last[0] - first[0])


# -- the collector process ------------------------------------------------------------------------------------


class Collector:
    """`edge collector` as a subprocess, with its store read through a second connection."""

    def __init__(
        self, workdir: Path, port: int, victoria: VictoriaMetrics | None, name: str = "col", api: str = "v2"
    ) -> None:
        self.workdir = workdir
        self.port = port
        self.node = name
        self.store = workdir / name / "collector.sqlite3"
        self.config = workdir / f"{name}.yaml"
        lines = [
            f"site: {SITE}",
            f"node: {name}",
            f"state_dir: {workdir / name}",
            "status_interval_s: 1",
            f"mqtt: {{host: 127.0.0.1, port: {port}, reconnect_min_s: 0.2, reconnect_max_s: 1}}",
            "collector:",
            "  backoff_max_s: 1",
            "  directions: {front-out: out, back-out: out}",
        ]
        if victoria is not None:
            lines.append(f"  influx: {{url: '{victoria.url}', bucket: bench, api: {api}}}")
        self.config.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait_online: bool = True) -> None:
        """Start it; by default wait until it has subscribed (its status says online)."""
        recorder = Recorder(self.port, TOPICS.node_status(self.node)) if wait_online else None
        self.proc = subprocess.Popen(
            edge_command("collector", "-c", str(self.config)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=edge_env(),
            cwd=REPO,
        )
        if recorder is not None:
            recorder.wait_for(lambda ms: any(json.loads(m.payload)["state"] == "online" for m in ms), timeout=30)
            recorder.close()

    def stop(self) -> None:
        """SIGTERM and wait (a collector that does not stop is killed and reported)."""
        if self.proc is not None:
            terminate(self.proc)

    def rss_kb(self) -> int:
        """Resident set size now."""
        assert self.proc is not None
        try:
            with open(f"/proc/{self.proc.pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS"):
                        return int(line.split()[1])
        except FileNotFoundError:
            pass
        return 0

    def query(self, sql: str) -> int:
        """One integer from the store (0 if the store is not there yet)."""
        try:
            with sqlite3.connect(f"file:{self.store}?mode=ro", uri=True, timeout=5) as db:
                row = db.execute(sql).fetchone()
        except sqlite3.Error:
            return 0
        return int(row[0]) if row and row[0] is not None else 0

    def stored(self) -> int:
        """Events stored."""
        return self.query("SELECT COUNT(*) FROM events")

    def backlog(self) -> int:
        """Rows not yet forwarded (raw and derived)."""
        raw = self.query("SELECT MAX(rid) FROM events") - self.query("SELECT value FROM meta WHERE key='cursor_raw'")
        derived = self.query("SELECT MAX(rid) FROM derived") - self.query(
            "SELECT value FROM meta WHERE key='cursor_aggregate'"
        )
        return raw + derived


def poll(
    predicate: Callable[[], bool], timeout: float, every: float = 0.02, tick: Callable[[], None] | None = None
) -> float:
    """Wait for predicate; returns the perf_counter time it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tick:
            tick()
        if predicate():
            return time.perf_counter()
        time.sleep(every)
    raise TimeoutError("benchmark step did not finish in time")


# -- the runs -------------------------------------------------------------------------------------------------


def throughput(tmp: Path, n: int) -> dict[str, float]:
    """Ceiling vs collector on the same broker and machine."""
    broker = Mosquitto(tmp / "mq-throughput", max_queued=max(200_000, 2 * n))
    broker.start()
    victoria = VictoriaMetrics(tmp / "vm-throughput")
    victoria.start()
    try:
        ceiling_before = bare_subscriber_rate(broker.port, n)
        tap = tap_subscriber_rate(broker.port, n)
        collector = Collector(tmp, broker.port, victoria, name="col-throughput")
        collector.start()
        collector.stop()
        base = collector.stored()
        base_rid = collector.query("SELECT MAX(rid) FROM events")
        publish_all(broker.port, desk_stream(n, datetime.now(UTC) - timedelta(hours=1)))
        collector.start(wait_online=False)
        first = poll(lambda: collector.stored() > base, 120, every=0.005)
        stored = poll(lambda: collector.stored() >= base + n, 300)
        last_rid = base_rid + n
        forwarded = poll(
            lambda: collector.query("SELECT value FROM meta WHERE key='cursor_raw'") >= last_rid, 300, every=0.005
        )
        collector.stop()
        exported = victoria.export('{__name__="desk_state_occupied"}')
        in_vm = sum(len(s["timestamps"]) for s in exported)  # type: ignore[arg-type]
        ceiling_after = bare_subscriber_rate(broker.port, n)
        return {
            "ceiling_before": ceiling_before,
            "ceiling_after": ceiling_after,
            "ceiling": max(ceiling_before, ceiling_after),
            "tap": tap,
            "stored": n / (stored - first),
            "forwarded": n / (forwarded - first),
            "in_vm": in_vm,
        }
    finally:
        broker.kill()
        victoria.kill()


def hour_backlog(tmp: Path) -> dict[str, float]:
    """One realistic hour collected with VictoriaMetrics down, then drained."""
    broker = Mosquitto(tmp / "mq-hour")
    broker.start()
    victoria = VictoriaMetrics(tmp / "vm-hour")
    victoria.start()
    victoria.stop()
    try:
        collector = Collector(tmp, broker.port, victoria, name="col-hour")
        collector.start()
        messages = realistic_hour(datetime.now(UTC), random.Random(7))
        publish_all(broker.port, iter(messages))
        poll(lambda: collector.stored() >= len(messages), 120)
        time.sleep(3)  # let the derived series catch up with the hour
        rows = collector.backlog()
        derived = collector.query("SELECT COUNT(*) FROM derived")
        victoria.start()
        began = time.perf_counter()
        done = poll(lambda: collector.backlog() == 0, 300, every=0.01)
        collector.stop()
        return {"events": len(messages), "derived": derived, "rows": rows, "seconds": done - began}
    finally:
        broker.kill()
        victoria.kill()


def backlog_peaks(collector: Collector, victoria: VictoriaMetrics, backlog: int) -> dict[str, int]:
    """Peak RSS (kB) while a collector ingests a backlog waiting for it on the broker with its store away, then
    while it drains it once the store is back."""
    peak = {"ingest": 0, "drain": 0}
    phase = ["ingest"]

    def sample() -> None:
        peak[phase[0]] = max(peak[phase[0]], collector.rss_kb())

    collector.start(wait_online=False)
    base = collector.stored()
    poll(lambda: collector.stored() >= base + backlog, 600, every=0.05, tick=sample)
    phase[0] = "drain"
    victoria.start()
    poll(lambda: collector.backlog() == 0, 600, every=0.05, tick=sample)
    collector.stop()
    victoria.stop()
    return peak


def memory(tmp: Path, backlog: int) -> dict[str, float]:
    """Idle RSS with and without InfluxDB, then the peak over a large backlog ingested and drained."""
    broker = Mosquitto(tmp / "mq-memory", max_queued=backlog + 10_000)
    broker.start()
    victoria = VictoriaMetrics(tmp / "vm-memory")
    victoria.start()
    try:
        store_only = Collector(tmp, broker.port, None, name="col-store-only")
        store_only.start()
        time.sleep(2)
        idle_store_only = store_only.rss_kb()
        store_only.stop()
        lean = Collector(tmp, broker.port, victoria, name="col-v1", api="v1")
        lean.start()
        time.sleep(2)
        idle_v1 = lean.rss_kb()
        lean.stop()
        collector = Collector(tmp, broker.port, victoria, name="col-memory")
        collector.start()
        time.sleep(2)
        idle = collector.rss_kb()
        collector.stop()
        victoria.stop()
        # Queued once by the broker for both persistent sessions: each collector then ingests the same backlog.
        publish_all(broker.port, desk_stream(backlog, datetime.now(UTC) - timedelta(days=1)))
        peaks = {"v1": backlog_peaks(lean, victoria, backlog), "v2": backlog_peaks(collector, victoria, backlog)}
        size = collector.store.stat().st_size + Path(str(collector.store) + "-wal").stat().st_size
        return {
            "idle_store_only": idle_store_only / 1024,
            "idle": idle / 1024,
            "idle_v1": idle_v1 / 1024,
            "ingest_v1": peaks["v1"]["ingest"] / 1024,
            "drain_v1": peaks["v1"]["drain"] / 1024,
            "ingest": peaks["v2"]["ingest"] / 1024,
            "drain": peaks["v2"]["drain"] / 1024,
            "backlog": backlog,
            "store_mb": size / 2**20,
        }
    finally:
        broker.kill()
        victoria.kill()


# -- derived series on a live site ------------------------------------------------------------------------------


def live_site_cpu(hours: int, desks: int = 200) -> dict[str, float]:
    """CPU seconds to ingest and to derive `hours` of a live site, minute by minute (see the module docstring)."""
    from zoneinfo import ZoneInfo

    from edge.clock import ManualClock
    from edge.collector.deriver import Deriver
    from edge.collector.ingest import classify
    from edge.collector.store import Store

    rng = random.Random(7)
    start = datetime(2026, 11, 26, 7, tzinfo=UTC)
    clock = ManualClock(start)
    state = {f"d{i}": DeskState.VACANT for i in range(desks)}
    since = dict.fromkeys(state, start)
    seq, ingest_s, derive_s = 0, 0.0, 0.0
    with tempfile.TemporaryDirectory() as name:
        store = Store(Path(name) / "live.sqlite3", synchronous="OFF")  # CPU, not the disk
        deriver = Deriver(store, site=SITE, clock=clock, tz=ZoneInfo("Europe/Paris"))
        for minute in range(hours * 60):
            now = start + timedelta(minutes=minute)
            messages = []
            for i, desk in enumerate(state):
                seq += 1
                ts = now + timedelta(milliseconds=i)
                if minute == 0 or rng.random() < 0.2:  # a change: ts = since
                    state[desk] = DeskState.OCCUPIED if state[desk] is DeskState.VACANT else DeskState.VACANT
                    since[desk] = ts
                body = DeskOccupancy(desk=desk, zone=f"z{i % 10}", state=state[desk], since=since[desk])
                messages.append(wire(body, seq, ts, "desks"))
            clock.set(now + timedelta(seconds=1))
            began = time.process_time()
            store.commit([classify(TOPICS, topic, payload) for topic, payload in messages], 0)
            ingested = time.process_time()
            clock.set(now + timedelta(seconds=59))
            while deriver.run() or deriver.behind:
                pass
            ingest_s += ingested - began
            derive_s += time.process_time() - ingested
        store.close()
    return {"ingest": ingest_s, "derive": derive_s, "events": float(seq)}


PARTS = ("throughput", "hour", "memory", "live")


def main() -> None:
    """Run everything (or the parts named by --only) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=int(sized(30_000, 3_000)), help="events for the throughput run")
    parser.add_argument("--backlog", type=int, default=int(sized(100_000, 5_000)), help="events for the memory run")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts to run, of {','.join(PARTS)}")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    if parts - set(PARTS):
        parser.error(f"unknown part(s) {sorted(parts - set(PARTS))}; choose from {','.join(PARTS)}")
    measures: list[Measure] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if "throughput" in parts:
            measures += throughput_measures(throughput(tmp, args.events), args.events)
        if "hour" in parts:
            h = hour_backlog(tmp)
            hour = f"1-hour backlog ({h['events']:,.0f} events, {h['derived']:,.0f} derived) drained after VM returned"
            measures.append(Measure("collector", hour, h["seconds"], "s", "< 60 s", h["seconds"] < 60))
        if "memory" in parts:
            measures += memory_measures(memory(tmp, args.backlog))
    if "live" in parts:
        live_hours = int(sized(3, 1))
        live = live_site_cpu(live_hours)
        site = f"live site, {live_hours} h of 200 desks with heartbeats ({live['events']:,.0f} events)"
        measures.append(Measure("collector", f"{site}: ingest CPU", live["ingest"], "s"))
        measures.append(Measure("collector", f"{site}: derived series CPU", live["derive"], "s"))
    print(
        f"collector benchmark — Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPU(s); Mosquitto and VictoriaMetrics on loopback"
    )
    report(measures)
    sys.stdout.flush()


def throughput_measures(t: dict[str, float], events: int) -> list[Measure]:
    """The throughput step's rows: both ceilings, the collector's rates and its ratio to the higher ceiling."""
    ratio = t["forwarded"] / t["ceiling"]
    return [
        Measure("collector", "bare paho QoS 1 subscriber (ceiling) before", t["ceiling_before"], "msg/s"),
        Measure("collector", "bare paho QoS 1 subscriber (ceiling) after", t["ceiling_after"], "msg/s"),
        Measure("collector", "collector's link alone, through the tap (the moved ceiling)", t["tap"], "msg/s"),
        Measure("collector", "collector: stored and acknowledged", t["stored"], "ev/s"),
        Measure(
            "collector", "collector: written to VictoriaMetrics", t["forwarded"], "ev/s", ">= 5000 ev/s",
            t["forwarded"] >= 5000,
        ),
        Measure("collector", "ratio written to VM / higher ceiling", ratio, "x", ">= 0.7 x", ratio >= 0.7),
        Measure("collector", "ratio written to VM / the link alone", t["forwarded"] / t["tap"], "x"),
        Measure("collector", f"points read back from VM (of {events:,})", t["in_vm"], "points"),
    ]  # fmt: skip


def memory_measures(m: dict[str, float]) -> list[Measure]:
    """The memory step's rows."""
    backlog = f"{m['backlog']:,.0f}-event backlog"
    return [
        Measure("collector", "RSS idle, store only", m["idle_store_only"], "MB"),
        Measure("collector", "RSS idle, api v1 (/write)", m["idle_v1"], "MB", "< 60 MB", m["idle_v1"] < 60),
        Measure("collector", "RSS idle, api v2 (the default)", m["idle"], "MB", "< 60 MB", m["idle"] < 60),
        *(
            Measure("collector", f"RSS peak {doing} {backlog}, api {api}", mb, "MB", "< 60 MB", mb < 60)
            for api, suffix in (("v1", "_v1"), ("v2", ""))
            for doing, mb in (("ingesting a", m["ingest" + suffix]), ("draining the", m["drain" + suffix]))
        ),
        Measure("collector", f"store size for the {backlog}", m["store_mb"], "MB"),
    ]


if __name__ == "__main__":
    main()
