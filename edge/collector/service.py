"""The collector daemon: MQTT link -> store thread (commit, then acknowledge) -> forwarder thread -> InfluxDB.

Threads: the link's I/O thread hands what it read to a bounded queue, a batch per wake-up; the store thread
commits batches (all messages waiting, up to `ingest_batch`, in one transaction) and only then asks the link to
acknowledge them; it also keeps the derived series up to date (less often while a backlog streams in) and
purges expired records. The forwarder thread, when InfluxDB is configured, drains the store; the network thread,
when the site belongs to a network (`collector.network`), sends the anonymous derived series to the central store
(edge.collector.network). The broker never has more than `receive_maximum` unacknowledged messages in flight to
us, which bounds the queue; the backlog itself stays on disk.

The collector's own status is a state, not an event, so it is published directly on the link (retained,
refreshed every `status_interval_s`, `offline` as the last will) rather than through a durable outbox: a lost
status is replaced by the next one, and one connection serves both directions.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from datetime import timedelta

from edge import __version__
from edge.clock import Clock, SystemClock
from edge.collector.aggregates import MemberAggregator
from edge.collector.deriver import Deriver
from edge.collector.forward import Forwarder
from edge.collector.ingest import Outcome, Receipt, Rejected, classify
from edge.collector.link import Inbound, Link
from edge.collector.network import network_forwarder
from edge.collector.outqueue import NETWORK, ForwardQueue
from edge.collector.replays import ReplayPlanner
from edge.collector.schema import Bucket, Retention, ms_of
from edge.collector.store import Store
from edge.collector.writers import make_writer
from edge.config import NodeConfig
from edge.config.collector import CollectorConfig
from edge.contract import Envelope, Event, Kind, NodeStatus, Topics, encode
from edge.errors import StoreError
from edge.ids import new_event_id
from edge.metrics import Counters
from edge.timesync import clock_synchronised

log = logging.getLogger(__name__)

DERIVE_EVERY_S = 1.0
DERIVE_BUSY_S = 5.0  # while full batches stream in (a backlog), derive this often: each pass redoes the window
REPLAY_CHECK_S = 5.0
STALL_S = 30.0
CLOCK_AHEAD_LOG_S = 600.0  # at most one warning per node this often about events dated ahead of our clock
# The daemon's GIL switch interval (CPython's default is 5 ms). The store thread spends much of its time in SQLite
# with the GIL released, and needs it back after every call; with the default, each time it waits up to 5 ms
# while paho's thread parses packets, so the commit pipeline, not Python, set the rate. 0.5 ms gave ~1.3x the
# events per second in bench_collector (docs/benchmarks.md); `edge collector` sets it, the class does not.
SWITCH_INTERVAL_S = 0.0005


class Inbox:
    """Batches of received messages, oldest first, bounded by how many messages they hold (not by batches)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._batches: collections.deque[list[Inbound]] = collections.deque()
        self._count = 0
        self._cond = threading.Condition()

    def __len__(self) -> int:
        return self._count

    def put(self, batch: list[Inbound], timeout: float) -> bool:
        """Add a batch once fewer than `limit` messages wait (one batch may go past it); False on timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._count < self.limit, timeout):
                return False
            self._batches.append(batch)
            self._count += len(batch)
            self._cond.notify_all()
            return True

    def take(self, most: int, timeout: float) -> list[Inbound]:
        """Up to `most` messages in the order received, waiting up to `timeout` for the first; [] if none came."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._count > 0, timeout):
                return []
            out: list[Inbound] = []
            while self._batches and len(out) < most:
                batch = self._batches.popleft()
                room = most - len(out)
                if len(batch) > room:
                    self._batches.appendleft(batch[room:])
                    batch = batch[:room]
                out += batch
            self._count -= len(out)
            self._cond.notify_all()
            return out


def subscriptions(topics: Topics, settings: CollectorConfig) -> list[str]:
    """Topic filters: P/# (shared when a group is set); a deriving group member also needs every desk and door
    decision, so it subscribes to those without sharing (duplicates are dropped by event id)."""
    if settings.shared_group is None:
        return [topics.everything()]
    filters = [f"$share/{settings.shared_group}/{topics.everything()}"]
    if settings.derive:
        filters += [topics.filter(Kind.DESK_OCCUPANCY), topics.filter(Kind.DOOR_ACCESS)]
    return filters


class Collector:
    """Wires the link, the store, the deriver and the forwarder; implements the runtime's Service."""

    def __init__(self, config: NodeConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        self.settings = config.collector or CollectorConfig()
        self.clock = clock or SystemClock()
        self.counters = Counters()
        self.topics = Topics(site=config.site, prefix=config.mqtt.prefix)
        path = self.settings.store_path or config.state_dir / "collector.sqlite3"
        self.store = Store(path)
        self.out = ForwardQueue(path, self.store.writer)
        # Batches as the link read them, bounded by the messages they hold: when the store falls behind, the link
        # stops reading and TCP holds the broker back (Mosquitto 2.0 was seen sending a persistent session's backlog
        # far beyond our Receive Maximum, so this bound, not the broker, keeps memory flat).
        self._inbox = Inbox(self.settings.receive_maximum * 2)
        self._busy = False  # the last ingest batch was full: a backlog is streaming in
        self._stopping = threading.Event()
        self._started = time.monotonic()
        self._next_status = 0.0
        self._status_generation = 0  # the link's connection count when `online` was last published
        self._next_purge = 0.0
        self._next_derive = 0.0
        self._next_replay_check = 0.0
        self._clock_ahead_logged: dict[str, float] = {}  # node -> monotonic time of its last warning
        self._clock_ahead_unlogged: dict[str, tuple[int, int]] = {}  # node -> (events, furthest ahead ms) since
        # A member of a shared group sees only its share of the events: every other member's would look missing.
        self.replays = (
            ReplayPlanner(grace_s=self.settings.replay_after_s) if self.settings.shared_group is None else None
        )
        self.heartbeat = time.monotonic()
        self.deriver = (
            Deriver(
                self.store,
                site=config.site,
                clock=self.clock,
                tz=config.tz,
                step_s=self.settings.derive_step_s,
                directions=self.settings.directions,
                assumed_stay_h=self.settings.assumed_stay_h,
                opening_hours=self.settings.opening_hours,
            )
            if self.settings.derive
            else None
        )
        self.aggregator = (
            MemberAggregator(
                self.store,
                site=config.site,
                clock=self.clock,
                tz=config.tz,
                retention_days=self.settings.retention_days,
                directions=self.settings.directions,
                yearly_sketch=self.settings.yearly_sketch,
            )
            if self.settings.derive
            else None
        )
        self.forwarder: Forwarder | None = None
        influx = self.settings.influx
        if influx is not None:
            buckets = {str(Bucket.RAW): influx.bucket, str(Bucket.AGGREGATE): influx.aggregate_bucket or influx.bucket}
            self.forwarder = Forwarder(
                self.out,
                make_writer(influx),
                buckets,
                clock=self.clock,
                counters=self.counters,
                batch_size=self.settings.batch_size,
                backoff_max_s=self.settings.backoff_max_s,
            )
        self.network: Forwarder | None = None
        if self.settings.network is not None:
            self.network = network_forwarder(
                self.settings.network, config.site, self.out, clock=self.clock, counters=self.counters, tz=config.tz
            )
        client_id = self.settings.client_id or config.mqtt.client_id or f"edge-{config.site}-{config.node}-collector"
        self.link = Link(
            config.mqtt,
            client_id,
            subscriptions=subscriptions(self.topics, self.settings),
            deliver=self._deliver,
            counters=self.counters,
            session_expiry_s=self.settings.session_expiry_s,
            receive_maximum=self.settings.receive_maximum,
            batch_max=self.settings.ingest_batch,  # a batch is one store transaction: the inbox never splits one
            will=(self.topics.node_status(config.node), self.status_payload("offline")),
        )
        self._store_thread = threading.Thread(target=self._store_loop, name="collector-store", daemon=True)
        self._forward_thread = threading.Thread(target=self._forward_loop, name="collector-forward", daemon=True)
        self._network_thread = threading.Thread(target=self._network_loop, name="collector-network", daemon=True)

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the store thread, the forwarder and the MQTT link (which connects in the background)."""
        self._store_thread.start()
        if self.forwarder is not None:
            self._forward_thread.start()
        if self.network is not None:
            self._network_thread.start()
        self.link.start()

    def stop(self) -> None:
        """Commit and acknowledge what was received, publish `offline`, disconnect, close the store."""
        self._stopping.set()
        if self._store_thread.is_alive():
            self._store_thread.join(10)
        if self.link.connected:
            self.link.publish(self.topics.node_status(self.config.node), self.status_payload("offline"), retain=True)
        self.link.stop()
        if self.forwarder is not None:
            self.forwarder.stop()
            if self._forward_thread.is_alive():
                self._forward_thread.join(self.settings.influx.timeout_s + 2 if self.settings.influx else 2)
            self.forwarder.writer.close()
        if self.network is not None:
            self.network.stop()
            if self._network_thread.is_alive():
                self._network_thread.join(self.settings.network.timeout_s + 2 if self.settings.network else 2)
            self.network.writer.close()
        self.out.close()
        self.store.close()

    def alive(self) -> bool:
        """Every loop made progress in the last STALL_S seconds."""
        now = time.monotonic()
        beats = [self.heartbeat, self.link.heartbeat]
        beats += [f.heartbeat for f in (self.forwarder, self.network) if f is not None]
        return all(now - beat < STALL_S for beat in beats)

    def tick(self) -> None:
        """Called every second by the runtime: refresh the retained status when due, and right after a reconnect."""
        connected = self.link.connected
        # After a reconnect the broker may have published the last will (offline): say online again at once.
        if connected and self.link.generation != self._status_generation:
            self._status_generation = self.link.generation
            self._next_status = 0.0
        if time.monotonic() >= self._next_status and connected:
            self._next_status = time.monotonic() + self.config.status_interval_s
            self.link.publish(self.topics.node_status(self.config.node), self.status_payload("online"), retain=True)

    # -- status ----------------------------------------------------------------------------------------------

    def status_counters(self) -> dict[str, int]:
        """The counters published in the node status: process counters plus store figures."""
        counters = self.counters.snapshot()
        completeness = self.store.completeness()
        counters["missing"] = sum(c.missing for c in completeness.values())
        counters["gaps"] = sum(c.gaps for c in completeness.values())
        counters["quarantine_kept"] = sum(self.store.quarantine_counts().values())
        if self.forwarder is not None:  # with no InfluxDB the local store is the destination: nothing is pending
            counters["backlog_raw"] = self.out.backlog(Bucket.RAW)
            counters["backlog_derived"] = self.out.backlog(Bucket.AGGREGATE)
        if self.network is not None:  # derived rows the network stream has not examined yet (settling included)
            counters["network_backlog"] = self.out.backlog(NETWORK)
            counters["network_corrections"] = self.store.network_corrections()
            counters["network_held"] = self.out.held()
        return {k: max(0, int(v)) for k, v in counters.items()}

    def status_payload(self, state: str) -> bytes:
        """The collector's node status, encoded."""
        counters = self.status_counters() if state == "online" else self.counters.snapshot()
        body = NodeStatus(
            state=state,  # type: ignore[arg-type]
            version=__version__,
            clock_synced=clock_synchronised(),  # our clock is the reference for every event's time bound
            uptime_s=round(time.monotonic() - self._started, 1),
            outbox_depth=counters.get("backlog_raw", 0) + counters.get("backlog_derived", 0),
            outbox_dropped=0,
            counters=counters,
            node_name=self.config.node,
        )
        envelope = Envelope(id=new_event_id(), ts=self.clock.now(), node=self.config.node, seq=0)
        return encode(Event(envelope, body))

    # -- I/O thread ------------------------------------------------------------------------------------------

    def _deliver(self, batch: list[Inbound]) -> None:
        # Blocks the I/O thread only when the store falls behind by a whole receive window: back-pressure.
        while not self._stopping.is_set():
            if self._inbox.put(batch, timeout=0.5):
                return

    # -- store thread ----------------------------------------------------------------------------------------

    def _store_loop(self) -> None:
        while True:
            self.heartbeat = time.monotonic()
            batch = self._take_batch()
            if batch:
                self.ingest(batch)
            elif self._stopping.is_set():
                return
            try:
                self._housekeeping()
            except StoreError as exc:
                self.counters.inc("store_errors")
                log.error("%s", exc)
            except Exception:
                self.counters.inc("derive_errors")
                log.exception("derived series or purge failed; will retry")

    def _take_batch(self) -> list[Inbound]:
        batch = self._inbox.take(self.settings.ingest_batch, timeout=0.2)
        self._busy = len(batch) == self.settings.ingest_batch
        return batch

    def _classify(self, message: Inbound, receipt: Receipt) -> Outcome:
        try:
            return classify(self.topics, message.topic, message.payload, receipt)
        except Exception as exc:  # a decoder bug must not stop the collector: quarantine the message
            return Rejected(message.topic, "internal_error", repr(exc)[:200], message.payload[:1024])

    def ingest(self, batch: list[Inbound]) -> None:
        """Store a batch of received messages (time-bounded by their receipt), then acknowledge them."""
        # Every message of the batch was received by now: its receipt bounds how far ahead an event may be dated.
        received_ms = ms_of(self.clock.now())
        receipt = Receipt(received_ms, self.settings.max_clock_ahead_s * 1000)
        outcomes = [self._classify(m, receipt) for m in batch]
        self.counters.inc("received", len(batch))
        while True:
            try:
                result = self.store.commit(outcomes, received_ms)
                break
            except StoreError as exc:
                # Nothing was stored, so nothing is acknowledged: the broker keeps the messages. Retry.
                self.counters.inc("store_errors")
                log.error("%s; retrying, messages stay unacknowledged", exc)
                self.heartbeat = time.monotonic()
                if self._stopping.wait(1.0):
                    return
        self.counters.inc("stored", result.stored)
        self.counters.inc("duplicates", result.duplicates)
        self.counters.inc("ignored", result.ignored)
        if result.seq_reused:
            self.counters.inc("seq_reused", result.seq_reused)
        if result.clock_ahead:
            self._report_clock_ahead(result.clock_ahead, result.ahead_ms)
        for reason, count in result.quarantined.items():
            self.counters.inc("quarantined", count)
            self.counters.inc(f"quarantined_{reason}", count)
            log.warning("quarantined %d message(s): %s", count, reason)
        by_generation: dict[int, list[int]] = defaultdict(list)
        for message in batch:
            if message.qos > 0:
                by_generation[message.generation].append(message.mid)
        for generation, mids in sorted(by_generation.items()):
            self.link.ack(generation, mids)
        if self.forwarder is not None:
            self.forwarder.wake.set()

    def _report_clock_ahead(self, counts: Mapping[str, int], ahead_ms: Mapping[str, int]) -> None:
        """Count events dated ahead of our clock and warn about each node at most every CLOCK_AHEAD_LOG_S."""
        self.counters.inc("clock_ahead", sum(counts.values()))
        now = time.monotonic()
        for node, count in counts.items():
            seen, furthest = self._clock_ahead_unlogged.get(node, (0, 0))
            seen, furthest = seen + count, max(furthest, ahead_ms.get(node, 0))
            last = self._clock_ahead_logged.get(node)
            if last is not None and now - last < CLOCK_AHEAD_LOG_S:
                self._clock_ahead_unlogged[node] = (seen, furthest)
                continue
            self._clock_ahead_logged[node] = now
            self._clock_ahead_unlogged.pop(node, None)
            log.warning(
                "node %s: %d event(s) dated up to %s ahead of this collector's clock (more than %d s); stored and "
                "forwarded at their receipt time instead: check that node's clock",
                node,
                seen,
                timedelta(milliseconds=furthest),
                self.settings.max_clock_ahead_s,
            )

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if self.deriver is not None and now >= self._next_derive:
            if self.deriver.run():
                for forwarder in (self.forwarder, self.network):
                    if forwarder is not None:
                        forwarder.wake.set()
            # catching up (a long backlog or downtime) goes on between ingest batches, in bounded passes
            # while a backlog streams in, each pass would recompute the same recent window: do it less often
            self._next_derive = now if self.deriver.behind else now + (DERIVE_BUSY_S if self._busy else DERIVE_EVERY_S)
        aggregated = self.aggregator is not None and self.aggregator.due() and self.aggregator.run()
        if aggregated and self.forwarder is not None:
            self.forwarder.wake.set()
        if now >= self._next_purge:
            self._next_purge = now + self.settings.purge_interval_s
            self.purge()
        if self.replays is not None and now >= self._next_replay_check and self.link.connected:
            self._next_replay_check = now + REPLAY_CHECK_S
            self.ask_for_replays(now)

    def ask_for_replays(self, now: float) -> None:
        """Ask nodes to publish again the events a broker crash lost (see edge.contract.replay)."""
        assert self.replays is not None
        for node, request in self.replays.due(self.store.holes(), now):
            self.link.publish(self.topics.node_replay(node), request.encode())
            self.counters.inc("replay_requests_sent")
            log.info("asked %s to replay seq %d..%d", node, request.first_seq, request.last_seq)

    def purge(self) -> None:
        """Delete records past their retention (see docs/data-model.md), once the member aggregates hold them."""
        if self.aggregator is not None:
            self.aggregator.run(force=True)
        now_ms = ms_of(self.clock.now())

        def cutoff(days: int | None) -> int | None:
            return None if days is None else now_ms - days * 86_400_000

        removed = self.store.purge(
            {
                Retention.PSEUDONYMOUS: cutoff(self.settings.retention_days),
                Retention.ANONYMOUS: cutoff(self.settings.raw_retention_days),
                Retention.HEALTH: cutoff(self.settings.health_retention_days),
            },
            dated_after_ms=now_ms + self.settings.max_clock_ahead_s * 1000,
        )
        for what, count in removed.items():
            if count:
                self.counters.inc(f"purged_{what}", count)
                log.info("retention: deleted %d %s", count, what.replace("_", " "))

    # -- forwarder thread ------------------------------------------------------------------------------------

    def _forward_loop(self) -> None:
        if self.forwarder is not None:
            self.forwarder.run()

    def _network_loop(self) -> None:
        if self.network is not None:
            self.network.run()
