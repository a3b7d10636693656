"""All desks of a node and their zones: observations in, desk changes, heartbeats and zone counts out.

Not thread-safe by design: one loop owns it, feeds it observations and calls `tick()` when `next_due()` says.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from edge.clock import Clock
from edge.occupancy.desk import DeskMachine
from edge.occupancy.model import DeskSpec, DeskUpdate, Occupancy, Update, ZoneCounts, ZoneSpec


class OccupancyTracker:
    """Desk state machines, zone aggregation and heartbeat scheduling over an injected clock."""

    def __init__(
        self,
        desks: Sequence[DeskSpec],
        zones: Sequence[ZoneSpec],
        clock: Clock,
        heartbeat_s: float = 60.0,
    ) -> None:
        if heartbeat_s <= 0:
            raise ValueError("heartbeat_s must be positive")
        self.zones = {z.name: z for z in zones}
        for desk in desks:
            if desk.zone not in self.zones:
                raise ValueError(f"desk {desk.name} is in unknown zone {desk.zone}")
        self._clock = clock
        self._heartbeat_s = heartbeat_s
        start = clock.monotonic()
        self.desks = {d.name: DeskMachine(d, start) for d in desks}
        if len(self.desks) != len(desks):
            raise ValueError("two desks have one name")
        self._next_heartbeat = dict.fromkeys(self.desks, start)
        # Each desk's next deadline, refreshed whenever that desk is touched: a tick looks at 48 floats, not at
        # every sensor of every desk (a node with radars ticks several times a second).
        self._due: dict[str, float | None] = {name: d.next_event() for name, d in self.desks.items()}
        self._zone_counts: dict[str, ZoneCounts] = {}
        self._zones_stale = True

    def observe(self, desk: str, sensor: str, value: object, at: float | None = None) -> None:
        """Record an observation (a level, a radar reading or a Fault) made at monotonic `at` (default now)."""
        machine = self.desks[desk]
        machine.observe(sensor, value, self._clock.monotonic() if at is None else at)
        self._due[desk] = machine.next_event()

    def tick(self, now: float | None = None) -> list[Update]:
        """Advance every desk to `now`; return changed desks, due heartbeats and changed zone counts."""
        now = self._clock.monotonic() if now is None else now
        updates: list[Update] = []
        for name, desk in self.desks.items():
            due = self._due[name]
            if due is not None and due <= now:
                desk.advance(now)
                self._due[name] = desk.next_event()
            heartbeat_due = now >= self._next_heartbeat[name]
            if desk.dirty or heartbeat_due:
                self._zones_stale = self._zones_stale or desk.dirty
                updates.append(self._update(desk, heartbeat=not desk.dirty))
                desk.dirty = False
                self._next_heartbeat[name] = now + self._heartbeat_s
        if self._zones_stale:
            self._zones_stale = False
            for zone in self.zones:
                counts = self._count(zone)
                if self._zone_counts.get(zone) != counts:
                    self._zone_counts[zone] = counts
                    updates.append(counts)
        return updates

    def next_due(self) -> float:
        """The monotonic time of the next deadline or heartbeat: when `tick()` should run next."""
        times = [t for t in self._due.values() if t is not None]
        times.extend(self._next_heartbeat.values())
        return min(times, default=self._clock.monotonic() + self._heartbeat_s)

    def snapshot(self) -> list[DeskUpdate]:
        """Every desk's current state (for example to republish after the bus reconnects)."""
        return [self._update(d, heartbeat=True) for d in self.desks.values()]

    def zone_counts(self) -> list[ZoneCounts]:
        """Every zone's current counts."""
        return [self._count(z) for z in self.zones]

    def _count(self, zone: str) -> ZoneCounts:
        states = [d.state for d in self.desks.values() if d.spec.zone == zone]
        return ZoneCounts(
            zone,
            occupied=states.count(Occupancy.OCCUPIED),
            vacant=states.count(Occupancy.VACANT),
            unknown=states.count(Occupancy.UNKNOWN),
        )

    def _update(self, desk: DeskMachine, *, heartbeat: bool) -> DeskUpdate:
        return DeskUpdate(
            desk=desk.spec.name,
            zone=desk.spec.zone,
            state=desk.state,
            since=self._wall(desk.changed_at),
            heartbeat=heartbeat,
            sensors=desk.views(),
        )

    def _wall(self, monotonic: float) -> datetime:
        # Wall time of a past monotonic instant: the change happened at a deadline, maybe before this tick.
        return self._clock.now() - timedelta(seconds=self._clock.monotonic() - monotonic)
