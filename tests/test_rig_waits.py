"""The test rig's waits for events: a QoS 1 duplicate (the same event delivered again, as after a broker restart)
never ends a wait for N events early. Against a real Mosquitto."""

from __future__ import annotations

import json
import threading

from tests.rig.mqtt import Recorder, first_deliveries, publish
from tests.rig.servers import Mosquitto

TOPIC = "edge/testsite/badge/r1/scan"


def event(event_id: str) -> bytes:
    return json.dumps({"v": 1, "id": event_id, "seq": 1, "reader": "r1"}).encode()


def test_a_duplicate_delivery_does_not_end_a_wait_for_events(mosquitto: Mosquitto) -> None:
    recorder = Recorder(mosquitto.port, "edge/testsite/#")
    try:
        for event_id in ("a", "a", "b"):  # "a" delivered twice: three deliveries, two events
            publish(mosquitto.port, TOPIC, event(event_id))
        assert len(recorder.wait_count(3)) == 3
        late = threading.Timer(0.5, publish, args=(mosquitto.port, TOPIC, event("c")))
        late.start()
        delivered = recorder.wait_events(3)
        late.join()
    finally:
        recorder.close()
    assert [m.event_id for m in delivered] == ["a", "a", "b", "c"]  # every delivery, duplicates kept
    assert [m.event_id for m in first_deliveries(delivered)] == ["a", "b", "c"]


def test_a_wait_for_ids_ends_when_each_has_arrived_and_not_before(mosquitto: Mosquitto) -> None:
    recorder = Recorder(mosquitto.port, "edge/testsite/#")
    try:
        publish(mosquitto.port, TOPIC, event("a"))
        publish(mosquitto.port, TOPIC, event("a"))
        assert not recorder.wait_ids({"a", "b"}, timeout=0.5)
        publish(mosquitto.port, TOPIC, event("b"))
        assert recorder.wait_ids({"a", "b"})
    finally:
        recorder.close()


def test_a_message_without_an_event_id_is_not_an_event(mosquitto: Mosquitto) -> None:
    recorder = Recorder(mosquitto.port, "edge/testsite/#")
    try:
        for payload in (b'{"state": "online"}', b"not json", b"[1]", event("a")):
            publish(mosquitto.port, TOPIC, payload)
        delivered = recorder.wait_events(1)
    finally:
        recorder.close()
    assert [m.event_id for m in delivered] == [None, None, None, "a"]
