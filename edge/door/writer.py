"""The door's writer: stores what the door loop produced, in the order the loop produced it, off the loop's thread.

The loop hands over event bodies (access, alarm, state) and copies of the seat and passback state; this thread
stores each event durably in the bus outbox and writes the tracking file, one item after the other. So the
retained door state is always the latest, none follows the final one, and a slow disk never delays the next
person at the door. The queue is bounded: `outputs_dropped` counts what did not fit (only a disk that stalls for
minutes fills it; the watchdog restarts the daemon before). `stop()` first stores what is queued.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edge.bus import Bus
from edge.contract import Body
from edge.door.persistence import StateFiles
from edge.metrics import Counters

log = logging.getLogger(__name__)

STALL_S = 30.0
"""Seconds one write may take before the writer counts as stuck (the watchdog ping is then withheld)."""


@dataclass(frozen=True, slots=True)
class _Event:
    body: Body
    ts: datetime | None


@dataclass(frozen=True, slots=True)
class _Tracking:
    state: Mapping[str, Any]


class EventWriter:
    """One thread storing the door's events and tracking state in order; `event()` and `tracking()` never block."""

    def __init__(self, bus: Bus, files: StateFiles, counters: Counters, *, max_pending: int = 10_000) -> None:
        self.bus = bus
        self.files = files
        self.counters = counters
        self._max_pending = max_pending
        self._items: deque[_Event | _Tracking] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._busy_since: float | None = None
        self._thread = threading.Thread(target=self._run, name="door writer", daemon=True)

    def event(self, body: Body, ts: datetime | None = None) -> None:
        """Queue an event for the outbox (`ts`: when it happened; now when None)."""
        self._put(_Event(body, ts))

    def tracking(self, state: Mapping[str, Any]) -> None:
        """Queue a copy of the seat and passback state (`edge.door.store.tracking_state`) for its file."""
        self._put(_Tracking(state))

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Store what is queued, then stop (what is still queued after `timeout` seconds stays unwritten)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("the door writer did not finish within %.0f s; %d items unwritten", timeout, self.pending)
        else:  # never started (a start that failed early): store what was queued here
            self._run()

    @property
    def pending(self) -> int:
        """Items queued and not yet written."""
        return len(self._items)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until everything queued so far was written; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._items or self._busy_since is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def alive(self) -> bool:
        """The thread runs and is not stuck on one write."""
        busy_since = self._busy_since
        return self._thread.is_alive() and (busy_since is None or time.monotonic() - busy_since < STALL_S)

    def _put(self, item: _Event | _Tracking) -> None:
        with self._cond:
            if len(self._items) >= self._max_pending:
                self.counters.inc("outputs_dropped")
                log.error("door writer queue full (%d): an event or tracking state is dropped", self._max_pending)
                return
            self._items.append(item)
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._items and not self._stopping:
                    self._cond.wait()
                if not self._items:
                    return
                item = self._items.popleft()
                self._busy_since = time.monotonic()
            try:
                self._write(item)
            finally:
                with self._cond:
                    self._busy_since = None
                    self._cond.notify_all()

    def _write(self, item: _Event | _Tracking) -> None:
        if isinstance(item, _Tracking):
            self.files.save_tracking(item.state)  # counts its own failures
            return
        try:
            self.bus.publish_event(item.body, ts=item.ts)
        except Exception:
            self.counters.inc("publish_failures")
            log.exception("could not store a %s event", item.body.kind)
