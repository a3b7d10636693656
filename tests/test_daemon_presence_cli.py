"""`edge presence` end to end: the real CLI as a subprocess, a pty LD2410 radar or the pin bridge, a real Mosquitto."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.hardware.sim.ld2410 import EMPTY, RadarSimulator, someone
from edge.hardware.sim.pinbridge import PinBridgeClient
from tests.presence_support import (
    NODE,
    desk_states,
    desk_topic,
    radar_presence,
    retained_now,
    start_daemon,
    statuses,
    stop_daemon,
    wait_state,
    write_config,
    zone_counts,
    zone_topic,
)
from tests.rig.fixtures import run_edge
from tests.rig.mqtt import Recorder
from tests.rig.servers import Mosquitto
from tests.rig.waiting import wait_until

SEAT_PRESENCE = """  heartbeat_s: 3600
  zones: [{name: east}]
  desks:
    - name: e01
      zone: east
      sensors: [{type: seat, pin: 17}]
"""


@pytest.fixture
def dev_dir() -> Iterator[Path]:
    """A temporary folder under /dev (tmpfs), where a serial-device path is allowed to live."""
    path = Path(tempfile.mkdtemp(prefix="edge-test-", dir="/dev/shm"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def radar(dev_dir: Path) -> Iterator[RadarSimulator]:
    sim = RadarSimulator(dev_dir / "ttyRADAR", rate_hz=20, reading=EMPTY).start()
    yield sim
    sim.stop()


def test_radar_states_are_published_retained_and_an_unplugged_radar_recovers(
    mosquitto: Mosquitto, radar: RadarSimulator, tmp_path: Path
) -> None:
    config = write_config(tmp_path, mosquitto.port, radar_presence(radar.link))
    recorder = Recorder(mosquitto.port, "edge/lyon/#")
    proc = start_daemon(config, tmp_path / "presence.log")
    try:
        wait_state(recorder, "e01", "vacant")  # an empty room, watched for the whole release hold
        radar.show(someone(90))
        wait_state(recorder, "e01", "occupied")
        assert recorder.wait_for(lambda ms: zone_counts(ms, "east")[-1:] == [(1, 0, 0, 1)])
        retained = retained_now(mosquitto.port, "edge/lyon/+/+/occupancy", expect=2)
        assert {m.topic: json.loads(m.payload)["state" if "desk" in m.topic else "occupied"] for m in retained} == {
            desk_topic("e01"): "occupied",
            zone_topic("east"): 1,
        }

        radar.unplug()
        wait_state(recorder, "e01", "unknown")
        assert proc.alive()
        radar.replug()
        wait_state(recorder, "e01", "occupied")
    finally:
        code = stop_daemon(proc)
    assert code == 0, (tmp_path / "presence.log").read_text()
    assert desk_states(recorder.messages, "e01") == ["unknown", "vacant", "occupied", "unknown", "occupied"]
    status = retained_now(mosquitto.port, f"edge/lyon/node/{NODE}/status", expect=1)
    assert [json.loads(m.payload)["state"] for m in status] == ["offline"]
    recorder.close()


def test_a_silent_radar_makes_its_desk_unknown_and_counts_frames(
    mosquitto: Mosquitto, radar: RadarSimulator, tmp_path: Path
) -> None:
    config = write_config(tmp_path, mosquitto.port, radar_presence(radar.link))
    recorder = Recorder(mosquitto.port, "edge/lyon/#")
    proc = start_daemon(config, tmp_path / "presence.log")
    try:
        wait_state(recorder, "e01", "vacant")
        radar.silence()
        wait_state(recorder, "e01", "unknown")
        assert recorder.wait_for(
            lambda ms: any(
                s["counters"].get("sensor.e01.ld2410.silent") == 1 and s["counters"].get("radar.frames", 0) > 0
                for s in statuses(ms, NODE)
            )
        )
    finally:
        assert stop_daemon(proc) == 0
    recorder.close()


def test_a_restarted_daemon_starts_unknown_not_vacant(
    mosquitto: Mosquitto, radar: RadarSimulator, tmp_path: Path
) -> None:
    config = write_config(tmp_path, mosquitto.port, radar_presence(radar.link))
    first = Recorder(mosquitto.port, "edge/lyon/#")
    proc = start_daemon(config, tmp_path / "first.log")
    try:
        wait_state(first, "e01", "vacant")
    finally:
        assert stop_daemon(proc) == 0
    first.close()
    second = Recorder(mosquitto.port, "edge/lyon/#")
    proc = start_daemon(config, tmp_path / "second.log")
    try:
        assert second.wait_for(lambda ms: len(desk_states(ms, "e01", live=True)) >= 2)
    finally:
        assert stop_daemon(proc) == 0
    assert desk_states(second.messages, "e01", live=True) == ["unknown", "vacant"]
    second.close()


def test_simulated_pins_drive_a_seat_through_the_pin_bridge_on_an_accelerated_clock(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    config = write_config(tmp_path, mosquitto.port, SEAT_PRESENCE)  # default hysteresis: 2 s in, 60 s out
    recorder = Recorder(mosquitto.port, "edge/lyon/#")
    sim = tmp_path / "sim"
    proc = start_daemon(
        config, tmp_path / "presence.log", "--simulate", str(sim), "--sim-clock", "2030-01-07T08:00:00+00:00@60"
    )
    bridge_path = sim / f"{NODE}.pins"
    try:
        wait_until(bridge_path.exists, timeout=30, what="the pin bridge socket")
        bridge = PinBridgeClient(bridge_path)
        wait_until(lambda: 17 in bridge.pins(), timeout=30, what="the seat pin to be set up")
        wait_state(recorder, "e01", "vacant")  # 60 simulated seconds of an empty seat
        bridge.drive(17, 0)  # pressed: the switch pulls the pin to ground
        wait_state(recorder, "e01", "occupied")
        bridge.drive(17, 1)
        wait_state(recorder, "e01", "vacant")
        bridge.close()
    finally:
        code = stop_daemon(proc)
    assert code == 0, (tmp_path / "presence.log").read_text()
    assert desk_states(recorder.messages, "e01") == ["unknown", "vacant", "occupied", "vacant"]
    stamps = [json.loads(m.payload)["since"] for m in recorder.messages if m.topic == desk_topic("e01")]
    assert all(s.startswith("2030-01-07T08:") for s in stamps)  # the daemon ran on the simulated clock
    assert not bridge_path.exists()
    recorder.close()


def test_a_config_without_presence_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "n.yaml"
    path.write_text("site: a\nnode: b\n")
    result = run_edge("presence", "-c", str(path), timeout=30)
    assert result.returncode == 2
    assert "presence" in result.stderr


def test_a_bad_presence_config_exits_2_with_the_key_path(tmp_path: Path) -> None:
    path = tmp_path / "n.yaml"
    path.write_text(
        "site: a\nnode: b\npresence:\n  zones: [{name: z}]\n  desks:\n"
        "    - {name: d, zone: nowhere, sensors: [{type: seat, pin: 17}]}\n"
    )
    result = run_edge("presence", "-c", str(path), timeout=30)
    assert result.returncode == 2
    assert "presence.desks[0].zone" in result.stderr


def test_a_second_daemon_for_the_same_node_is_refused(mosquitto: Mosquitto, tmp_path: Path) -> None:
    config = write_config(tmp_path, mosquitto.port, SEAT_PRESENCE)
    sim = tmp_path / "sim"
    proc = start_daemon(config, tmp_path / "first.log", "--simulate", str(sim))
    try:
        wait_until((sim / f"{NODE}.pins").exists, timeout=30, what="the first daemon to run")
        result = run_edge("presence", "-c", str(config), "--simulate", str(tmp_path / "sim2"), timeout=30)
    finally:
        assert stop_daemon(proc) == 0
    assert result.returncode == 1
    assert "already used" in result.stderr
