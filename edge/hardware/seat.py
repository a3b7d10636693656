"""A seat, pressure-mat, contact or capacitive-touch switch on a GPIO input, debounced in software.

A level counts once it has been stable for `bounce_s` (the "stable for N" rule lgpio applies in the kernel),
done here so it behaves the same on every pin factory, the mock one included. The driver reports
`on_change(active, at)` where `at` is the monotonic time of the edge that started the stable level.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from gpiozero import DigitalInputDevice

from edge.clock import Clock, SystemClock

LevelCallback = Callable[[bool, float], None]


class SeatSwitch:
    """One switch input; `start()` reports the current level, `close()` releases the pin."""

    def __init__(
        self,
        pin: int,
        *,
        on_change: LevelCallback,
        pull: str = "up",
        active_high: bool | None = None,
        bounce_s: float = 0.05,
        clock: Clock | None = None,
        pin_factory: Any = None,
    ) -> None:
        if pull not in ("up", "down", "none"):
            raise ValueError("pull must be up, down or none")
        if pull == "none" and active_high is None:
            raise ValueError("a floating input needs active_high")
        if active_high is None:
            active_high = pull == "down"
        self._on_change = on_change
        self._clock = clock or SystemClock()
        self._bounce_s = bounce_s
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._edge_at = self._clock.monotonic()
        self._reported: bool | None = None
        self._started = False
        self._closed = False
        pull_up = {"up": True, "down": False, "none": None}[pull]
        self._device = DigitalInputDevice(
            pin, pull_up=pull_up, active_state=active_high if pull_up is None else None, pin_factory=pin_factory
        )
        # gpiozero derives the active level from the pull; a normally-closed switch inverts it.
        self._invert = pull_up is not None and active_high == pull_up
        self._device.when_activated = self._edge
        self._device.when_deactivated = self._edge

    @property
    def active(self) -> bool:
        """Someone is on the switch now (undebounced)."""
        return bool(self._device.is_active) != self._invert

    def start(self) -> SeatSwitch:
        """Report the current level; changes are reported from then on."""
        with self._lock:
            self._started = True
        self._settle()
        return self

    def close(self) -> None:
        """Release the pin and cancel a pending debounce."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
        self._device.close()

    def __enter__(self) -> SeatSwitch:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _edge(self) -> None:
        with self._lock:
            if self._closed or not self._started:
                return
            self._edge_at = self._clock.monotonic()
            if self._timer is not None:
                self._timer.cancel()
            if self._bounce_s <= 0:
                self._timer = None
            else:
                self._timer = threading.Timer(self._bounce_s, self._settle)
                self._timer.daemon = True
                self._timer.start()
                return
        self._settle()

    def _settle(self) -> None:
        with self._lock:
            if self._closed:
                return
            level = self.active
            if level == self._reported:
                return
            self._reported = level
            self._on_change(level, self._edge_at)
