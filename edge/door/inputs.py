"""Door inputs: the door contact (reed switch), the request-to-exit button and the lock-status sensor.

Each is a debounced gpiozero input that reports what the level *means* (door closed, exit requested, lock engaged)
and calls `when_changed(meaning)` only when that meaning changes, reading the level at callback time rather than
trusting the edge, so a bounce that slips through never leaves a stale state behind.

Debounce: `bounce_s` is handed to the pin factory. With lgpio (the default on Bookworm, the only one on a Pi 5) it
means "report a level only once it has been stable for bounce_s", which is right for contacts and buttons. It must
never be used for Wiegand data lines: their 20-100 µs pulses would be swallowed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Literal, Self

from gpiozero import DigitalInputDevice

Level = Literal["low", "high"]

DEFAULT_BOUNCE_S = 0.05
"""Reed switches and push buttons settle within a few ms to tens of ms; 50 ms adds no noticeable delay."""


class BinaryInput:
    """A debounced digital input with a named active level; reports changes of meaning, not edges."""

    def __init__(
        self,
        pin: int,
        *,
        active_when: Level,
        pull_up: bool | None,
        bounce_s: float | None = DEFAULT_BOUNCE_S,
        pin_factory: Any = None,
    ) -> None:
        # gpiozero derives the active level from the pull when there is one; without a pull it must be told.
        if pull_up is None:
            device_active: Level = active_when
            active_state: bool | None = active_when == "high"
        else:
            device_active = "low" if pull_up else "high"
            active_state = None
        self._invert = device_active != active_when
        self._mutex = threading.Lock()
        self._device = DigitalInputDevice(
            pin, pull_up=pull_up, active_state=active_state, bounce_time=bounce_s or None, pin_factory=pin_factory
        )
        self.when_changed: Callable[[bool], None] | None = None
        self._last = self.is_active
        self._device.when_activated = self._on_edge
        self._device.when_deactivated = self._on_edge

    @property
    def is_active(self) -> bool:
        """The meaning of the current level (closed, pressed, locked)."""
        return bool(self._device.is_active) != self._invert

    @property
    def pin(self) -> Any:
        """The underlying gpiozero pin."""
        return self._device.pin

    def close(self) -> None:
        """Stop callbacks and release the pin."""
        self.when_changed = None
        self._device.close()

    def _on_edge(self) -> None:
        with self._mutex:
            active = self.is_active
            if active == self._last:
                return
            self._last = active
            callback = self.when_changed
        if callback is not None:
            callback(active)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DoorContact(BinaryInput):
    """Reed switch on the door, closed when the door is closed; `when_changed(closed)`."""

    def __init__(
        self,
        pin: int,
        *,
        closed_when: Level = "low",
        pull_up: bool | None = True,
        bounce_s: float | None = DEFAULT_BOUNCE_S,
        pin_factory: Any = None,
    ) -> None:
        super().__init__(pin, active_when=closed_when, pull_up=pull_up, bounce_s=bounce_s, pin_factory=pin_factory)

    @property
    def is_closed(self) -> bool:
        """True when the door is closed."""
        return self.is_active


class ExitButton(BinaryInput):
    """Request-to-exit input (push button or PIR): `when_changed(pressed)`; a press is the rising meaning."""

    def __init__(
        self,
        pin: int,
        *,
        pressed_when: Level = "low",
        pull_up: bool | None = True,
        bounce_s: float | None = DEFAULT_BOUNCE_S,
        pin_factory: Any = None,
    ) -> None:
        super().__init__(pin, active_when=pressed_when, pull_up=pull_up, bounce_s=bounce_s, pin_factory=pin_factory)

    @property
    def is_pressed(self) -> bool:
        """True while the exit request is active."""
        return self.is_active


class LockSensor(BinaryInput):
    """Lock-status output (strike bolt switch, maglock bond sensor): `when_changed(locked)`."""

    def __init__(
        self,
        pin: int,
        *,
        locked_when: Level = "low",
        pull_up: bool | None = True,
        bounce_s: float | None = DEFAULT_BOUNCE_S,
        pin_factory: Any = None,
    ) -> None:
        super().__init__(pin, active_when=locked_when, pull_up=pull_up, bounce_s=bounce_s, pin_factory=pin_factory)

    @property
    def is_locked(self) -> bool:
        """True when the sensor reports the lock engaged."""
        return self.is_active
