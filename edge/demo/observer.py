"""What the demo sees of the site: it listens to the broker like any consumer of the MQTT contract would."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.bus.session import NetworkLoop
from edge.config import MqttConfig
from edge.contract import (
    DeskOccupancy,
    DoorAccess,
    DoorAlarm,
    DoorState,
    Kind,
    NodeStatus,
    Topics,
    ZoneOccupancy,
    decode,
)
from edge.errors import PayloadError


@dataclass(frozen=True)
class Decision:
    """One access decision as published by the door."""

    id: str
    ts: datetime
    door: str
    member: str | None
    token: str
    granted: bool
    reason: str
    latency_ms: float


@dataclass
class SiteView:
    """The latest known state of the site, built only from MQTT messages."""

    decisions: list[Decision] = field(default_factory=list)
    seen_ids: set[str] = field(default_factory=set)
    desks: dict[str, DeskOccupancy] = field(default_factory=dict)
    zones: dict[str, ZoneOccupancy] = field(default_factory=dict)
    zone_peaks: dict[str, int] = field(default_factory=dict)  # the most desks occupied at once, per zone
    doors: dict[str, DoorState] = field(default_factory=dict)
    alarms_active: dict[tuple[str, str], datetime] = field(default_factory=dict)
    alarms_seen: list[tuple[datetime, str, str, bool]] = field(default_factory=list)
    nodes: dict[str, NodeStatus] = field(default_factory=dict)
    status_seq: dict[str, int] = field(default_factory=dict)  # per node: its latest seq when it last said online
    event_seq: dict[str, int] = field(default_factory=dict)  # per node: the highest event seq received
    statuses: Counter[str] = field(default_factory=Counter)  # per node: how many statuses were received
    log: deque[str] = field(default_factory=lambda: deque(maxlen=12))
    refused: int = 0


class Observer:
    """Subscribes to the site's topics and keeps a SiteView up to date (thread-safe snapshots)."""

    def __init__(self, port: int, topics: Topics) -> None:
        self.topics = topics
        self.view = SiteView()
        self.lock = threading.Lock()
        self.connected = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="edge-demo-observer", protocol=mqtt.MQTTv5)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_a: self.connected.clear()
        self.client.on_message = self._on_message
        # A persistent session: what the doors send while this observer reconnects is queued for it.
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 3600
        broker = MqttConfig(host="127.0.0.1", port=port, keepalive=30, reconnect_min_s=1, reconnect_max_s=2)
        self._loop = NetworkLoop(self.client, broker, clean=False, name="demo-observer", properties=properties)
        self._loop.start()

    def close(self) -> None:
        """Disconnect."""
        self._loop.stop()

    def _on_connect(self, client: mqtt.Client, *_args: object) -> None:
        client.subscribe(self.topics.everything(), qos=1)
        self.connected.set()

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        match = self.topics.parse(msg.topic)
        if match is None or match.kind in (Kind.MEMBERS, Kind.DOOR_COMMAND, Kind.BADGE_SCAN, Kind.NODE_REPLAY):
            return
        try:
            event = decode(match.kind, bytes(msg.payload))
        except PayloadError:
            with self.lock:
                self.view.refused += 1
            return
        body, envelope = event.body, event.envelope
        with self.lock:
            view = self.view
            if not isinstance(body, NodeStatus):
                view.event_seq[envelope.node] = max(view.event_seq.get(envelope.node, 0), envelope.seq)
            if isinstance(body, DoorAccess):
                if envelope.id in view.seen_ids:
                    return
                view.seen_ids.add(envelope.id)
                view.decisions.append(
                    Decision(
                        envelope.id,
                        envelope.ts,
                        body.door,
                        body.member,
                        body.token,
                        body.granted,
                        str(body.reason),
                        body.latency_ms,
                    )
                )
            elif isinstance(body, DoorAlarm):
                if envelope.id in view.seen_ids:
                    return
                view.seen_ids.add(envelope.id)
                key = (body.door, str(body.alarm))
                view.alarms_seen.append((envelope.ts, body.door, str(body.alarm), body.active))
                if body.active:
                    view.alarms_active[key] = envelope.ts
                else:
                    view.alarms_active.pop(key, None)
            elif isinstance(body, DeskOccupancy):
                view.desks[body.desk] = body
            elif isinstance(body, ZoneOccupancy):
                view.zones[body.zone] = body
                view.zone_peaks[body.zone] = max(view.zone_peaks.get(body.zone, 0), body.occupied)
            elif isinstance(body, DoorState):
                view.doors[body.door] = body
            elif isinstance(body, NodeStatus) and match.name is not None:
                view.nodes[match.name] = body
                view.status_seq[match.name] = envelope.seq
                view.statuses[match.name] += 1

    def delivered(self) -> dict[str, bool]:
        """Per node: whether every event it had made when it last reported its status has reached us."""
        with self.lock:
            view = self.view
            return {node: view.event_seq.get(node, 0) >= seq for node, seq in view.status_seq.items()}

    def wait_applied(self, version: int, timeout: float) -> list[str]:
        """Wait (real time) until every door reports member snapshot `version` or newer; the doors still behind."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                behind = sorted(
                    door for door, state in self.view.doors.items() if (state.members_version or 0) < version
                )
                seen = bool(self.view.doors)
            if seen and not behind:
                return []
            if time.monotonic() >= deadline:
                return behind or ["(no door reported its state)"]
            time.sleep(0.02)

    def note(self, line: str) -> None:
        """Add a line to the view's log (the driver's narration)."""
        with self.lock:
            self.view.log.append(line)
