"""The forwarder: moves stored rows to InfluxDB in order, in batches, and never gives up and never drops.

One pass takes the next batch of each stream (raw events, derived series) and writes it. A 2xx moves the
stream's cursor past the batch. A refusal that is the rows' fault (see writers.py) is narrowed down by
bisecting the batch: good rows are written (InfluxDB treats a rewrite of the same point as a no-op), refused
rows are quarantined with the server's reason, then the cursor moves. Any other failure leaves the cursor where
it was and the whole batch is tried again after a backoff that doubles up to `backoff_max_s`, forever.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Sequence

from edge.clock import Clock
from edge.collector.outqueue import ForwardQueue, Pending, Refused
from edge.collector.schema import Bucket, ms_of
from edge.collector.writers import WriteFailed, Writer, WriteRefused
from edge.errors import StoreError
from edge.metrics import Counters

log = logging.getLogger(__name__)

BACKOFF_MIN_S = 0.5


def write_rows(rows: Sequence[Pending], write: Callable[[str], None]) -> list[Refused]:
    """Write rows; on a row-level refusal bisect until each refused row is isolated. WriteFailed propagates."""
    body = "\n".join(r.lines for r in rows if r.lines)
    if not body:
        return []
    try:
        write(body)
        return []
    except WriteRefused as exc:
        if len(rows) == 1:
            return [Refused(rows[0], exc.reason, exc.detail)]
    middle = len(rows) // 2
    return write_rows(rows[:middle], write) + write_rows(rows[middle:], write)


class Forwarder:
    """Drains the forward queue into a writer; `run` is its thread's body."""

    def __init__(
        self,
        queue: ForwardQueue,
        writer: Writer,
        buckets: dict[Bucket, str],
        *,
        clock: Clock,
        counters: Counters,
        batch_size: int = 5000,
        backoff_max_s: float = 60.0,
    ) -> None:
        self.queue = queue
        self.writer = writer
        self.buckets = buckets
        self.clock = clock
        self.counters = counters
        self.batch_size = batch_size
        self.backoff_max_s = backoff_max_s
        self.wake = threading.Event()
        self._stop = threading.Event()
        self.heartbeat = clock.monotonic()

    def forward_once(self) -> int:
        """Forward at most one batch per stream; returns the rows handled. Raises WriteFailed, StoreError."""
        handled = 0
        for bucket, name in self.buckets.items():
            rows = self.queue.pending(bucket, self.batch_size)
            if not rows:
                continue
            refused = write_rows(rows, functools.partial(self.writer.write, name))
            self.queue.advance(bucket, rows[-1].rid, refused, ms_of(self.clock.now()))
            for r in refused:
                self.counters.inc(f"forward_refused_{r.reason}")
                log.error("InfluxDB refused a %s row for good (%s: %s); quarantined", bucket, r.reason, r.detail)
            self.counters.inc("forwarded", len(rows) - len(refused))
            handled += len(rows)
        return handled

    def run(self) -> None:
        """Forward until stopped, retrying failures with exponential backoff."""
        delay = BACKOFF_MIN_S
        failing = False
        while not self._stop.is_set():
            self.heartbeat = self.clock.monotonic()
            try:
                handled = self.forward_once()
            except (WriteFailed, StoreError) as exc:
                self.counters.inc("forward_retries")
                if not failing:
                    log.warning("forwarding failed (%s); retrying with backoff until it works", exc)
                failing = True
                self._sleep(delay)
                delay = min(delay * 2, self.backoff_max_s)
                continue
            except Exception:
                self.counters.inc("forward_errors")
                log.exception("forwarder pass failed; retrying")
                self._sleep(delay)
                delay = min(delay * 2, self.backoff_max_s)
                continue
            if failing:
                log.info("forwarding works again")
                failing = False
            delay = BACKOFF_MIN_S
            if not handled:
                self.wake.wait(1.0)
                self.wake.clear()

    def _sleep(self, seconds: float) -> None:
        # wait in short slices so the heartbeat stays fresh for the watchdog during long backoffs
        end = self.clock.monotonic() + seconds
        while not self._stop.is_set():
            left = end - self.clock.monotonic()
            if left <= 0:
                return
            self.heartbeat = self.clock.monotonic()
            self._stop.wait(min(left, 1.0))

    def stop(self) -> None:
        """Ask `run` to return after its current write."""
        self._stop.set()
        self.wake.set()
