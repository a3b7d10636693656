"""Door feedback: an LED and a buzzer playing short patterns in the background (a new pattern cuts the old one)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Self

from gpiozero import OutputDevice

Segment = tuple[float, bool, bool]
"""(seconds, LED on, buzzer on)."""

Timeline = tuple[Segment, ...]

PATTERNS: Mapping[str, Timeline] = {
    # LED for 1.5 s with one short beep: visible while the person reaches for the handle.
    "granted": ((0.2, True, True), (1.3, True, False)),
    # Three short blinks and beeps: unmistakably different from a grant.
    "denied": ((0.1, True, True), (0.1, False, False)) * 3,
}


class DoorFeedback:
    """LED and/or buzzer outputs; `play(name)` returns at once and the pattern runs on its own thread."""

    def __init__(
        self,
        led_pin: int | None = None,
        buzzer_pin: int | None = None,
        *,
        led_active_high: bool = True,
        buzzer_active_high: bool = True,
        patterns: Mapping[str, Timeline] = PATTERNS,
        pin_factory: Any = None,
    ) -> None:
        if led_pin is None and buzzer_pin is None:
            raise ValueError("door feedback needs an LED pin, a buzzer pin, or both")
        for name, timeline in patterns.items():
            if not timeline or any(seconds <= 0 for seconds, _, _ in timeline):
                raise ValueError(f"feedback pattern {name!r} needs segments of positive duration")
        self._patterns = dict(patterns)
        self._led = self._output(led_pin, led_active_high, pin_factory)
        self._buzzer = self._output(buzzer_pin, buzzer_active_high, pin_factory)
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def _output(pin: int | None, active_high: bool, pin_factory: Any) -> OutputDevice | None:
        if pin is None:
            return None
        return OutputDevice(pin, active_high=active_high, initial_value=False, pin_factory=pin_factory)

    def play(self, name: str) -> None:
        """Start pattern `name` (e.g. "granted", "denied"), cutting any pattern still playing."""
        timeline = self._patterns[name]
        with self._mutex:
            self._cancel()
            self._stop = threading.Event()
            first, rest = timeline[0], timeline[1:]
            self._set(first[1], first[2])  # the first segment starts before play() returns
            self._thread = threading.Thread(
                target=self._run, args=(first[0], rest, self._stop), name=f"feedback-{name}", daemon=True
            )
            self._thread.start()

    @property
    def playing(self) -> bool:
        """True while a pattern is running."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the current pattern to finish; return False on timeout."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.playing

    def close(self) -> None:
        """Stop any pattern, switch both outputs off and release the pins."""
        with self._mutex:
            self._cancel()
            for device in (self._led, self._buzzer):
                if device is not None:
                    device.close()

    def _cancel(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._set(False, False)

    def _run(self, first_s: float, rest: Timeline, stop: threading.Event) -> None:
        if stop.wait(first_s):
            return
        for seconds, led, buzzer in rest:
            self._set(led, buzzer)
            if stop.wait(seconds):
                return
        self._set(False, False)

    def _set(self, led: bool, buzzer: bool) -> None:
        if self._led is not None and not self._led.closed:
            self._led.value = led
        if self._buzzer is not None and not self._buzzer.closed:
            self._buzzer.value = buzzer

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
