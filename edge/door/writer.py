"""The door's writer: stores what the door loop produced, in the order the loop produced it.

While it handles an input, the loop only queues what it produced: event bodies (access, alarm, state) and copies of
the seat and passback state. Once the thread that handled the input has let go of the loop, it calls `flush()` and
stores them itself (each event durably in the bus outbox, the tracking state in its file), one after the other,
unless another thread is already storing: that one then stores these too, after its own. So events are stored in
the order they happened (the retained door state is always the latest, none follows the final one), no disk write
ever holds up the loop (another reader's badge moves its relay meanwhile), and no thread is kept for it. The queue
is bounded: `outputs_dropped` counts what did not fit (only a disk that stalls for minutes fills it; the watchdog
restarts the daemon before). `stop()` stores what is queued.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from edge.bus import Bus
from edge.contract import Body
from edge.door.persistence import StateFiles
from edge.metrics import Counters

log = logging.getLogger(__name__)

STALL_S = 30.0
"""Seconds one flush may take before the writer counts as stuck (the watchdog ping is then withheld)."""

DEFAULT_MAX_PENDING = 10_000
"""Events and tracking states the queue holds."""

_Item = tuple[Body, datetime | None] | Mapping[str, Any]
"""An event and when it happened (None: now), or a tracking state."""


class EventWriter:
    """The loop's output queue, stored in order by whichever thread calls `flush()` first; never waits for a write."""

    def __init__(
        self, bus: Bus, files: StateFiles, counters: Counters, *, max_pending: int = DEFAULT_MAX_PENDING
    ) -> None:
        self.bus = bus
        self.files = files
        self.counters = counters
        self._max_pending = max_pending
        self._items: deque[_Item] = deque()
        self._turn = threading.Lock()  # held by the one thread storing
        self._busy_since: float | None = None

    def event(self, body: Body, ts: datetime | None = None) -> None:
        """Queue an event for the outbox (`ts`: when it happened; now when None)."""
        self._put((body, ts))

    def tracking(self, state: Mapping[str, Any]) -> None:
        """Queue a copy of the seat and passback state (`edge.door.store.tracking_state`) for its file."""
        self._put(state)

    def flush(self) -> None:
        """Store what is queued on this thread, unless another thread is storing (it then stores it too)."""
        while self._items and self._turn.acquire(blocking=False):
            try:
                self._write_queued()
            finally:
                self._turn.release()
            # An item queued just before the release found the turn taken: this loop's next pass stores it.

    def stop(self, timeout: float = 10.0) -> None:
        """Store what is queued, waiting at most `timeout` seconds for a thread that is storing."""
        if not self._turn.acquire(timeout=timeout):
            log.error("the door writer is stuck: %d events and states unwritten", len(self._items))
            return
        try:
            self._write_queued()
        finally:
            self._turn.release()

    @property
    def pending(self) -> int:
        """Items queued and not yet stored."""
        return len(self._items)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until everything queued so far was stored; False on timeout."""
        deadline = time.monotonic() + timeout
        while self._items or self._turn.locked():
            if time.monotonic() > deadline:
                return False
            self.flush()
            time.sleep(0.01)
        return True

    def alive(self) -> bool:
        """No flush has been storing for `STALL_S` seconds."""
        busy_since = self._busy_since
        return busy_since is None or time.monotonic() - busy_since < STALL_S

    def _put(self, item: _Item) -> None:
        if len(self._items) >= self._max_pending:
            self.counters.inc("outputs_dropped")
            log.error("door writer queue full (%d): an event or tracking state is dropped", self._max_pending)
            return
        self._items.append(item)

    def _write_queued(self) -> None:
        """Store every queued item, oldest first (the caller holds the turn)."""
        self._busy_since = time.monotonic()
        try:
            while self._items:
                self._write(self._items.popleft())
        finally:
            self._busy_since = None

    def _write(self, item: _Item) -> None:
        if not isinstance(item, tuple):
            self.files.save_tracking(item)  # counts its own failures
            return
        body, ts = item
        try:
            self.bus.publish_event(body, ts=ts)
        except Exception:
            self.counters.inc("publish_failures")
            log.exception("could not store a %s event", body.kind)
