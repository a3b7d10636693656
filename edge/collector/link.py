"""The collector's MQTT link: a persistent QoS 1 session with manual acknowledgement, on `edge.bus.NetworkLoop`.

The collector acknowledges from its store thread after each commit; like every edge client, the link lets only
the loop's I/O thread touch the socket (paho's external-loop API around our own `select`, see
`edge.bus.session.NetworkLoop`), and other threads hand it work through `call_soon`. Reconnection is the bus's
policy: forever, with exponential backoff. What the link adds is how it reads and acknowledges: through the tap
(`edge.bus.tap`), paho's socket, which takes the broker's PUBLISH packets a chunk of the stream at a time and
writes a batch's acknowledgements in one packet train, while paho keeps everything else (connecting, subscribing,
pings, our status publishes). Messages are handed over in batches of at most `batch_max`, so the store thread
takes each batch in one queue operation instead of one per message; a wake-up reads at most one chunk, so the
memory a backlog takes here is bounded by the chunk and the store's inbox, not by the backlog.

Acknowledgements carry the connection generation they were received on. After a reconnect the broker resends
every unacknowledged message (same packet ids), so an acknowledgement left over from an earlier connection is
dropped rather than sent: it could otherwise acknowledge a different message that reused the packet id. The
resent copy is stored as a duplicate (by event id) and acknowledged on the new connection.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from edge.bus.session import NetworkLoop, make_client, max_packet_size
from edge.bus.tap import PublishTap
from edge.config import MqttConfig
from edge.metrics import Counters

log = logging.getLogger(__name__)


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
        self._deliver = deliver  # takes a batch, in the order received
        self._received: list[Inbound] = []  # read in this wake-up, not yet handed over
        self._tap: PublishTap | None = None  # the current connection's (set when the broker accepts it)
        self._subscriptions = list(subscriptions)
        self._will = will
        self._v5 = config.protocol == "5"
        self._connected = threading.Event()
        self._stopping = threading.Event()
        self._client = make_client(config, client_id, clean=False, wrap_socket=self._new_tap)
        self._client.manual_ack_set(True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        properties: Properties | None = None
        if self._v5:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.MaximumPacketSize = max_packet_size(config, "collector")
            properties.SessionExpiryInterval = session_expiry_s
            properties.ReceiveMaximum = receive_maximum
        self._loop = NetworkLoop(
            self._client,
            config,
            clean=False,
            name="collector-mqtt",
            properties=properties,
            read=self._read,
            counters=counters,
        )

    # -- other threads ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin connecting in the background."""
        if self._will is not None:
            self._client.will_set(self._will[0], self._will[1], qos=1, retain=True)
        self._loop.start()

    @property
    def heartbeat(self) -> float:
        """When the I/O thread last passed its loop (time.monotonic()), for the watchdog."""
        return self._loop.heartbeat

    @property
    def connected(self) -> bool:
        """Whether the session is up right now."""
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        """Block until connected or the timeout passes."""
        return self._connected.wait(timeout)

    def call_soon(self, call: Callable[[mqtt.Client], None]) -> None:
        """Run `call(client)` on the I/O thread."""
        self._loop.call_soon(call)

    def ack(self, generation: int, mids: Sequence[int]) -> None:
        """Acknowledge QoS 1 messages received on connection `generation`, in order."""

        def send(client: mqtt.Client) -> None:
            tap = self._tap
            if tap is None or generation != self.generation or not tap.serves(client):
                self.counters.inc("acks_skipped_reconnected", len(mids))
                return
            tap.ack(mids)
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
        self._stopping.set()  # the disconnection that follows is ours: nothing to warn about
        self._loop.stop(timeout)

    # -- the I/O thread --------------------------------------------------------------------------------------

    def _new_tap(self, sock: Any) -> PublishTap:
        return PublishTap(sock, v5=self._v5)

    def _read(self, sock: Any) -> bool:
        # One chunk per wake-up, so that queued calls (acks) are served between chunks. paho reads each packet that
        # is not a message before the tap takes the next one: after a CONNACK, messages count as the new session's.
        tap: PublishTap = sock
        open_ = tap.fill()
        generation = self.generation
        try:
            while True:
                publishes, for_paho = tap.take(self.batch_max - len(self._received))
                self._received += [Inbound(p.topic, p.payload, p.mid, p.qos, generation) for p in publishes]
                if len(self._received) >= self.batch_max:
                    self._hand_over()
                if for_paho:
                    while tap.for_paho() and tap.serves(self._client):
                        if self._client.loop_read() != mqtt.MQTT_ERR_SUCCESS:
                            return False
                    if not tap.serves(self._client):
                        return False
                    generation = self.generation
                elif not publishes:
                    break
        finally:
            self._hand_over()  # also what was read before a failure: it is stored, the broker resends it
        if open_ and not tap.broken:
            return True
        # The broker closed the connection, it failed or its stream broke the framing: paho learns it from the tap
        # (its `recv` raises or returns the end) and reports the connection lost; the next pass reconnects.
        return self._client.loop_read() == mqtt.MQTT_ERR_SUCCESS

    def _hand_over(self) -> None:
        if self._received:
            batch, self._received = self._received, []
            self._deliver(batch)

    # -- paho callbacks (on the I/O thread) ------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: ReasonCode, _p: Any = None) -> None:
        if reason.is_failure:
            self.counters.inc("connect_refused")
            log.warning("broker refused the connection: %s", reason)
            return
        self.generation += 1
        self._tap = client.socket()  # type: ignore[assignment]  # made by _new_tap
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
        # The tap takes QoS 0 and 1 messages; paho sees only a QoS 2 one, which the subscriptions never ask for.
        self._received.append(Inbound(message.topic, bytes(message.payload), message.mid, message.qos, self.generation))
