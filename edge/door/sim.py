"""A simulated door on gpiozero MockFactory pins: moves the door, presses the exit button, reads the relay back.

Speaks the door's config (polarities, pulls, lock wiring) so tests and the demo say "open the door" rather than
"drive GPIO 27 high". Build the `DoorHardware` first: claiming an input with a pull resets its mock level.
"""

from __future__ import annotations

from typing import Any

from edge.config.doors import DoorConfig, Level
from edge.door.relay import energized_when_locked


class SimulatedDoor:
    """A person and a lock acting on one door's mock pins."""

    def __init__(self, config: DoorConfig, factory: Any) -> None:
        self.config = config
        self._factory = factory
        relay = config.relay
        self._energized_when_locked = energized_when_locked(relay.lock_type, relay.wired_to)

    def _drive(self, pin: int, level: Level) -> None:
        mock = self._factory.pin(pin)
        mock.drive_high() if level == "high" else mock.drive_low()

    @staticmethod
    def _level(meaning: bool, active_when: Level) -> Level:
        if meaning:
            return active_when
        return "low" if active_when == "high" else "high"

    def set_door(self, closed: bool) -> None:
        """Put the door contact in the closed or open position."""
        contact = self.config.contact
        if contact is None:
            raise ValueError(f"door {self.config.name} has no contact")
        self._drive(contact.pin, self._level(closed, contact.closed_when))

    def open_door(self) -> None:
        """Open the door."""
        self.set_door(False)

    def close_door(self) -> None:
        """Close the door."""
        self.set_door(True)

    def set_exit_button(self, pressed: bool) -> None:
        """Press or release the request-to-exit input."""
        rex = self.config.rex
        if rex is None:
            raise ValueError(f"door {self.config.name} has no exit button")
        self._drive(rex.pin, self._level(pressed, rex.pressed_when))

    def set_lock_sensor(self, locked: bool) -> None:
        """Make the lock-status sensor report locked or not."""
        sensor = self.config.lock_sensor
        if sensor is None:
            raise ValueError(f"door {self.config.name} has no lock sensor")
        self._drive(sensor.pin, self._level(locked, sensor.locked_when))

    def _is_locked_level(self, level: bool) -> bool:
        energized = level == self.config.relay.active_high
        return energized == self._energized_when_locked

    @property
    def relay_locked(self) -> bool:
        """Whether the relay pin's level currently means locked."""
        return self._is_locked_level(bool(self._factory.pin(self.config.relay.pin).state))

    def relay_history(self) -> list[bool]:
        """Every relay level the mock pin recorded, as locked (True) / unlocked (False); the first is its reading
        before it was claimed as an output."""
        return [self._is_locked_level(bool(entry.state)) for entry in self._factory.pin(self.config.relay.pin).states]
