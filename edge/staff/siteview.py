"""The live state of a site as a staff tool sees it on the broker: doors, nodes, desks, zones, scans, the snapshot.

Pure and thread-safe: `apply(topic, payload, retain)` takes each message a broker link receives (from any thread);
readers take consistent copies. The last message per retained topic is kept, so `status()` is exactly what
`edge members status` computes from the broker (`edge.staff.status.build_report`). Door decisions and badge scans
are kept in small bounded rings (`recent_decisions`, `recent_scans`) for live pages; every change bumps
`generation`, and `wait_changed` lets a page wait for the next one (long polling, server-sent events).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

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
from edge.contract.payloads import BadgeScan, Body
from edge.errors import PayloadError
from edge.staff.broker import Message
from edge.staff.push import PushRecord
from edge.staff.status import StatusReport, build_report

_KEPT = frozenset({Kind.DOOR_STATE, Kind.NODE_STATUS, Kind.DESK_OCCUPANCY, Kind.ZONE_OCCUPANCY, Kind.MEMBERS})
RING = 200
B = TypeVar("B", bound=Body)


@dataclass(frozen=True)
class Scan:
    """A badge presented at a standalone reader: the event id, when, where, the badge token (never the raw UID)."""

    at: dt.datetime
    reader: str
    token: str
    id: str = ""


@dataclass(frozen=True)
class Decision:
    """A door decision as published by the door, with the reader and the token of the card presented."""

    id: str
    at: dt.datetime
    door: str
    member: str | None
    granted: bool
    reason: str
    reader: str = ""
    token: str = ""


@dataclass(frozen=True)
class Presentation:
    """A card presented at any reader: a standalone reader's scan, or a door's reader (with its decision)."""

    id: str
    at: dt.datetime
    reader: str
    token: str
    door: str | None = None
    reason: str | None = None


class SiteView:
    """The latest known state of one site, built only from MQTT messages."""

    def __init__(self, topics: Topics) -> None:
        self.topics = topics
        self._cond = threading.Condition()
        self._latest: dict[str, Message] = {}
        self._decoded: dict[str, Body | None] = {}  # the body of each kept message, decoded once (None: malformed)
        self._alarms: dict[tuple[str, str], dt.datetime] = {}
        self._decisions: deque[Decision] = deque(maxlen=RING)
        self._scans: deque[Scan] = deque(maxlen=RING)
        self._seen: deque[str] = deque(maxlen=4 * RING)
        self.refused: Counter[str] = Counter()
        self.generation = 0

    def apply(self, topic: str, payload: bytes, retain: bool) -> None:
        """Take one message from the broker (retained or live); malformed ones are counted and dropped."""
        match = self.topics.parse(topic)
        if match is None:
            return
        with self._cond:
            if match.kind in _KEPT:
                if payload:
                    self._latest[topic] = Message(topic, payload, retain)
                    self._decoded.pop(topic, None)
                else:  # an empty retained message clears the topic
                    self._latest.pop(topic, None)
                    self._decoded.pop(topic, None)
            elif match.kind in (Kind.DOOR_ACCESS, Kind.DOOR_ALARM, Kind.BADGE_SCAN):
                self._event(match.kind, payload)
            else:
                return
            self.generation += 1
            self._cond.notify_all()

    def _event(self, kind: Kind, payload: bytes) -> None:
        try:
            event = decode(kind, payload)
        except PayloadError as exc:
            self.refused[exc.reason] += 1
            return
        if event.envelope.id in self._seen:  # QoS 1 may deliver twice
            return
        self._seen.append(event.envelope.id)
        body, at = event.body, event.envelope.ts
        if isinstance(body, DoorAccess):
            decision = Decision(
                event.envelope.id, at, body.door, body.member, body.granted, str(body.reason), body.reader, body.token
            )
            self._decisions.append(decision)
        elif isinstance(body, DoorAlarm):
            if body.active:
                self._alarms[(body.door, str(body.alarm))] = at
            else:
                self._alarms.pop((body.door, str(body.alarm)), None)
        elif isinstance(body, BadgeScan):
            self._scans.append(Scan(at, body.reader, body.token, event.envelope.id))

    # -- reading ---------------------------------------------------------------------------------------------

    def messages(self) -> list[Message]:
        """The last message of every retained topic kept."""
        with self._cond:
            return list(self._latest.values())

    def retained(self, topic: str) -> Message | None:
        """The last message on `topic`, if any."""
        with self._cond:
            return self._latest.get(topic)

    def status(self, now: dt.datetime, record: PushRecord | None = None) -> StatusReport:
        """Which snapshot each door applied, how far behind it is (as `edge members status`)."""
        return build_report(self.messages(), self.topics, now, record=record)

    def door_names(self) -> tuple[str, ...]:
        """Every door that reported its state, by name."""
        return tuple(sorted(self.doors()))

    def doors(self) -> dict[str, DoorState]:
        """The last state of each door."""
        return self._bodies(Kind.DOOR_STATE, DoorState, lambda b: b.door)

    def nodes(self) -> dict[str, NodeStatus]:
        """The last status of each node, by node name."""
        out: dict[str, NodeStatus] = {}
        for topic, body in self._decoded_bodies(Kind.NODE_STATUS):
            match = self.topics.parse(topic)
            if match is not None and match.name and isinstance(body, NodeStatus):
                out[match.name] = body
        return out

    def desks(self) -> dict[str, DeskOccupancy]:
        """The last occupancy of each desk."""
        return self._bodies(Kind.DESK_OCCUPANCY, DeskOccupancy, lambda b: b.desk)

    def zones(self) -> dict[str, ZoneOccupancy]:
        """The last counts of each zone."""
        return self._bodies(Kind.ZONE_OCCUPANCY, ZoneOccupancy, lambda b: b.zone)

    def alarms(self) -> dict[tuple[str, str], dt.datetime]:
        """Active alarms: (door, alarm) -> since when."""
        with self._cond:
            return dict(self._alarms)

    def recent_decisions(self) -> list[Decision]:
        """The latest door decisions seen live, oldest first."""
        with self._cond:
            return list(self._decisions)

    def recent_scans(self) -> list[Scan]:
        """The latest badge scans at standalone readers, oldest first."""
        with self._cond:
            return list(self._scans)

    def presentations(self, since: dt.datetime) -> list[Presentation]:
        """Cards presented at any reader (standalone or a door's) from `since` on, newest first."""
        with self._cond:
            found = [Presentation(s.id, s.at, s.reader, s.token) for s in self._scans if s.at >= since]
            found += [
                Presentation(d.id, d.at, d.reader, d.token, d.door, d.reason)
                for d in self._decisions
                if d.at >= since and d.token
            ]
        return sorted(found, key=lambda p: p.at, reverse=True)

    def presentation(self, presentation_id: str) -> Presentation | None:
        """One card presentation still remembered, by its event id."""
        with self._cond:
            for scan in self._scans:
                if scan.id == presentation_id:
                    return Presentation(scan.id, scan.at, scan.reader, scan.token)
            for d in self._decisions:
                if d.id == presentation_id and d.token:
                    return Presentation(d.id, d.at, d.reader, d.token, d.door, d.reason)
        return None

    def readers(self) -> list[tuple[str, str | None]]:
        """Every reader a card was presented at, as (reader, door or None for a standalone reader), sorted."""
        with self._cond:
            seen = {(s.reader, None) for s in self._scans} | {(d.reader, d.door) for d in self._decisions if d.reader}
        return sorted(seen, key=lambda r: (r[1] or "", r[0]))

    def wait_changed(self, since: int, timeout: float) -> int:
        """Wait until `generation` passes `since` (or `timeout`); return the generation then."""
        with self._cond:
            self._cond.wait_for(lambda: self.generation > since, timeout)
            return self.generation

    def _decoded_bodies(self, kind: Kind) -> list[tuple[str, Body]]:
        """The decoded body of every kept message of `kind` (each message is decoded once, then remembered)."""
        out = []
        with self._cond:
            for topic, message in self._latest.items():
                match = self.topics.parse(topic)
                if match is None or match.kind is not kind:
                    continue
                if topic not in self._decoded:
                    try:
                        self._decoded[topic] = decode(kind, message.payload).body
                    except PayloadError:
                        self._decoded[topic] = None
                body = self._decoded[topic]
                if body is not None:
                    out.append((topic, body))
        return out

    def _bodies(self, kind: Kind, cls: type[B], key: Callable[[B], str]) -> dict[str, B]:
        out: dict[str, B] = {}
        for _topic, body in self._decoded_bodies(kind):
            if isinstance(body, cls):
                out[key(body)] = body
        return out
