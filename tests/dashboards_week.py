"""A realistic simulated week of a coworking site, and loading it into InfluxDB through the collector's own code.

The week (Monday 2 to Sunday 8 March 2026, Europe/Paris; open Mon-Fri 08:00-19:00 and Sat 09:00-13:00):
* 30 desks in 3 zones (open-space 12, quiet 10, studio 8) on two presence nodes; desks are used on working days
  (morning arrival, often a lunch break, afternoon departure), less on Saturday; a studio sensor is unknown on
  Wednesday from 10:00 to 15:00.
* Doors `front` (readers front-in and front-out, with a contact sensor) and `back` (reader back-in, no contact):
  an entry for each desk session, exits at front-out, visitors, and denials for every reason the site sees.
* Alarms: held open (Tue), forced open (Thu night), reader fault (Fri). Lockdown on Friday 20:00-21:00.
* Node health every 10 minutes for 5 nodes; door-back is offline Wed 10:00-14:00 (comes back with a backlog in its
  outbox and an unsynchronised clock) and so applies member snapshot 42 four hours after the front door;
  desks-west drops 3 events on Friday (a seq gap).
* A second site, `annexe`, with one zone and 4 desks on Monday, to check that the site filter holds.

Events are contract events, committed hour by hour to a real collector `Store` as they would arrive (door-back's
backlog late); the collector's `Deriver` runs after each hour (60 s grid, opening hours configured), and the lines
the collector would forward are written to InfluxDB.
"""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from edge.clock import ManualClock
from edge.collector.aggregates import MemberAggregator
from edge.collector.deriver import Deriver
from edge.collector.ingest import classify
from edge.collector.store import Store
from edge.contract import (
    Alarm,
    Body,
    DeskOccupancy,
    DeskState,
    DoorAccess,
    DoorAlarm,
    DoorMode,
    DoorState,
    Envelope,
    Event,
    NodeStatus,
    Reason,
    Topics,
    encode,
)
from edge.schedule import parse_schedule
from tests.collector_support import create_policies, write_by_policy
from tests.rig.servers import InfluxDB16

PARIS = ZoneInfo("Europe/Paris")
SITE = "tiers-lieu"
OTHER_SITE = "annexe"
DATABASE = "edge"
WEEK_START = datetime(2026, 3, 2, tzinfo=PARIS)  # Monday 00:00 local
WEEK_END = WEEK_START + timedelta(days=7)
ZONES = {"open-space": 12, "quiet": 10, "studio": 8}
DESKS = sum(ZONES.values())
USE = {"open-space": 0.8, "quiet": 0.6, "studio": 0.4}  # chance a desk is used on a working day
OPENING_HOURS = parse_schedule("mon-fri 08:00-19:00; sat 09:00-13:00")
DIRECTIONS = {"front-out": "out"}
NODES = ("door-front", "door-back", "desks-east", "desks-west", "hub")
DOORS = ("front", "back")
DENIAL_REASONS = ("unknown_badge", "expired", "suspended", "outside_schedule", "seat_limit", "passback", "lockdown")
ALARMS = ("held_open", "forced_open", "reader_fault")
TOKEN = "5f2b9c1e0a7d4e3b8c6f1a2d9e0b7c4a"
BACK_OFFLINE = (WEEK_START + timedelta(days=2, hours=10), WEEK_START + timedelta(days=2, hours=14))
SNAPSHOT_PUSH = WEEK_START + timedelta(days=2, hours=10)


def at(day: int, hour: float) -> datetime:
    """A local time in the week: day 0 is Monday."""
    return (WEEK_START + timedelta(days=day, hours=hour)).astimezone(UTC)


@dataclass
class Site:
    """Events of one site; seqs are assigned per node in time order, as the nodes would."""

    name: str
    pending: list[tuple[datetime, str, Body]] = field(default_factory=list)
    drops: dict[str, tuple[datetime, int]] = field(default_factory=dict)  # node -> (from, events lost)

    def emit(self, node: str, ts: datetime, body: Body) -> None:
        """An event of `node` at `ts` (a NodeStatus announces the node's latest seq and consumes none)."""
        self.pending.append((ts, node, body))

    def events(self) -> list[Event]:
        """The contract events, numbered."""
        seqs: Counter[str] = Counter()
        dropped: set[str] = set()
        out = []
        ordered = sorted(self.pending, key=lambda p: (p[0], isinstance(p[2], NodeStatus)))
        for i, (ts, node, body) in enumerate(ordered):
            if isinstance(body, NodeStatus):
                envelope = Envelope(id=f"{node}-status-{i}", ts=ts, node=node, seq=seqs[node])
            else:
                drop = self.drops.get(node)
                if drop is not None and ts >= drop[0] and node not in dropped:
                    seqs[node] += drop[1]  # the node numbered these events, then dropped them (outbox full)
                    dropped.add(node)
                seqs[node] += 1
                envelope = Envelope(id=f"{node}-{seqs[node]}", ts=ts, node=node, seq=seqs[node])
            out.append(Event(envelope, body))
        return out


def desk_node(zone: str) -> str:
    """The presence node a zone's desks hang off."""
    return "desks-west" if zone == "studio" else "desks-east"


def desk_names() -> list[tuple[str, str]]:
    """Every (zone, desk) of the main site."""
    return [(zone, f"{zone[:2]}-{i:02d}") for zone, count in ZONES.items() for i in range(1, count + 1)]


def simulate(seed: int = 7) -> Site:
    """The main site's week (deterministic for a seed)."""
    rng = random.Random(seed)
    site = Site(SITE)
    _desks(site, rng)
    _doors(site, rng)
    _health(site)
    return site


def _desk(site: Site, ts: datetime, zone: str, desk: str, state: DeskState) -> None:
    site.emit(desk_node(zone), ts, DeskOccupancy(desk=desk, zone=zone, state=state, since=ts))


def _access(site: Site, ts: datetime, reader: str, reason: Reason, rng: random.Random) -> None:
    door = reader.split("-")[0]
    granted = reason is Reason.GRANTED
    body = DoorAccess(
        door=door,
        reader=reader,
        token=TOKEN,
        member=None if reason is Reason.UNKNOWN_BADGE else f"m-{rng.randint(1, 80)}",
        granted=granted,
        reason=reason,
        latency_ms=round(rng.uniform(2.0, 9.0) + (40.0 if rng.random() < 0.02 else 0.0), 2),
    )
    site.emit(f"door-{door}", ts, body)
    if granted:
        version = _version(door, ts)
        contact = door == "front"
        released = DoorState(door=door, locked=False, open=True if contact else None, mode=DoorMode.NORMAL,
                             members_version=version)  # fmt: skip
        relocked = DoorState(door=door, locked=True, open=False if contact else None, mode=DoorMode.NORMAL,
                             members_version=version)  # fmt: skip
        site.emit(f"door-{door}", ts + timedelta(milliseconds=200), released)
        site.emit(f"door-{door}", ts + timedelta(seconds=6), relocked)


def _version(door: str, ts: datetime) -> int:
    applied = SNAPSHOT_PUSH + timedelta(seconds=3) if door == "front" else BACK_OFFLINE[1] + timedelta(minutes=1)
    return 42 if ts >= applied else 41


def _desks(site: Site, rng: random.Random) -> None:
    for zone, desk in desk_names():
        _desk(site, at(0, 0), zone, desk, DeskState.VACANT)
    for day in range(6):  # Monday to Saturday
        saturday = day == 5
        for zone, desk in desk_names():
            if rng.random() > USE[zone] * (0.3 if saturday else 1.0):
                continue
            arrive = rng.uniform(9.1, 10.0) if saturday else rng.uniform(8.3, 10.5)
            leave = rng.uniform(11.5, 12.9) if saturday else rng.uniform(16.5, 18.8)
            reader = "back-in" if rng.random() < 0.15 else "front-in"
            _access(site, at(day, arrive - 0.05), reader, Reason.GRANTED, rng)
            _desk(site, at(day, arrive), zone, desk, DeskState.OCCUPIED)
            if not saturday and rng.random() < 0.6:
                lunch = rng.uniform(12.0, 13.0)
                back = lunch + rng.uniform(0.5, 1.2)
                _desk(site, at(day, lunch), zone, desk, DeskState.VACANT)
                _access(site, at(day, lunch + 0.03), "front-out", Reason.GRANTED, rng)
                _access(site, at(day, back - 0.03), "front-in", Reason.GRANTED, rng)
                _desk(site, at(day, back), zone, desk, DeskState.OCCUPIED)
            _desk(site, at(day, leave), zone, desk, DeskState.VACANT)
            if rng.random() < 0.8:  # the others leave through the request-to-exit button, unseen
                _access(site, at(day, leave + 0.04), "front-out", Reason.GRANTED, rng)
    # Wednesday: a studio sensor loses its radar from 10:00 to 15:00.
    _desk(site, at(2, 10), "studio", "st-08", DeskState.UNKNOWN)
    _desk(site, at(2, 15), "studio", "st-08", DeskState.VACANT)


def _doors(site: Site, rng: random.Random) -> None:
    for day in range(6):
        for _ in range(rng.randint(3, 8)):  # visitors with a day pass
            _access(site, at(day, rng.uniform(9, 17)), "front-in", Reason.GRANTED, rng)
        denials = [Reason.UNKNOWN_BADGE, Reason.EXPIRED, Reason.SUSPENDED, Reason.SEAT_LIMIT, Reason.PASSBACK]
        for reason in rng.sample(denials, k=3):
            reader = "back-in" if rng.random() < 0.3 else "front-in"
            _access(site, at(day, rng.uniform(8.5, 18)), reader, reason, rng)
        _access(site, at(day, rng.uniform(19.5, 22)), "front-in", Reason.OUTSIDE_SCHEDULE, rng)
    # Unknown badges tried one after another at the back door on Thursday night: a probing attempt.
    for k in range(4):
        _access(site, at(3, 23 + k / 60), "back-in", Reason.UNKNOWN_BADGE, rng)
    # Friday 20:00-21:00: lockdown at the front door (an event); a member is refused meanwhile.
    version = _version("front", at(4, 20))
    for hour, mode in ((20, DoorMode.LOCKDOWN), (21, DoorMode.NORMAL)):
        body = DoorState(door="front", locked=True, open=False, mode=mode, members_version=version)
        site.emit("door-front", at(4, hour), body)
    _access(site, at(4, 20.5), "front-in", Reason.LOCKDOWN, rng)
    alarms = (
        ("front", Alarm.HELD_OPEN, at(1, 12.6), at(1, 12.65)),
        ("back", Alarm.FORCED_OPEN, at(3, 22.2), at(3, 22.22)),
        ("front", Alarm.READER_FAULT, at(4, 9.0), at(4, 9.33)),
        ("front", Alarm.HELD_OPEN, at(4, 17.5), at(4, 17.6)),
    )
    for door, alarm, raised, cleared in alarms:
        site.emit(f"door-{door}", raised, DoorAlarm(door=door, alarm=alarm, active=True))
        site.emit(f"door-{door}", cleared, DoorAlarm(door=door, alarm=alarm, active=False))
    # Each door's state as it started, and the snapshot push on Wednesday.
    for door in DOORS:
        contact = door == "front"
        state = DoorState(door=door, locked=True, open=False if contact else None, mode=DoorMode.NORMAL,
                          members_version=41)  # fmt: skip
        site.emit(f"door-{door}", at(0, 0), state)
        applied = SNAPSHOT_PUSH + timedelta(seconds=3) if door == "front" else BACK_OFFLINE[1] + timedelta(minutes=1)
        state = DoorState(door=door, locked=True, open=False if contact else None, mode=DoorMode.NORMAL,
                          members_version=42)  # fmt: skip
        site.emit(f"door-{door}", applied.astimezone(UTC), state)


def _health(site: Site) -> None:
    """Statuses every 10 minutes per node; door-back offline for four hours, desks-west drops 3 events."""
    dropped_at = at(4, 11)
    site.drops["desks-west"] = (dropped_at, 3)
    back = BACK_OFFLINE[1]
    t = WEEK_START.astimezone(UTC)
    while t < WEEK_END:
        for node in NODES:
            is_back = node == "door-back"
            offline = is_back and BACK_OFFLINE[0] <= t < back
            if offline and t > BACK_OFFLINE[0]:
                continue  # the broker published its last will once; nothing more until it is back
            booted = back if is_back and t >= back else at(0, 0)
            outbox = max(0, 25 - int((t - back).total_seconds() // 60)) if is_back and t >= back else 0
            synced = not (is_back and back <= t < back + timedelta(minutes=20))
            body = NodeStatus(
                state="offline" if offline else "online",
                version="0.1.0",
                uptime_s=(t - booted).total_seconds(),
                outbox_depth=outbox,
                outbox_dropped=3 if node == "desks-west" and t >= dropped_at else 0,
                clock_synced=None if offline else synced,
                counters={"reconnects": 1 if is_back and t >= back else 0},
                node_name=node,
            )
            site.emit(node, t, body)
        t += timedelta(minutes=10)


def simulate_annexe() -> Site:
    """The second site: one zone of 4 desks, Monday only."""
    site = Site(OTHER_SITE)
    for i in range(1, 5):
        desk = f"lo-{i:02d}"
        site.emit(
            "annexe-desks", at(0, 0), DeskOccupancy(desk=desk, zone="loft", state=DeskState.VACANT, since=at(0, 0))
        )
        ts = at(0, 9 + i / 4)
        site.emit("annexe-desks", ts, DeskOccupancy(desk=desk, zone="loft", state=DeskState.OCCUPIED, since=ts))
        ts = at(0, 17)
        site.emit("annexe-desks", ts, DeskOccupancy(desk=desk, zone="loft", state=DeskState.VACANT, since=ts))
    status = NodeStatus(state="online", version="0.1.0", clock_synced=True, node_name="annexe-desks")
    site.emit("annexe-desks", at(0, 12), status)
    return site


def arrival(event: Event) -> datetime:
    """When the collector receives an event: door-back's events made while it was offline arrive when it is back."""
    ts = event.envelope.ts
    if event.envelope.node == "door-back" and BACK_OFFLINE[0] < ts < BACK_OFFLINE[1]:
        return BACK_OFFLINE[1]
    return ts


def collector_lines(site: Site, workdir: Path, until: datetime) -> list[str]:
    """Every line the collector forwards for these events (raw and derived), run as it runs live.

    Events are committed hour by hour as they arrive (late ones late) and the deriver runs after each hour, so
    the derived series go through the same corrections as at a real site.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    store = Store(workdir / f"{site.name}.sqlite3")
    topics = Topics(site.name)
    pending = sorted(site.events(), key=arrival)
    clock = ManualClock(WEEK_START.astimezone(UTC))
    deriver = Deriver(
        store,
        site=site.name,
        clock=clock,
        tz=PARIS,
        step_s=60,
        directions=DIRECTIONS,
        opening_hours=OPENING_HOURS,
    )
    now, i = WEEK_START.astimezone(UTC), 0
    while now < until:
        now += timedelta(hours=1)
        batch = []
        while i < len(pending) and arrival(pending[i]) < now:
            event = pending[i]
            batch.append(classify(topics, event.body.topic(topics), encode(event)))
            i += 1
        store.commit(batch, 0)
        clock.set(now + timedelta(seconds=3))
        while deriver.run():
            pass
    # the member aggregates, as the collector computes them (its key folder in the work folder)
    aggregator = MemberAggregator(
        store, site=site.name, clock=clock, tz=PARIS, retention_days=90, directions=DIRECTIONS
    )
    aggregator.run(force=True)
    store.close()
    with sqlite3.connect(store.path) as db:
        raw = [line for (lines,) in db.execute("SELECT lines FROM events ORDER BY rid") for line in lines.splitlines()]
        derived = [line for (line,) in db.execute("SELECT line FROM derived ORDER BY rid")]
    return raw + derived


def load(server: InfluxDB16, workdir: Path) -> None:
    """Create the database and write both sites' week into it in batches."""
    create_policies(server, DATABASE)
    lines = collector_lines(simulate(), workdir, WEEK_END.astimezone(UTC))
    lines += collector_lines(simulate_annexe(), workdir, at(1, 0))
    write_by_policy(server, DATABASE, lines)
