"""Report datasets shared by the report tests: a small one computed by hand, and a day of six members in a store.

The hand-computed dataset (test_report_figures checks the report's arithmetic on it):

Mon 23 - Wed 25 Nov 2026, Europe/Paris (UTC+1), open 09:00-12:00 Mon-Fri, samples every hour.
Zone a has 2 desks, zone b 1 desk. Visitors 0, 1, 2; small-count threshold k = 2 (counts of 1 are withheld).

    local   zone a (occ, vac, unk)   zone b      site (sum)
    Mon 08  1 1 0                    0 1 0       1 2 0
    Mon 09  2 0 0                    0 1 0       2 1 0   open
    Mon 10  1 1 0                    1 0 0       2 1 0   open
    Mon 11  1 0 1                    1 0 0       2 0 1   open
    Mon 12  0 2 0                    0 1 0       0 3 0
    Tue 09  0 2 0                    1 0 0       1 2 0   open
    Tue 10  2 0 0                    0 1 0       2 1 0   open
    Tue 11  0 1 1                    0 0 1       0 1 2   open
    Wed     (no samples: the collector was down)

Door passages (in = entry, out = exit):
    Mon  v0 in 08:30 out 12:30 | v1 in 09:00 out 10:00 in 10:30 out 11:30 | v2 in 09:15 (no exit)
    Tue  v0 in 09:00 out 17:00 | v1 out 10:00 (no entry)
    Wed  v2 in 09:00 out 09:30
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from edge.collector.ingest import classify
from edge.collector.store import Store
from edge.contract import DeskOccupancy, DeskState, DoorAccess, Event, Reason
from edge.report.commute import Commute, ModeShare
from edge.report.factors import Factor
from edge.report.model import DoorHour, NodeCompleteness, Passage, ReportData, Withheld, ZoneSample
from edge.report.period import Assumptions, Period
from edge.schedule import parse_schedule
from tests.collector_support import TOPICS, event, wire

TZ = ZoneInfo("Europe/Paris")
MON, TUE, WED = dt.date(2026, 11, 23), dt.date(2026, 11, 24), dt.date(2026, 11, 25)
PERIOD = Period(MON, WED, TZ)
HOURS = parse_schedule("mon-fri 09:00-12:00")
K = 2
# Commuting: half the member-days by car (the site's own figure, 0.2 kg/km, no source), half by regional train
COMMUTE = Commute(
    (ModeShare("car", 0.5, 10.0), ModeShare("train_ter", 0.5, 20.0)),
    factors={"car": Factor(0.2)},
    configured=True,
)
ASSUMPTIONS = Assumptions(commute=COMMUTE, min_count=K)
HOUR_MS = 3_600_000
W = Withheld(K)


def at(day: dt.date, hour: int, minute: int = 0) -> int:
    """Milliseconds of a local time."""
    return int(dt.datetime.combine(day, dt.time(hour, minute), TZ).timestamp() * 1000)


SAMPLES = [
    ZoneSample(at(day, hour), zone, *counts)
    for day, hour, a, b in [
        (MON, 8, (1, 1, 0), (0, 1, 0)),
        (MON, 9, (2, 0, 0), (0, 1, 0)),
        (MON, 10, (1, 1, 0), (1, 0, 0)),
        (MON, 11, (1, 0, 1), (1, 0, 0)),
        (MON, 12, (0, 2, 0), (0, 1, 0)),
        (TUE, 9, (0, 2, 0), (1, 0, 0)),
        (TUE, 10, (2, 0, 0), (0, 1, 0)),
        (TUE, 11, (0, 1, 1), (0, 0, 1)),
    ]
    for zone, counts in (("a", a), ("b", b))
]

PASSAGES = [
    Passage(at(MON, 8, 30), 0),
    Passage(at(MON, 12, 30), 0, exit=True),
    Passage(at(MON, 9), 1),
    Passage(at(MON, 10), 1, exit=True),
    Passage(at(MON, 10, 30), 1),
    Passage(at(MON, 11, 30), 1, exit=True),
    Passage(at(MON, 9, 15), 2),
    Passage(at(TUE, 9), 0),
    Passage(at(TUE, 17), 0, exit=True),
    Passage(at(TUE, 10), 1, exit=True),
    Passage(at(WED, 9), 2),
    Passage(at(WED, 9, 30), 2, exit=True),
]


def door_hours() -> list[DoorHour]:
    """The passages above per hour (entries, exits), plus one denied attempt on Monday at 09:xx."""
    tally: dict[int, list[int]] = {}
    for p in PASSAGES:
        row = tally.setdefault(p.t_ms - p.t_ms % HOUR_MS, [0, 0, 0])
        row[1 if p.exit else 0] += 1
    tally[at(MON, 9)][2] += 1
    return [DoorHour(h, *row) for h, row in sorted(tally.items())]


NODES = [NodeCompleteness("desks", 10, 8, 1), NodeCompleteness("door", 20, 20, 0)]


def data(passages: list[Passage] | None = PASSAGES) -> ReportData:
    """The hand-computed dataset as the report reads it (other passages, or none, on request)."""
    return ReportData(SAMPLES, HOUR_MS, door_hours(), passages, NODES, "test", "site")


# A day of six members at one door and their desks (it lands in a collector store, member ids and tokens included).
DAY = dt.date(2026, 11, 24)
MEMBERS = [
    f"m-{name}" for name in ("alice-dupont", "bruno-martin", "chloe-petit", "david-roux", "emma-leroy", "farid-n")
]
TOKENS = {m: f"{0xC0FFEE00 + i:032x}" for i, m in enumerate(MEMBERS)}


def entries_and_desks() -> list[Event]:
    """Six members come in and sit down, four of them twice through the door; one unknown badge is refused."""
    events: list[Event] = []
    seq = {"door": 0, "desks": 0}

    def add(node: str, when: dt.datetime, body: DeskOccupancy | DoorAccess) -> None:
        seq[node] += 1
        events.append(event(body, seq[node], when, node=node))

    for i, member in enumerate(MEMBERS):
        when = dt.datetime.combine(DAY, dt.time(8 + i // 2, 10 * i), TZ)
        for reader, offset in (("front-in", 0), ("front-out", 4), ("front-in", 5), ("front-out", 9)):
            body = DoorAccess(
                door="front",
                reader=reader,
                token=TOKENS[member],
                member=member,
                granted=True,
                reason=Reason.GRANTED,
                latency_ms=1.0,
            )
            add("door", when + dt.timedelta(hours=offset), body)
        sit = when + dt.timedelta(minutes=5)
        add("desks", sit, DeskOccupancy(desk=f"d{i}", zone="open", state=DeskState.OCCUPIED, since=sit))
    refused = DoorAccess(
        door="front",
        reader="front-in",
        token="f" * 32,
        member=None,
        granted=False,
        reason=Reason.UNKNOWN_BADGE,
        latency_ms=1.0,
    )
    add("door", dt.datetime.combine(DAY, dt.time(12), TZ), refused)
    return events


def write_members_store(path: Path) -> Path:
    """A collector store holding the members' day."""
    store = Store(path)
    store.commit([classify(TOPICS, *wire(e)) for e in entries_and_desks()], 0)
    store.close()
    return path
