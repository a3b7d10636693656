"""A simulated year of a coworking site, written into a collector store as a running collector would have kept it.

200 desks in four zones and three doors (the front door has an exit reader), about 400 members (residents,
flex members, occasional visitors joining and leaving during the year), French public holidays, a quiet August
and Christmas week, a sensor offline now and then. Events go through the collector's own code (contract
payloads -> `classify` -> `Store.commit`); every week the member aggregates are computed, the derived hourly door
counts written, and access records older than the retention purged, so at the end the store holds what a
real one would: the last 90 days of door records, the year's aggregates, a year of desk transitions.

Used by `docs/tools/make_report_sample.py` (the documentation's yearly sample) and `benchmarks/bench_report.py`.
`days` and `desks` scale it down for quick runs.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from edge.clock import ManualClock
from edge.collector import derive
from edge.collector.aggregates import MemberAggregator, YearKeys, key_folder
from edge.collector.ingest import Accepted, classify
from edge.collector.schema import Retention, hourly_points, ms_of
from edge.collector.store import Store
from edge.contract import (
    DeskOccupancy,
    DeskState,
    DoorAccess,
    Envelope,
    Event,
    NodeStatus,
    Reason,
    Topics,
    badge_token,
    encode,
)
from edge.schedule import Schedule, parse_schedule

SITE = "tiers-lieu-des-halles"
TZ = ZoneInfo("Europe/Paris")
YEAR = 2026
HOLIDAYS = ("2026-01-01", "2026-04-06", "2026-05-01", "2026-05-08", "2026-05-14", "2026-05-25", "2026-07-14",
            "2026-11-11", "2026-12-25")  # fmt: skip
OPENING_HOURS: Schedule = parse_schedule(
    ["mon-fri 08:00-19:00", "sat 09:00-13:00", *(f"closed {day}" for day in HOLIDAYS)]
)
ZONES = {"open-space": 100, "salle-calme": 40, "atelier": 30, "etage": 30}  # 200 desks
NODES = {zone: f"desks-{zone.split('-')[-1]}" for zone in ZONES}
DOORS = {"entree": ("entree-in", "entree-out"), "cour": ("cour-in",), "parking": ("parking-in",)}
DIRECTIONS = {"entree-out": "out"}
BADGE_KEY = b"year-sample-badge-key-0123456789"
RETENTION_DAYS = 90


@dataclass(frozen=True)
class Member:
    """A simulated member: when they are a member, how often they come, where they sit, which door they use."""

    id: str
    token: str
    first: dt.date
    last: dt.date
    weekday_p: float
    saturday_p: float
    zone: str
    door: str


def members(rng: random.Random, count: int, year: int) -> list[Member]:
    """Residents all year, flex members for some months, occasional visitors now and then."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    out = []
    for n in range(count):
        kind = rng.choices(("resident", "flex", "occasional"), weights=(15, 40, 45))[0]
        first, last = start, end
        if kind != "resident":
            length = rng.randint(60, 365)
            first = start + dt.timedelta(days=rng.randint(-200, 364))
            first, last = max(first, start), min(first + dt.timedelta(days=length), end)
            if last < first:
                first, last = start, start + dt.timedelta(days=rng.randint(30, 120))
        weekday_p = {"resident": 0.8, "flex": 0.3, "occasional": 0.05}[kind]
        uid = f"04{n:04X}{rng.randrange(1 << 16):04X}"
        out.append(
            Member(
                id=f"m-{10000 + n}",
                token=badge_token(BADGE_KEY, uid),
                first=first,
                last=last,
                weekday_p=weekday_p,
                saturday_p=weekday_p / 6,
                zone=rng.choices(list(ZONES), weights=list(ZONES.values()))[0],
                door=rng.choices(list(DOORS), weights=(6, 2, 2))[0],
            )
        )
    return out


def season(day: dt.date) -> float:
    """How busy the space is in that season: quiet in August and between Christmas and New Year."""
    if day.month == 8:
        return 0.35
    if (day.month == 12 and day.day >= 21) or (day.month == 1 and day.day <= 3):
        return 0.4
    return 1.0


class Numbering:
    """Each node's events numbered in time order, as its outbox would."""

    def __init__(self) -> None:
        self.seqs: dict[str, int] = {}

    def envelope(self, node: str, when: dt.datetime, status: bool = False) -> Envelope:
        """The next envelope of a node (a status announces its latest seq and consumes none)."""
        if not status:
            self.seqs[node] = self.seqs.get(node, 0) + 1
        seq = self.seqs.get(node, 0)
        return Envelope(id=f"{node}-{seq}-{int(when.timestamp() * 1000)}", ts=when, node=node, seq=seq)


def local(day: dt.date, hour: float) -> dt.datetime:
    """A local time of a day, as UTC."""
    return (dt.datetime.combine(day, dt.time(0), TZ) + dt.timedelta(hours=hour)).astimezone(dt.UTC)


Body = DeskOccupancy | DoorAccess | NodeStatus


def one_day(
    rng: random.Random, day: dt.date, people: list[Member], desks: dict[str, list[str]]
) -> Iterator[tuple[dt.datetime, str, Body]]:
    """The events of one day (unsorted): arrivals, desks, lunches, departures, a sensor offline, node statuses."""
    busy: dict[str, float] = {}
    open_today = OPENING_HOURS.opens_on(day)
    weekday = day.weekday()
    for m in people if open_today and weekday < 6 else []:
        if not m.first <= day <= m.last:
            continue
        chance = (m.weekday_p if weekday < 5 else m.saturday_p) * season(day)
        if rng.random() >= chance:
            continue
        arrive = rng.uniform(7.9, 10.5) if weekday < 5 else rng.uniform(9.1, 10.5)
        close = 18.9 if weekday < 5 else 12.9
        leave = min(arrive + rng.uniform(2.5, 9.5), close)
        free = [d for z in (m.zone, *ZONES) for d in desks[z] if busy.get(d, 0) < arrive]
        if not free:
            continue
        desk = free[0] if rng.random() < 0.6 else rng.choice(free)
        zone = next(z for z, names in desks.items() if desk in names)
        busy[desk] = leave
        reader = DOORS[m.door][0]
        yield local(day, arrive), f"door-{m.door}", _access(m, m.door, reader)
        spans = [(arrive + 0.05, leave - 0.05)]
        out_at = rng.uniform(12, 13.5)
        back = out_at + rng.uniform(0.5, 1.2)
        if arrive + 1 < out_at and back + 1 < leave and rng.random() < 0.4:  # lunch outside, by the front door
            yield local(day, out_at), "door-entree", _access(m, "entree", "entree-out")
            yield local(day, back), "door-entree", _access(m, "entree", "entree-in")
            spans = [(arrive + 0.05, out_at - 0.05), (back + 0.05, leave - 0.05)]
        for start, end in spans:
            for hour, state in ((start, DeskState.OCCUPIED), (end, DeskState.VACANT)):
                when = local(day, hour)
                yield when, NODES[zone], DeskOccupancy(desk=desk, zone=zone, state=state, since=when)
        if rng.random() < 0.9:  # the others are let out by the exit button: no record
            yield local(day, leave), "door-entree", _access(m, "entree", "entree-out")
    if weekday == 2 and day.isocalendar().week % 3 == 0:  # now and then a radar goes offline for a few hours
        zone = "salle-calme"
        desk = desks[zone][day.isocalendar().week % len(desks[zone])]
        for hour, state in ((11.0, DeskState.UNKNOWN), (15.0, DeskState.VACANT)):
            when = local(day, hour)
            yield when, NODES[zone], DeskOccupancy(desk=desk, zone=zone, state=state, since=when)
    for node in (*(f"door-{d}" for d in DOORS), *NODES.values()):
        for hour in (6.5, 21.5):
            yield local(day, hour), node, NodeStatus(state="online", version="1.0.0", uptime_s=3600.0, node_name=node)


def _access(m: Member, door: str, reader: str) -> DoorAccess:
    return DoorAccess(
        door=door, reader=reader, token=m.token, member=m.id, granted=True, reason=Reason.GRANTED, latency_ms=3.0
    )


@dataclass(frozen=True)
class YearStore:
    """What `write_year` made: the store, its first and last day, and how many events it holds."""

    path: Path
    first: dt.date
    last: dt.date
    events: int


def write_year(
    path: Path,
    *,
    year: int = YEAR,
    days: int | None = None,
    desks: int = 200,
    member_count: int = 420,
    seed: int = 2026,
    now: dt.datetime | None = None,
    year_key: bytes | None = None,
) -> YearStore:
    """Simulate `days` days from 1 January (the whole year by default) into a new collector store at `path`.

    The store ends as a collector running until `now` (default: 15 January of the next year) leaves it: member
    aggregates computed, the year closed when it is over, door records older than 90 days purged. `year_key`
    replaces the year's random sketch key (for a reproducible sample only: a site's key is always random).
    """
    rng = random.Random(seed)
    first = dt.date(year, 1, 1)
    last = dt.date(year, 12, 31) if days is None else first + dt.timedelta(days=days - 1)
    scale = desks / sum(ZONES.values())
    names = {zone: [f"{zone}-{i + 1:03d}" for i in range(max(1, round(n * scale)))] for zone, n in ZONES.items()}
    people = members(rng, max(10, round(member_count * scale)), year)
    topics, numbering = Topics(SITE), Numbering()
    store = Store(path, synchronous="OFF")
    keys = YearKeys(key_folder(path))
    if year_key is not None:
        keys.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        keys.path(year).write_bytes(year_key)
    clock = ManualClock(local(first, 0))
    aggregator = MemberAggregator(
        store,
        site=SITE,
        clock=clock,
        tz=TZ,
        retention_days=RETENTION_DAYS,
        directions=DIRECTIONS,
        keys=keys,
    )
    total = 0
    try:
        start = local(first, 0)
        for zone, desk_names in names.items():  # every desk reports vacant when the sensors are installed
            batch = [_wire(topics, numbering, start, NODES[zone], _vacant(d, zone, start)) for d in desk_names]
            store.commit(batch, ms_of(start))
        day = first
        while day <= last:
            events = sorted(one_day(rng, day, people, names), key=lambda e: e[0])
            batch = [_wire(topics, numbering, when, node, body) for when, node, body in events]
            for i in range(0, len(batch), 1000):
                store.commit(batch[i : i + 1000], ms_of(local(day, 23.9)))
            total += len(batch)
            if day.weekday() == 6 or day == last:  # a running collector's week: aggregate, derive, purge
                clock.set(local(day + dt.timedelta(days=1), 0.1))
                _housekeeping(store, aggregator, clock)
            day += dt.timedelta(days=1)
        end = now or local(dt.date(last.year + 1, 1, 15), 9)
        while clock.now() < end:  # the weeks after the last simulated day: no event, the same housekeeping
            clock.set(min(end, clock.now() + dt.timedelta(days=7)))
            _housekeeping(store, aggregator, clock)
    finally:
        store.close()
    return YearStore(path, first, last, total)


def _vacant(desk: str, zone: str, when: dt.datetime) -> DeskOccupancy:
    return DeskOccupancy(desk=desk, zone=zone, state=DeskState.VACANT, since=when)


def _wire(topics: Topics, numbering: Numbering, when: dt.datetime, node: str, body: Body) -> Accepted:
    envelope = numbering.envelope(node, when, status=isinstance(body, NodeStatus))
    event = Event(envelope, body)
    outcome = classify(topics, body.topic(topics), encode(event))
    assert isinstance(outcome, Accepted), outcome
    return outcome


def _housekeeping(store: Store, aggregator: MemberAggregator, clock: ManualClock) -> None:
    """What the collector does between batches: member aggregates, hourly door counts, the retention purge."""
    now_ms = ms_of(clock.now())
    aggregator.run(force=True)
    marks = store.marks
    if marks.hours_from >= 0:
        rows = store.hour_rows(marks.hours_from, marks.hours_to + derive.HOUR_MS)
        points = [
            point
            for (hour, door), counts in sorted(derive.hour_counts(rows, DIRECTIONS).items())
            for point in hourly_points(SITE, door, hour, counts)
        ]
        new_marks = type(marks)(**{**vars(marks), "hours_from": -1, "hours_to": -1})
        store.save_derived(points, new_marks)
    store.purge({Retention.PSEUDONYMOUS: now_ms - RETENTION_DAYS * 86_400_000})
