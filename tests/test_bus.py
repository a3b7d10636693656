"""The bus against a real Mosquitto: durable, ordered, nothing lost across broker outages and publisher crashes."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from edge.bus import Bus, Message, Outbox, Row
from edge.collector.link import Inbound, Link
from edge.config import parse_config
from edge.contract import BadgeScan, Kind, decode
from edge.contract.limits import LARGE_PACKET_BYTES, SMALL_PACKET_BYTES, largest_payload
from edge.errors import StoreError
from edge.metrics import Counters
from tests.rig.mqtt import Recorder, publish
from tests.rig.process import EdgeProcess
from tests.rig.servers import Mosquitto
from tests.rig.waiting import wait_until


def node_yaml(port: int, state: Path, **extra: str) -> str:
    lines = [
        "site: testsite",
        "node: n1",
        f"state_dir: {state}",
        "status_interval_s: 0.5",
        "mqtt:",
        "  host: 127.0.0.1",
        f"  port: {port}",
        "  reconnect_min_s: 0.2",
        "  reconnect_max_s: 1",
    ]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def make_bus(port: int, state: Path, daemon: str = "test") -> Bus:
    return Bus(parse_config(node_yaml(port, state)), daemon)


def scans(recorder: Recorder) -> list[dict]:
    return [json.loads(m.payload) for m in recorder.messages if m.topic.endswith("/scan")]


def token(i: int) -> str:
    return f"{i:032x}"


def test_events_arrive_in_order_with_increasing_seq(mosquitto: Mosquitto, tmp_path: Path) -> None:
    recorder = Recorder(mosquitto.port, "edge/testsite/badge/#")
    bus = make_bus(mosquitto.port, tmp_path / "state")
    bus.start()
    for i in range(50):
        bus.publish_event(BadgeScan(reader="r1", token=token(i)))
    recorder.wait_events(50)
    bus.stop()
    got = scans(recorder)
    assert [g["token"] for g in got] == [token(i) for i in range(50)]
    assert [g["seq"] for g in got] == sorted(g["seq"] for g in got)
    assert len({g["id"] for g in got}) == 50


def test_published_payloads_decode_under_the_contract(mosquitto: Mosquitto, tmp_path: Path) -> None:
    recorder = Recorder(mosquitto.port, "edge/testsite/badge/#")
    bus = make_bus(mosquitto.port, tmp_path / "state")
    bus.start()
    envelope = bus.publish_event(BadgeScan(reader="r1", token=token(7)))
    [message] = recorder.wait_count(1)
    bus.stop()
    event = decode(Kind.BADGE_SCAN, message.payload)
    assert event.envelope == envelope
    assert message.topic == "edge/testsite/badge/r1/scan"


def test_events_stored_while_broker_is_down_arrive_once_in_order_after_restart(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    recorder = Recorder(mosquitto.port, "edge/testsite/badge/#", client_id="rec", clean=False)
    bus = make_bus(mosquitto.port, tmp_path / "state")
    bus.start()
    assert bus.wait_connected(10)
    for i in range(20):
        bus.publish_event(BadgeScan(reader="r1", token=token(i)))
    recorder.wait_events(20)
    mosquitto.stop()
    for i in range(20, 120):
        bus.publish_event(BadgeScan(reader="r1", token=token(i)))
    assert bus.outbox.depth >= 100 - bus.config.mqtt.max_inflight
    mosquitto.start()
    assert bus.wait_drained(30)
    recorder.wait_events(120, timeout=30)
    bus.stop()
    got = scans(recorder)
    unique = list(dict.fromkeys(g["id"] for g in got))
    assert len(unique) == 120
    by_id = {g["id"]: g for g in got}
    assert [by_id[i]["token"] for i in unique] == [token(i) for i in range(120)]


def stored_lines(publisher: EdgeProcess) -> int:
    """How many "stored N" lines the rig's publisher printed: scans durably in its outbox."""
    return sum(line.startswith("stored ") for line in publisher.output().splitlines())


def test_killed_publisher_loses_nothing_after_restart(mosquitto: Mosquitto, tmp_path: Path) -> None:
    config = tmp_path / "node.yaml"
    config.write_text(node_yaml(mosquitto.port, tmp_path / "state"))
    recorder = Recorder(mosquitto.port, "edge/testsite/badge/#")
    mosquitto.stop()  # nothing can be published: everything must survive in the outbox
    with EdgeProcess(str(config), "300", log=tmp_path / "publisher.log", module="tests.rig.publisher") as publisher:
        wait_until(lambda: stored_lines(publisher) >= 150, 60, "150 scans stored", publisher.tail)
        publisher.kill9()
    stored = stored_lines(publisher)  # with the lines written before the kill landed
    mosquitto.start()
    recorder.close()
    recorder = Recorder(mosquitto.port, "edge/testsite/badge/#")
    # A restarted publisher delivers the 150 survivors before its own new 300.
    with EdgeProcess(str(config), "300", log=tmp_path / "again.log", module="tests.rig.publisher") as again:
        assert again.wait(120) == 0, again.tail()
    assert "drained" in again.output()
    recorder.wait_events(stored + 300, timeout=30)
    recorder.close()
    got = list({g["id"]: g for g in scans(recorder)}.values())
    # Every event reported stored arrives; one more may have been stored before its line was printed.
    assert stored + 300 <= len(got) <= stored + 301
    first_run = [g["token"] for g in got[: len(got) - 300]]
    assert first_run[:stored] == [token(i) for i in range(stored)]
    assert [g["token"] for g in got[-300:]] == [token(i) for i in range(300)]
    assert len({g["seq"] for g in got}) == len(got)


def test_node_status_is_online_while_running_and_offline_after_a_crash(mosquitto: Mosquitto, tmp_path: Path) -> None:
    config = tmp_path / "node.yaml"
    config.write_text(node_yaml(mosquitto.port, tmp_path / "state"))
    recorder = Recorder(mosquitto.port, "edge/testsite/node/#")
    with EdgeProcess(str(config), "1000000", log=tmp_path / "publisher.log", module="tests.rig.publisher") as publisher:
        assert recorder.wait_for(lambda ms: any(json.loads(m.payload)["state"] == "online" for m in ms))
        publisher.kill9()
    # keepalive 30 s is too long to wait for; closing the socket makes the broker send the will at once
    assert recorder.wait_for(lambda ms: json.loads(ms[-1].payload)["state"] == "offline", timeout=20)
    status = json.loads(recorder.messages[-1].payload)
    assert status["node"] == "n1"
    decode(Kind.NODE_STATUS, recorder.messages[-1].payload)


def test_status_reports_outbox_depth_and_counters(mosquitto: Mosquitto, tmp_path: Path) -> None:
    recorder = Recorder(mosquitto.port, "edge/testsite/node/#")
    bus = make_bus(mosquitto.port, tmp_path / "state")
    bus.start()
    bus.publish_event(BadgeScan(reader="r1", token=token(1)))
    assert recorder.wait_for(
        lambda ms: any(json.loads(m.payload).get("counters", {}).get("events_sent") == 1 for m in ms), timeout=10
    )
    bus.stop()
    last = json.loads(recorder.messages[-1].payload)
    assert last["state"] == "offline"
    assert last["outbox_depth"] == 0
    assert last["outbox_dropped"] == 0


def test_inbound_messages_reach_handlers_and_handler_errors_are_counted(mosquitto: Mosquitto, tmp_path: Path) -> None:
    bus = make_bus(mosquitto.port, tmp_path / "state")
    seen: list[Message] = []

    def handler(message: Message) -> None:
        seen.append(message)
        if message.payload == b"boom":
            raise ValueError("bad message")

    bus.subscribe("edge/testsite/door/+/command", handler)
    bus.start()
    assert bus.wait_connected(10)
    time.sleep(0.2)
    publish(mosquitto.port, "edge/testsite/door/front/command", b"boom")
    publish(mosquitto.port, "edge/testsite/door/front/command", b"ok", retain=True)
    deadline = time.monotonic() + 10
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    bus.stop()
    assert [m.payload for m in seen] == [b"boom", b"ok"]
    assert bus.counters.get("handler_errors") == 1


def test_subscriptions_are_restored_after_the_broker_restarts(mosquitto: Mosquitto, tmp_path: Path) -> None:
    bus = make_bus(mosquitto.port, tmp_path / "state")
    seen: list[bytes] = []
    bus.subscribe("edge/testsite/members", lambda m: seen.append(m.payload))
    bus.start()
    assert bus.wait_connected(10)
    mosquitto.restart()
    deadline = time.monotonic() + 15
    while bus.counters.get("connects") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    publish(mosquitto.port, "edge/testsite/members", b"after")
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    bus.stop()
    assert seen == [b"after"]


def test_seq_keeps_increasing_across_restarts(tmp_path: Path) -> None:
    def row(seq: int) -> Row:
        return Row(seq, f"id{seq}", "t", b"{}", 1, False)

    box = Outbox(tmp_path / "o.sqlite3")
    first = [box.append(row).seq for _ in range(3)]
    box.acknowledge(first, 0)
    box.close()
    box = Outbox(tmp_path / "o.sqlite3")
    assert box.append(row).seq == 4
    box.close()


def test_full_outbox_drops_the_oldest_and_counts_them(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3", max_events=100)
    for _ in range(130):
        box.append(lambda seq: Row(seq, f"id{seq}", "t", b"{}", 1, False))
    assert box.depth == 100
    assert box.dropped == 30
    assert box.pending(1)[0].seq == 31
    box.close()
    reopened = Outbox(tmp_path / "o.sqlite3", max_events=100)
    assert reopened.dropped == 30
    reopened.close()


def test_a_second_process_cannot_use_the_same_outbox(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    with pytest.raises(StoreError, match="its own node name"):
        Outbox(tmp_path / "o.sqlite3")
    box.close()


def test_unwritable_store_keeps_events_in_memory_and_writes_them_later(mosquitto: Mosquitto, tmp_path: Path) -> None:
    recorder = Recorder(mosquitto.port, "edge/testsite/badge/#")
    bus = make_bus(mosquitto.port, tmp_path / "state")
    bus.start()
    assert bus.wait_connected(10)
    db = bus.outbox._db
    db.execute("PRAGMA query_only = ON")  # the disk refuses writes from now on
    bus.publish_event(BadgeScan(reader="r1", token=token(1)))
    assert bus.counters.get("store_errors") >= 1
    db.execute("PRAGMA query_only = OFF")
    assert bus.wait_drained(10)
    recorder.wait_count(1)
    bus.stop()
    assert [g["token"] for g in scans(recorder)] == [token(1)]


def test_acknowledged_status_messages_leave_no_work_behind(mosquitto: Mosquitto, tmp_path: Path) -> None:
    # The PUBACK of a status message has no outbox row: it used to stay queued forever and spin the pump at 100 %.
    recorder = Recorder(mosquitto.port, "edge/testsite/node/#")
    bus = make_bus(mosquitto.port, tmp_path / "state")
    bus.start()
    try:
        bus.publish_event(BadgeScan(reader="r1", token=token(1)))
        assert recorder.wait_count(3, timeout=10)  # several status messages, each acknowledged
        assert bus.wait_drained(10)
        # With the old bug the pump's work condition stayed true forever; now it clears once acks are taken.
        deadline = time.monotonic() + 5
        while bus._has_work() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not bus._has_work()
    finally:
        bus.stop()
        recorder.close()


def test_offline_is_the_last_status_after_stop_even_while_statuses_are_frequent(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    text = node_yaml(mosquitto.port, tmp_path / "state").replace("status_interval_s: 0.5", "status_interval_s: 0.01")
    recorder = Recorder(mosquitto.port, "edge/testsite/node/#")
    for round_ in range(3):  # the pump publishes `online` every 10 ms: any race with stop() would show
        bus = Bus(parse_config(text), "test")
        bus.start()
        seen = 3 * round_
        assert recorder.wait_for(
            lambda ms, seen=seen: sum(json.loads(m.payload)["state"] == "online" for m in ms) > seen
        )
        bus.stop()
        assert recorder.wait_for(lambda ms: json.loads(ms[-1].payload)["state"] == "offline", timeout=5)
        time.sleep(0.2)  # nothing follows it
        assert json.loads(recorder.messages[-1].payload)["state"] == "offline"
    recorder.close()


# -- replay requests -----------------------------------------------------------------------------------------


def test_a_replay_request_publishes_kept_events_again_with_their_ids_and_not_retained(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    from edge.contract import DeskOccupancy, DeskState
    from edge.contract.replay import ReplayRequest

    bus = make_bus(mosquitto.port, tmp_path / "state")
    bus.start()
    try:
        for i in range(6):
            bus.publish_event(DeskOccupancy(desk=f"d{i}", zone="z", state=DeskState.OCCUPIED, since=bus.clock.now()))
        assert bus.wait_drained(10)  # acknowledged by the broker
        recorder = Recorder(mosquitto.port, "edge/testsite/desk/#")
        recorder.wait_events(6)  # the retained states, as a new subscriber gets them
        recorder.messages.clear()
        publish(mosquitto.port, "edge/testsite/node/n1/replay", ReplayRequest(2, 4).encode())
        again = recorder.wait_events(3)
        envelopes = [json.loads(m.payload) for m in again]
        assert [e["seq"] for e in envelopes] == [2, 3, 4]
        assert not any(m.retain for m in again)  # an old state must not replace the retained current one
        assert bus.counters.get("events_replayed") == 3
        retained = Recorder(mosquitto.port, "edge/testsite/desk/d3/occupancy")
        (current,) = retained.wait_count(1)
        assert json.loads(current.payload)["seq"] == 4 and current.retain
        retained.close()
        recorder.close()
    finally:
        bus.stop()


def test_a_retained_or_malformed_replay_request_is_refused_and_counted(mosquitto: Mosquitto, tmp_path: Path) -> None:
    bus = make_bus(mosquitto.port, tmp_path / "state")
    bus.start()
    try:
        bus.publish_event(BadgeScan(reader="r1", token=token(1)))
        assert bus.wait_drained(10)
        publish(mosquitto.port, "edge/testsite/node/n1/replay", b'{"v":1,"first_seq":1,"last_seq":1}', retain=True)
        publish(mosquitto.port, "edge/testsite/node/n1/replay", b"replay everything")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and bus.counters.get("replay_refused.not_json") == 0:
            time.sleep(0.05)
        assert bus.counters.get("replay_refused.retained") == 1
        assert bus.counters.get("replay_refused.not_json") == 1
        assert bus.counters.get("events_replayed") == 0
        assert bus.outbox.depth == 0
    finally:
        publish(mosquitto.port, "edge/testsite/node/n1/replay", b"", retain=True)
        bus.stop()


def test_once_its_backlog_is_delivered_the_node_says_so_without_waiting_for_the_status_interval(
    tmp_path: Path,
) -> None:
    broker = Mosquitto(tmp_path / "mosquitto")  # its port is chosen; nothing listens there yet
    bus = Bus(parse_config(node_yaml(broker.port, tmp_path / "state").replace("0.5", "300")), "test")
    bus.start()
    try:
        for i in range(5):
            bus.publish_event(BadgeScan(reader="r1", token=token(i)))
        broker.start()
        recorder = Recorder(broker.port, "edge/testsite/node/n1/status")
        assert bus.wait_drained(20)
        depths = lambda: [json.loads(m.payload)["outbox_depth"] for m in recorder.messages]  # noqa: E731
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (not depths() or depths()[-1] != 0):
            time.sleep(0.05)
        assert depths()[-1] == 0, depths()
        assert max(depths()) > 0  # the status on connecting still counted the backlog
        recorder.close()
    finally:
        bus.stop()
        broker.kill()


@pytest.mark.parametrize(
    ("daemon", "max_packet_size", "size", "delivered"),
    [
        ("badge", None, SMALL_PACKET_BYTES + 1, False),  # a daemon that reads no snapshot never reads a big message
        ("presence", None, largest_payload("edge/testsite/big", SMALL_PACKET_BYTES), True),
        ("door", None, 1024 * 1024, True),  # the door reads the signed member snapshot
        ("door", None, LARGE_PACKET_BYTES + 1, False),
        ("badge", 4 * SMALL_PACKET_BYTES, 2 * SMALL_PACKET_BYTES, True),  # mqtt.max_packet_size overrides
    ],
)
def test_the_broker_never_sends_a_daemon_a_packet_above_the_size_it_announced(
    mosquitto: Mosquitto, tmp_path: Path, daemon: str, max_packet_size: int | None, size: int, delivered: bool
) -> None:
    extra = f"  max_packet_size: {max_packet_size}\n" if max_packet_size else ""
    bus = Bus(parse_config(node_yaml(mosquitto.port, tmp_path / "state").replace("mqtt:\n", f"mqtt:\n{extra}")), daemon)
    received: list[bytes] = []
    events = {b"before": threading.Event(), b"after": threading.Event()}

    def handle(message: Message) -> None:
        received.append(message.payload)
        if message.payload in events:
            events[message.payload].set()

    # Retained, so it arrives when the subscription takes effect: from then on nothing published is missed.
    publish(mosquitto.port, "edge/testsite/big", b"before", retain=True)
    bus.subscribe("edge/testsite/big", handle)
    bus.start()
    try:
        assert events[b"before"].wait(10)
        publish(mosquitto.port, "edge/testsite/big", b"x" * size)
        publish(mosquitto.port, "edge/testsite/big", b"after")
        # The broker delivers in order: once "after" is here, a big message sent to us would have come first.
        assert events[b"after"].wait(10)
    finally:
        bus.stop()
    assert (b"x" * size in received) is delivered


def test_the_collector_never_reads_a_packet_above_the_small_size(mosquitto: Mosquitto, tmp_path: Path) -> None:
    config = parse_config(node_yaml(mosquitto.port, tmp_path / "state"))
    received: list[bytes] = []
    events = {b"before": threading.Event(), b"after": threading.Event()}

    def deliver(batch: list[Inbound]) -> None:
        for message in batch:
            received.append(message.payload)
            link.ack(message.generation, [message.mid])
            if message.payload in events:
                events[message.payload].set()

    publish(mosquitto.port, "edge/testsite/big", b"before", retain=True)
    link = Link(
        config.mqtt,
        "edge-testsite-n1-collector",
        subscriptions=["edge/testsite/big"],
        deliver=deliver,
        counters=Counters(),
        session_expiry_s=60,
        receive_maximum=10,
    )
    link.start()
    try:
        assert events[b"before"].wait(10)
        publish(mosquitto.port, "edge/testsite/big", b"x" * (SMALL_PACKET_BYTES + 1))
        publish(mosquitto.port, "edge/testsite/big", b"after")
        assert events[b"after"].wait(10)
    finally:
        link.stop()
    assert received == [b"before", b"after"]
