"""PIR and seat-switch drivers on gpiozero MockFactory pins: levels, wiring variants, debounce, PIR warm-up."""

from __future__ import annotations

import threading
import time

import pytest
from gpiozero.pins.mock import MockFactory

from edge.clock import ManualClock
from edge.hardware.pir import PirSensor
from edge.hardware.seat import SeatSwitch
from edge.hardware.sim.pins import PirSimulator, SwitchSimulator
from edge.occupancy import Occupancy, OccupancyTracker, ZoneSpec
from tests.occupancy_script import START, desk, pir
from tests.rig.waiting import wait_until


class Levels:
    """Records (level, at) reports from a driver's thread."""

    def __init__(self):
        self.reports = []
        self._lock = threading.Lock()

    def __call__(self, level, at):
        with self._lock:
            self.reports.append((level, at))

    def levels(self):
        with self._lock:
            return [level for level, _ in self.reports]


@pytest.fixture
def factory():
    factory = MockFactory()
    yield factory
    factory.reset()


# --- seat switch -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pull", "active_high", "sim_active_low"),
    [
        ("up", None, True),  # microswitch to ground, internal pull-up
        ("down", None, False),  # capacitive module driving high when touched
        ("up", True, False),  # normally-closed switch: opens (pulled high) when someone sits
        ("none", False, True),  # external pull-up resistor
    ],
)
def test_seat_reports_the_initial_level_then_presses(factory, pull, active_high, sim_active_low):
    levels = Levels()
    switch = SeatSwitch(17, on_change=levels, pull=pull, active_high=active_high, bounce_s=0, pin_factory=factory)
    person = SwitchSimulator(factory, 17, active_low=sim_active_low)
    person.release()  # nobody sitting: whatever level the pull left the pin at
    with switch:
        person.press()
        person.release()
    assert levels.levels() == [False, True, False]


def test_seat_edge_time_is_the_clock_at_the_edge(factory):
    clock = ManualClock(START, monotonic=100.0)
    levels = Levels()
    person = SwitchSimulator(factory, 17)
    with SeatSwitch(17, on_change=levels, bounce_s=0, clock=clock, pin_factory=factory):
        clock.advance(5)
        person.press()
    assert levels.reports == [(False, 100.0), (True, 105.0)]


def test_seat_chatter_settles_into_one_report(factory):
    levels = Levels()
    person = SwitchSimulator(factory, 17)
    with SeatSwitch(17, on_change=levels, bounce_s=0.2, pin_factory=factory):
        person.chatter(9, end_pressed=True)
        wait_until(lambda: levels.levels() == [False, True], what="the settled press")
        time.sleep(0.3)  # nothing else is still pending
    assert levels.levels() == [False, True]


def test_seat_glitch_shorter_than_the_bounce_is_not_reported(factory):
    levels = Levels()
    person = SwitchSimulator(factory, 17)
    with SeatSwitch(17, on_change=levels, bounce_s=0.2, pin_factory=factory):
        person.press()
        wait_until(lambda: levels.levels() == [False, True], what="the press")
        person.release()
        person.press()
        time.sleep(0.4)  # past the debounce: the glitch would have been reported by now
    assert levels.levels() == [False, True]


def test_seat_stops_reporting_when_closed(factory):
    levels = Levels()
    person = SwitchSimulator(factory, 17)
    switch = SeatSwitch(17, on_change=levels, bounce_s=0.1, pin_factory=factory).start()
    person.press()
    switch.close()
    time.sleep(0.2)
    assert levels.levels() == [False]


def test_floating_seat_input_needs_its_active_level(factory):
    with pytest.raises(ValueError, match="active_high"):
        SeatSwitch(17, on_change=Levels(), pull="none", pin_factory=factory)


# --- PIR ---------------------------------------------------------------------------------------------------


def test_pir_reports_motion_and_its_end(factory):
    levels = Levels()
    room = PirSimulator(factory, 4)
    with PirSensor(4, on_change=levels, sample_rate_hz=100, pin_factory=factory):
        room.motion()
        wait_until(lambda: levels.levels() == [False, True], what="motion")
        room.still()
        wait_until(lambda: levels.levels() == [False, True, False], what="no motion")


def test_pir_pulse_ends_after_the_hold_time(factory):
    levels = Levels()
    room = PirSimulator(factory, 4)
    with PirSensor(4, on_change=levels, sample_rate_hz=100, pin_factory=factory):
        room.pulse(0.05)
        wait_until(lambda: levels.levels() == [False, True, False], what="the pulse")


def test_pir_motion_during_warmup_is_ignored_until_it_ends(factory):
    clock = ManualClock(START, monotonic=0.0)
    tracker = OccupancyTracker([desk(pir())], [ZoneSpec("z")], clock)
    levels = Levels()
    room = PirSimulator(factory, 4)

    with PirSensor(4, on_change=levels, clock=clock, sample_rate_hz=100, pin_factory=factory):
        clock.advance(1)
        room.motion()  # a false trigger while warming up, and it stays high
        wait_until(lambda: len(levels.reports) == 2, what="motion")
        for level, at in levels.reports:
            tracker.observe("d1", "pir", level, at)
        assert [at for _, at in levels.reports] == [0.0, 1.0]
        clock.advance(58.9)
        tracker.tick()
        assert tracker.desks["d1"].state is Occupancy.UNKNOWN
        clock.advance(0.1 + 10)  # warm-up over at 60 s, then the 10 s enter delay
        tracker.tick()
        assert tracker.desks["d1"].state is Occupancy.OCCUPIED
