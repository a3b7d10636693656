"""The one thread that owns the occupancy tracker: sensor threads post observations, it ticks on time.

Sensor drivers report from their own threads (gpiozero callbacks, serial readers); `post()` queues the
observation (bounded, drops counted) and wakes the loop. The loop applies the observations, ticks the tracker
and hands the resulting updates to `on_updates` — which the daemon wires to the bus. Between observations it
sleeps exactly until `tracker.next_due()`, so an enter delay or a heartbeat fires on time without polling.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from edge.clock import Clock, real_seconds
from edge.occupancy import OccupancyTracker, Update

log = logging.getLogger(__name__)

UpdatesCallback = Callable[[Sequence[Update]], None]
T = TypeVar("T")


class _Inspection:
    """A question for the loop thread about its tracker, and the answer once given."""

    def __init__(self, question: Callable[[OccupancyTracker], Any]) -> None:
        self.question = question
        self.answer: Any = None
        self.done = threading.Event()


class PresenceLoop:
    """Runs an `OccupancyTracker` in one thread; `start()`, `post()` from anywhere, `stop()`."""

    def __init__(
        self,
        tracker: OccupancyTracker,
        on_updates: UpdatesCallback,
        clock: Clock,
        *,
        max_pending: int = 10_000,
    ) -> None:
        self._tracker = tracker
        self._on_updates = on_updates
        self._clock = clock
        self._pending: deque[tuple[str, str, object, float]] = deque()
        self._max_pending = max_pending
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._busy_since: float | None = None
        self._inspections: list[_Inspection] = []
        self.dropped = 0
        self.rejected = 0
        self.callback_errors = 0

    def post(self, desk: str, sensor: str, value: object, at: float | None = None) -> bool:
        """Queue one observation made at monotonic `at` (default now); False if the queue was full (counted)."""
        at = self._clock.monotonic() if at is None else at
        with self._cond:
            if len(self._pending) >= self._max_pending:
                self.dropped += 1
                return False
            self._pending.append((desk, sensor, value, at))
            self._cond.notify()
        return True

    def inspect(self, question: Callable[[OccupancyTracker], T], timeout: float = 1.0) -> T | None:
        """Ask the loop thread `question(tracker)` (the tracker is not thread-safe); None if no answer in time."""
        inspection = _Inspection(question)
        with self._cond:
            if self._stopping or self._thread is None or not self._thread.is_alive():
                return None
            self._inspections.append(inspection)
            self._cond.notify()
        if not inspection.done.wait(timeout):
            return None
        answer: T | None = inspection.answer
        return answer

    def start(self) -> PresenceLoop:
        """Start the loop thread."""
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._run, name="presence loop", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Apply what is queued, then stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    def alive(self, stall_s: float = 30.0) -> bool:
        """The loop thread runs and has not been stuck on one batch for `stall_s` (feeds the watchdog)."""
        if self._thread is None or not self._thread.is_alive():
            return False
        busy_since = self._busy_since
        return busy_since is None or self._clock.monotonic() - busy_since < stall_s

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._pending and not self._inspections and not self._stopping:
                    # The tracker's deadlines are in clock seconds; a simulation clock runs faster than the wait.
                    wait = real_seconds(self._clock, self._tracker.next_due() - self._clock.monotonic())
                    self._cond.wait(max(0.0, wait))
                batch = list(self._pending)
                self._pending.clear()
                inspections, self._inspections = self._inspections, []
                stopping = self._stopping
            self._apply(batch)
            for inspection in inspections:
                try:
                    inspection.answer = inspection.question(self._tracker)
                except Exception:
                    log.exception("inspecting the tracker failed")
                inspection.done.set()
            if stopping:
                return

    def _apply(self, batch: list[tuple[str, str, object, float]]) -> None:
        self._busy_since = self._clock.monotonic()
        try:
            self._apply_batch(batch)
        finally:
            self._busy_since = None

    def _apply_batch(self, batch: list[tuple[str, str, object, float]]) -> None:
        for desk, sensor, value, at in batch:
            try:
                self._tracker.observe(desk, sensor, value, at)
            except (KeyError, TypeError) as exc:
                self.rejected += 1
                log.error("observation of %s/%s refused: %r", desk, sensor, exc)
        updates = self._tracker.tick()
        if updates:
            try:
                self._on_updates(updates)
            except Exception:
                self.callback_errors += 1
                log.exception("presence update callback failed")
