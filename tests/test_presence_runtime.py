"""Config -> sensor drivers -> loop -> desk updates, in process: MockFactory pins, a pty radar, real time."""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from gpiozero import DigitalOutputDevice
from gpiozero.pins.mock import MockFactory

from edge.clock import SystemClock
from edge.config import parse_config
from edge.hardware.sim.ld2410 import EMPTY, RadarSimulator, someone
from edge.hardware.sim.pins import PirSimulator, SwitchSimulator
from edge.occupancy import (
    DeskUpdate,
    Fault,
    Hysteresis,
    Occupancy,
    OccupancyTracker,
    Presence,
    SensorKind,
    ZoneCounts,
    ZoneSpec,
)
from edge.presence import DeskSensors, PresenceLoop, desk_specs, hysteresis_for, zone_specs
from tests.occupancy_script import desk, seat
from tests.rig.waiting import wait_until

CONFIG = """
site: s
node: n
presence:
  heartbeat_s: 3600
  hysteresis:
    seat: {{enter_s: 0.1, release_s: 0.3}}
    pir: {{enter_s: 0.1, release_s: 0.3, gap_s: 0.05}}
    ld2410: {{enter_s: 0.1, release_s: 0.3, gap_s: 0.2}}
  zones: [{{name: z}}]
  desks:
    - name: a
      zone: z
      sensors: [{{type: seat, pin: 17, bounce_s: 0}}]
    - name: b
      zone: z
      sensors: [{{type: pir, pin: 4, warmup_s: 0.3, sample_rate_hz: 50}}]
    - name: c
      zone: z
      sensors: [{{type: ld2410, port: {port}, silence_s: 1}}]
      hysteresis:
        ld2410: {{enter_s: 0.2}}
"""


@pytest.fixture
def dev_dir():
    """A temporary folder under /dev (tmpfs), where a serial-device path is allowed to live."""
    path = Path(tempfile.mkdtemp(prefix="edge-test-", dir="/dev/shm"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Updates:
    """Collects the loop's updates."""

    def __init__(self):
        self.items = []
        self._lock = threading.Lock()

    def __call__(self, updates):
        with self._lock:
            self.items.extend(updates)

    def state(self, desk):
        with self._lock:
            states = [u.state for u in self.items if isinstance(u, DeskUpdate) and u.desk == desk]
        return states[-1] if states else None

    def desk_states(self, desk):
        with self._lock:
            return [u.state for u in self.items if isinstance(u, DeskUpdate) and u.desk == desk and not u.heartbeat]

    def zones(self):
        with self._lock:
            return [u for u in self.items if isinstance(u, ZoneCounts)]


def test_hysteresis_layers_apply_node_then_desk_overrides(dev_dir):
    presence = parse_config(CONFIG.format(port=dev_dir / "tty"), check_secrets=False).presence
    assert presence is not None
    desk_c = presence.desks[2]
    assert hysteresis_for(SensorKind.LD2410, presence.hysteresis, desk_c.hysteresis) == Hysteresis(0.2, 0.3, 0.2)
    assert hysteresis_for(SensorKind.SEAT) == Hysteresis(2.0, 60.0, 0.0)
    specs = {d.name: d for d in desk_specs(presence)}
    assert specs["b"].sensors[0].warmup_s == 0.3
    assert specs["c"].sensors[0].radar is not None and specs["c"].sensors[0].radar.silence_s == 1


def test_desks_follow_their_sensors_through_the_loop(dev_dir):
    presence = parse_config(CONFIG.format(port=dev_dir / "ttyRADAR"), check_secrets=False).presence
    assert presence is not None
    factory = MockFactory()
    clock = SystemClock()
    updates = Updates()
    tracker = OccupancyTracker(desk_specs(presence), zone_specs(presence), clock, presence.heartbeat_s)
    loop = PresenceLoop(tracker, updates, clock).start()
    radar = RadarSimulator(dev_dir / "ttyRADAR", rate_hz=20, reading=EMPTY).start()
    sensors = DeskSensors(presence, loop.post, clock=clock, pin_factory=factory)
    seat, room = SwitchSimulator(factory, 17), PirSimulator(factory, 4)
    seat.release()
    room.still()
    sensors.start()
    try:
        wait_until(lambda: updates.zones(), what="the first zone counts")
        assert updates.zones()[0] == ZoneCounts("z", occupied=0, vacant=0, unknown=3)
        assert loop.alive() and sensors.alive()

        seat.press()
        wait_until(lambda: updates.state("a") is Occupancy.OCCUPIED, what="desk a occupied")
        room.motion()
        wait_until(lambda: updates.state("b") is Occupancy.OCCUPIED, what="desk b occupied after warm-up")
        radar.show(someone(90))
        wait_until(lambda: updates.state("c") is Occupancy.OCCUPIED, what="desk c occupied")
        assert updates.zones()[-1] == ZoneCounts("z", occupied=3, vacant=0, unknown=0)

        radar.unplug()
        wait_until(lambda: updates.state("c") is Occupancy.UNKNOWN, what="desk c unknown when unplugged")
        radar.replug()
        wait_until(lambda: updates.state("c") is Occupancy.OCCUPIED, what="desk c back after replug")

        seat.release()
        wait_until(lambda: updates.state("a") is Occupancy.VACANT, what="desk a vacant after the hold")
        radar.silence()
        wait_until(lambda: updates.state("c") is Occupancy.UNKNOWN, what="desk c unknown when silent")
    finally:
        sensors.close()
        loop.stop()
        radar.stop()
        factory.reset()
    assert not loop.alive() and not sensors.alive()
    assert updates.desk_states("a") == [Occupancy.UNKNOWN, Occupancy.OCCUPIED, Occupancy.VACANT]
    assert (loop.dropped, loop.rejected, loop.callback_errors) == (0, 0, 0)


def test_a_sensor_that_cannot_open_is_offline_and_the_others_run(dev_dir):
    presence = parse_config(CONFIG.format(port=dev_dir / "ttyRADAR"), check_secrets=False).presence
    assert presence is not None
    factory = MockFactory()
    clock = SystemClock()
    updates = Updates()
    tracker = OccupancyTracker(desk_specs(presence), zone_specs(presence), clock, presence.heartbeat_s)
    loop = PresenceLoop(tracker, updates, clock).start()
    blocker = DigitalOutputDevice(17, pin_factory=factory)  # something else holds the seat's pin
    try:
        sensors = DeskSensors(presence, loop.post, clock=clock, pin_factory=factory)
        assert sensors.failed == [("a", "seat")]
        sensors.start()
        wait_until(lambda: tracker.desks["a"].views()[0].fault is Fault.OFFLINE, what="desk a offline")
        sensors.close()
    finally:
        blocker.close()
        loop.stop()
        factory.reset()


def test_a_bad_observation_is_counted_and_the_loop_keeps_running():
    clock = SystemClock()
    updates = Updates()
    tracker = OccupancyTracker([desk(seat(), zone="z")], [ZoneSpec("z")], clock)
    loop = PresenceLoop(tracker, updates, clock).start()
    try:
        loop.post("nope", "seat", True)
        loop.post("d1", "seat", "yes")
        loop.post("d1", "seat", True)
        wait_until(lambda: updates.state("d1") is Occupancy.OCCUPIED, timeout=15, what="the good observation")
    finally:
        loop.stop()
    assert loop.rejected == 2


def test_a_full_queue_drops_and_counts():
    clock = SystemClock()
    tracker = OccupancyTracker([desk(seat(), zone="z")], [ZoneSpec("z")], clock)
    loop = PresenceLoop(tracker, Updates(), clock, max_pending=2)  # not started: nothing drains the queue
    assert [loop.post("d1", "seat", True) for _ in range(3)] == [True, True, False]
    assert loop.dropped == 1


def test_a_loop_stuck_in_its_callback_is_not_alive():
    clock = SystemClock()
    release = threading.Event()
    entered = threading.Event()

    def stuck(updates):
        entered.set()
        release.wait(10)

    tracker = OccupancyTracker([desk(seat(), zone="z")], [ZoneSpec("z")], clock)
    loop = PresenceLoop(tracker, stuck, clock).start()
    try:
        entered.wait(10)
        wait_until(lambda: not loop.alive(stall_s=0.05), what="the stall to show")
        release.set()
        wait_until(lambda: loop.alive(stall_s=0.05), what="the loop to recover")
    finally:
        release.set()
        loop.stop()


def test_inspect_asks_the_loop_thread_about_its_tracker():
    clock = SystemClock()
    tracker = OccupancyTracker([desk(seat(), zone="z")], [ZoneSpec("z")], clock)
    loop = PresenceLoop(tracker, Updates(), clock)
    assert loop.inspect(lambda t: 1) is None  # not started: nobody to ask
    loop.start()
    try:
        loop.post("d1", "seat", True)
        thread = loop.inspect(lambda t: threading.current_thread().name)
        raw = loop.inspect(lambda t: [v.raw for v in t.desks["d1"].views()])
    finally:
        loop.stop()
    assert thread == "presence loop"
    assert raw == [Presence.PRESENT]  # the observation queued before the question was applied first
    assert loop.inspect(lambda t: 1) is None  # stopped


def test_a_failing_inspection_answers_none_and_the_loop_keeps_running():
    clock = SystemClock()
    tracker = OccupancyTracker([desk(seat(), zone="z")], [ZoneSpec("z")], clock)
    loop = PresenceLoop(tracker, Updates(), clock).start()
    try:
        assert loop.inspect(lambda t: t.desks["nope"]) is None
        assert loop.inspect(lambda t: len(t.desks)) == 1
        assert loop.alive()
    finally:
        loop.stop()
