"""A real paho subscriber that records what the broker delivers (the test's eyes on the bus)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


@dataclass(frozen=True)
class Received:
    """One delivered message."""

    topic: str
    payload: bytes
    retain: bool

    @cached_property
    def event_id(self) -> str | None:
        """The envelope's `id`, or None when the payload has none (parsed once: waits look at it often)."""
        try:
            data = json.loads(self.payload)
        except ValueError:
            return None
        value = data.get("id") if isinstance(data, dict) else None
        return value if isinstance(value, str) else None


def event_id(message: Received) -> str | None:
    """The event id a message carries (the envelope's `id`), or None (a node status, a command, a foreign payload)."""
    return message.event_id


def first_deliveries(messages: Iterable[Received]) -> list[Received]:
    """Each event once, as first delivered, in arrival order: what a consumer deduplicating on `id` keeps."""
    seen: set[str] = set()
    firsts = []
    for message in messages:
        key = event_id(message)
        if key is None or key not in seen:
            firsts.append(message)
            if key is not None:
                seen.add(key)
    return firsts


class Recorder:
    """Subscribes to a filter on a real broker and keeps every message, in arrival order."""

    def __init__(self, port: int, topic_filter: str = "#", client_id: str | None = None, clean: bool = True) -> None:
        self.messages: list[Received] = []
        self._cond = threading.Condition()
        self._filter = topic_filter
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or "", protocol=mqtt.MQTTv5)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        properties = None
        if not clean:  # MQTT v5 sessions end at disconnect unless given an expiry
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = 3600
        self.client.reconnect_delay_set(1, 2)
        self.client.connect("127.0.0.1", port, 30, clean_start=clean, properties=properties)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise TimeoutError("recorder did not subscribe")

    def _on_connect(self, client, _u, _f, _rc, _p=None):  # type: ignore[no-untyped-def]
        client.subscribe(self._filter, qos=1)

    def _on_subscribe(self, _client, _u, _mid, _rc, _p=None):  # type: ignore[no-untyped-def]
        self._subscribed.set()

    def _on_message(self, _client, _u, msg):  # type: ignore[no-untyped-def]
        with self._cond:
            self.messages.append(Received(msg.topic, bytes(msg.payload), bool(msg.retain)))
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 20.0) -> bool:
        """Block until `predicate(messages)` holds or the timeout passes."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.messages), timeout)

    def wait_count(self, n: int, timeout: float = 20.0, topic_part: str = "") -> list[Received]:
        """Block until at least n messages (whose topic contains `topic_part`) arrived; return them.

        Counts deliveries: a QoS 1 duplicate counts twice. To wait for events, use `wait_events` or `wait_ids`.
        """
        self.wait_for(lambda ms: sum(topic_part in m.topic for m in ms) >= n, timeout)
        with self._cond:
            return [m for m in self.messages if topic_part in m.topic]

    def wait_events(self, n: int, timeout: float = 20.0, topic_part: str = "") -> list[Received]:
        """Block until at least n distinct events (by id) arrived on topics containing `topic_part`; return every
        delivery on those topics, duplicates included, so that a test can still check for them."""

        def distinct(messages: list[Received]) -> bool:
            return len({event_id(m) for m in messages if topic_part in m.topic} - {None}) >= n

        self.wait_for(distinct, timeout)
        with self._cond:
            return [m for m in self.messages if topic_part in m.topic]

    def wait_ids(self, ids: Iterable[str], timeout: float = 20.0) -> bool:
        """Block until an event with each of these ids arrived; False on timeout."""
        wanted = set(ids)
        return self.wait_for(lambda ms: wanted <= {event_id(m) for m in ms}, timeout)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def publish(port: int, topic: str, payload: bytes, retain: bool = False, qos: int = 1) -> None:
    """Publish one message with a throwaway client and wait for the broker's acknowledgement."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port, 30)
    client.loop_start()
    info = client.publish(topic, payload, qos=qos, retain=retain)
    info.wait_for_publish(10)
    client.disconnect()
    client.loop_stop()
    time.sleep(0.01)


def node_statuses(messages: Iterable[Received], node: str) -> list[dict[str, Any]]:
    """The status payloads of `node` (on any site) in arrival order; a cleared (empty) retained status is skipped."""
    suffix = f"/node/{node}/status"
    return [json.loads(m.payload) for m in messages if m.topic.endswith(suffix) and m.payload]


def wait_counter(
    recorder: Recorder, node: str, key: str, check: Callable[[int], bool] = lambda v: v >= 1, timeout: float = 30.0
) -> dict[str, int]:
    """Wait until the latest status of `node` has counter `key` and `check(value)` holds; return its counters.

    Fails the test naming the counter and the last status seen. The latest status, not any: a restarted daemon
    counts from zero again, and a wait must not end on what the previous run counted."""
    found: list[dict[str, int]] = []

    def seen(messages: list[Received]) -> bool:
        statuses = node_statuses(messages, node)
        counters = statuses[-1].get("counters", {}) if statuses else {}
        if key in counters and check(counters[key]):
            found.append(counters)
            return True
        return False

    if not recorder.wait_for(seen, timeout):
        last = node_statuses(list(recorder.messages), node)[-1:]
        raise AssertionError(f"timed out after {timeout:g} s waiting for counter {key} of {node}; last status: {last}")
    return found[-1]
