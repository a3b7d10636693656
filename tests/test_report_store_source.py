"""The collector's store as a report source: a store filled by the collector's own code, read back read-only."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from edge.collector.ingest import classify
from edge.collector.store import Store
from edge.contract import DeskOccupancy, DeskState, DoorAccess, Event, NodeStatus, Reason
from edge.errors import SourceError
from edge.report.model import DoorHour, NodeCompleteness, Note, Passage, ZoneSample
from edge.report.period import Period
from edge.report.store_source import StoreSource, window_completeness
from tests.collector_support import SITE, TOPICS, event, wire

TZ = ZoneInfo("Europe/Paris")
DAY = dt.date(2026, 11, 24)
NEXT = DAY + dt.timedelta(days=1)
HOUR_MS = 3_600_000
TOKENS = {name: f"{i:032x}" for i, name in enumerate(["alice", "bob", "denied", "tokenonly"], start=0xA1)}


def local(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), TZ)


def ms(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


def desk(seq: int, when: dt.datetime, name: str, zone: str, state: DeskState) -> Event:
    return event(DeskOccupancy(desk=name, zone=zone, state=state, since=when), seq, when, node="desks")


def door(seq: int, when: dt.datetime, who: str, reader: str, member: str | None, granted: bool = True) -> Event:
    body = DoorAccess(
        door="front",
        reader=reader,
        token=TOKENS[who],
        member=member,
        granted=granted,
        reason=Reason.GRANTED if granted else Reason.UNKNOWN_BADGE,
        latency_ms=2.0,
    )
    return event(body, seq, when, node="door")


def day_events() -> list[Event]:
    """Tuesday: three desks in two zones, four badges, two desk events lost, a status announcing two more."""
    return [
        desk(1, local(7), "d1", "z1", DeskState.VACANT),
        desk(2, local(8), "d3", "z2", DeskState.UNKNOWN),
        desk(3, local(9), "d1", "z1", DeskState.OCCUPIED),
        desk(6, local(10), "d2", "z1", DeskState.OCCUPIED),  # seqs 4 and 5 never arrived
        desk(7, local(11), "d1", "z1", DeskState.VACANT),
        door(1, local(9), "alice", "front-in", "m-alice"),
        door(2, local(9, 30), "bob", "front-in", "m-bob"),
        door(3, local(9, 40), "denied", "front-in", None, granted=False),
        door(4, local(10), "tokenonly", "front-in", None),
        door(5, local(12), "alice", "front-out", "m-alice"),
        event(NodeStatus(state="online", version="1", node_name="desks"), 9, local(12, 30), node="desks"),
    ]


def fill(path: Path, events: list[Event]) -> Path:
    store = Store(path)
    store.commit([classify(TOPICS, *wire(e)) for e in events], 0)
    store.close()
    return path


@pytest.fixture
def source(tmp_path: Path):
    src = StoreSource(fill(tmp_path / "c.sqlite3", day_events()), directions={"front-out": "out"})
    yield src
    src.close()


def test_occupancy_samples_each_desk_at_its_latest_transition(source: StoreSource) -> None:
    period = Period.one_day(DAY, TZ)
    samples = {(s.t_ms, s.zone): s for s in source.occupancy(period.start_ms, period.end_ms, HOUR_MS)}
    assert samples[(ms(local(8)), "z1")] == ZoneSample(ms(local(8)), "z1", 0, 1, 0)
    assert samples[(ms(local(8)), "z2")] == ZoneSample(ms(local(8)), "z2", 0, 0, 1)
    assert samples[(ms(local(10)), "z1")] == ZoneSample(ms(local(10)), "z1", 2, 0, 0)  # at the instant counts
    assert samples[(ms(local(11)), "z1")] == ZoneSample(ms(local(11)), "z1", 1, 1, 0)
    # nothing before the first desk is known, nothing after the latest event (12:30): no invented data
    assert min(t for t, _ in samples) == ms(local(7))
    assert max(t for t, _ in samples) == ms(local(12))


def test_passages_number_members_and_keep_no_pseudonym(source: StoreSource) -> None:
    period = Period.one_day(DAY, TZ)
    passages = source.passages(period.start_ms, period.end_ms)
    assert passages == [
        Passage(ms(local(9)), 0),  # m-alice
        Passage(ms(local(9, 30)), 1),  # m-bob
        Passage(ms(local(10)), 2),  # no member id: its badge token is the visitor
        Passage(ms(local(12)), 0, exit=True),  # m-alice again, at the exit reader
    ]
    for p in passages:
        assert all(not isinstance(v, str) for v in dataclasses.astuple(p))


def test_door_hours_split_entries_exits_and_denied_by_reader_direction(source: StoreSource) -> None:
    period = Period.one_day(DAY, TZ)
    assert source.door_hours(period.start_ms, period.end_ms) == [
        DoorHour(ms(local(9)), entries=2, exits=0, denied=1),
        DoorHour(ms(local(10)), entries=1, exits=0, denied=0),
        DoorHour(ms(local(12)), entries=0, exits=1, denied=0),
    ]


def test_completeness_counts_lost_and_announced_events(source: StoreSource) -> None:
    period = Period.one_day(DAY, TZ)
    assert source.completeness(period.start_ms, period.end_ms) == [
        NodeCompleteness("desks", expected=9, received=5, gaps=2),  # 4-5 lost; 8-9 announced by the status
        NodeCompleteness("door", expected=5, received=5, gaps=0),
    ]


def test_lost_events_count_in_the_period_after_the_last_one_received(tmp_path: Path) -> None:
    events = [
        desk(1, local(9), "d1", "z1", DeskState.OCCUPIED),
        desk(2, local(17), "d1", "z1", DeskState.VACANT),
        desk(5, local(9, day=NEXT), "d1", "z1", DeskState.OCCUPIED),  # 3 and 4 lost overnight
        desk(6, local(17, day=NEXT), "d1", "z1", DeskState.VACANT),
    ]
    source = StoreSource(fill(tmp_path / "c.sqlite3", events))
    first, second = Period.one_day(DAY, TZ), Period.one_day(NEXT, TZ)
    assert source.completeness(first.start_ms, first.end_ms) == [NodeCompleteness("desks", 2, 2, 0)]
    assert source.completeness(second.start_ms, second.end_ms) == [NodeCompleteness("desks", 4, 2, 1)]
    source.close()


def test_the_site_comes_from_the_stored_points(source: StoreSource) -> None:
    assert source.site() == SITE


def test_reads_while_the_collector_holds_its_store(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = Store(path)  # holds the collector's exclusive lock
    store.commit([classify(TOPICS, *wire(e)) for e in day_events()[:3]], 0)
    source = StoreSource(path)
    period = Period.one_day(DAY, TZ)
    assert list(source.occupancy(period.start_ms, period.end_ms, HOUR_MS))
    store.commit([classify(TOPICS, *wire(e)) for e in day_events()[3:]], 0)
    assert len(source.passages(period.start_ms, period.end_ms)) == 4  # sees later commits
    source.close()
    store.close()


@pytest.mark.parametrize("content", [None, b"not a database at all, just text" * 40])
def test_a_missing_or_foreign_file_is_a_source_error(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "c.sqlite3"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SourceError, match="store"):
        StoreSource(path)


def test_a_note_warns_when_door_records_before_the_period_are_gone(tmp_path: Path) -> None:
    source = StoreSource(fill(tmp_path / "c.sqlite3", day_events()))
    later = Period.one_day(NEXT, TZ)  # desk data exists before it, door records too
    today = Period.one_day(DAY, TZ)  # nothing at all before it: a new site, no warning
    assert source.notes(later.start_ms, later.end_ms) == []
    assert source.notes(today.start_ms, today.end_ms) == []
    source.close()
    only_desks = [e for e in day_events() if e.envelope.node == "desks"]
    path = fill(tmp_path / "d.sqlite3", only_desks)
    source = StoreSource(path)
    assert source.notes(later.start_ms, later.end_ms) == []  # the member aggregates hold what expired
    source.close()
    with sqlite3.connect(path) as db:  # a store written by a collector older than the member aggregates
        db.execute("DROP TABLE member_days")
    source = StoreSource(path)
    assert source.notes(later.start_ms, later.end_ms) == [Note("door_records_expired")]
    source.close()


@pytest.mark.parametrize(
    ("ranges", "lo", "hi", "expected"),
    [
        ([(1, 10)], 1, 10, (10, 10, 0)),
        ([(1, 3), (6, 10)], 1, 10, (10, 8, 1)),
        ([(1, 3), (6, 7)], 1, 9, (9, 5, 2)),  # a hole and a missing tail
        ([(3, 10)], 1, 10, (10, 8, 1)),  # a missing head
        ([(1, 100)], 40, 49, (10, 10, 0)),  # a window inside a range
        ([(1, 2), (5, 5), (9, 12)], 3, 10, (8, 3, 2)),  # 3-4 and 6-8 missing
        ([], 1, 4, (4, 0, 1)),
    ],
)
def test_window_completeness(ranges, lo, hi, expected) -> None:
    got = window_completeness("n", ranges, lo, hi)
    assert (got.expected, got.received, got.gaps) == expected


def test_a_damaged_door_record_is_left_out_and_reported(tmp_path: Path) -> None:
    path = fill(tmp_path / "c.sqlite3", day_events())
    with sqlite3.connect(path) as db:
        db.execute("UPDATE events SET payload = X'00FF' WHERE kind = 'door_access' AND seq = 2")
    source = StoreSource(path)
    period = Period.one_day(DAY, TZ)
    assert len(source.passages(period.start_ms, period.end_ms)) == 3  # bob's entry is gone
    assert source.notes(period.start_ms, period.end_ms) == [Note("unreadable_records", 1)]
    source.close()
