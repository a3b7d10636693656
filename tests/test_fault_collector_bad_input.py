"""Bad input on every event topic `edge collector` subscribes to (it takes P/#): too large, non-JSON, wrong-type,
unknown-version and binary payloads are quarantined and counted, and the good events around them all arrive.

A payload above the 16 KiB event limit that fits the collector's 64 KiB Maximum Packet Size reaches it and is
quarantined as `too_large`; a 2 MiB one never reaches it at all: the broker drops it for the collector (and logs
"Dropping too large outgoing PUBLISH")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge.contract import Kind
from edge.contract.limits import default_max_packet_size
from edge.contract.payloads import MAX_EVENT_BYTES
from tests.collector_support import (
    TOPICS,
    CollectorProcess,
    Publisher,
    collector_yaml,
    desk_event,
    store_ids,
    store_value,
    wire,
)
from tests.fault_support import bad_payloads
from tests.rig.mqtt import Recorder
from tests.rig.servers import Mosquitto
from tests.rig.waiting import wait_until

pytestmark = pytest.mark.usefixtures("no_leftover_collectors")  # a collector a failed test left running

# Every event topic a node publishes on (the collector subscribes to all of P/#).
EVENT_TOPICS = {
    Kind.BADGE_SCAN: TOPICS.for_kind(Kind.BADGE_SCAN, "inside"),
    Kind.DOOR_ACCESS: TOPICS.for_kind(Kind.DOOR_ACCESS, "front"),
    Kind.DOOR_ALARM: TOPICS.for_kind(Kind.DOOR_ALARM, "front"),
    Kind.DOOR_STATE: TOPICS.for_kind(Kind.DOOR_STATE, "front"),
    Kind.DESK_OCCUPANCY: TOPICS.for_kind(Kind.DESK_OCCUPANCY, "d1"),
    Kind.ZONE_OCCUPANCY: TOPICS.for_kind(Kind.ZONE_OCCUPANCY, "z1"),
}


def counters(port: int) -> dict[str, int]:
    recorder = Recorder(port, TOPICS.node_status("col"))
    recorder.wait_for(lambda ms: bool(ms), timeout=5)
    recorder.close()
    return dict(json.loads(recorder.messages[-1].payload)["counters"]) if recorder.messages else {}


def test_bad_payloads_on_every_event_topic_are_quarantined_counted_and_the_rest_flows(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    config = tmp_path / "collector.yaml"
    config.write_text(collector_yaml(mosquitto.port, tmp_path / "state"))
    collector = CollectorProcess(config, mosquitto.port).start()
    store = tmp_path / "state" / "collector.sqlite3"
    publisher = Publisher(mosquitto.port)
    good = [desk_event(i) for i in range(200)]
    payloads = bad_payloads(wire(desk_event(0))[1])
    never_sent = {"oversized": payloads.pop("oversized")}  # 2 MiB: above what the collector announced
    payloads["above_event_limit"] = b'{"pad":"' + b"x" * (2 * MAX_EVENT_BYTES) + b'"}'
    assert len(payloads["above_event_limit"]) < default_max_packet_size("collector") - 1024
    bad = [(topic, payload) for topic in EVENT_TOPICS.values() for payload in payloads.values()]
    dropped = [(topic, payload) for topic in EVENT_TOPICS.values() for payload in never_sent.values()]
    publisher.send([wire(e) for e in good[:100]] + dropped + bad + [wire(e) for e in good[100:]])
    wait_until(lambda: len(store_ids(store)) >= len(good), 30, info=lambda: collector.output()[-2000:])
    wait_until(lambda: store_value(store, "SELECT COUNT(*) FROM quarantine") == len(bad), 20)
    too_large = "SELECT COUNT(*) FROM quarantine WHERE reason = 'too_large'"
    assert store_value(store, too_large) == len(EVENT_TOPICS)  # the above-limit ones; the 2 MiB ones never came
    assert sorted(store_ids(store)) == sorted(e.envelope.id for e in good)
    with_reason = store_value(store, "SELECT COUNT(DISTINCT topic) FROM quarantine")
    assert with_reason == len(EVENT_TOPICS)  # every topic's garbage was seen and kept for inspection
    wait_until(lambda: counters(mosquitto.port).get("quarantined") == len(bad), 15)
    assert collector.alive()
    # Still working afterwards.
    later = [desk_event(i) for i in range(200, 250)]
    publisher.send([wire(e) for e in later])
    wait_until(lambda: len(store_ids(store)) >= len(good) + len(later), 20)
    publisher.close()
    assert collector.stop() == 0
    assert "Traceback" not in collector.output()
