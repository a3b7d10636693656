"""The collector's MQTT link: a persistent QoS 1 session with manual acknowledgement, on one I/O thread.

Why not `edge.bus.NetworkLoop`: the collector acknowledges from its store thread after each commit, and a paho
client driven by `loop_forever` writes to the socket from whichever thread calls `ack()`/`publish()` — two
threads writing one socket (worse, one TLS session) at once. Here one thread runs paho's external-loop API
(`loop_read`/`loop_write`/`loop_misc` around our own `select`), and other threads hand it work through
`call_soon`, which wakes the select through a socket pair. Reconnection is the same policy as the bus: forever,
with exponential backoff. Messages are handed over in batches of at most `batch_max`, so the store thread takes
each batch in one queue operation instead of one per message. The bound is counted in messages, not in
`loop_read` calls: paho parses one packet per call only while none of our own QoS 1 publishes awaits its PUBACK,
and one more per publish waiting. While a backlog streams in, the PUBACKs of our retained statuses queue behind
it, and a wake-up bounded by calls read tens of thousands of messages into one batch (measured: 23,000 messages,
~20 MB of the daemon's heap, in bench_collector's backlog run).

Acknowledgements carry the connection generation they were received on. After a reconnect the broker resends
every unacknowledged message (same packet ids), so an acknowledgement left over from an earlier connection is
dropped rather than sent: it could otherwise acknowledge a different message that reused the packet id. The
resent copy is stored as a duplicate (by event id) and acknowledged on the new connection.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import select
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from edge.backoff import Backoff
from edge.bus.session import make_client, max_packet_size
from edge.config import MqttConfig
from edge.metrics import Counters

log = logging.getLogger(__name__)

READS_PER_TURN = 256  # `loop_read` calls per wake-up at most, input or not, before queued calls are served


class Inbound(NamedTuple):
    """One message as received: what the store needs, and what the acknowledgement needs."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int


class Link:
    """A persistent MQTT session whose socket only one thread touches."""

    def __init__(
        self,
        config: MqttConfig,
        client_id: str,
        *,
        subscriptions: Sequence[str],
        deliver: Callable[[list[Inbound]], None],
        counters: Counters,
        session_expiry_s: int,
        receive_maximum: int,
        will: tuple[str, bytes] | None = None,
        batch_max: int = 250,
    ) -> None:
        self.config = config
        self.batch_max = batch_max
        self.counters = counters
        self.generation = 0
        self.heartbeat = 0.0
        self._deliver = deliver  # takes a batch, in the order received
        self._received: list[Inbound] = []  # read in this wake-up, not yet handed over
        self._read_in_turn = 0  # messages read since the wake-up began
        self._subscriptions = list(subscriptions)
        self._will = will
        self._v5 = config.protocol == "5"
        self._connected = threading.Event()
        self._stopping = threading.Event()
        self._calls: collections.deque[Callable[[mqtt.Client], None]] = collections.deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._backoff = Backoff(config.reconnect_min_s, config.reconnect_max_s)
        self._attempted_generation = -1  # generation when the last connection attempt was made
        self._client = make_client(config, client_id, clean=False)
        self._client.manual_ack_set(True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._properties: Properties | None = None
        if self._v5:
            self._properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            self._properties.MaximumPacketSize = max_packet_size(config, "collector")
            self._properties.SessionExpiryInterval = session_expiry_s
            self._properties.ReceiveMaximum = receive_maximum
        self._thread = threading.Thread(target=self._run, name="collector-mqtt", daemon=True)

    # -- other threads ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin connecting in the background."""
        if self._will is not None:
            self._client.will_set(self._will[0], self._will[1], qos=1, retain=True)
        if self._v5:
            self._client.connect_async(
                self.config.host,
                self.config.port,
                self.config.keepalive,
                clean_start=False,
                properties=self._properties,
            )
        else:
            self._client.connect_async(self.config.host, self.config.port, self.config.keepalive)
        self._thread.start()

    @property
    def connected(self) -> bool:
        """Whether the session is up right now."""
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        """Block until connected or the timeout passes."""
        return self._connected.wait(timeout)

    def call_soon(self, call: Callable[[mqtt.Client], None]) -> None:
        """Run `call(client)` on the I/O thread."""
        self._calls.append(call)
        with contextlib.suppress(BlockingIOError, OSError):
            self._wake_w.send(b"\0")

    def ack(self, generation: int, mids: Sequence[int]) -> None:
        """Acknowledge QoS 1 messages received on connection `generation`, in order."""

        def send(client: mqtt.Client) -> None:
            if generation != self.generation:
                self.counters.inc("acks_skipped_reconnected", len(mids))
                return
            for mid in mids:
                client.ack(mid, 1)
            self.counters.inc("acked", len(mids))

        self.call_soon(send)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> threading.Event:
        """Publish at QoS 1 if connected (nothing is queued while down); the event is set once it is handed over."""
        done = threading.Event()

        def send(client: mqtt.Client) -> None:
            if self.connected:
                client.publish(topic, payload, qos=1, retain=retain)
            done.set()

        self.call_soon(send)
        return done

    def stop(self, timeout: float = 5.0) -> None:
        """Disconnect cleanly (no last will) and end the I/O thread."""
        self._stopping.set()
        self.call_soon(_disconnect)
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")
        if self._thread.ident is not None:
            self._thread.join(timeout)
        self._wake_r.close()
        self._wake_w.close()

    # -- the I/O thread --------------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self.heartbeat = time.monotonic()
            try:
                if self._stopping.is_set():
                    self._run_calls()
                    self._flush()
                    return
                if self._client.socket() is None:
                    self._reconnect()
                else:
                    self._turn()
            except Exception:  # a failure must lead to another attempt, never to a dead link
                self.counters.inc("mqtt_loop_errors")
                log.exception("MQTT I/O failed; reconnecting")
                with contextlib.suppress(Exception):
                    self._client.disconnect()
                self._pause(self._backoff.current)

    def _reconnect(self) -> None:
        if self._attempted_generation == self.generation:
            # the previous attempt reached the broker but never got a session (refused, or dropped at once):
            # back off as for an unreachable broker instead of hammering it
            self._pause(self._backoff.failed())
        self._attempted_generation = self.generation
        try:
            self._client.reconnect()
        except Exception as exc:
            delay = self._backoff.failed()
            log.warning(
                "cannot reach the broker %s:%s (%s); retrying in %.1f s", self.config.host, self.config.port, exc, delay
            )
            self._attempted_generation = -1  # waited already
            self._pause(delay)

    def _pause(self, seconds: float) -> None:
        # in slices, so the heartbeat shows a waiting loop, not a hung one
        end = time.monotonic() + seconds
        while not self._stopping.is_set() and time.monotonic() < end:
            self.heartbeat = time.monotonic()
            self._stopping.wait(min(1.0, end - time.monotonic()))

    def _turn(self) -> None:
        sock = self._client.socket()
        if sock is None:
            return
        pending = getattr(sock, "pending", None)
        buffered = bool(pending and pending())
        wlist = [sock] if self._client.want_write() else []
        readable, _writable, _ = select.select([sock, self._wake_r], wlist, [], 0.0 if buffered else 1.0)
        if self._wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                self._wake_r.recv(65536)
        if sock in readable or buffered:
            # Read several packets per wake-up (a call without input costs one failed recv) while bytes are
            # waiting, until a batch is full, so that queued calls (acks) are served between batches.
            self._read_in_turn = 0
            try:
                for turn in range(READS_PER_TURN):
                    if self._client.loop_read() != mqtt.MQTT_ERR_SUCCESS:
                        return
                    if self._read_in_turn >= self.batch_max or (turn % 8 == 7 and not _has_input(sock)):
                        break
            finally:
                self._hand_over()  # also what was read before a failure: it is stored, the broker resends it
        self._run_calls()
        if self._client.want_write():
            self._client.loop_write()
        self._client.loop_misc()

    def _hand_over(self) -> None:
        if self._received:
            batch, self._received = self._received, []
            self._deliver(batch)

    def _run_calls(self) -> None:
        while self._calls:
            call = self._calls.popleft()
            try:
                call(self._client)
            except Exception:
                self.counters.inc("mqtt_call_errors")
                log.exception("MQTT call failed")

    def _flush(self) -> None:
        # Let the DISCONNECT (and any last acknowledgements) reach the socket before the thread ends.
        with contextlib.suppress(Exception):
            while self._client.socket() is not None and self._client.want_write():
                if self._client.loop_write() != mqtt.MQTT_ERR_SUCCESS:
                    break

    # -- paho callbacks (on the I/O thread) ------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: ReasonCode, _p: Any = None) -> None:
        if reason.is_failure:
            self.counters.inc("connect_refused")
            log.warning("broker refused the connection: %s", reason)
            return
        self.generation += 1
        self._backoff.succeeded()
        self.counters.inc("connects")
        log.info(
            "connected to %s:%s (session %s)",
            self.config.host,
            self.config.port,
            "resumed" if getattr(flags, "session_present", False) else "new",
        )
        if self._v5:
            # retainHandling=1: retained messages only for a subscription the session did not have yet
            options = SubscribeOptions(qos=1, retainHandling=1)
            client.subscribe([(topic_filter, options) for topic_filter in self._subscriptions])
        else:
            client.subscribe([(topic_filter, 1) for topic_filter in self._subscriptions])
        self._connected.set()

    def _on_disconnect(self, _client: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any = None) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        if was and not self._stopping.is_set():
            log.warning("disconnected from the broker (%s); reconnecting", reason)

    def _on_message(self, _client: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        self._received.append(Inbound(message.topic, bytes(message.payload), message.mid, message.qos, self.generation))
        self._read_in_turn += 1
        if len(self._received) >= self.batch_max:
            self._hand_over()  # one `loop_read` may parse many packets (see the module docstring)


def _disconnect(client: mqtt.Client) -> None:
    client.disconnect()


def _has_input(sock: Any) -> bool:
    pending = getattr(sock, "pending", None)
    if pending is not None and pending():
        return True
    readable, _, _ = select.select([sock], [], [], 0.0)
    return bool(readable)
