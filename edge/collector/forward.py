"""The forwarder: drains the store into a server, in order, marking rows only after the server accepted them.

One forwarder serves InfluxDB (streams raw and aggregate); another, when the site belongs to a network, the
central store (stream network, whose rows pass edge.collector.egress on the way out and leave only once they
have settled, see edge.collector.network).

Each pass reads the next batch of each stream and writes it. A 2xx moves the stream's cursor past the batch. A
refusal that is the rows' fault (see writers.py) is narrowed down by bisecting the batch: good rows are written
(InfluxDB treats a rewrite of the same point as a no-op), refused rows are quarantined with the server's reason,
then the cursor moves. Any other failure leaves the cursor where it was and the whole batch is tried again after
a backoff that doubles up to `backoff_max_s`, forever.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from edge.clock import Clock
from edge.collector.outqueue import ForwardQueue, Pending, Refused
from edge.collector.schema import ms_of
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


@dataclass(frozen=True)
class CounterNames:
    """The status counters a forwarder increments (the InfluxDB forwarder's by default)."""

    forwarded: str = "forwarded"
    retries: str = "forward_retries"
    refused_prefix: str = "forward_refused_"
    errors: str = "forward_errors"
    withheld: str = "forward_withheld"


class Forwarder:
    """Drains streams of the forward queue into a writer; `run` is its thread's body.

    `routes` maps each stream to the bucket the writer puts it in. `select`, when given, rewrites each row's
    lines before they are written ("" keeps the row on the site: counted as withheld, and passed by the cursor).
    `ceiling`, when given, is the highest rid that may leave now (rows above it wait for a later pass).
    """

    def __init__(
        self,
        queue: ForwardQueue,
        writer: Writer,
        routes: Mapping[str, str],
        *,
        clock: Clock,
        counters: Counters,
        batch_size: int = 5000,
        backoff_max_s: float = 60.0,
        select: Callable[[str], str] | None = None,
        ceiling: Callable[[], int] | None = None,
        names: CounterNames = CounterNames(),
        server: str = "InfluxDB",
    ) -> None:
        self.queue = queue
        self.writer = writer
        self.routes = dict(routes)
        self.clock = clock
        self.counters = counters
        self.batch_size = batch_size
        self.backoff_max_s = backoff_max_s
        self.select = select
        self.ceiling = ceiling
        self.names = names
        self.server = server
        self.wake = threading.Event()
        self._stop = threading.Event()
        self.heartbeat = clock.monotonic()

    def forward_once(self) -> int:
        """Forward at most one batch per stream; returns the rows handled. Raises WriteFailed, StoreError."""
        handled = 0
        for stream, target in self.routes.items():
            upto = self.ceiling() if self.ceiling is not None else None
            rows = self.queue.pending(stream, self.batch_size, upto)
            if not rows:
                continue
            chosen = rows if self.select is None else [Pending(r.rid, self.select(r.lines)) for r in rows]
            withheld = sum(1 for r in chosen if not r.lines) if self.select is not None else 0
            refused = write_rows(chosen, functools.partial(self.writer.write, target))
            self.queue.advance(stream, rows[-1].rid, refused, ms_of(self.clock.now()))
            for r in refused:
                self.counters.inc(f"{self.names.refused_prefix}{r.reason}")
                log.error("%s refused a %s row for good (%s: %s); quarantined", self.server, stream, r.reason, r.detail)
            self.counters.inc(self.names.forwarded, len(rows) - len(refused) - withheld)
            if withheld:
                self.counters.inc(self.names.withheld, withheld)
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
                self.counters.inc(self.names.retries)
                if not failing:
                    log.warning("forwarding to %s failed (%s); retrying with backoff until it works", self.server, exc)
                failing = True
                self._sleep(delay)
                delay = min(delay * 2, self.backoff_max_s)
                continue
            except Exception:
                self.counters.inc(self.names.errors)
                log.exception("forwarder pass to %s failed; retrying", self.server)
                self._sleep(delay)
                delay = min(delay * 2, self.backoff_max_s)
                continue
            if failing:
                log.info("forwarding to %s works again", self.server)
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
