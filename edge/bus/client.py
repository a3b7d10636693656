"""The bus: publishes events from the durable outbox, in order, and delivers inbound messages to handlers.

Producers call `publish_event`, which stores the event (with its seq) before returning. A pump thread hands
stored events to paho at QoS 1 within a bounded window and deletes them when the broker acknowledges them
(PUBACK). paho resends in-flight messages after a reconnect; after a crash the outbox is replayed from the start,
so a consumer may see an event twice, never zero times: consumers are idempotent on `id`.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from edge import __version__
from edge.bus.outbox import Outbox, Row
from edge.bus.session import NetworkLoop, acknowledged, connect_properties, make_client
from edge.clock import Clock, SystemClock
from edge.config import NodeConfig
from edge.contract import Body, Envelope, Event, NodeStatus, Topics, encode
from edge.contract.replay import decode_replay
from edge.errors import PayloadError, StoreError
from edge.ids import new_event_id
from edge.metrics import Counters

log = logging.getLogger(__name__)

SPILL_LIMIT = 10_000
STALL_S = 30.0
"""Seconds without a pass of the outbox pump after which the daemon withholds its watchdog ping."""


@dataclass(frozen=True)
class Message:
    """An inbound MQTT message as handlers see it."""

    topic: str
    payload: bytes
    retain: bool
    qos: int


Handler = Callable[[Message], None]


class Bus:
    """One node's connection to the broker: durable outbound events, inbound subscriptions, availability."""

    def __init__(
        self,
        config: NodeConfig,
        daemon: str,
        *,
        clock: Clock | None = None,
        counters: Counters | None = None,
        status_extra: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.config = config
        self.daemon = daemon
        self.clock = clock or SystemClock()
        self.counters = counters or Counters()
        self.topics = Topics(site=config.site, prefix=config.mqtt.prefix)
        self.outbox = Outbox(
            config.state_dir / f"outbox-{daemon}.sqlite3",
            max_events=config.outbox.max_events,
            synchronous=config.outbox.synchronous,
            keep_acked_s=config.outbox.keep_acked_s,
            keep_acked_events=config.outbox.keep_acked_events,
        )
        self._status_extra = status_extra
        self._started = time.monotonic()
        self._cond = threading.Condition()
        self._connected = False
        self._stopping = False
        # Handed to paho, not yet acknowledged: paho marks each MQTTMessageInfo published on PUBACK, which
        # avoids matching message ids (reused, and possibly acknowledged before publish() even returns).
        self._inflight: dict[int, mqtt.MQTTMessageInfo] = {}  # seq -> info
        self._ack_signal = False
        self._spill: collections.deque[Row] = collections.deque()
        self._subscriptions: dict[str, int | SubscribeOptions] = {}
        self._announcements: list[tuple[str, bytes]] = []
        self._next_status = 0.0
        self._reported_depth = 0  # the outbox depth the last `online` status gave
        self._last_status_at = 0.0
        self._status_lock = threading.Lock()
        self._closing = False
        client_id = config.mqtt.client_id or f"edge-{config.site}-{config.node}-{daemon}"
        self._client = make_client(config.mqtt, client_id)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._client.on_message = self._on_unhandled
        self._loop = NetworkLoop(
            self._client, config.mqtt, name=f"mqtt-{daemon}", properties=connect_properties(config.mqtt, daemon)
        )
        # Retain-as-published: a request someone published retained is seen as such, and refused.
        self.subscribe(self.topics.node_replay(config.node), self._on_replay, retain_as_published=True)
        self._pump_beat = time.monotonic()
        self._pump = threading.Thread(target=self._pump_loop, name=f"outbox-{daemon}", daemon=True)

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background and start publishing; returns at once (the broker may be down)."""
        self._set_will()
        self._loop.start()
        self._pump.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Publish `offline`, give in-flight events a moment to be acknowledged, disconnect, close the outbox."""
        deadline = time.monotonic() + timeout
        if self._connected:
            self.wait_drained(max(0.0, min(timeout / 2, deadline - time.monotonic())))
            with self._status_lock:  # no `online` from the pump may follow the `offline`
                self._closing = True
                info = self._client.publish(
                    self.topics.node_status(self.config.node), self._status_payload("offline"), qos=1, retain=True
                )
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                info.wait_for_publish(max(0.1, min(1.0, deadline - time.monotonic())))
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._pump.join(max(0.1, deadline - time.monotonic()))
        self._loop.stop(max(0.1, deadline - time.monotonic()))
        self.outbox.close()

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up right now."""
        return self._connected

    def wait_connected(self, timeout: float) -> bool:
        """Block until connected or `timeout` seconds pass."""
        with self._cond:
            return self._cond.wait_for(lambda: self._connected, timeout)

    @property
    def alive(self) -> bool:
        """Whether the outbox pump makes progress and the network loop thread runs (for the watchdog)."""
        # The pump passes its loop at least every second (plus a store write): 30 s without means it is stuck.
        return self._pump.is_alive() and time.monotonic() - self._pump_beat < STALL_S and self._loop.alive

    def wait_drained(self, timeout: float) -> bool:
        """Block until every stored event has been acknowledged, or `timeout` seconds pass."""
        with self._cond:
            return self._cond.wait_for(lambda: self.outbox.depth == 0 and not self._spill, timeout)

    # -- outbound --------------------------------------------------------------------------------------------

    def publish_event(self, body: Body, ts: datetime | None = None) -> Envelope:
        """Stamp, store durably and queue one event; `ts` is when it happened (defaults to now)."""
        when = ts or self.clock.now()
        when = when.replace(microsecond=when.microsecond // 1000 * 1000)
        topic = body.topic(self.topics)
        built: list[tuple[Envelope, Row]] = []

        def build(seq: int) -> Row:
            envelope = Envelope(id=new_event_id(), ts=when, node=self.config.node, seq=seq)
            row = Row(seq, envelope.id, topic, encode(Event(envelope, body)), 1, body.retain)
            built.append((envelope, row))
            return row

        try:
            self.outbox.append(build)
        except StoreError as exc:
            if not built:
                raise
            self._spill_row(built[0][1], exc)
        with self._cond:
            self._cond.notify_all()
        return built[0][0]

    def _spill_row(self, row: Row, exc: StoreError) -> None:
        # The disk refused: keep the row in a bounded memory spill; the pump writes it when the disk works again.
        self.counters.inc("store_errors")
        log.error("%s; keeping the event in memory until the store works again", exc)
        with self._cond:
            if len(self._spill) >= SPILL_LIMIT:
                self._spill.popleft()
                self.counters.inc("events_dropped_spill")
            self._spill.append(row)

    def publish_status(self) -> None:
        """Publish the node status now (retained); it is also refreshed every `status_interval_s`."""
        with self._status_lock:
            if self._connected and not self._closing:
                self._client.publish(
                    self.topics.node_status(self.config.node), self._status_payload("online"), qos=1, retain=True
                )

    def _status_payload(self, state: str) -> bytes:
        extra = dict(self._status_extra()) if self._status_extra else {}
        depth = self.outbox.depth + len(self._spill)
        if state == "online":
            self._reported_depth = depth
        counters = self.counters.snapshot() | extra.pop("counters", {})
        body = NodeStatus(
            state=state,  # type: ignore[arg-type]
            version=__version__,
            uptime_s=round(time.monotonic() - self._started, 1),
            outbox_depth=depth,
            outbox_dropped=self.outbox.dropped + self.counters.get("events_dropped_spill"),
            counters=counters,
            node_name=self.config.node,
            **extra,
        )
        envelope = Envelope(id=new_event_id(), ts=self.clock.now(), node=self.config.node, seq=self.outbox.last_seq)
        return encode(Event(envelope, body))

    def _set_will(self) -> None:
        self._client.will_set(
            self.topics.node_status(self.config.node), self._status_payload("offline"), qos=1, retain=True
        )

    # -- inbound ---------------------------------------------------------------------------------------------

    def subscribe(
        self, topic_filter: str, handler: Handler, qos: int = 1, *, retain_as_published: bool = False
    ) -> None:
        """Deliver messages matching `topic_filter` to `handler` (from the network thread); resubscribed on reconnect.

        A handler that raises is logged and counted; the bus keeps running. `retain_as_published` (MQTT 5 only) keeps
        the retain flag of a message published retained while we were subscribed, which MQTT otherwise clears: a
        handler that must refuse retained messages (door commands) then sees them as such.
        """

        def dispatch(_client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
            try:
                handler(Message(msg.topic, bytes(msg.payload), bool(msg.retain), int(msg.qos)))
            except Exception:
                self.counters.inc("handler_errors")
                log.exception("handler for %s failed", topic_filter)

        self._client.message_callback_add(topic_filter, dispatch)
        v5 = self.config.mqtt.protocol == "5"
        self._subscriptions[topic_filter] = (
            SubscribeOptions(qos=qos, retainAsPublished=True) if retain_as_published and v5 else qos
        )
        if self._connected:
            self._subscribe(self._client, topic_filter, self._subscriptions[topic_filter])

    @staticmethod
    def _subscribe(client: mqtt.Client, topic_filter: str, qos: int | SubscribeOptions) -> None:
        if isinstance(qos, SubscribeOptions):
            client.subscribe(topic_filter, options=qos)
        else:
            client.subscribe(topic_filter, qos)

    def announce(self, messages: list[tuple[str, bytes]]) -> None:
        """Retained messages (e.g. Home Assistant discovery) published now and again on every reconnect."""
        self._announcements = list(messages)
        if self._connected:
            self._publish_announcements(self._client)

    def _publish_announcements(self, client: mqtt.Client) -> None:
        for topic, payload in self._announcements:
            client.publish(topic, payload, qos=1, retain=True)

    def _on_replay(self, message: Message) -> None:
        """The collector misses some of our events (a broker crash lost them): queue the kept ones again."""
        if not message.payload:
            return  # a retained request being cleared
        if message.retain:
            self.counters.inc("replay_refused.retained")  # a stale request replayed at every reconnect
            return
        try:
            request = decode_replay(message.payload)
        except PayloadError as exc:
            self.counters.inc(f"replay_refused.{exc.reason}")
            log.warning("replay request refused: %s", exc)
            return
        try:
            queued = self.outbox.replay(request.first_seq, request.last_seq)
        except StoreError as exc:
            self.counters.inc("store_errors")
            log.error("%s", exc)
            return
        self.counters.inc("replay_requests")
        self.counters.inc("events_replayed", queued)
        log.info("replaying %d kept events of seq %d..%d", queued, request.first_seq, request.last_seq)
        with self._cond:
            self._cond.notify_all()

    def _on_unhandled(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.counters.inc("messages_unhandled")

    # -- paho callbacks (network thread) ---------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any = None) -> None:
        if reason.is_failure:
            self.counters.inc("connect_refused")
            log.warning("broker refused the connection: %s", reason)
            return
        log.info("connected to %s:%s", self.config.mqtt.host, self.config.mqtt.port)
        self.counters.inc("connects")
        for topic_filter, qos in self._subscriptions.items():
            self._subscribe(client, topic_filter, qos)
        self._publish_announcements(client)
        with self._cond:
            self._connected = True
            self._next_status = 0.0
            self._cond.notify_all()

    def _on_disconnect(self, _client: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any = None) -> None:
        with self._cond:
            was = self._connected
            self._connected = False
            self._cond.notify_all()
        if was and not self._stopping:
            log.warning("disconnected from the broker (%s); reconnecting", reason)
        self._set_will()

    def _on_publish(self, _client: mqtt.Client, _u: Any, mid: int, _reason: ReasonCode, _p: Any) -> None:
        with self._cond:
            self._ack_signal = True
            self._cond.notify_all()

    # -- pump ------------------------------------------------------------------------------------------------

    def _pump_loop(self) -> None:
        while True:
            self._pump_beat = time.monotonic()
            try:
                if not self._pump_once():
                    return
            except StoreError as exc:
                self.counters.inc("store_errors")
                log.error("%s", exc)
                self._status_if_due(self._connected)  # a node whose disk is full must still say so
                time.sleep(1.0)
            except Exception:  # the pump never dies: its events stay in the outbox and are sent on the next pass
                self.counters.inc("pump_errors")
                log.exception("outbox pump failed; retrying")
                time.sleep(1.0)

    def _pump_once(self) -> bool:
        """One pass: take acknowledgements, send what the window allows, publish a status when due; False once
        stopping."""
        with self._cond:
            self._cond.wait_for(self._has_work, timeout=1.0)
            if self._stopping:
                return False
            acked = self._take_acks()
            connected = self._connected
            free = self.config.mqtt.max_inflight - len(self._inflight)
            skip = set(self._inflight)
        self._flush_spill()
        self.outbox.acknowledge(acked, int(time.time() * 1000))
        if acked:
            with self._cond:
                self._cond.notify_all()
            if self._reported_depth and self.outbox.depth == 0 and not self._spill:
                # The last status said events were waiting: say soon (at most once a second) that they
                # are all delivered, rather than at the next status interval.
                self._next_status = min(self._next_status, self._last_status_at + 1.0)
        if connected and free > 0:
            self._send(self.outbox.pending(free, skip))
        self._status_if_due(connected)
        return True

    def _status_if_due(self, connected: bool) -> None:
        if connected and time.monotonic() >= self._next_status:
            self._last_status_at = time.monotonic()
            self._next_status = time.monotonic() + self.config.status_interval_s
            self.publish_status()

    def _has_work(self) -> bool:
        if self._stopping or self._ack_signal or self._spill:
            return True
        if not self._connected:
            return False
        due = time.monotonic() >= self._next_status
        return due or (len(self._inflight) < self.config.mqtt.max_inflight and self.outbox.depth > len(self._inflight))

    def _take_acks(self) -> list[int]:
        self._ack_signal = False
        acked = [seq for seq, info in self._inflight.items() if acknowledged(info)]
        for seq in acked:
            del self._inflight[seq]
        return acked

    def _send(self, rows: list[Row]) -> None:
        for row in rows:
            info = self._client.publish(row.topic, row.payload, qos=row.qos, retain=row.retain)
            if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                self.counters.inc("publish_errors")
                break
            # On NO_CONN paho keeps the message and sends it after reconnecting: it is in flight either way.
            with self._cond:
                self._inflight[row.seq] = info
            self.counters.inc("events_sent")
            if info.rc == mqtt.MQTT_ERR_NO_CONN:
                break

    def _flush_spill(self) -> None:
        while self._spill:
            self.outbox.restore(self._spill[0])
            with self._cond:
                self._spill.popleft()
