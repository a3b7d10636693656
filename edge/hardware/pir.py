"""An HC-SR501-class PIR on a GPIO input, through gpiozero's MotionSensor.

The driver reports every change of the output (motion on / off) with its monotonic time, and the level at
start. It does not judge: the occupancy domain ignores the sensor during its warm-up (~60 s of false
triggers after power-up, `warmup_s` in the config) and bridges the re-trigger pauses. Wire the module with
the jumper on H (re-triggering: the output stays high while motion continues) and the hold-time
potentiometer at its minimum, so a passer-by gives one short pulse that the enter delay can refuse.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from gpiozero import MotionSensor

from edge.clock import Clock, SystemClock

LevelCallback = Callable[[bool, float], None]


class PirSensor:
    """Reports `on_change(motion, at)` from gpiozero's sampling thread; `close()` releases the pin."""

    def __init__(
        self,
        pin: int,
        *,
        on_change: LevelCallback,
        clock: Clock | None = None,
        sample_rate_hz: float = 10.0,
        pin_factory: Any = None,
    ) -> None:
        self._on_change = on_change
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._reported: bool | None = None
        self._started = False
        # queue_len=1: no smoothing, the module already holds its output. partial=False: reading the level
        # waits for the sampling thread's first sample, which gpiozero takes as its silent baseline; reading
        # earlier could report a level from before an edge that gpiozero would then never announce.
        self._device = MotionSensor(
            pin, pull_up=False, queue_len=1, sample_rate=sample_rate_hz, partial=False, pin_factory=pin_factory
        )
        self._device.when_motion = self._changed
        self._device.when_no_motion = self._changed

    @property
    def motion(self) -> bool:
        """The output is high now."""
        return bool(self._device.motion_detected)

    def start(self) -> PirSensor:
        """Report the current level once the first sample is taken; changes are reported from then on."""
        self._started = True
        self._changed()
        return self

    def close(self) -> None:
        """Release the pin and stop the sampling thread."""
        self._device.close()

    def __enter__(self) -> PirSensor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _changed(self) -> None:
        if not self._started:
            return
        at = self._clock.monotonic()
        with self._lock:
            level = self.motion
            if level == self._reported:
                return
            self._reported = level
            self._on_change(level, at)
