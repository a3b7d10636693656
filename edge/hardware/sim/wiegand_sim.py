"""A Wiegand reader driving gpiozero MockFactory pins with real pulse timing.

Each bit is a low pulse of `pulse_s` on D0 (0) or D1 (1), bits `interval_s` apart, paced by sleeping to an
absolute schedule so the gaps the driver measures are the real ones. Consecutive frames are at least
`frame_gap_s` apart (from the last pulse of one to the first of the next), as a real reader's are.

A real reader keeps its timing whatever the Pi is doing, and the kernel timestamps its edges. This simulator is a
Python thread: on a loaded machine it can be descheduled mid-frame, and the pins then timestamp a gap the reader
never made. It notes the largest gap it actually left between two bits of a frame (`worst_gap_s`), so a test of
the decoder's timing can tell a stimulus that kept its schedule from one that did not (`kept_gaps_below`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from edge.hardware.wiegand import encode_wiegand


class WiegandSim:
    """The data lines of a Wiegand reader, on two mock pins of a gpiozero MockFactory."""

    def __init__(
        self,
        factory: Any,
        d0_pin: int,
        d1_pin: int,
        *,
        pulse_s: float = 50e-6,
        interval_s: float = 2e-3,
        frame_gap_s: float = 0.1,
    ) -> None:
        self._pins = (factory.pin(d0_pin), factory.pin(d1_pin))
        self.pulse_s = pulse_s
        self.interval_s = interval_s
        self.frame_gap_s = frame_gap_s
        self._lock = threading.Lock()
        self._last_pulse = -1e9
        self.worst_gap_s = 0.0  # largest time between two pulses of one frame, as driven
        self.last_bit_at = 0.0  # perf_counter when the last bit sent went low (when a reader can see it)

    def send_bits(self, bits: Sequence[int]) -> None:
        """Clock out a frame; returns when the last pulse is over."""
        with self._lock:
            start = max(time.perf_counter(), self._last_pulse + self.frame_gap_s)
            previous = None
            for index, bit in enumerate(bits):
                delay = start + index * self.interval_s - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                pin = self._pins[1 if bit else 0]
                now = time.perf_counter()
                if previous is not None:
                    self.worst_gap_s = max(self.worst_gap_s, now - previous)
                previous = now
                self.last_bit_at = time.perf_counter()
                pin.drive_low()
                time.sleep(self.pulse_s)
                pin.drive_high()
            self._last_pulse = time.perf_counter()

    def kept_gaps_below(self, limit_s: float) -> bool:
        """Whether every gap between two bits of a frame sent so far stayed under `limit_s` (a frame timeout)."""
        return self.worst_gap_s < limit_s

    def send_card(self, facility: int, card: int, length: int = 26) -> None:
        """Clock out a valid frame for facility/card."""
        self.send_bits(encode_wiegand(facility, card, length))

    def send_in_thread(self, bits: Sequence[int]) -> threading.Thread:
        """Clock out a frame from a background thread."""
        thread = threading.Thread(target=self.send_bits, args=(tuple(bits),), name="wiegand-sim", daemon=True)
        thread.start()
        return thread
