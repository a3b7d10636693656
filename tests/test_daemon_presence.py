"""The presence daemon in process: MockFactory seat and PIR pins, the real loop, bus and a real Mosquitto.

Hysteresis is shortened in the config (fractions of a second) so real time runs the rules; tests only wait,
with generous timeouts, and never assert how long anything took.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero import DigitalOutputDevice
from gpiozero.pins.mock import MockFactory

from edge.clock import SystemClock
from edge.config import parse_config
from edge.daemons.launch import Launch
from edge.daemons.presence import PresenceService
from edge.hardware.sim.pins import PirSimulator, SwitchSimulator
from tests.presence_support import (
    desk_events,
    desk_states,
    desk_topic,
    retained_now,
    statuses,
    wait_state,
    zone_counts,
    zone_topic,
)
from tests.rig.fixtures import mqtt_section
from tests.rig.mqtt import Recorder, wait_counter
from tests.rig.servers import Mosquitto
from tests.rig.waiting import wait_until

NODE = "desks-east"


def node_config(tmp_path: Path, port: int, *, heartbeat_s: float = 3600, extra: str = "", desks: str = "") -> str:
    """Three desks in two zones: two seat switches, one PIR; seat enter 0.3 s / release 0.6 s."""
    return f"""site: lyon
node: {NODE}
state_dir: {tmp_path / "state"}
status_interval_s: 0.3
{mqtt_section(port)}presence:
  heartbeat_s: {heartbeat_s}
{extra}  hysteresis:
    seat: {{enter_s: 0.3, release_s: 0.6}}
    pir: {{enter_s: 0.2, release_s: 0.6, gap_s: 0.1}}
  zones: [{{name: east}}, {{name: booth}}]
  desks:
    - {{name: e01, zone: east, sensors: [{{type: seat, pin: 17, bounce_s: 0}}]}}
    - {{name: e02, zone: east, sensors: [{{type: seat, pin: 27, bounce_s: 0}}]}}
    - {{name: b01, zone: booth, sensors: [{{type: pir, pin: 22, warmup_s: 0.3, sample_rate_hz: 50}}]}}
{desks}"""


@contextlib.contextmanager
def running(text: str, factory: MockFactory) -> Iterator[PresenceService]:
    """The service started on MockFactory pins; stopped (as on SIGTERM) at the end."""
    launch = Launch(config=parse_config(text), clock=SystemClock(), pin_factory=factory)
    service = PresenceService(launch)
    service.start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    pins = MockFactory()
    yield pins
    pins.reset()


@pytest.fixture
def recorder(mosquitto: Mosquitto) -> Iterator[Recorder]:
    rec = Recorder(mosquitto.port, "#")
    yield rec
    rec.close()


def test_a_seat_pressed_past_the_enter_delay_is_published_occupied_and_retained(
    mosquitto: Mosquitto, recorder: Recorder, factory: MockFactory, tmp_path: Path
) -> None:
    with running(node_config(tmp_path, mosquitto.port), factory):
        SwitchSimulator(factory, 17).press()
        wait_state(recorder, "e01", "occupied")
        retained = retained_now(mosquitto.port, desk_topic("e01"), expect=1)
    assert [json.loads(m.payload)["state"] for m in retained] == ["occupied"]
    event = desk_events(recorder.messages, "e01")[-1]
    assert (event["desk"], event["zone"], event["node"]) == ("e01", "east", NODE)
    assert event["ts"] == event["since"]  # a change happened when it became true


def test_a_released_seat_is_vacant_after_the_hold(
    mosquitto: Mosquitto, recorder: Recorder, factory: MockFactory, tmp_path: Path
) -> None:
    with running(node_config(tmp_path, mosquitto.port), factory):
        seat = SwitchSimulator(factory, 17)
        seat.press()
        wait_state(recorder, "e01", "occupied")
        seat.release()
        wait_state(recorder, "e01", "vacant")
    assert desk_states(recorder.messages, "e01") == ["unknown", "occupied", "vacant"]
    occupied, vacant = desk_events(recorder.messages, "e01")[-2:]
    assert vacant["since"] > occupied["since"]


def test_a_bounce_shorter_than_the_enter_delay_publishes_nothing(
    mosquitto: Mosquitto, recorder: Recorder, factory: MockFactory, tmp_path: Path
) -> None:
    with running(node_config(tmp_path, mosquitto.port), factory):
        seat = SwitchSimulator(factory, 17)
        seat.press()
        seat.release()  # a bump, far shorter than the 0.3 s enter delay
        wait_state(recorder, "e01", "vacant")
    assert desk_states(recorder.messages, "e01") == ["unknown", "vacant"]


def test_zone_counts_follow_the_desks(
    mosquitto: Mosquitto, recorder: Recorder, factory: MockFactory, tmp_path: Path
) -> None:
    with running(node_config(tmp_path, mosquitto.port), factory):
        SwitchSimulator(factory, 17).press()
        PirSimulator(factory, 22).motion()
        assert recorder.wait_for(lambda ms: zone_counts(ms, "east")[-1:] == [(1, 1, 0, 2)])
        assert recorder.wait_for(lambda ms: zone_counts(ms, "booth")[-1:] == [(1, 0, 0, 1)])
        retained = retained_now(mosquitto.port, zone_topic("east"), expect=1)
    east = zone_counts(recorder.messages, "east")
    assert east[0] == (0, 0, 2, 2)  # at start every desk is unknown
    assert len(set(east)) == len(east)  # published only when they change
    assert [json.loads(m.payload)["occupied"] for m in retained] == [1]


def test_heartbeats_republish_each_desk_with_the_same_since(
    mosquitto: Mosquitto, recorder: Recorder, factory: MockFactory, tmp_path: Path
) -> None:
    with running(node_config(tmp_path, mosquitto.port, heartbeat_s=0.3), factory):
        SwitchSimulator(factory, 17).press()
        wait_state(recorder, "e01", "occupied")
        assert recorder.wait_for(
            lambda ms: (
                sum(e["state"] == "occupied" for e in desk_events(ms, "e01")) >= 3 and len(desk_events(ms, "e02")) >= 4
            )
        )
    occupied = [e for e in desk_events(recorder.messages, "e01") if e["state"] == "occupied"]
    assert len({e["since"] for e in occupied}) == 1
    assert len({e["id"] for e in occupied}) == len(occupied)
    assert occupied[-1]["ts"] > occupied[0]["ts"]  # a heartbeat is stamped when it is sent
    zones = zone_counts(recorder.messages, "east")
    assert len(set(zones)) == len(zones)  # heartbeats do not repeat zone counts


def test_a_restarted_service_publishes_unknown_first_never_vacant(
    mosquitto: Mosquitto, factory: MockFactory, tmp_path: Path
) -> None:
    text = node_config(tmp_path, mosquitto.port)
    first = Recorder(mosquitto.port, "#")
    with running(text, factory):
        wait_state(first, "e01", "vacant")  # nobody sat down: vacant after the release hold
    first.close()
    factory.reset()

    second = Recorder(mosquitto.port, "#")  # receives the retained vacant first, then the new run live
    with running(text, factory):
        assert second.wait_for(lambda ms: len(desk_states(ms, "e01", live=True)) >= 2)
    second.close()
    assert desk_states(second.messages, "e01", live=False) == ["vacant"]
    assert desk_states(second.messages, "e01", live=True) == ["unknown", "vacant"]
    seqs = [e["seq"] for e in desk_events(second.messages, "e01", live=True)]
    assert seqs[0] > desk_events(second.messages, "e01", live=False)[0]["seq"]  # seq survives the restart


def test_a_sensor_that_cannot_be_opened_leaves_its_desk_unknown_and_says_why(
    mosquitto: Mosquitto, recorder: Recorder, factory: MockFactory, tmp_path: Path
) -> None:
    blocker = DigitalOutputDevice(17, pin_factory=factory)  # something else holds e01's pin
    try:
        with running(node_config(tmp_path, mosquitto.port), factory):
            wait_state(recorder, "e02", "vacant")
            wait_state(recorder, "e01", "unknown")
            # A status is made apart from the desk events: wait for the one that says why (an earlier one may count
            # e01 unknown as every desk is at start, before the failed sensor is reported; seen on a busy CI machine).
            counters = wait_counter(recorder, NODE, "sensor.e01.seat.offline")
    finally:
        blocker.close()
    assert desk_states(recorder.messages, "e01") == ["unknown"]
    assert counters.get("sensor.e01.seat.offline") == 1 and counters["sensors.unknown"] >= 1
    assert counters["desks.unknown"] >= 1


def test_a_radar_that_is_not_there_is_offline_and_its_desk_unknown(
    mosquitto: Mosquitto, recorder: Recorder, factory: MockFactory, tmp_path: Path
) -> None:
    missing = "/dev/shm/edge-test-no-such-radar"
    desks = f"    - {{name: e03, zone: east, sensors: [{{type: ld2410, port: {missing}}}]}}\n"
    with running(node_config(tmp_path, mosquitto.port, desks=desks), factory) as service:
        SwitchSimulator(factory, 17).press()
        wait_state(recorder, "e01", "occupied")
        counters = wait_counter(recorder, NODE, "sensor.e03.ld2410.offline", lambda v: v == 1)
        assert service.alive()  # an absent radar is a sensor fault, not a dead daemon
    assert desk_states(recorder.messages, "e03") == ["unknown"]
    assert counters["radar.e03.ld2410.offline"] == 1
    assert counters["radar.offline"] == 1 and counters["radar.frames"] == 0


def test_the_node_status_counts_queue_drops_and_reports_the_loop_healthy(
    mosquitto: Mosquitto, recorder: Recorder, factory: MockFactory, tmp_path: Path
) -> None:
    with running(node_config(tmp_path, mosquitto.port), factory) as service:
        wait_until(service.alive, timeout=20, what="the service to be alive")
        counters = wait_counter(recorder, NODE, "queue.dropped", lambda v: v == 0)
    assert {"queue.rejected", "loop.errors", "desks.occupied", "desks.vacant", "desks.unknown"} <= set(counters)
    assert not service.alive()


def test_stop_publishes_the_node_offline(
    mosquitto: Mosquitto, recorder: Recorder, factory: MockFactory, tmp_path: Path
) -> None:
    with running(node_config(tmp_path, mosquitto.port), factory):
        wait_state(recorder, "e01", "vacant")
    assert recorder.wait_for(lambda ms: statuses(ms, NODE)[-1:] and statuses(ms, NODE)[-1]["state"] == "offline")
    assert not list((tmp_path / "state").glob("*.pins"))


def test_home_assistant_discovery_announces_the_node_desks_and_zones_retained(
    mosquitto: Mosquitto, factory: MockFactory, tmp_path: Path
) -> None:
    extra = "  home_assistant: true\n  discovery_prefix: ha\n"
    with running(node_config(tmp_path, mosquitto.port, extra=extra), factory):
        retained = retained_now(mosquitto.port, "ha/#", expect=1 + 3 + 2 * 3)
    configs = {m.topic: json.loads(m.payload) for m in retained}
    assert len(configs) == 1 + 3 + 2 * 3  # node + one per desk + occupied/vacant/unknown per zone
    desks = [c for c in configs.values() if c.get("device_class") == "occupancy"]
    assert sorted(c["state_topic"] for c in desks) == sorted(desk_topic(d) for d in ("e01", "e02", "b01"))
    assert all(topic.startswith("ha/") and topic.endswith("/config") for topic in configs)


def test_home_assistant_discovery_is_off_by_default(
    mosquitto: Mosquitto, recorder: Recorder, factory: MockFactory, tmp_path: Path
) -> None:
    with running(node_config(tmp_path, mosquitto.port), factory):
        wait_state(recorder, "e01", "vacant")
        assert recorder.wait_for(lambda ms: any(s["state"] == "online" for s in statuses(ms, NODE)))
    assert not [m.topic for m in recorder.messages if m.topic.startswith("homeassistant/")]
    assert retained_now(mosquitto.port, "homeassistant/#", expect=1, timeout=1) == []


def test_changes_made_while_the_broker_is_down_arrive_after_it_returns_without_a_pile_of_heartbeats(
    factory: MockFactory, tmp_path: Path
) -> None:
    broker = Mosquitto(tmp_path / "mosquitto")  # its port is chosen; nothing listens there yet
    with running(node_config(tmp_path, broker.port, heartbeat_s=0.2), factory) as service:
        seat = SwitchSimulator(factory, 17)
        seat.press()
        wait_until(lambda: service.counters.get("heartbeats_skipped") >= 10, what="heartbeats while offline")
        seat.release()
        wait_until(lambda: service.health()["desks.vacant"] == 3, what="e01 vacant while offline")
        broker.start()
        try:
            recorder = Recorder(broker.port, "#")
            wait_state(recorder, "e01", "vacant")
            # Heartbeats resume: five distinct events (a QoS 1 duplicate of a replayed one does not count).
            assert recorder.wait_for(lambda ms: len({e["id"] for e in desk_events(ms, "e01", live=True)}) >= 5)
            recorder.close()
        finally:
            broker.kill()
    states = [e["state"] for e in desk_events(recorder.messages, "e01")]
    assert states[:3] == ["unknown", "occupied", "vacant"]  # every change, in order, none lost
    assert len({e["since"] for e in desk_events(recorder.messages, "e01")}) == 3
