"""`edge members status`: which member snapshot each door applied, since when, and how far behind it is.

Doors publish their state retained on `P/door/{door}/state` with `members_version` and `members_applied_at`;
the broker retains the last pushed snapshot on `P/members`. The revocation lag of a door is how long a
revocation takes to reach it: for a door that applied the last pushed snapshot, the time between the push and
the apply; for a door still behind, the time since the push (and growing). Node availability and counters
(`P/node/{node}/status`) tell a door that is behind because it is offline from one that refuses the snapshot.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from edge.clock import Clock, rfc3339_ms
from edge.config import NodeConfig
from edge.contract.payloads import DoorState, NodeStatus, decode
from edge.contract.topics import Kind, Topics
from edge.errors import PayloadError
from edge.staff.broker import BrokerSession, Message
from edge.staff.push import PushRecord, snapshot_created_at, snapshot_version


class Currency(StrEnum):
    """How a door's applied snapshot compares with the last pushed one."""

    CURRENT = "current"
    BEHIND = "behind"
    AHEAD = "ahead"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Pushed:
    """The last pushed snapshot: its version, when it was built, and where we learnt it."""

    version: int
    created_at: dt.datetime | None
    source: str


@dataclass(frozen=True)
class DoorReport:
    """One door: what it applied and when, how it compares with the last push, its node's availability."""

    door: str
    node: str
    mode: str
    members_version: int | None
    applied_at: dt.datetime | None
    reported_at: dt.datetime
    node_state: str | None
    currency: Currency
    lag_s: float | None
    refusals: tuple[tuple[str, int], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON values for `--json`."""
        return {
            "door": self.door,
            "node": self.node,
            "node_state": self.node_state,
            "mode": self.mode,
            "members_version": self.members_version,
            "members_applied_at": rfc3339_ms(self.applied_at) if self.applied_at else None,
            "reported_at": rfc3339_ms(self.reported_at),
            "status": self.currency.value,
            "behind": self.currency is Currency.BEHIND,
            "lag_s": None if self.lag_s is None else round(self.lag_s, 3),
            "snapshots_refused": dict(self.refusals),
        }


@dataclass(frozen=True)
class StatusReport:
    """Every door seen, the last pushed snapshot as far as we know, and notes (bad messages, lost retained)."""

    pushed: Pushed | None
    doors: tuple[DoorReport, ...]
    notes: tuple[str, ...]

    @property
    def all_current(self) -> bool:
        """True when the last push is known, at least one door reported, and every door applied it."""
        return self.pushed is not None and bool(self.doors) and all(d.currency is Currency.CURRENT for d in self.doors)

    def to_json(self) -> dict[str, Any]:
        """JSON values for `--json`."""
        pushed = None
        if self.pushed is not None:
            created = self.pushed.created_at
            pushed = {
                "version": self.pushed.version,
                "created_at": rfc3339_ms(created) if created else None,
                "source": self.pushed.source,
            }
        return {
            "pushed": pushed,
            "doors": [d.to_json() for d in self.doors],
            "all_current": self.all_current,
            "notes": list(self.notes),
        }


def build_report(
    messages: Iterable[Message], topics: Topics, now: dt.datetime, *, record: PushRecord | None = None
) -> StatusReport:
    """Turn the messages seen (retained and live, in arrival order; the last per topic wins) into a report."""
    notes: list[str] = []
    states: dict[str, tuple[DoorState, str, dt.datetime]] = {}
    nodes: dict[str, NodeStatus] = {}
    snapshot: bytes | None = None
    for message in messages:
        match = topics.parse(message.topic)
        if match is None:
            continue
        if match.kind is Kind.MEMBERS:
            snapshot = message.payload or None  # an empty retained message clears it
            continue
        if not message.payload:
            (states if match.kind is Kind.DOOR_STATE else nodes).pop(match.name or "", None)
            continue
        try:
            if match.kind is Kind.DOOR_STATE:
                event = decode(Kind.DOOR_STATE, message.payload)
                if isinstance(event.body, DoorState):
                    states[event.body.door] = (event.body, event.envelope.node, event.envelope.ts)
            elif match.kind is Kind.NODE_STATUS and match.name:
                status = decode(Kind.NODE_STATUS, message.payload).body
                if isinstance(status, NodeStatus):
                    nodes[match.name] = status
        except PayloadError as exc:
            notes.append(f"ignored a malformed message on {message.topic}: {exc.reason}")
    pushed = _pushed(snapshot, record, notes)
    doors = [
        _door(body, node, reported, nodes.get(node), pushed, now)
        for body, node, reported in (states[name] for name in sorted(states))
    ]
    if not doors:
        notes.append("no door has reported its state on this broker")
    return StatusReport(pushed, tuple(doors), tuple(notes))


def collect_status(
    config: NodeConfig, clock: Clock, *, timeout: float, wait: float = 0.0, record: PushRecord | None = None
) -> StatusReport:
    """Read the retained states; with `wait`, keep listening until every door is current or `wait` passes."""
    topics = Topics(config.site, config.mqtt.prefix)
    filters = [topics.filter(Kind.DOOR_STATE), topics.filter(Kind.NODE_STATUS), topics.members()]
    with BrokerSession(config, "status", timeout=timeout) as session:
        session.read_retained(filters)
        report = build_report(session.messages, topics, clock.now(), record=record)
        deadline = time.monotonic() + wait
        while not report.all_current and (remaining := deadline - time.monotonic()) > 0:
            session.wait_for_more(len(session.messages), remaining)
            report = build_report(session.messages, topics, clock.now(), record=record)
    return report


def _pushed(snapshot: bytes | None, record: PushRecord | None, notes: list[str]) -> Pushed | None:
    on_broker = None
    if snapshot is not None:
        version = snapshot_version(snapshot)
        if version is None:
            notes.append("the snapshot retained on the broker is not readable")
        else:
            on_broker = Pushed(version, snapshot_created_at(snapshot), "broker")
    if record is None:
        if on_broker is None:
            notes.append("the broker holds no member snapshot: push one (edge members push)")
        return on_broker
    local = Pushed(record.version, record.pushed_at, "push record")
    if on_broker is None or on_broker.version < record.version:
        notes.append(
            f"the broker does not retain the last pushed snapshot (version {record.version}): a door that restarts "
            "will not get it; push again"
        )
        return local
    if on_broker.version > record.version:
        notes.append(f"a newer snapshot (version {on_broker.version}) was pushed from elsewhere")
    return on_broker


def _door(
    body: DoorState,
    node: str,
    reported: dt.datetime,
    status: NodeStatus | None,
    pushed: Pushed | None,
    now: dt.datetime,
) -> DoorReport:
    applied = body.members_version
    currency, lag = Currency.UNKNOWN, None
    if pushed is not None:
        if applied is None or applied < pushed.version:
            currency = Currency.BEHIND
            lag = (now - pushed.created_at).total_seconds() if pushed.created_at else None
        else:
            currency = Currency.CURRENT if applied == pushed.version else Currency.AHEAD
            if applied == pushed.version and pushed.created_at and body.members_applied_at:
                lag = max(0.0, (body.members_applied_at - pushed.created_at).total_seconds())
    return DoorReport(
        door=body.door,
        node=node,
        mode=str(body.mode),
        members_version=applied,
        applied_at=body.members_applied_at,
        reported_at=reported,
        node_state=status.state if status is not None else None,
        currency=currency,
        lag_s=lag,
        refusals=_refusals(status),
    )


def _refusals(status: NodeStatus | None) -> tuple[tuple[str, int], ...]:
    """The node's counts of refused snapshots by reason (counted since the node started)."""
    if status is None:
        return ()
    prefix = "snapshot_refused."
    return tuple(sorted((k[len(prefix) :], v) for k, v in status.counters.items() if k.startswith(prefix) and v))
