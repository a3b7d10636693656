"""The time-series schema: every measurement, tag and field the collector writes, and how events map to points.

Rules (docs/data-model.md explains them):
* Tags are low-cardinality names only (site, zone, desk, door, reader, node, reason, alarm); no member, token or
  event id ever becomes a tag or a field, so InfluxDB holds no pseudonym.
* Meaning lives in integer or float fields (0/1 flags, counts, durations): InfluxQL `sum`/`mean` work on them,
  InfluxDB 3 stores them as typed columns, and VictoriaMetrics keeps them (it stores string fields as 0).
* A field name is never also a tag name in the same measurement; a field always has the same type.
* Raw event points are timestamped at the event's `ts` (ms) plus `seq mod 10^6` in the sub-millisecond digits, so
  two events of one node in the same millisecond are two points, and a re-sent event is the same point. An event
  dated further ahead of the collector's clock than it allows is timestamped at its receipt instead (ingest.py).
* Raw points go to the raw bucket (set its retention, see docs); derived series to the aggregate bucket.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum, StrEnum

from edge.collector.lineprotocol import FieldValue, Point
from edge.collector.members import DayMembers, MonthMembers, YearMembers
from edge.contract import (
    BadgeScan,
    DeskOccupancy,
    DeskState,
    DoorAccess,
    DoorAlarm,
    DoorMode,
    DoorState,
    Envelope,
    Event,
    Kind,
    NodeStatus,
    ZoneOccupancy,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
NS_PER_MS = 1_000_000
MAX_COUNTER_FIELDS = 64

# Kinds whose payload carries a member pseudonym (badge token, member id): purged after `retention_days`.
PSEUDONYMOUS_KINDS = frozenset({Kind.BADGE_SCAN, Kind.DOOR_ACCESS})


class Retention(IntEnum):
    """How long the collector's store keeps a raw event (see docs/data-model.md, Retention)."""

    ANONYMOUS = 0  # raw_retention_days
    PSEUDONYMOUS = 1  # retention_days (CNIL)
    HEALTH = 2  # health_retention_days: node statuses, one a minute per node


def retention_of(kind: Kind) -> Retention:
    """The retention class of an event kind."""
    if kind in PSEUDONYMOUS_KINDS:
        return Retention.PSEUDONYMOUS
    return Retention.HEALTH if kind is Kind.NODE_STATUS else Retention.ANONYMOUS


class Bucket(StrEnum):
    """Where a measurement is written: raw events (short retention) or anonymous aggregates (kept)."""

    RAW = "raw"
    AGGREGATE = "aggregate"


@dataclass(frozen=True)
class Measurement:
    """A measurement's declared shape; every point the collector writes conforms to one of these."""

    name: str
    bucket: Bucket
    tags: tuple[str, ...]
    fields: dict[str, type]
    optional: frozenset[str] = frozenset()
    field_prefix: str | None = None  # extra integer fields named prefix + sanitised name
    doc: str = ""

    def conforms(self, point: Point) -> list[str]:
        """Every way `point` departs from this declaration (empty when it conforms)."""
        problems = []
        if point.measurement != self.name:
            problems.append(f"measurement {point.measurement} is not {self.name}")
        if set(point.tags) != set(self.tags):
            problems.append(f"tags {sorted(point.tags)} are not {sorted(self.tags)}")
        for name, value in point.fields.items():
            declared = self.fields.get(name)
            if declared is None and self.field_prefix and name.startswith(self.field_prefix):
                declared = int
            if declared is None:
                problems.append(f"undeclared field {name}")
            elif type(value) is not declared:
                problems.append(f"field {name} is {type(value).__name__}, declared {declared.__name__}")
        missing = set(self.fields) - set(point.fields) - self.optional
        if missing:
            problems.append(f"missing fields {sorted(missing)}")
        return problems


_COUNTS = {"occupied": int, "vacant": int, "unknown": int, "total": int}
# Field name parts for the visit length bins and the monthly frequency buckets (edge.collector.members).
VISIT_BIN_FIELDS = ("0_1h", "1_2h", "2_4h", "4_6h", "6_8h", "8h_plus")
FREQUENCY_FIELDS = ("1", "2_4", "5_9", "10_plus")

MEASUREMENTS: dict[str, Measurement] = {
    m.name: m
    for m in (
        Measurement(
            "desk_state",
            Bucket.RAW,
            ("site", "zone", "desk", "node"),
            {"occupied": int, "vacant": int, "unknown": int, "transition": int},
            doc="one point per desk message: a change of state (transition=1) or a heartbeat re-confirming it "
            "(transition=0); exactly one of the three state flags is 1",
        ),
        Measurement(
            "door_access",
            Bucket.RAW,
            ("site", "door", "reader", "reason", "node"),
            {"granted": int, "denied": int, "latency_ms": float},
            doc="one point per door decision; no token or member",
        ),
        Measurement(
            "door_alarm",
            Bucket.RAW,
            ("site", "door", "alarm", "node"),
            {"active": int},
            doc="an alarm raised (active=1) or cleared (active=0)",
        ),
        Measurement(
            "door_state",
            Bucket.RAW,
            ("site", "door", "node"),
            {"locked": int, "open": int, "lockdown": int, "unlocked_mode": int, "members_version": int},
            optional=frozenset({"open", "members_version"}),
            doc="the door's state when it changed; open is absent without a contact sensor",
        ),
        Measurement(
            "badge_scan",
            Bucket.RAW,
            ("site", "reader", "node"),
            {"scans": int},
            doc="a card presented at a standalone reader (scans=1); no token",
        ),
        Measurement(
            "zone_state",
            Bucket.RAW,
            ("site", "zone", "node"),
            dict(_COUNTS),
            doc="desk counts per zone as reported by the presence daemon",
        ),
        Measurement(
            "node_health",
            Bucket.RAW,
            ("site", "node"),
            {
                "online": int,
                "uptime_s": float,
                "outbox_depth": int,
                "outbox_dropped": int,
                "clock_synced": int,
                "last_seq": int,
            },
            optional=frozenset({"clock_synced"}),
            field_prefix="counter_",
            doc="a node's status: availability, uptime, outbox, clock sync and its counters",
        ),
        Measurement(
            "zone_occupancy",
            Bucket.AGGREGATE,
            ("site", "zone"),
            {**_COUNTS, "utilisation": float, "in_hours": int},
            optional=frozenset({"utilisation"}),
            doc="derived: desks per state in a zone at each grid instant; utilisation = occupied/(occupied+vacant)",
        ),
        Measurement(
            "site_occupancy",
            Bucket.AGGREGATE,
            ("site",),
            {**_COUNTS, "utilisation": float, "in_hours": int},
            optional=frozenset({"utilisation"}),
            doc="derived: desks per state over the whole site at each grid instant; in_hours=1 within opening hours",
        ),
        Measurement(
            "desk_hourly",
            Bucket.AGGREGATE,
            ("site", "zone", "desk"),
            {"occupied_s": int, "known_s": int, "open_occupied_s": int, "open_known_s": int},
            doc="derived: a desk's occupied and known (occupied or vacant) seconds per complete hour, "
            "in all and within opening hours",
        ),
        Measurement(
            "site_hourly",
            Bucket.AGGREGATE,
            ("site",),
            {
                "desks": int,
                "open_s": int,
                "occupied_s": int,
                "known_s": int,
                "open_occupied_s": int,
                "open_known_s": int,
                "open_desk_s": int,
            },
            doc="derived: the site's desk-time per complete hour (sums of desk_hourly): occupied and known seconds, in "
            "all and within opening hours, desk-seconds within opening hours, desks counted, seconds open",
        ),
        Measurement(
            "entries_hourly",
            Bucket.AGGREGATE,
            ("site", "door"),
            {"entries": int, "exits": int, "denied": int},
            doc="derived: granted entries, granted exits and denied attempts per door and hour (UTC hour start)",
        ),
        Measurement(
            "access_hourly",
            Bucket.AGGREGATE,
            ("site", "door", "reason"),
            {"attempts": int},
            doc="derived: door decisions per reason per door and hour",
        ),
        Measurement(
            "people_present",
            Bucket.AGGREGATE,
            ("site",),
            {"present": int, "entries": int, "exits": int, "estimate": int},
            doc="derived: people on site at each grid instant; estimate=1 when no exit reader is configured",
        ),
        Measurement(
            "members_daily",
            Bucket.AGGREGATE,
            ("site",),
            {
                "members": int,
                "entries": int,
                "measured": int,
                "incomplete": int,
                "visit_s": int,
                **{f"visits_{name}": int for name in VISIT_BIN_FIELDS},
            },
            doc="derived: distinct members with a granted passage in a local day (point at local midnight), granted "
            "entries, and time on site of its measured member-days (summed, and counted per length bin)",
        ),
        Measurement(
            "members_monthly",
            Bucket.AGGREGATE,
            ("site",),
            {"members": int, "member_days": int, "days": int, **{f"came_{n}": int for n in FREQUENCY_FIELDS}},
            doc="derived: distinct members in a calendar month (point at local midnight of its first day), its "
            "member-days, and how many members came on 1, 2-4, 5-9, 10+ of its days",
        ),
        Measurement(
            "members_yearly",
            Bucket.AGGREGATE,
            ("site",),
            {"members": int, "error": int, "member_days": int, "days": int, "since_day": int, "final": int},
            doc="derived: distinct members in a calendar year, estimated (standard error `error`) from a keyed "
            "sketch kept on the collector until the year closes (final=1), counting from day `since_day` of the "
            "year (0 = 1 January); point at local midnight of 1 January",
        ),
        Measurement(
            "data_completeness",
            Bucket.AGGREGATE,
            ("site", "node"),
            {"expected": int, "received": int, "missing": int, "gaps": int},
            doc="derived: events expected from a node's seq numbers versus events received",
        ),
    )
}


def ms_of(when: datetime) -> int:
    """Milliseconds since the epoch, exactly (integer arithmetic, no float rounding)."""
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def point_time_ns(t_ms: int, seq: int) -> int:
    """A raw point's time: t_ms with seq mod 10^6 in the sub-millisecond digits."""
    return t_ms * NS_PER_MS + seq % NS_PER_MS


def event_time_ns(envelope: Envelope) -> int:
    """The event's point time: its ts in ms, with seq mod 10^6 in the sub-millisecond digits."""
    return point_time_ns(ms_of(envelope.ts), envelope.seq)


def _flag(value: bool) -> int:
    return 1 if value else 0


_NOT_NAME = re.compile(r"[^a-z0-9_]")


def counter_field(name: str) -> str:
    """The node_health field name for a status counter."""
    return "counter_" + _NOT_NAME.sub("_", name.lower())[:48]


def is_transition(envelope: Envelope, desk: DeskOccupancy) -> bool:
    """Whether a desk message announces a change: a change is published with `ts` = `since`, a heartbeat later."""
    if envelope.ts == desk.since:  # decoded times hold whole milliseconds: the usual case, and cheap
        return True
    return abs(envelope.ts - desk.since) < _ONE_MS and ms_of(envelope.ts) == ms_of(desk.since)


def event_points(site: str, event: Event, time_ns: int | None = None) -> list[Point]:
    """The raw points for one event (every kind of the contract maps to exactly one point).

    `time_ns` replaces the point time the event's own `ts` gives (for an event dated ahead of the collector).
    """
    env, body = event.envelope, event.body
    t = event_time_ns(env) if time_ns is None else time_ns
    fields: dict[str, FieldValue]
    if isinstance(body, DeskOccupancy):
        fields = {
            "occupied": _flag(body.state is DeskState.OCCUPIED),
            "vacant": _flag(body.state is DeskState.VACANT),
            "unknown": _flag(body.state is DeskState.UNKNOWN),
            "transition": _flag(is_transition(env, body)),
        }
        return [Point("desk_state", {"site": site, "zone": body.zone, "desk": body.desk, "node": env.node}, fields, t)]
    if isinstance(body, DoorAccess):
        tags = {"site": site, "door": body.door, "reader": body.reader, "reason": str(body.reason), "node": env.node}
        fields = {
            "granted": _flag(body.granted),
            "denied": _flag(not body.granted),
            "latency_ms": float(body.latency_ms),
        }
        return [Point("door_access", tags, fields, t)]
    if isinstance(body, DoorAlarm):
        tags = {"site": site, "door": body.door, "alarm": str(body.alarm), "node": env.node}
        return [Point("door_alarm", tags, {"active": _flag(body.active)}, t)]
    if isinstance(body, DoorState):
        fields = {
            "locked": _flag(body.locked),
            "lockdown": _flag(body.mode is DoorMode.LOCKDOWN),
            "unlocked_mode": _flag(body.mode is DoorMode.UNLOCKED),
        }
        if body.open is not None:
            fields["open"] = _flag(body.open)
        if body.members_version is not None:
            fields["members_version"] = body.members_version
        return [Point("door_state", {"site": site, "door": body.door, "node": env.node}, fields, t)]
    if isinstance(body, BadgeScan):
        return [Point("badge_scan", {"site": site, "reader": body.reader, "node": env.node}, {"scans": 1}, t)]
    if isinstance(body, ZoneOccupancy):
        fields = {"occupied": body.occupied, "vacant": body.vacant, "unknown": body.unknown, "total": body.total}
        return [Point("zone_state", {"site": site, "zone": body.zone, "node": env.node}, fields, t)]
    if isinstance(body, NodeStatus):
        return [_node_health(site, env, body, t)]
    raise ValueError(f"no point mapping for {body.kind}")


def _node_health(site: str, env: Envelope, body: NodeStatus, t: int) -> Point:
    fields: dict[str, FieldValue] = {
        "online": _flag(body.state == "online"),
        "uptime_s": float(body.uptime_s),
        "outbox_depth": body.outbox_depth,
        "outbox_dropped": body.outbox_dropped,
        "last_seq": env.seq,
    }
    if body.clock_synced is not None:
        fields["clock_synced"] = _flag(body.clock_synced)
    for name, value in sorted(body.counters.items())[:MAX_COUNTER_FIELDS]:
        fields[counter_field(name)] = int(value)
    return Point("node_health", {"site": site, "node": env.node}, fields, t)


@dataclass(frozen=True)
class StateCounts:
    """Desks per state; unknown is its own state and never counts as vacant."""

    occupied: int = 0
    vacant: int = 0
    unknown: int = 0

    @property
    def total(self) -> int:
        """Desks counted."""
        return self.occupied + self.vacant + self.unknown

    def fields(self) -> dict[str, FieldValue]:
        """The counts as fields, with utilisation among desks whose state is known."""
        out: dict[str, FieldValue] = {
            "occupied": self.occupied,
            "vacant": self.vacant,
            "unknown": self.unknown,
            "total": self.total,
        }
        known = self.occupied + self.vacant
        if known:
            out["utilisation"] = self.occupied / known
        return out


def zone_occupancy_point(site: str, zone: str, t_ms: int, counts: StateCounts, *, in_hours: bool = True) -> Point:
    """Derived zone occupancy at a grid instant; in_hours says whether the instant is within opening hours."""
    fields = {**counts.fields(), "in_hours": _flag(in_hours)}
    return Point("zone_occupancy", {"site": site, "zone": zone}, fields, t_ms * NS_PER_MS)


def site_occupancy_point(site: str, t_ms: int, counts: StateCounts, *, in_hours: bool = True) -> Point:
    """Derived site occupancy at a grid instant; in_hours says whether the instant is within opening hours."""
    fields = {**counts.fields(), "in_hours": _flag(in_hours)}
    return Point("site_occupancy", {"site": site}, fields, t_ms * NS_PER_MS)


@dataclass(frozen=True)
class DeskUsage:
    """A desk's seconds in one hour: occupied, known (occupied or vacant), the same within opening hours, and its
    seconds within opening hours whatever its state (unknown included)."""

    occupied_s: int = 0
    known_s: int = 0
    open_occupied_s: int = 0
    open_known_s: int = 0
    open_s: int = 0


@dataclass(frozen=True)
class SiteUsage:
    """The site's desk-time in one hour: the sums of its desks' `DeskUsage`, with how many desks and how long the
    site was open (`open_s`: seconds of the hour within opening hours)."""

    desks: int = 0
    open_s: int = 0
    occupied_s: int = 0
    known_s: int = 0
    open_occupied_s: int = 0
    open_known_s: int = 0
    open_desk_s: int = 0


def desk_hourly_point(site: str, zone: str, desk: str, hour_ms: int, usage: DeskUsage) -> Point:
    """Derived usage of one desk in one hour (its utilisation is occupied_s / known_s)."""
    fields: dict[str, FieldValue] = {
        "occupied_s": usage.occupied_s,
        "known_s": usage.known_s,
        "open_occupied_s": usage.open_occupied_s,
        "open_known_s": usage.open_known_s,
    }
    return Point("desk_hourly", {"site": site, "zone": zone, "desk": desk}, fields, hour_ms * NS_PER_MS)


def site_hourly_point(site: str, hour_ms: int, usage: SiteUsage) -> Point:
    """Derived desk-time of the whole site in one hour (utilisation within opening hours is
    open_occupied_s / open_known_s; the unknown share open_known_s / open_desk_s says how much was measured)."""
    fields: dict[str, FieldValue] = {
        "desks": usage.desks,
        "open_s": usage.open_s,
        "occupied_s": usage.occupied_s,
        "known_s": usage.known_s,
        "open_occupied_s": usage.open_occupied_s,
        "open_known_s": usage.open_known_s,
        "open_desk_s": usage.open_desk_s,
    }
    return Point("site_hourly", {"site": site}, fields, hour_ms * NS_PER_MS)


@dataclass(frozen=True)
class HourCounts:
    """One door's decisions in one hour."""

    entries: int = 0
    exits: int = 0
    denied: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


def hourly_points(site: str, door: str, hour_ms: int, counts: HourCounts) -> list[Point]:
    """Derived per-hour entries/exits/denied for a door, and its decisions per reason."""
    t = hour_ms * NS_PER_MS
    fields: dict[str, FieldValue] = {"entries": counts.entries, "exits": counts.exits, "denied": counts.denied}
    points = [Point("entries_hourly", {"site": site, "door": door}, fields, t)]
    for reason, attempts in sorted(counts.by_reason.items()):
        points.append(Point("access_hourly", {"site": site, "door": door, "reason": reason}, {"attempts": attempts}, t))
    return points


@dataclass(frozen=True)
class Presence:
    """People on site at an instant: entries and exits since the local day started, or an estimate."""

    present: int
    entries: int
    exits: int
    estimate: bool


def people_present_point(site: str, t_ms: int, presence: Presence) -> Point:
    """Derived people-present at a grid instant."""
    fields: dict[str, FieldValue] = {
        "present": presence.present,
        "entries": presence.entries,
        "exits": presence.exits,
        "estimate": _flag(presence.estimate),
    }
    return Point("people_present", {"site": site}, fields, t_ms * NS_PER_MS)


@dataclass(frozen=True)
class Completeness:
    """A node's data completeness: events its seq numbers say exist versus events stored."""

    expected: int
    received: int
    gaps: int

    @property
    def missing(self) -> int:
        """Events not (yet) received."""
        return self.expected - self.received


def completeness_point(site: str, node: str, t_ms: int, figures: Completeness) -> Point:
    """Derived data completeness for a node."""
    fields: dict[str, FieldValue] = {
        "expected": figures.expected,
        "received": figures.received,
        "missing": figures.missing,
        "gaps": figures.gaps,
    }
    return Point("data_completeness", {"site": site, "node": node}, fields, t_ms * NS_PER_MS)


def members_daily_point(site: str, midnight_ms: int, day: DayMembers) -> Point:
    """Derived member figures of one local day, at its local midnight."""
    fields: dict[str, FieldValue] = {
        "members": day.members,
        "entries": day.entries,
        "measured": day.measured,
        "incomplete": day.incomplete,
        "visit_s": day.visit_s,
    }
    fields.update({f"visits_{name}": n for name, n in zip(VISIT_BIN_FIELDS, day.bins, strict=True)})
    return Point("members_daily", {"site": site}, fields, midnight_ms * NS_PER_MS)


def members_monthly_point(site: str, midnight_ms: int, month: MonthMembers, member_days: int) -> Point:
    """Derived member figures of one calendar month, at local midnight of its first day."""
    fields: dict[str, FieldValue] = {"members": month.members, "member_days": member_days, "days": month.days}
    fields.update({f"came_{name}": n for name, n in zip(FREQUENCY_FIELDS, month.frequency, strict=True)})
    return Point("members_monthly", {"site": site}, fields, midnight_ms * NS_PER_MS)


def members_yearly_point(site: str, midnight_ms: int, year: YearMembers, member_days: int, days: int) -> Point:
    """Derived distinct members of one calendar year, at local midnight of 1 January."""
    fields: dict[str, FieldValue] = {
        "members": year.members,
        "error": year.error,
        "member_days": member_days,
        "days": days,
        "since_day": (year.first_day - dt.date(year.year, 1, 1)).days,
        "final": _flag(year.final),
    }
    return Point("members_yearly", {"site": site}, fields, midnight_ms * NS_PER_MS)


AGGREGATE_POLICY = "longterm"
"""The InfluxDB 1.x retention policy (2.x: DBRP mapping) of the derived series in the default deployment: the raw
measurements are in the database's default policy (90 days), the derived ones in this one (years)."""


def qualified(measurement: str) -> str:
    """How an InfluxQL query names a measurement: `"longterm"."zone_occupancy"` for a derived series, so one
    datasource reads both policies; a raw one stays in the default policy (`"door_access"`)."""
    if MEASUREMENTS[measurement].bucket is Bucket.AGGREGATE:
        return f'"{AGGREGATE_POLICY}"."{measurement}"'
    return f'"{measurement}"'


def bucket_of(point: Point) -> Bucket:
    """The bucket a point belongs to."""
    return MEASUREMENTS[point.measurement].bucket
