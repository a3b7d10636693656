"""What the collector makes of one MQTT message: an event to store, a payload to quarantine, or nothing.

Pure: no I/O. Malformed input never raises out of `classify`; it becomes a `Rejected` with a short reason that
the store counts and keeps (truncated) in its quarantine table.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.collector.schema import Retention, event_points, ms_of, retention_of
from edge.contract import Event, Kind, NodeStatus, Topics, decode
from edge.errors import PayloadError

QUARANTINE_BYTES = 1024

# Messages on P/# that are not events: signed inputs to doors, and the collector's own replay requests. The
# member snapshot holds member data and is never stored by the collector.
NOT_EVENTS = frozenset({Kind.MEMBERS, Kind.DOOR_COMMAND, Kind.NODE_REPLAY})


@dataclass(frozen=True, slots=True)
class Accepted:
    """A valid event, ready to store: its decoded form, raw payload and line protocol."""

    event: Event
    subject: str
    ts_ms: int
    retention: Retention
    payload: bytes
    lines: str

    @property
    def kind(self) -> Kind:
        """The event's kind."""
        return self.event.kind


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


def classify(topics: Topics, topic: str, payload: bytes) -> Outcome:
    """Decide what to do with one message received on `topic`."""
    match = topics.parse(topic)
    if match is None:
        return Rejected(topic, "unknown_topic", "", payload[:QUARANTINE_BYTES])
    if match.kind in NOT_EVENTS:
        return Ignored("not_an_event")
    if not payload:
        return Ignored("cleared_retained")
    try:
        event = decode(match.kind, payload)
    except PayloadError as exc:
        return Rejected(topic, exc.reason, exc.detail[:200], payload[:QUARANTINE_BYTES])
    subject = event.envelope.node if isinstance(event.body, NodeStatus) else event.body.subject()
    if subject != match.name:
        detail = f"topic names {match.name!r}, payload names {subject!r}"
        return Rejected(topic, "topic_mismatch", detail, payload[:QUARANTINE_BYTES])
    lines = "\n".join(p.line() for p in event_points(topics.site, event))
    return Accepted(
        event=event,
        subject=subject,
        ts_ms=ms_of(event.envelope.ts),
        retention=retention_of(event.kind),
        payload=payload,
        lines=lines,
    )
