"""A short-lived broker connection for staff tools: read what is retained, publish and wait for the broker's ack.

Reading retained messages needs to know when the broker has sent them all. MQTT has no "end of retained"
marker, so after subscribing to the wanted filters we subscribe once more to a topic nobody publishes on: the
broker handles SUBSCRIBE packets in order and queues a subscription's retained messages before it answers the
next SUBSCRIBE, so when that second SUBACK arrives every retained message of the first is already here.
The wanted filters are read at QoS 0, which the broker's in-flight window does not hold back.

The site broker makes a client's user name its client id, so one staff user has one connection at a time: a
second tool logging in with the same user takes the connection over. A session never reconnects: when the broker
closes it, whatever it waits for fails with a message saying so.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

import paho.mqtt.client as mqtt

from edge.bus.session import NetworkLoop, connect_properties, make_client
from edge.config import NodeConfig
from edge.contract.limits import largest_payload, publish_packet_size
from edge.errors import BrokerError


class BrokerLink(Protocol):
    """What publishing a snapshot or a command needs of a broker connection (a short session or the console's)."""

    @property
    def where(self) -> str:
        """host:port of the broker, for messages."""
        ...

    def read_retained(self, filters: Sequence[str]) -> list[Message]:
        """Every retained message the broker holds on `filters`."""
        ...

    def publish(self, topic: str, payload: bytes, *, retain: bool) -> None:
        """Publish at QoS 1 and return once the broker acknowledged it; BrokerError otherwise."""
        ...


def check_fits(where: str, topic: str, payload: bytes, limit: int | None) -> None:
    """BrokerError, before publishing, for a message above the Maximum Packet Size the broker announced (if any)."""
    # The broker would drop the connection rather than take the message: say why before trying.
    if limit is not None and publish_packet_size(topic, len(payload)) > limit:
        raise BrokerError(
            f"the message for {topic} is {len(payload):,} bytes; the broker at {where} accepts at most "
            f"{largest_payload(topic, limit):,} there (its max_packet_size, edge_broker_max_packet_size)"
        )


@dataclass(frozen=True)
class Message:
    """One message delivered to the session."""

    topic: str
    payload: bytes
    retain: bool


class BrokerSession:
    """One connection for one staff command; use as a context manager."""

    def __init__(self, config: NodeConfig, purpose: str, *, timeout: float = 10.0) -> None:
        self.config = config
        self.timeout = timeout
        self.client_id = config.mqtt.client_id or f"edge-{config.site}-{config.node}-{purpose}-{secrets.token_hex(3)}"
        self._cond = threading.Condition()
        self._connected: Any = None
        self._subacks: dict[int, list[Any]] = {}
        self._pubacks: dict[int, Any] = {}
        self._messages: list[Message] = []
        self._closed: str | None = None  # why the broker closed the connection
        self._closing = False
        self.broker_max_packet: int | None = None  # the broker's Maximum Packet Size, when it announced one
        self._client = make_client(config.mqtt, self.client_id, reconnect=False)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_publish = self._on_publish
        self._client.on_message = self._on_message
        self._loop = NetworkLoop(
            self._client,
            config.mqtt,
            name=f"{purpose}-mqtt",
            properties=connect_properties(config.mqtt, "staff"),
            reconnect=False,
        )

    @property
    def where(self) -> str:
        """host:port of the broker, for messages."""
        return f"{self.config.mqtt.host}:{self.config.mqtt.port}"

    def __enter__(self) -> BrokerSession:
        self.connect()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def connect(self) -> None:
        """Connect and wait for the broker's CONNACK; raise BrokerError when refused or unreachable."""
        self._client.connect_timeout = self.timeout
        try:
            self._loop.connect()
        except (OSError, ValueError) as exc:
            raise BrokerError(f"cannot connect to the broker at {self.where}: {exc}") from None
        with self._cond:
            if not self._cond.wait_for(lambda: self._connected is not None, self.timeout):
                self.close()
                raise BrokerError(f"the broker at {self.where} did not answer within {self.timeout:g} s")
            code = self._connected
        if code.is_failure:
            self.close()
            raise BrokerError(f"the broker at {self.where} refused the connection: {code}")

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self._closing = True
        self._loop.stop()

    def read_retained(self, filters: Sequence[str]) -> list[Message]:
        """Subscribe to `filters` and return every retained message the broker holds for them."""
        start = len(self._messages)
        result, mid = self._client.subscribe([(f, 0) for f in filters])
        if result != mqtt.MQTT_ERR_SUCCESS or mid is None:
            raise BrokerError(f"cannot subscribe on {self.where}: {mqtt.error_string(result)}")
        barrier = f"{self.config.mqtt.prefix}/{self.config.site}/_staff/{secrets.token_hex(8)}"
        _, barrier_mid = self._client.subscribe(barrier, 0)
        codes = self._wait_suback(mid)
        if barrier_mid is not None:
            self._wait_suback(barrier_mid)
        refused = [f for f, code in zip(filters, codes, strict=False) if code.is_failure]
        if refused:
            raise BrokerError(f"the broker at {self.where} refused the subscription to {', '.join(refused)}")
        with self._cond:
            return [m for m in self._messages[start:] if m.retain]

    def wait_for(self, predicate: Callable[[list[Message]], bool], timeout: float) -> bool:
        """Block until `predicate(messages received so far)` holds or `timeout` passes; BrokerError if closed."""
        with self._cond:
            held = self._cond.wait_for(lambda: predicate(self._messages) or self._closed is not None, timeout)
            if not predicate(self._messages):
                self._raise_if_closed()
            return held

    def wait_for_more(self, count: int, timeout: float) -> bool:
        """Block until more than `count` messages have arrived or `timeout` passes; BrokerError if closed."""
        return self.wait_for(lambda messages: len(messages) > count, timeout)

    @property
    def messages(self) -> list[Message]:
        """Every message received so far, in arrival order."""
        with self._cond:
            return list(self._messages)

    def publish(self, topic: str, payload: bytes, *, retain: bool) -> None:
        """Publish at QoS 1 and wait for the broker's PUBACK; raise BrokerError when refused or not acknowledged."""
        check_fits(self.where, topic, payload, self.broker_max_packet)
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise BrokerError(f"cannot publish on {self.where}: {mqtt.error_string(info.rc)}")
        deadline = time.monotonic() + self.timeout
        with self._cond:
            arrived = self._cond.wait_for(
                lambda: info.mid in self._pubacks or self._closed is not None, max(0.0, deadline - time.monotonic())
            )
            self._raise_if_closed()
            if not arrived:
                raise BrokerError(f"the broker at {self.where} did not acknowledge within {self.timeout:g} s")
            code = self._pubacks.pop(info.mid)
        # MQTT 5 says when an ACL refused the message; 3.1.1 acknowledges and drops it silently.
        if code is not None and getattr(code, "is_failure", False):
            raise BrokerError(f"the broker at {self.where} refused the message on {topic}: {code}")

    def _wait_suback(self, mid: int) -> list[Any]:
        with self._cond:
            arrived = self._cond.wait_for(lambda: mid in self._subacks or self._closed is not None, self.timeout)
            self._raise_if_closed()
            if not arrived:
                raise BrokerError(f"the broker at {self.where} did not answer a subscription within {self.timeout:g} s")
            return self._subacks.pop(mid)

    def _raise_if_closed(self) -> None:
        if self._closed is None:
            return
        closed = f"the broker at {self.where} closed the connection ({self._closed})"
        user = self.config.mqtt.username
        if self._closed == "Packet too large" or user is None:
            raise BrokerError(closed)
        raise BrokerError(
            f"{closed}: another client may have logged in as user {user} (the broker allows one connection per "
            "user: give each staff machine or tool its own user), or the network failed"
        )

    def _on_connect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, code: Any, props: Any) -> None:
        with self._cond:
            self._connected = code
            self.broker_max_packet = getattr(props, "MaximumPacketSize", None)
            self._cond.notify_all()

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, code: Any, _props: Any) -> None:
        with self._cond:
            if not self._closing:
                self._closed = str(code)
            self._cond.notify_all()

    def _on_subscribe(self, _client: mqtt.Client, _userdata: Any, mid: int, codes: Any, _props: Any) -> None:
        with self._cond:
            self._subacks[mid] = list(codes)
            self._cond.notify_all()

    def _on_publish(self, _client: mqtt.Client, _userdata: Any, mid: int, code: Any, _props: Any) -> None:
        with self._cond:
            self._pubacks[mid] = code
            self._cond.notify_all()

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._cond:
            self._messages.append(Message(message.topic, bytes(message.payload), bool(message.retain)))
            self._cond.notify_all()
