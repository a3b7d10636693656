"""People at desks, as gpiozero MockFactory pin levels: a PIR that sees motion, a switch someone sits on."""

from __future__ import annotations

import threading
from typing import Any


class PirSimulator:
    """Drives a PIR's output pin: high while there is motion, like an HC-SR501 in re-trigger mode."""

    def __init__(self, factory: Any, pin: int) -> None:
        self._pin = factory.pin(pin)
        self._timer: threading.Timer | None = None

    def motion(self) -> None:
        """Output high."""
        self._cancel()
        self._pin.drive_high()

    def still(self) -> None:
        """Output low."""
        self._cancel()
        self._pin.drive_low()

    def pulse(self, hold_s: float) -> None:
        """One trigger: high now, low after the module's hold time."""
        self.motion()
        self._timer = threading.Timer(hold_s, self._pin.drive_low)
        self._timer.daemon = True
        self._timer.start()

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class SwitchSimulator:
    """Drives a seat/contact switch input; `active_low` when the switch pulls the pin to ground."""

    def __init__(self, factory: Any, pin: int, *, active_low: bool = True) -> None:
        self._pin = factory.pin(pin)
        self._active_low = active_low

    def press(self) -> None:
        """Someone sits down."""
        self._drive(True)

    def release(self) -> None:
        """They get up."""
        self._drive(False)

    def chatter(self, edges: int, *, end_pressed: bool) -> None:
        """Contact bounce: `edges` quick flips, ending in the given state."""
        for i in range(edges):
            self._drive(end_pressed if i % 2 == 0 else not end_pressed)
        self._drive(end_pressed)

    def _drive(self, pressed: bool) -> None:
        if pressed != self._active_low:
            self._pin.drive_high()
        else:
            self._pin.drive_low()
