"""The test rig's waits: a wait for a condition fails the test naming what never happened; a QoS 1 duplicate (the
same event delivered again, as after a broker restart) never ends a wait for N events early; a wait for a counter
reads the latest status; a daemon that exits early ends a wait for it at once. Against a real Mosquitto."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tests.rig.mqtt import Recorder, first_deliveries, publish, wait_counter
from tests.rig.process import EdgeProcess
from tests.rig.servers import Mosquitto
from tests.rig.waiting import wait_until

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


def test_a_wait_that_times_out_fails_the_test_naming_what_never_happened() -> None:
    with pytest.raises(AssertionError, match=r"timed out after 0.2 s waiting for the door to lock: last seen open"):
        wait_until(lambda: False, 0.2, "the door to lock", lambda: "last seen open")


def test_a_wait_ends_when_another_thread_makes_the_condition_true() -> None:
    done = threading.Event()
    threading.Timer(0.2, done.set).start()
    assert wait_until(done.is_set, 30, "the timer")


def status(counters: dict[str, int]) -> bytes:
    return json.dumps({"state": "online", "counters": counters}).encode()


def test_a_counter_wait_looks_at_the_latest_status_not_at_what_a_previous_run_counted(mosquitto: Mosquitto) -> None:
    recorder = Recorder(mosquitto.port, "edge/testsite/#")
    topic = "edge/testsite/node/door-1/status"
    try:
        publish(mosquitto.port, topic, status({"access.granted": 2}))
        publish(mosquitto.port, topic, status({"access.granted": 0}))  # the daemon restarted
        assert recorder.wait_for(lambda ms: len(ms) == 2)
        with pytest.raises(AssertionError, match=r"counter access.granted of door-1; last status: .*: 0\}"):
            wait_counter(recorder, "door-1", "access.granted", timeout=0.5)
        publish(mosquitto.port, topic, status({"access.granted": 1, "access.denied": 0}))
        assert wait_counter(recorder, "door-1", "access.granted") == {"access.granted": 1, "access.denied": 0}
    finally:
        recorder.close()


def test_a_daemon_that_exits_before_it_is_ready_fails_the_wait_at_once_with_its_exit_code(tmp_path: Path) -> None:
    badge = EdgeProcess("badge", "-c", str(tmp_path / "missing.yaml"), log=tmp_path / "badge.log")
    with badge, pytest.raises(AssertionError, match=r"edge badge exited \(2\) before logging 'ready in'"):
        badge.wait_ready(timeout=120)
    assert badge.returncode() == 2
