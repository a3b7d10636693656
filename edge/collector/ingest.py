"""What the collector makes of one MQTT message: an event to store, a payload to quarantine, or nothing.

Pure: no I/O. Malformed input never raises out of `classify`; it becomes a `Rejected` with a short reason that
the store counts and keeps (truncated) in its quarantine table.

Event times come from the node's clock. An event dated later than its receipt plus the allowed clock skew (a Pi
whose clock runs years ahead) is kept, but at its receipt time: everything that ages, purges or plots by time
(the store's time columns, the InfluxDB point, the derived series) then sees a time the collector can vouch for,
so the record cannot outlive its retention. Events dated in the past (an outbox replayed after an outage) keep
their own time. The payload is stored as received.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.collector import fastpath
from edge.collector.schema import Retention, event_points, ms_of, point_time_ns, retention_of
from edge.contract import DeskOccupancy, DeskState, DoorAccess, Event, Kind, NodeStatus, Topics, decode
from edge.errors import PayloadError

QUARANTINE_BYTES = 1024

# Messages on P/# that are not events: signed inputs to doors, and the collector's own replay requests. The
# member snapshot holds member data and is never stored by the collector.
NOT_EVENTS = frozenset({Kind.MEMBERS, Kind.DOOR_COMMAND, Kind.NODE_REPLAY})


@dataclass(frozen=True, slots=True)
class Receipt:
    """When a message was received (collector clock, ms) and how far ahead of that an event may be dated."""

    at_ms: int
    max_ahead_ms: int


@dataclass(frozen=True, slots=True)
class DeskChange:
    """What a desk message says about its desk: the state it is in and since when (ms)."""

    desk: str
    zone: str
    state: DeskState
    since_ms: int


@dataclass(frozen=True, slots=True)
class AccessDecision:
    """What a door decision says, without the member: door, reader, outcome, reason."""

    door: str
    reader: str
    granted: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Accepted:
    """A valid event, ready to store: its envelope, effective time, raw payload and line protocol.

    `ts_ms` is the event's own time, or its receipt time when it was dated beyond the allowed skew; `ahead_ms`
    is then how far ahead of its receipt the node dated it (0 otherwise). `detail` is what the store keeps in its
    typed tables (desk transitions, door decisions) for the derived series.
    """

    kind: Kind
    id: str
    node: str
    seq: int
    subject: str
    ts_ms: int
    retention: Retention
    payload: bytes
    lines: str
    detail: DeskChange | AccessDecision | None = None
    ahead_ms: int = 0


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message that breaks the contract, kept in quarantine with its reason."""

    topic: str
    reason: str
    detail: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Ignored:
    """A message that is not an event (a command, the member snapshot, a cleared retained topic)."""

    reason: str


Outcome = Accepted | Rejected | Ignored


def classify(topics: Topics, topic: str, payload: bytes, receipt: Receipt | None = None) -> Outcome:
    """Decide what to do with one message received on `topic`; with a `receipt`, bound the event's time.

    Canonical payloads of the busy kinds take the fast path (edge/collector/fastpath.py); everything else, and
    everything it is not sure of, goes through the contract's models. Both give the same outcome.
    """
    match = topics.parse(topic)
    if match is None:
        return Rejected(topic, "unknown_topic", "", payload[:QUARANTINE_BYTES])
    if match.kind in NOT_EVENTS:
        return Ignored("not_an_event")
    if not payload:
        return Ignored("cleared_retained")
    fast = fastpath.read(topics.site, match.kind, match.name, payload)
    if fast is not None:
        return _from_fast(fast, payload, receipt)
    return _by_model(topics, topic, match.kind, match.name, payload, receipt)


def classify_by_model(topics: Topics, topic: str, payload: bytes, receipt: Receipt | None = None) -> Outcome:
    """`classify` without the fast path: every payload through the contract's models (the reference)."""
    match = topics.parse(topic)
    if match is None or match.kind in NOT_EVENTS or not payload:
        return classify(topics, topic, payload, receipt)
    return _by_model(topics, topic, match.kind, match.name, payload, receipt)


def _from_fast(fast: fastpath.Fast, payload: bytes, receipt: Receipt | None) -> Accepted:
    ts_ms = fast.ts_us // 1000
    ahead_ms = 0
    if receipt is not None and ts_ms > receipt.at_ms + receipt.max_ahead_ms:
        ahead_ms, ts_ms = ts_ms - receipt.at_ms, receipt.at_ms
    lines = f"{fast.series} {fast.fields} {point_time_ns(ts_ms, fast.seq)}" if fast.fields else ""
    detail: DeskChange | AccessDecision | None = None
    if fast.kind is Kind.DESK_OCCUPANCY:
        detail = DeskChange(*fast.detail)
    elif fast.kind is Kind.DOOR_ACCESS:
        detail = AccessDecision(*fast.detail)
    return Accepted(
        fast.kind, fast.id, fast.node, fast.seq, fast.subject, ts_ms, retention_of(fast.kind), payload, lines, detail,
        ahead_ms,
    )  # fmt: skip


def _by_model(
    topics: Topics, topic: str, kind: Kind, name: str | None, payload: bytes, receipt: Receipt | None
) -> Outcome:
    try:
        event = decode(kind, payload)
    except PayloadError as exc:
        return Rejected(topic, exc.reason, exc.detail[:200], payload[:QUARANTINE_BYTES])
    subject = event.envelope.node if isinstance(event.body, NodeStatus) else event.body.subject()
    if subject != name:
        detail = f"topic names {name!r}, payload names {subject!r}"
        return Rejected(topic, "topic_mismatch", detail, payload[:QUARANTINE_BYTES])
    ts_ms = ms_of(event.envelope.ts)
    ahead_ms = 0
    time_ns = None
    if receipt is not None and ts_ms > receipt.at_ms + receipt.max_ahead_ms:
        ahead_ms, ts_ms = ts_ms - receipt.at_ms, receipt.at_ms
        time_ns = point_time_ns(ts_ms, event.envelope.seq)
    lines = "\n".join(p.line() for p in event_points(topics.site, event, time_ns))
    return Accepted(
        kind=event.kind,
        id=event.envelope.id,
        node=event.envelope.node,
        seq=event.envelope.seq,
        subject=subject,
        ts_ms=ts_ms,
        retention=retention_of(event.kind),
        payload=payload,
        lines=lines,
        detail=_detail(event),
        ahead_ms=ahead_ms,
    )


def _detail(event: Event) -> DeskChange | AccessDecision | None:
    body = event.body
    if isinstance(body, DeskOccupancy):
        return DeskChange(body.desk, body.zone, body.state, ms_of(body.since))
    if isinstance(body, DoorAccess):
        return AccessDecision(body.door, body.reader, body.granted, str(body.reason))
    return None
