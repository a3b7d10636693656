"""A small known case for the member aggregates: a store with a week's door passages, an aggregator on a manual clock.

Dataset (Europe/Paris), readers front-in (entry) and front-out (exit):

    Mon 30 March   alice in 09:00 out 17:00 (8 h) | bruno in 10:00 out 11:30 (1 h 30) | chloe in 14:00 (no exit)
    Tue 31 March   alice in 09:00 out 12:00, in 13:00 out 18:00 (8 h) | david in 09:30 out 10:00 (30 min)
    Wed 1 April    alice in 08:00 out 10:00 (2 h) | bruno out 09:00 (an exit without an entry)
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

from edge.clock import ManualClock
from edge.collector.aggregates import MemberAggregator, YearKeys
from edge.collector.ingest import classify
from edge.collector.members import DayMembers, MonthMembers
from edge.collector.store import Store, month_members_row
from edge.contract import DoorAccess, Event, Reason
from tests.collector_support import TOPICS, event, wire

TZ = ZoneInfo("Europe/Paris")
MEMBERS = {"alice": "m-alice-dupont", "bruno": "m-bruno-martin", "chloe": "m-chloe-petit", "david": "m-david-roux"}
TOKENS = {name: f"{0xBADC0DE0 + i:032x}" for i, name in enumerate(MEMBERS)}
KEY = bytes(range(32))
MON, TUE, WED = dt.date(2026, 3, 30), dt.date(2026, 3, 31), dt.date(2026, 4, 1)
PASSAGES = [
    (MON, "09:00", "alice", "front-in"),
    (MON, "17:00", "alice", "front-out"),
    (MON, "10:00", "bruno", "front-in"),
    (MON, "11:30", "bruno", "front-out"),
    (MON, "14:00", "chloe", "front-in"),
    (TUE, "09:00", "alice", "front-in"),
    (TUE, "12:00", "alice", "front-out"),
    (TUE, "13:00", "alice", "front-in"),
    (TUE, "18:00", "alice", "front-out"),
    (TUE, "09:30", "david", "front-in"),
    (TUE, "10:00", "david", "front-out"),
    (WED, "08:00", "alice", "front-in"),
    (WED, "10:00", "alice", "front-out"),
    (WED, "09:00", "bruno", "front-out"),
]


def local(day: dt.date, clock: str) -> dt.datetime:
    """A local time of the dataset."""
    return dt.datetime.combine(day, dt.time.fromisoformat(clock), TZ)


def passage_events() -> list[Event]:
    """The passages as door events, and one refused badge."""
    out = []
    for seq, (day, clock, name, reader) in enumerate(PASSAGES, start=1):
        body = DoorAccess(
            door="front",
            reader=reader,
            token=TOKENS[name],
            member=MEMBERS[name],
            granted=True,
            reason=Reason.GRANTED,
            latency_ms=2.0,
        )
        out.append(event(body, seq, local(day, clock), node="door"))
    # a refused badge counts for nobody
    refused = DoorAccess(
        door="front",
        reader="front-in",
        token="f" * 32,
        member=None,
        granted=False,
        reason=Reason.UNKNOWN_BADGE,
        latency_ms=2.0,
    )
    out.append(event(refused, len(PASSAGES) + 1, local(MON, "12:00"), node="door"))
    return out


class Site:
    """A store with the passages, an aggregator on a manual clock, and a known key for 2026."""

    def __init__(self, tmp: Path, now: dt.datetime) -> None:
        self.clock = ManualClock(now)
        self.store = Store(tmp / "collector.sqlite3")
        self.keys = YearKeys(tmp / "collector.sqlite3.yearkeys")
        self.keys.folder.mkdir(mode=0o700)
        self.keys.path(2026).write_bytes(KEY)
        self.aggregator = MemberAggregator(
            self.store,
            site="tiers-lieu",
            clock=self.clock,
            tz=TZ,
            retention_days=90,
            directions={"front-out": "out"},
            keys=self.keys,
        )
        self.store.commit([classify(TOPICS, *wire(e)) for e in passage_events()], 0)

    def days(self) -> dict[dt.date, DayMembers]:
        return {d.day: d for d in self.store.member_days_between(MON, WED)}

    def months(self) -> dict[str, MonthMembers]:
        with sqlite3.connect(self.store.path) as db:
            rows = db.execute("SELECT month, members, frequency, days FROM member_months").fetchall()
        return {r[0]: month_members_row(r) for r in rows}
