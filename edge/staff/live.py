"""A long-lived broker link for the staff console: one connection that watches the site and publishes.

The console keeps one MQTT connection for its whole life (the deployed broker binds client ids to user names,
so a second connection with the console's credentials would take the first one over). It subscribes to the
whole site (`P/#`) and feeds a `SiteView`; it is "synced" once the broker has sent every retained message
(the same SUBACK barrier as `BrokerSession`). It implements `BrokerLink`, so `push_snapshot` and `send_command`
publish through it exactly as the CLI's short sessions do: read what is retained, publish at QoS 1, wait for the
broker's acknowledgement. `NetworkLoop` reconnects forever (with backoff); the subscription is renewed
on every connection.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Sequence
from typing import Any

import paho.mqtt.client as mqtt

from edge.bus.session import NetworkLoop, connect_properties, make_client
from edge.config import NodeConfig
from edge.contract.topics import Topics
from edge.errors import BrokerError
from edge.staff.broker import Message, check_fits
from edge.staff.siteview import SiteView

log = logging.getLogger(__name__)


class LiveLink:
    """The console's connection to the broker; `view` is the site as last seen."""

    def __init__(self, config: NodeConfig, *, purpose: str = "console", timeout: float = 10.0) -> None:
        self.config = config
        self.timeout = timeout
        self.topics = Topics(config.site, config.mqtt.prefix)
        self.view = SiteView(self.topics)
        self.client_id = config.mqtt.client_id or f"edge-{config.site}-{config.node}-{purpose}"
        self._cond = threading.Condition()
        self._connected = False
        self._synced = False
        self._barrier_mid: int | None = None
        self._pubacks: dict[int, Any] = {}
        self.connects = 0
        self.broker_max_packet: int | None = None  # the broker's Maximum Packet Size, when it announced one
        self._client = make_client(config.mqtt, self.client_id)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_publish = self._on_publish
        self._client.on_message = self._on_message
        # The console reads and publishes the member snapshot: it announces the size a door does.
        self._loop = NetworkLoop(
            self._client, config.mqtt, name="console-mqtt", properties=connect_properties(config.mqtt, "console")
        )

    @property
    def where(self) -> str:
        """host:port of the broker, for messages."""
        return f"{self.config.mqtt.host}:{self.config.mqtt.port}"

    def start(self) -> None:
        """Start connecting in the background (the console serves pages while the broker is away)."""
        self._loop.start()

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        self._loop.stop()

    def alive(self) -> bool:
        """Whether the network thread runs (connected or trying to)."""
        return self._loop.alive

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up."""
        with self._cond:
            return self._connected

    @property
    def synced(self) -> bool:
        """Whether every retained message of the site has been received since the last connection."""
        with self._cond:
            return self._synced

    def wait_synced(self, timeout: float) -> bool:
        """Wait until synced (or `timeout`)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._synced, timeout)

    # -- BrokerLink ------------------------------------------------------------------------------------------

    def read_retained(self, filters: Sequence[str]) -> list[Message]:
        """The retained messages on the given topics (exact names), as last received; BrokerError if not synced."""
        if not self.wait_synced(self.timeout):
            raise BrokerError(f"not connected to the broker at {self.where}")
        found = [self.view.retained(topic) for topic in filters]
        return [m for m in found if m is not None]

    def publish(self, topic: str, payload: bytes, *, retain: bool) -> None:
        """Publish at QoS 1 and wait for the broker's PUBACK; BrokerError when not connected or not acknowledged."""
        if not self.connected:
            raise BrokerError(f"not connected to the broker at {self.where}")
        check_fits(self.where, topic, payload, self.broker_max_packet)
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise BrokerError(f"cannot publish on {self.where}: {mqtt.error_string(info.rc)}")
        deadline = time.monotonic() + self.timeout
        with self._cond:
            if not self._cond.wait_for(lambda: info.mid in self._pubacks, max(0.0, deadline - time.monotonic())):
                raise BrokerError(f"the broker at {self.where} did not acknowledge within {self.timeout:g} s")
            code = self._pubacks.pop(info.mid)
        if code is not None and getattr(code, "is_failure", False):
            raise BrokerError(f"the broker at {self.where} refused the message on {topic}: {code}")

    # -- paho callbacks --------------------------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, code: Any, props: Any) -> None:
        if code.is_failure:
            log.warning("broker %s refused the console: %s", self.where, code)
            return
        self.broker_max_packet = getattr(props, "MaximumPacketSize", None)
        # QoS 0: the broker's in-flight window never holds retained messages back behind the barrier's SUBACK,
        # and a live view has nothing to gain from redelivery.
        client.subscribe(self.topics.everything(), qos=0)
        _, mid = client.subscribe(f"{self.topics.base}/_staff/{secrets.token_hex(8)}", 0)
        with self._cond:
            self._connected, self._synced, self._barrier_mid = True, False, mid
            self.connects += 1
            self._cond.notify_all()
        log.info("connected to the broker at %s", self.where)

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, code: Any, _props: Any) -> None:
        with self._cond:
            was = self._connected
            self._connected = self._synced = False
            self._cond.notify_all()
        if was:
            log.warning("lost the broker at %s (%s); reconnecting", self.where, code)

    def _on_subscribe(self, _client: mqtt.Client, _userdata: Any, mid: int, codes: Any, _props: Any) -> None:
        with self._cond:
            if mid == self._barrier_mid:
                self._synced = True
                self._cond.notify_all()

    def _on_publish(self, _client: mqtt.Client, _userdata: Any, mid: int, code: Any, _props: Any) -> None:
        with self._cond:
            self._pubacks[mid] = code
            self._cond.notify_all()

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.view.apply(message.topic, bytes(message.payload), bool(message.retain))
