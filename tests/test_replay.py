"""Replaying what a crashed broker lost: the request payload, the node's kept events, the collector's planner."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.bus.outbox import Outbox, Row
from edge.collector.replays import ReplayPlanner
from edge.collector.seqtrack import NodeSeqs
from edge.contract.replay import MAX_REPLAY_SPAN, ReplayRequest, decode_replay
from edge.errors import PayloadError

# -- the request ------------------------------------------------------------------------------------------------


def test_a_request_round_trips() -> None:
    assert decode_replay(ReplayRequest(120, 180).encode()) == ReplayRequest(120, 180)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "not_json"),
        (b"[1, 2]", "not_object"),
        (b'{"v": 2, "first_seq": 1, "last_seq": 2}', "unknown_version"),
        (b'{"v": 1, "first_seq": 1}', "malformed"),
        (b'{"v": 1, "first_seq": 1, "last_seq": 2, "all": true}', "malformed"),
        (b'{"v": 1, "first_seq": "1", "last_seq": 2}', "malformed"),
        (b'{"v": 1, "first_seq": true, "last_seq": 2}', "malformed"),
        (b'{"v": 1, "first_seq": 5, "last_seq": 4}', "malformed"),
        (b'{"v": 1, "first_seq": 0, "last_seq": 4}', "malformed"),
        (b'{"v": 1, "first_seq": 1, "last_seq": %d}' % (MAX_REPLAY_SPAN + 1), "malformed"),
        (b"{" + b" " * 300 + b"}", "too_large"),
    ],
)
def test_a_bad_request_is_refused_with_its_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(PayloadError) as refused:
        decode_replay(raw)
    assert refused.value.reason == reason


@given(st.binary(max_size=300))
def test_any_bytes_give_a_request_or_a_counted_refusal(raw: bytes) -> None:
    try:
        request = decode_replay(raw)
    except PayloadError:
        return
    assert 1 <= request.first_seq <= request.last_seq < request.first_seq + MAX_REPLAY_SPAN


# -- the node keeps acknowledged events a while ------------------------------------------------------------------


def row(seq: int, retain: bool = False) -> Row:
    return Row(seq, f"id{seq}", "edge/s/desk/d1/occupancy", b"{}", 1, retain)


def filled(path: Path, count: int, **options: int | float) -> Outbox:
    box = Outbox(path, **options)  # type: ignore[arg-type]
    for _ in range(count):
        box.append(lambda seq: row(seq, retain=True))
    return box


def test_acknowledged_events_are_kept_but_no_longer_published(tmp_path: Path) -> None:
    box = filled(tmp_path / "o.sqlite3", 5)
    box.acknowledge([1, 2, 3], now_ms=1_000)
    assert [r.seq for r in box.pending(10)] == [4, 5]
    assert (box.depth, box.kept) == (2, 3)


def test_a_replay_queues_kept_events_again_not_retained(tmp_path: Path) -> None:
    box = filled(tmp_path / "o.sqlite3", 5)
    box.acknowledge([1, 2, 3, 4, 5], now_ms=1_000)
    assert box.replay(2, 4) == 3
    again = box.pending(10)
    assert [(r.seq, r.id, r.retain) for r in again] == [(2, "id2", False), (3, "id3", False), (4, "id4", False)]
    assert box.depth == 3


def test_a_replay_of_events_still_waiting_or_forgotten_queues_nothing_twice(tmp_path: Path) -> None:
    box = filled(tmp_path / "o.sqlite3", 3)
    assert box.replay(1, 3) == 0  # not acknowledged yet: already queued
    assert box.replay(50, 60) == 0  # never existed, or forgotten
    assert box.depth == 3


def test_kept_events_are_forgotten_after_the_keep_time(tmp_path: Path) -> None:
    box = filled(tmp_path / "o.sqlite3", 4, keep_acked_s=60)
    box.acknowledge([1, 2], now_ms=0)
    box.acknowledge([3], now_ms=61_000)  # 1 and 2 are now older than a minute
    assert box.kept == 1
    assert box.replay(1, 3) == 1


def test_at_most_keep_acked_events_are_kept_the_newest(tmp_path: Path) -> None:
    box = filled(tmp_path / "o.sqlite3", 10, keep_acked_events=3)
    box.acknowledge(list(range(1, 11)), now_ms=1_000)
    assert box.kept == 3
    assert box.replay(1, 10) == 3
    assert [r.seq for r in box.pending(10)] == [8, 9, 10]


def test_kept_events_survive_a_restart(tmp_path: Path) -> None:
    box = filled(tmp_path / "o.sqlite3", 3)
    box.acknowledge([1, 2, 3], now_ms=1_000)
    box.close()
    box = Outbox(tmp_path / "o.sqlite3")
    assert (box.depth, box.kept) == (0, 3)
    assert box.replay(1, 3) == 3


def test_an_outbox_from_before_kept_events_opens_with_its_rows_waiting(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE outbox (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL,"
        " qos INTEGER NOT NULL, retain INTEGER NOT NULL);"
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
        "INSERT INTO outbox VALUES (7, 'id7', 't', x'7b7d', 1, 0); INSERT INTO meta VALUES ('last_seq', 7);"
    )
    db.commit()
    db.close()
    box = Outbox(path)
    assert [r.seq for r in box.pending(10)] == [7]
    assert box.append(row).seq == 8


# -- the collector sees holes and asks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "announced", "holes"),
    [
        ([], 0, []),
        ([1, 2, 3], 0, []),
        ([1, 2, 3], 3, []),
        ([1, 2, 5, 6], 0, [(3, 4)]),
        ([1, 4, 9], 12, [(2, 3), (5, 8), (10, 12)]),
        ([10, 11], 0, [(1, 9)]),  # published before the collector subscribed: asked for, not counted missing
        ([20_011], 0, [(10_011, 20_010)]),  # at most HEAD_SPAN before the first
    ],
)
def test_holes_are_the_missing_seq_ranges(received: list[int], announced: int, holes: list[tuple[int, int]]) -> None:
    seqs = NodeSeqs()
    for seq in received:
        seqs.add(seq)
    seqs.announce(announced)
    assert seqs.holes() == holes


def test_a_hole_is_asked_for_after_the_grace_then_less_and_less_often() -> None:
    planner = ReplayPlanner(grace_s=10, first_pause_s=30, max_pause_s=100, give_up_s=1000)
    holes = {"desks": [(11, 60)]}
    asked = [t for t in range(0, 400) if planner.due(holes, float(t))]
    assert asked == [10, 40, 100, 200, 300]


def test_a_closed_hole_is_forgotten_and_a_new_one_waits_its_grace() -> None:
    planner = ReplayPlanner(grace_s=10)
    assert planner.due({"desks": [(11, 60)]}, 0.0) == []
    assert planner.due({"desks": [(11, 60)]}, 10.0) == [("desks", ReplayRequest(11, 60))]
    assert planner.due({}, 11.0) == []
    assert planner.due({"desks": [(11, 60)]}, 12.0) == []  # seen again: a new hole, a new grace


def test_a_long_hole_is_asked_for_in_bounded_spans() -> None:
    planner = ReplayPlanner(grace_s=0)
    requests = planner.due({"door": [(1, MAX_REPLAY_SPAN + 5)]}, 0.0)
    assert requests == [
        ("door", ReplayRequest(1, MAX_REPLAY_SPAN)),
        ("door", ReplayRequest(MAX_REPLAY_SPAN + 1, MAX_REPLAY_SPAN + 5)),
    ]


def test_a_hole_nobody_can_fill_is_given_up() -> None:
    planner = ReplayPlanner(grace_s=0, first_pause_s=10, max_pause_s=10, give_up_s=25)
    asked = [t for t in range(0, 100) if planner.due({"door": [(3, 3)]}, float(t))]
    assert asked == [0, 10, 20]


def test_requests_are_json_with_the_schema_version() -> None:
    assert json.loads(ReplayRequest(3, 4).encode()) == {"v": 1, "first_seq": 3, "last_seq": 4}
