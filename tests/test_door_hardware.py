"""A door's hardware built from config on MockFactory pins, driven by the simulated door and the controller."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from gpiozero import OutputDevice
from gpiozero.exc import GPIOPinInUse
from gpiozero.pins.mock import MockFactory

from edge.clock import ManualClock
from edge.config.doors import DoorConfig
from edge.door.controller import (
    Alarm,
    AlarmRaised,
    DoorController,
    DoorTimings,
    Effect,
    PlayFeedback,
    SetRelay,
    Step,
)
from edge.door.hardware import DoorHardware
from edge.door.sim import SimulatedDoor

CONFIG = DoorConfig.model_validate(
    {
        "name": "front",
        "relay": {"pin": 17, "lock_type": "fail_safe"},  # maglock via NC on an active-low board
        "contact": {"pin": 27},
        "rex": {"pin": 22},
        "lock_sensor": {"pin": 23, "locked_when": "high", "pull_up": False},
        "feedback": {"led": {"pin": 5}, "buzzer": {"pin": 6, "active_high": False}},
    }
)


@pytest.fixture
def factory():
    factory = MockFactory()
    yield factory
    factory.reset()


def test_every_part_is_built_and_the_relay_starts_locked(factory) -> None:
    with DoorHardware.from_config(CONFIG, pin_factory=factory) as door:
        sim = SimulatedDoor(CONFIG, factory)
        assert door.relay.locked and sim.relay_locked
        sim.close_door()
        sim.set_lock_sensor(True)
        assert door.contact is not None and door.contact.is_closed
        assert door.lock_sensor is not None and door.lock_sensor.is_locked
        sim.set_exit_button(True)
        assert door.exit_button is not None and door.exit_button.is_pressed
        assert door.feedback is not None


def test_close_locks_the_relay_and_releases_every_pin(factory) -> None:
    door = DoorHardware.from_config(CONFIG, pin_factory=factory)
    sim = SimulatedDoor(CONFIG, factory)
    door.relay.unlock()
    door.close()
    assert sim.relay_history()[-2:] == [False, True]
    assert all(factory.pin(pin).function == "input" for pin in (17, 27, 22, 23, 5, 6))


def test_a_failure_while_claiming_pins_leaves_the_relay_locked_and_released(factory) -> None:
    squatter = OutputDevice(23, pin_factory=factory)  # something else holds the lock sensor's pin
    with pytest.raises(GPIOPinInUse):
        DoorHardware.from_config(CONFIG, pin_factory=factory)
    assert SimulatedDoor(CONFIG, factory).relay_locked
    assert factory.pin(17).function == "input" and factory.pin(27).function == "input"
    squatter.close()


class Loop:
    """The glue the daemon will be: input callbacks -> controller -> effects -> hardware, on a manual clock."""

    def __init__(self, factory: MockFactory) -> None:
        self.clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
        self.hardware = DoorHardware.from_config(CONFIG, pin_factory=factory)
        self.controller = DoorController(DoorTimings(unlock_s=CONFIG.unlock_s))
        self.effects: list[Effect] = []
        self.sim = SimulatedDoor(CONFIG, factory)
        self.apply(self.controller.start(self.now))
        assert self.hardware.contact and self.hardware.exit_button
        self.hardware.contact.when_changed = lambda closed: self.apply(
            self.controller.contact_changed(closed, self.now)
        )
        self.hardware.exit_button.when_changed = self.exit_changed

    def exit_changed(self, pressed: bool) -> None:
        if pressed:
            self.apply(self.controller.request_exit(self.now))

    @property
    def now(self) -> float:
        return self.clock.monotonic()

    def apply(self, step: Step) -> None:
        for effect in step.effects:
            self.effects.append(effect)
            if isinstance(effect, SetRelay):
                self.hardware.relay.lock() if effect.locked else self.hardware.relay.unlock()
            elif isinstance(effect, PlayFeedback) and self.hardware.feedback:
                self.hardware.feedback.play(effect.pattern)

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.apply(self.controller.tick(self.now))


def test_a_grant_pulses_the_relay_pin_and_the_closing_door_relocks_it(factory) -> None:
    loop = Loop(factory)
    loop.sim.close_door()
    loop.apply(loop.controller.grant(loop.now))
    assert not loop.sim.relay_locked
    loop.clock.advance(1)
    loop.sim.open_door()
    loop.clock.advance(1)
    loop.sim.close_door()
    assert loop.sim.relay_locked
    assert loop.sim.relay_history()[1:] == [True, False, True]  # after the pre-claim reading
    loop.hardware.close()


def test_the_exit_button_before_the_door_opens_unlocks_without_an_alarm(factory) -> None:
    loop = Loop(factory)
    loop.sim.close_door()
    loop.sim.set_exit_button(True)
    assert not loop.sim.relay_locked
    loop.sim.open_door()
    loop.advance(5)
    assert loop.sim.relay_locked
    assert not any(isinstance(effect, AlarmRaised) for effect in loop.effects)
    loop.hardware.close()


def test_pulling_the_door_open_without_a_grant_raises_forced_open_and_never_unlocks(factory) -> None:
    loop = Loop(factory)
    loop.sim.close_door()
    loop.sim.open_door()
    assert AlarmRaised(Alarm.FORCED_OPEN) in loop.effects
    assert all(loop.sim.relay_history()[1:])
    loop.hardware.close()
