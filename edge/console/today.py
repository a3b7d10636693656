"""What the Today page shows, built from the console's site view: doors, occupancy, nodes, the latest decisions.

Pure (no Django): `build_today` takes the site view (fed by MQTT), the last push record and the member names,
and returns plain data; the page renders it with Jinja2 and its live endpoint sends the same data as JSON.
Names of members are resolved here, on the hub: they never travel over MQTT or to a door.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from edge.clock import rfc3339_ms
from edge.contract import DeskOccupancy, ZoneOccupancy
from edge.staff.push import PushRecord
from edge.staff.siteview import SiteView
from edge.staff.status import Currency, Pushed

RECENT = 12


@dataclass(frozen=True)
class DoorRow:
    """One door: its lock and contact, mode, active alarms, the member snapshot it applied and whether it is current."""

    door: str
    node: str
    node_state: str | None
    locked: bool | None
    open: bool | None
    mode: str
    alarms: tuple[tuple[str, dt.datetime], ...]
    members_version: int | None
    applied_at: dt.datetime | None
    currency: str
    lag_s: float | None
    refusals: tuple[tuple[str, int], ...]

    def to_json(self) -> dict[str, Any]:
        """The door as the live endpoint sends it."""
        return {
            "door": self.door,
            "node": self.node,
            "node_state": self.node_state,
            "locked": self.locked,
            "open": self.open,
            "mode": self.mode,
            "alarms": [{"alarm": a, "since": rfc3339_ms(at)} for a, at in self.alarms],
            "members_version": self.members_version,
            "members_applied_at": rfc3339_ms(self.applied_at) if self.applied_at else None,
            "status": self.currency,
            "lag_s": None if self.lag_s is None else round(self.lag_s, 3),
        }


@dataclass(frozen=True)
class ZoneRow:
    """One zone: its counts, and its desks (name, state, since when) in name order."""

    zone: str
    occupied: int
    vacant: int
    unknown: int
    total: int
    desks: tuple[DeskOccupancy, ...]

    @property
    def share(self) -> float:
        """Occupied desks out of all desks (0 without desks)."""
        return self.occupied / self.total if self.total else 0.0


@dataclass(frozen=True)
class NodeRow:
    """One node: online or not, its software version, outbox depth and drops, clock, uptime."""

    node: str
    state: str
    version: str
    outbox_depth: int
    outbox_dropped: int
    clock_synced: bool | None
    uptime_s: float


@dataclass(frozen=True)
class DecisionRow:
    """A recent door decision with the member's name (resolved on the console)."""

    at: dt.datetime
    door: str
    member: str | None
    name: str
    granted: bool
    reason: str


@dataclass(frozen=True)
class Today:
    """Everything the Today page shows, at one generation of the site view."""

    generation: int
    connected: bool
    pushed: Pushed | None
    doors: tuple[DoorRow, ...]
    zones: tuple[ZoneRow, ...]
    nodes: tuple[NodeRow, ...]
    decisions: tuple[DecisionRow, ...]

    @property
    def behind(self) -> tuple[str, ...]:
        """Doors that have not applied the last published snapshot."""
        return tuple(d.door for d in self.doors if d.currency == Currency.BEHIND)

    @property
    def all_current(self) -> bool:
        """True when a snapshot was published and every door reported having it."""
        return self.pushed is not None and bool(self.doors) and all(d.currency == Currency.CURRENT for d in self.doors)

    def to_json(self) -> dict[str, Any]:
        """The data the live endpoint sends (besides the rendered sections)."""
        return {
            "generation": self.generation,
            "connected": self.connected,
            "published_version": self.pushed.version if self.pushed else None,
            "all_current": self.all_current,
            "behind": list(self.behind),
            "doors": [d.to_json() for d in self.doors],
            "zones": [
                {"zone": z.zone, "occupied": z.occupied, "vacant": z.vacant, "unknown": z.unknown, "total": z.total}
                for z in self.zones
            ],
            "desks": [{"desk": d.desk, "zone": d.zone, "state": str(d.state)} for z in self.zones for d in z.desks],
            "nodes": [
                {
                    "node": n.node,
                    "state": n.state,
                    "outbox_depth": n.outbox_depth,
                    "outbox_dropped": n.outbox_dropped,
                    "clock_synced": n.clock_synced,
                }
                for n in self.nodes
            ],
        }


def build_today(
    view: SiteView,
    now: dt.datetime,
    *,
    connected: bool,
    record: PushRecord | None,
    names: dict[str, str],
    recent: int = RECENT,
) -> Today:
    """The Today page's data from the site view as it is now."""
    generation = view.generation
    report = view.status(now, record=record)
    states = view.doors()
    alarms = view.alarms()
    doors = []
    for d in report.doors:
        state = states.get(d.door)
        doors.append(
            DoorRow(
                door=d.door,
                node=d.node,
                node_state=d.node_state,
                locked=state.locked if state is not None else None,
                open=state.open if state is not None else None,
                mode=d.mode,
                alarms=tuple(sorted((a, at) for (door, a), at in alarms.items() if door == d.door)),
                members_version=d.members_version,
                applied_at=d.applied_at,
                currency=d.currency.value,
                lag_s=d.lag_s,
                refusals=d.refusals,
            )
        )
    desks: dict[str, list[DeskOccupancy]] = {}
    for desk in view.desks().values():
        desks.setdefault(desk.zone, []).append(desk)
    counts: dict[str, ZoneOccupancy] = view.zones()
    zones = []
    for zone in sorted(set(counts) | set(desks)):
        own = tuple(sorted(desks.get(zone, ()), key=lambda d: d.desk))
        c = counts.get(zone)
        if c is not None:
            zones.append(ZoneRow(zone, c.occupied, c.vacant, c.unknown, c.total, own))
        else:  # desks seen before their zone's counts: count them here
            states_seen = [str(d.state) for d in own]
            zones.append(
                ZoneRow(
                    zone,
                    states_seen.count("occupied"),
                    states_seen.count("vacant"),
                    states_seen.count("unknown"),
                    len(own),
                    own,
                )
            )
    nodes = tuple(
        NodeRow(name, n.state, n.version, n.outbox_depth, n.outbox_dropped, n.clock_synced, n.uptime_s)
        for name, n in sorted(view.nodes().items())
    )
    decisions = tuple(
        DecisionRow(d.at, d.door, d.member, names.get(d.member or "", ""), d.granted, d.reason)
        for d in reversed(view.recent_decisions()[-recent:])
    )
    return Today(generation, connected, report.pushed, tuple(doors), tuple(zones), nodes, decisions)
