"""Event payloads: the JSON objects on the wire, their validation, encoding and decoding.

Every event is an envelope (`v`, `id`, `ts`, `node`, `seq`) plus a body that depends on its kind; on the wire
both are one flat JSON object. Producers build a body; the bus stamps the envelope (seq and id come from the
durable outbox). Decoders accept unknown extra fields (additive changes keep `v` = 1) and refuse everything
else with a `PayloadError` whose `reason` is a short label the caller counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, create_model, field_serializer

from edge.clock import rfc3339_ms
from edge.contract.token import TOKEN_PATTERN
from edge.contract.topics import Kind, Topics
from edge.errors import PayloadError

SCHEMA_VERSION = 1
MAX_EVENT_BYTES = 16 * 1024
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,47}$"

Name = Annotated[str, Field(pattern=NAME_PATTERN)]
Token = Annotated[str, Field(pattern=TOKEN_PATTERN)]
Count = Annotated[int, Field(ge=0)]


class Reason(StrEnum):
    """Why a door said yes or no."""

    GRANTED = "granted"
    UNKNOWN_BADGE = "unknown_badge"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    OUTSIDE_SCHEDULE = "outside_schedule"
    SEAT_LIMIT = "seat_limit"
    LOCKDOWN = "lockdown"
    PASSBACK = "passback"
    CLOCK_UNTRUSTED = "clock_untrusted"
    # Not a rule: the rules granted access but the door could not be unlocked (a relay write or the controller
    # failed; the relay was commanded locked). A documented addition to the contract (docs/mqtt.md).
    DOOR_FAULT = "door_fault"


class Alarm(StrEnum):
    """Door alarms."""

    HELD_OPEN = "held_open"
    FORCED_OPEN = "forced_open"
    LOCK_FAULT = "lock_fault"
    READER_FAULT = "reader_fault"


class DeskState(StrEnum):
    """Occupancy of a desk; unknown never counts as vacant."""

    OCCUPIED = "occupied"
    VACANT = "vacant"
    UNKNOWN = "unknown"


class DoorMode(StrEnum):
    """How a door behaves."""

    NORMAL = "normal"
    LOCKDOWN = "lockdown"
    UNLOCKED = "unlocked"


class Body(BaseModel):
    """The kind-specific part of an event."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)
    kind: ClassVar[Kind]
    retain: ClassVar[bool] = False

    def subject(self) -> str:
        """The object the event is about (reader, door, desk, zone, node): the variable part of its topic."""
        raise NotImplementedError

    def topic(self, topics: Topics) -> str:
        """Where this body is published."""
        return topics.for_kind(self.kind, self.subject())


class BadgeScan(Body):
    """A card presented at a standalone reader."""

    kind: ClassVar[Kind] = Kind.BADGE_SCAN
    reader: Name
    token: Token

    def subject(self) -> str:
        """The reader."""
        return self.reader


class DoorAccess(Body):
    """A door's decision on a badge."""

    kind: ClassVar[Kind] = Kind.DOOR_ACCESS
    door: Name
    reader: Name
    token: Token
    member: Annotated[str, Field(min_length=1, max_length=64)] | None
    granted: bool
    reason: Reason
    latency_ms: Annotated[float, Field(ge=0, le=3_600_000)]

    def subject(self) -> str:
        """The door."""
        return self.door


class DoorAlarm(Body):
    """An alarm raised (active) or cleared at a door."""

    kind: ClassVar[Kind] = Kind.DOOR_ALARM
    door: Name
    alarm: Alarm
    active: bool

    def subject(self) -> str:
        """The door."""
        return self.door


class DoorState(Body):
    """The state of a door, retained so a newcomer sees it at once."""

    kind: ClassVar[Kind] = Kind.DOOR_STATE
    retain: ClassVar[bool] = True
    door: Name
    locked: bool
    open: bool | None
    mode: DoorMode
    members_version: Count | None
    members_applied_at: AwareDatetime | None = None

    @field_serializer("members_applied_at", when_used="json")
    def _applied(self, value: datetime | None) -> str | None:
        return rfc3339_ms(value) if value is not None else None

    def subject(self) -> str:
        """The door."""
        return self.door


class DeskOccupancy(Body):
    """A desk's occupancy state since a given time; anonymous by construction."""

    kind: ClassVar[Kind] = Kind.DESK_OCCUPANCY
    retain: ClassVar[bool] = True
    desk: Name
    zone: Name
    state: DeskState
    since: AwareDatetime

    @field_serializer("since", when_used="json")
    def _since(self, value: datetime) -> str:
        return rfc3339_ms(value)

    def subject(self) -> str:
        """The desk."""
        return self.desk


class ZoneOccupancy(Body):
    """Counts of desks per state in a zone; published when they change."""

    kind: ClassVar[Kind] = Kind.ZONE_OCCUPANCY
    retain: ClassVar[bool] = True
    zone: Name
    occupied: Count
    vacant: Count
    unknown: Count
    total: Count

    def subject(self) -> str:
        """The zone."""
        return self.zone


class NodeStatus(Body):
    """A node's availability and health, retained; the broker publishes `offline` as the last will.

    Its envelope `seq` is the node's latest event seq when the status was taken (it consumes no seq itself),
    so a consumer can tell whether it has seen every event the node produced.
    """

    kind: ClassVar[Kind] = Kind.NODE_STATUS
    retain: ClassVar[bool] = True
    state: Literal["online", "offline"]
    version: Annotated[str, Field(max_length=64)]
    uptime_s: Annotated[float, Field(ge=0)] = 0.0
    outbox_depth: Count = 0
    outbox_dropped: Count = 0
    clock_synced: bool | None = None
    counters: dict[str, Count] = Field(default_factory=dict)
    node_name: Annotated[str, Field(pattern=NAME_PATTERN)] | None = Field(default=None, exclude=True)

    def subject(self) -> str:
        """The node (set by the bus from its config)."""
        if self.node_name is None:
            raise ValueError("NodeStatus needs node_name to know its topic")
        return self.node_name


class Envelope(BaseModel):
    """What every event carries besides its body."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)
    v: Literal[1] = 1
    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_.:-]+$")]
    ts: AwareDatetime  # RFC 3339: a time without its offset is refused
    node: Name
    seq: Count

    @field_serializer("ts", when_used="json")
    def _ts(self, value: datetime) -> str:
        return rfc3339_ms(value)


BODIES: dict[Kind, type[Body]] = {
    cls.kind: cls for cls in (BadgeScan, DoorAccess, DoorAlarm, DoorState, DeskOccupancy, ZoneOccupancy, NodeStatus)
}

# Flat wire models: envelope fields + body fields, used only to validate incoming JSON in one pass.
_WIRE: dict[Kind, type[BaseModel]] = {
    kind: create_model(f"{body.__name__}Wire", __base__=(Envelope, body)) for kind, body in BODIES.items()
}
_ENVELOPE_FIELDS = frozenset(Envelope.model_fields)
_BODY_FIELDS = {kind: tuple(body.model_fields) for kind, body in BODIES.items()}


@dataclass(frozen=True)
class Event:
    """An envelope and its body: one message of the contract."""

    envelope: Envelope
    body: Body

    @property
    def kind(self) -> Kind:
        """The message kind."""
        return self.body.kind


def encode(event: Event) -> bytes:
    """Serialise an event to its flat UTF-8 JSON wire form."""
    data = event.envelope.model_dump(mode="json")
    data.update(event.body.model_dump(mode="json"))
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode(kind: Kind, raw: bytes) -> Event:
    """Validate a wire payload of a known kind; raise PayloadError with a counted reason otherwise."""
    if kind not in _WIRE:
        raise PayloadError("unknown_kind", str(kind))
    data = decode_json_object(raw, MAX_EVENT_BYTES)
    if data.get("v") != SCHEMA_VERSION:
        raise PayloadError("unknown_version", repr(data.get("v"))[:20])
    try:
        wire = _WIRE[kind].model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PayloadError("invalid", f"{where}: {first['msg']}") from None
    # Already validated: split the flat model into its two parts without validating or dumping again.
    values = wire.__dict__
    envelope = Envelope.model_construct(**{k: values[k] for k in _ENVELOPE_FIELDS})
    body = BODIES[kind].model_construct(**{k: values[k] for k in _BODY_FIELDS[kind]})
    return Event(envelope, body)


def decode_json_object(raw: bytes, max_bytes: int) -> dict[str, Any]:
    """Parse an inbound payload that must be a JSON object of bounded size; PayloadError with a counted reason."""
    if len(raw) > max_bytes:
        raise PayloadError("too_large", f"{len(raw)} bytes > {max_bytes}")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PayloadError("not_utf8") from None
    except (ValueError, RecursionError):
        raise PayloadError("not_json") from None
    if not isinstance(data, dict):
        raise PayloadError("not_object", type(data).__name__)
    return data
