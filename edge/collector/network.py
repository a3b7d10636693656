"""The site's second output: its anonymous, derived series to the network's central store.

A second forwarder with its own cursor (`cursor_network`) over the store's derived table: the rows are already
durable on the site (SQLite, `synchronous=FULL`), so a central outage of any length, a collector killed at any
moment or a power cut costs nothing but time. Every row passes the allow-list (edge.collector.egress) on its
way out. The central store is VictoriaMetrics (docs/architecture.md, "The network"), reached through vmauth
over HTTPS with this site's own user, which also forces the `site` label of everything the site writes.

Two things differ from the InfluxDB output:

* **Rows leave once settled.** VictoriaMetrics keeps one sample per series and millisecond (with
  `-dedup.minScrapeInterval=1ms`), the largest when two arrive: it cannot overwrite a value as InfluxDB does.
  A derived row that late events correct (a desk Pi's backlog after a Wi-Fi cut) is rewritten on the site
  with a new rid, so a row leaves only when no newer version of it appeared for `settle_s` (`Settling`).
  A row corrected after it left is counted in the store (`network_corrections`, edge.collector.store).
* **Running figures leave when their period is over.** A member count of a day, month or year is updated on
  the site until that period ends: the row is held (table `network_held`) and sent once its period is over and
  `settle_s` more have passed; a held row that is replaced is dropped, its new version held in turn.
* **Nothing is quarantined.** Every failure, 4xx included, is retried with backoff: vmauth answers a wrong
  password with 400, which must never make a site drop its rows. The central store accepts everything our own
  encoder writes, so a stuck stream means a configuration to fix (logged, `network_retries`).
"""

from __future__ import annotations

import base64
import functools
import ssl
from collections import deque
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from edge.clock import Clock
from edge.collector.egress import EgressFilter
from edge.collector.forward import CounterNames, Forwarder, write_rows
from edge.collector.outqueue import NETWORK, ForwardQueue, Pending
from edge.collector.schema import ms_of
from edge.collector.writers import KeptAlive, WriteFailed, Writer
from edge.config import read_secret
from edge.config.collector import NetworkConfig
from edge.metrics import Counters

WRITE_PATH = "/api/v2/write"  # VictoriaMetrics' InfluxDB line protocol endpoint, as vmauth routes it
NETWORK_COUNTERS = CounterNames(
    forwarded="network_forwarded",
    retries="network_retries",
    refused_prefix="network_refused_",
    errors="network_errors",
    withheld="network_withheld",
)
MARK_EVERY_S = 1.0


class NetworkWriter:
    """POSTs line protocol to the central store over one kept-alive HTTPS connection, with basic auth."""

    def __init__(self, url: str, username: str, password: str, *, ca_file: str | None, timeout_s: float) -> None:
        context = ssl.create_default_context(cafile=ca_file) if url.startswith("https:") else None
        self._http = KeptAlive(url, timeout_s=timeout_s, context=context)
        self._path = self._http.base_path + WRITE_PATH + "?precision=ns"
        auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self._headers = {"Authorization": auth, "Content-Type": "text/plain; charset=utf-8"}

    def write(self, bucket: str, body: str) -> None:
        """POST the body; any answer but a 2xx raises WriteFailed (the forwarder retries it)."""
        status, detail = self._http.post(self._path, body.encode(), self._headers)
        if not 200 <= status < 300:
            raise WriteFailed(f"HTTP {status}: {detail}")

    def close(self) -> None:
        """Close the connection."""
        self._http.close()


class Settling:
    """The highest rid that has been the table's latest for at least `settle_s`: rows up to it have settled.

    Samples (time, latest rid) as the forwarder asks; a rid is settled once a sample at least `settle_s` old
    already saw it. After a restart nothing is known about the rows' ages, so they settle `settle_s` later.
    """

    def __init__(self, settle_s: float, latest_rid: Callable[[], int], monotonic: Callable[[], float]) -> None:
        self.settle_s = settle_s
        self._latest_rid = latest_rid
        self._monotonic = monotonic
        self._marks: deque[tuple[float, int]] = deque()
        self._settled = 0

    def ceiling(self) -> int:
        """The highest settled rid now."""
        now = self._monotonic()
        if not self._marks or now - self._marks[-1][0] >= MARK_EVERY_S or self.settle_s == 0:
            self._marks.append((now, self._latest_rid()))
        while self._marks and now - self._marks[0][0] >= self.settle_s:
            self._settled = max(self._settled, self._marks.popleft()[1])
        return self._settled


class NetworkForwarder(Forwarder):
    """The network stream: settled derived rows, through the allow-list; running figures held until their period
    is over. Its `run` loop, backoff and counters are the Forwarder's."""

    def __init__(
        self, queue: ForwardQueue, writer: Writer, egress: EgressFilter, settle_s: float, **kwargs: Any
    ) -> None:
        super().__init__(queue, writer, {NETWORK: ""}, **kwargs)
        self.egress = egress
        self.settle_ms = int(settle_s * 1000)

    def forward_once(self) -> int:
        """Send the held rows whose time has come, then examine the next settled rows. Raises WriteFailed."""
        now_ms = ms_of(self.clock.now())
        due = self.queue.held_due(now_ms, self.batch_size)
        if due:
            write_rows(due, functools.partial(self.writer.write, ""))  # the central store refuses no row
            self.queue.release([r.rid for r in due])
            self.counters.inc(self.names.forwarded, len(due))
        upto = self.ceiling() if self.ceiling is not None else None
        rows = self.queue.pending(NETWORK, self.batch_size, upto)
        if not rows:
            return len(due)
        send: list[Pending] = []
        held: list[tuple[int, int]] = []
        for row in rows:
            lines = self.egress.select(row.lines)
            if not lines:
                continue
            period_end = self.egress.release_ms(lines)  # 0 for a figure that is not a running one
            if period_end and period_end + self.settle_ms > now_ms:
                held.append((row.rid, period_end + self.settle_ms))
            else:
                send.append(Pending(row.rid, lines))
        refused = write_rows(send, functools.partial(self.writer.write, ""))
        self.queue.advance(NETWORK, rows[-1].rid, refused, now_ms, held=held)
        withheld = len(rows) - len(send) - len(held)
        self.counters.inc(self.names.forwarded, len(send) - len(refused))
        if withheld:
            self.counters.inc(self.names.withheld, withheld)
        return len(due) + len(rows)


def network_forwarder(
    settings: NetworkConfig, site: str, queue: ForwardQueue, *, clock: Clock, counters: Counters, tz: ZoneInfo
) -> Forwarder:
    """The forwarder of the network stream: settled derived rows, through the allow-list, to the central store."""
    password = read_secret(settings.password_file).decode()
    writer = NetworkWriter(
        settings.url,
        settings.username or site,
        password,
        ca_file=str(settings.ca_file) if settings.ca_file else None,
        timeout_s=settings.timeout_s,
    )
    settling = Settling(settings.settle_s, lambda: queue.latest_rid(NETWORK), clock.monotonic)
    return NetworkForwarder(
        queue,
        writer,
        EgressFilter(settings.min_desks, tz),
        settings.settle_s,
        clock=clock,
        counters=counters,
        batch_size=settings.batch_size,
        backoff_max_s=settings.backoff_max_s,
        ceiling=settling.ceiling,
        names=NETWORK_COUNTERS,
        server="the network's central store",
    )
