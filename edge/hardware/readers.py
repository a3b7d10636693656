"""The small interface every badge reader implements, its health counters, and the scan debouncer.

A reader runs its own thread (serial and SPI libraries block; gpiozero calls back from its own thread) and
reports through two callbacks:

- `on_scan(uid, frame_done_monotonic)`: a new presentation of a badge, UID already normalised, with the
  monotonic time at which the frame carrying it was complete; repeats of a held card are filtered out.
- `on_fault(active, detail)`: the reader stopped (`True`) or resumed (`False`) answering; called on changes only.

Callbacks run on the reader's thread and must return quickly. An exception in one is logged and counted,
never allowed to stop the reader. Nothing here logs a UID.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Self

from edge.clock import Clock, SystemClock

log = logging.getLogger(__name__)

ScanCallback = Callable[[str, float], None]
"""`on_scan(uid, frame_done_monotonic)`."""

FaultCallback = Callable[[bool, str], None]
"""`on_fault(active, detail)`."""


HANG_GRACE_S = 15.0
"""Seconds a reader thread may overrun the time it promised to be back by before it counts as hung."""


@dataclass
class ReaderHealth:
    """Counters a reader keeps about what it received; published with the node's status."""

    frames_ok: int = 0
    bad_checksum: int = 0
    bad_frames: int = 0
    garbage_bytes: int = 0
    resyncs: int = 0
    scans: int = 0
    repeats_suppressed: int = 0
    frames_dropped: int = 0
    faults: int = 0
    reopens: int = 0
    resets: int = 0
    callback_errors: int = 0

    def snapshot(self) -> dict[str, int]:
        """Return a copy of the counters."""
        return asdict(self)


class ScanDebouncer:
    """Turns "this UID was read at time t" into "this is a new presentation", purely from its inputs.

    A card counts as still presented while it keeps being read less than `rearm_s` apart; it has to stay
    unread for `rearm_s` before the same UID scans again. A different UID always scans.
    """

    def __init__(self, rearm_s: float) -> None:
        if rearm_s <= 0:
            raise ValueError("rearm_s must be positive")
        self.rearm_s = rearm_s
        self._last_uid: str | None = None
        self._last_seen = 0.0

    def offer(self, uid: str, at: float) -> bool:
        """Record a read of `uid` at monotonic time `at`; return True if it is a new scan."""
        repeat = uid == self._last_uid and at - self._last_seen < self.rearm_s
        self._last_uid = uid
        self._last_seen = at
        return not repeat

    def reset(self) -> None:
        """Forget the last card (e.g. after the reader was reset), so the next read scans."""
        self._last_uid = None


class BadgeReader(ABC):
    """Base of every badge reader driver.

    Subclasses must implement `_run()` (the reader thread's loop, returning soon after `_stopping` is set)
    and may override `_wake()` (interrupt a blocking read when stopping) and `_release()` (free devices on
    close). They call `_deliver()` for every UID read and `_set_fault()` when the device goes or comes back.
    """

    kind = "reader"

    def __init__(
        self,
        name: str,
        *,
        rearm_s: float = 1.0,
        on_scan: ScanCallback | None = None,
        on_fault: FaultCallback | None = None,
        clock: Clock | None = None,
        health: ReaderHealth | None = None,
    ) -> None:
        self.name = name
        self.on_scan = on_scan
        self.on_fault = on_fault
        self.clock: Clock = clock or SystemClock()
        self.health = health if health is not None else ReaderHealth()
        self._debouncer = ScanDebouncer(rearm_s)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._fault: str | None = None
        self._fault_lock = threading.Lock()
        self._closed = False
        self._back_by = float("inf")  # monotonic time the thread promised to pass its loop again by

    @property
    def fault(self) -> str | None:
        """The active fault's description, or None when the reader is working."""
        return self._fault

    @property
    def running(self) -> bool:
        """True while the reader's thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def hung(self) -> bool:
        """True when the thread is alive but missed its own deadline (stuck in a driver call, deadlocked, ...).

        The daemons withhold the systemd watchdog ping while a reader is hung, so systemd restarts them.
        """
        return self.running and self.clock.monotonic() > self._back_by

    def _back_within(self, seconds: float) -> None:
        """Called by the reader thread before it blocks: it will pass its loop again within `seconds`."""
        self._back_by = self.clock.monotonic() + seconds + HANG_GRACE_S

    def start(self) -> None:
        """Start reading in a background thread."""
        if self._closed:
            raise RuntimeError(f"{self.kind} reader {self.name} is closed")
        if self.running:
            return
        self._stopping.clear()
        self._back_within(0.0)
        self._thread = threading.Thread(target=self._guarded_run, name=f"{self.kind}-{self.name}", daemon=True)
        self._thread.start()

    def wait_ready(self, timeout: float) -> bool:
        """Block until the device is open and read (or `timeout` passes); whether it is. Readers with nothing to
        open (GPIO lines) are ready once started."""
        return self.running

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and wait for it (at most `timeout` seconds)."""
        self._stopping.set()
        self._wake()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("%s reader %s did not stop within %.1f s", self.kind, self.name, timeout)

    def close(self) -> None:
        """Stop and release the device; the reader cannot be started again."""
        if self._closed:
            return
        self.stop()
        self._closed = True
        self._release()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @abstractmethod
    def _run(self) -> None:
        """Read until `_stopping` is set."""

    def _wake(self) -> None:
        """Interrupt a blocking wait so `_run` notices `_stopping`; the default waits for timeouts instead."""
        return None

    def _release(self) -> None:
        """Free the device after the thread stopped."""
        return None

    def _guarded_run(self) -> None:
        # A driver bug must show up as a fault the daemon reports, not as a thread that silently vanished.
        try:
            self._run()
        except Exception as exc:
            log.exception("%s reader %s stopped on an unexpected error", self.kind, self.name)
            self._set_fault(True, f"reader thread crashed: {type(exc).__name__}")

    def _deliver(self, uid: str, at: float) -> None:
        """Hand a normalised UID read at monotonic time `at` to `on_scan`, unless it repeats a held card."""
        if not self._debouncer.offer(uid, at):
            self.health.repeats_suppressed += 1
            return
        self.health.scans += 1
        callback = self.on_scan
        if callback is None:
            return
        try:
            callback(uid, at)
        except Exception:
            self.health.callback_errors += 1
            log.exception("%s reader %s: on_scan callback failed", self.kind, self.name)

    def _set_fault(self, active: bool, detail: str) -> None:
        """Record a fault starting or ending and tell `on_fault` about the change."""
        with self._fault_lock:
            was_active = self._fault is not None
            self._fault = detail if active else None
        if active == was_active:
            return  # no change of state; a new wording of an active fault is kept but not reported again
        if active:
            self.health.faults += 1
            log.warning("%s reader %s fault: %s", self.kind, self.name, detail)
        else:
            log.info("%s reader %s recovered: %s", self.kind, self.name, detail)
        callback = self.on_fault
        if callback is None:
            return
        try:
            callback(active, detail)
        except Exception:
            self.health.callback_errors += 1
            log.exception("%s reader %s: on_fault callback failed", self.kind, self.name)
