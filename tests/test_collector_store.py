"""The local store: deduplication by id, quarantine with reasons, latest state, seq gaps, retention purge."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from edge.clock import ManualClock
from edge.collector.ingest import Accepted, Ignored, Receipt, Rejected, classify
from edge.collector.link import Inbound
from edge.collector.outqueue import ForwardQueue
from edge.collector.schema import NS_PER_MS, Bucket, ms_of
from edge.collector.service import Collector
from edge.collector.store import HOUR_MS, NO_MARK, Store
from edge.config import parse_config
from edge.contract import BadgeScan, DeskOccupancy, DeskState, Event, NodeStatus, encode
from edge.errors import StoreError
from tests.collector_support import (
    BASE,
    SITE,
    TOKEN,
    TOPICS,
    access_event,
    desk_event,
    event,
    store_ids,
    wire,
)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "c.sqlite3")
    yield s  # type: ignore[misc]
    s.close()


def ingest(store: Store, *messages: tuple[str, bytes]) -> object:
    return store.commit([classify(TOPICS, topic, payload) for topic, payload in messages], 0)


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("edge/testsite/desk/d1/occupancy", b"\xff\xfe", "not_utf8"),
        ("edge/testsite/desk/d1/occupancy", b"{not json", "not_json"),
        ("edge/testsite/desk/d1/occupancy", b"[1,2]", "not_object"),
        ("edge/testsite/desk/d1/occupancy", b'{"v":2}', "unknown_version"),
        ("edge/testsite/desk/d1/occupancy", b'{"v":1,"id":"x"}', "invalid"),
        ("edge/testsite/desk/d9/occupancy", encode(desk_event(1)), "topic_mismatch"),
        ("edge/testsite/elevator/e1/state", b"{}", "unknown_topic"),
        ("edge/testsite/desk/d1/occupancy", b"x" * 20000, "too_large"),
    ],
)
def test_malformed_messages_are_rejected_with_a_reason(topic: str, payload: bytes, reason: str) -> None:
    outcome = classify(TOPICS, topic, payload)
    assert isinstance(outcome, Rejected)
    assert outcome.reason == reason
    assert len(outcome.payload) <= 1024


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("edge/testsite/members", b'{"signed":"..."}'),
        ("edge/testsite/door/front/command", b"{}"),
        ("edge/testsite/desk/d1/occupancy", b""),
    ],
)
def test_commands_member_snapshots_and_cleared_retained_topics_are_ignored(topic: str, payload: bytes) -> None:
    assert isinstance(classify(TOPICS, topic, payload), Ignored)


def test_a_valid_event_is_accepted_with_its_line_protocol() -> None:
    outcome = classify(TOPICS, *wire(desk_event(0)))
    assert isinstance(outcome, Accepted)
    assert outcome.lines.startswith(f"desk_state,desk=d0,node=n1,site={SITE},zone=z0 ")


def test_duplicates_are_stored_once_whether_in_one_batch_or_across_batches(store: Store) -> None:
    first = ingest(store, wire(desk_event(0)), wire(desk_event(0)), wire(desk_event(1)))
    second = ingest(store, wire(desk_event(1)))
    assert (first.stored, first.duplicates, second.stored, second.duplicates) == (2, 1, 0, 1)  # type: ignore[attr-defined]
    assert store.count("events") == 2
    assert store.count("desk_transitions") == 2


def test_malformed_messages_are_kept_in_quarantine_and_the_rest_of_the_batch_is_stored(store: Store) -> None:
    result = ingest(store, wire(desk_event(0)), ("edge/testsite/desk/d1/occupancy", b"garbage"), wire(desk_event(1)))
    assert result.quarantined == {"not_json": 1}  # type: ignore[attr-defined]
    assert store.count("events") == 2
    assert store.quarantine_counts() == {"not_json": 1}


def test_latest_state_keeps_the_newest_event_even_when_an_older_one_arrives_later(store: Store) -> None:
    newer = event(DeskOccupancy(desk="d1", zone="z1", state=DeskState.OCCUPIED, since=BASE), 2, BASE)
    older = event(
        DeskOccupancy(desk="d1", zone="z1", state=DeskState.VACANT, since=BASE), 1, BASE - timedelta(minutes=1)
    )
    ingest(store, wire(newer))
    ingest(store, wire(older))
    with sqlite3.connect(store.path) as db:
        [(payload,)] = db.execute("SELECT payload FROM latest WHERE kind = 'desk_occupancy'").fetchall()
    assert b'"occupied"' in payload


def test_seq_gaps_are_tracked_per_node_and_survive_a_restart(tmp_path: Path) -> None:
    store = Store(tmp_path / "c.sqlite3")
    ingest(store, *(wire(desk_event(i)) for i in (0, 1, 5)))
    status = event(NodeStatus(state="online", version="1", node_name="n1"), 9, BASE)
    ingest(store, (TOPICS.node_status("n1"), encode(status)))
    store.close()
    reopened = Store(tmp_path / "c.sqlite3")
    figures = reopened.completeness()["n1"]
    assert (figures.expected, figures.received, figures.missing, figures.gaps) == (9, 3, 6, 2)
    ingest(reopened, *(wire(desk_event(i)) for i in (2, 3, 4)))
    assert reopened.completeness()["n1"].gaps == 1  # 7..9 still missing
    reopened.close()


def test_a_failed_commit_stores_nothing_and_leaves_the_seq_ranges_untouched(store: Store) -> None:
    ingest(store, wire(desk_event(0)))
    store._db.execute("PRAGMA query_only = ON")  # the disk refuses writes from now on
    with pytest.raises(StoreError):
        ingest(store, wire(desk_event(1)))
    store._db.execute("PRAGMA query_only = OFF")
    assert store.completeness()["n1"].received == 1
    ingest(store, wire(desk_event(1)))
    assert store.count("events") == 2


def test_a_second_collector_cannot_open_the_same_store(store: Store) -> None:
    with pytest.raises(StoreError, match="its own store"):
        Store(store.path)


def test_forward_queue_reads_in_order_and_the_cursor_only_moves_forward(store: Store) -> None:
    ingest(store, *(wire(desk_event(i)) for i in range(5)))
    queue = ForwardQueue(store.path, store.writer)
    rows = queue.pending(Bucket.RAW, 3)
    assert [r.rid for r in rows] == [1, 2, 3]
    queue.advance(Bucket.RAW, 3)
    queue.advance(Bucket.RAW, 2)
    assert [r.rid for r in queue.pending(Bucket.RAW, 10)] == [4, 5]
    assert queue.backlog(Bucket.RAW) == 2
    queue.close()


def test_the_forward_queue_waits_for_the_store_writer_instead_of_meeting_it_in_sqlite(tmp_path: Path) -> None:
    # Two connections that collide meet in SQLite's busy handler, which sleeps 1 to 100 ms in steps: measured in
    # bench_collector's drain, 31 ms per forwarder transaction and 3 ms per ingest commit. They share one lock.
    col = collector(tmp_path, ManualClock(BASE))
    received(col, desk_event(0))
    advanced = threading.Event()
    with col.store.writer:
        mover = threading.Thread(target=lambda: (col.out.advance(Bucket.RAW, 1), advanced.set()), daemon=True)
        mover.start()
        assert not advanced.wait(0.3)  # held back by the store's write, not retrying in SQLite
    assert advanced.wait(10)
    assert col.out.cursor(Bucket.RAW) == 1
    col.stop()


# -- retention ------------------------------------------------------------------------------------------------


def collector(tmp_path: Path, clock: ManualClock, extra: str = "") -> Collector:
    text = f"site: {SITE}\nnode: col\nstate_dir: {tmp_path}/state\ncollector:\n  retention_days: 90\n{extra}"
    return Collector(parse_config(text), clock=clock)


def test_records_with_a_pseudonym_are_purged_after_the_retention_period(tmp_path: Path) -> None:
    clock = ManualClock(BASE)
    col = collector(tmp_path, clock)
    scan = event(BadgeScan(reader="r1", token=TOKEN), 1, BASE, node="reader")
    now = ms_of(BASE)
    messages = [wire(access_event(1, BASE)), wire(scan), wire(desk_event(5))]
    col.store.commit([classify(TOPICS, *m) for m in messages], now)
    col.store.commit([classify(TOPICS, "edge/testsite/door/front/access", b"{bad")], now)
    clock.advance(89 * 86400)
    col.purge()
    assert col.store.count("events") == 3
    clock.advance(2 * 86400)
    col.purge()
    with sqlite3.connect(col.store.path) as db:
        kinds = [r[0] for r in db.execute("SELECT kind FROM events")]
    assert kinds == ["desk_occupancy"]  # anonymous events stay
    assert col.store.count("accesses") == 0
    assert col.store.count("quarantine") == 0  # a malformed payload may hold a pseudonym too
    assert col.counters.get("purged_pseudonymous_events") == 2
    col.stop()


def test_derived_aggregates_outlive_the_records_they_came_from(tmp_path: Path) -> None:
    clock = ManualClock(BASE + timedelta(hours=2))
    col = collector(tmp_path, clock)
    col.store.commit([classify(TOPICS, *wire(access_event(1, BASE)))], 0)
    assert col.deriver is not None
    col.deriver.run()
    aggregates = derived_rows(col.store.path)
    assert aggregates
    clock.advance(200 * 86400)
    col.purge()
    assert col.store.count("accesses") == 0
    assert aggregates <= derived_rows(col.store.path)
    col.stop()


def derived_rows(path: Path) -> set[tuple[str, int, str]]:
    with sqlite3.connect(path) as db:
        return set(db.execute("SELECT series, t_ms, line FROM derived"))


def test_anonymous_raw_events_expire_after_their_own_longer_period(tmp_path: Path) -> None:
    clock = ManualClock(BASE)
    col = collector(tmp_path, clock, "  raw_retention_days: 365\n")
    col.store.commit([classify(TOPICS, *wire(desk_event(i, desks=1))) for i in range(3)], 0)
    clock.advance(366 * 86400)
    col.purge()
    assert col.store.count("events") == 0
    assert col.store.count("desk_transitions") == 1  # each desk's latest transition stays for the derived series
    col.stop()


def test_node_statuses_expire_after_the_health_retention(tmp_path: Path) -> None:
    clock = ManualClock(BASE)
    col = collector(tmp_path, clock, "  health_retention_days: 7\n")
    status = event(NodeStatus(state="online", version="1", node_name="n1"), 3, BASE)
    col.store.commit(
        [classify(TOPICS, TOPICS.node_status("n1"), encode(status)), classify(TOPICS, *wire(desk_event(0)))], 0
    )
    clock.advance(8 * 86400)
    col.purge()
    with sqlite3.connect(col.store.path) as db:
        assert [r[0] for r in db.execute("SELECT kind FROM events")] == ["desk_occupancy"]
    assert col.store.completeness()["n1"].expected == 3  # what the status announced is kept in the seq figures
    col.stop()


# -- events dated ahead of the collector's clock ------------------------------------------------------------------

YEARS_AHEAD = timedelta(days=5 * 365)
RECEIPT = Receipt(ms_of(BASE), 300_000)


def received(col: Collector, *events: Event) -> None:
    """Hand events to the collector as its link would (QoS 0: nothing to acknowledge)."""
    col.ingest([Inbound(*wire(e), mid=0, qos=0, generation=0) for e in events])


def test_an_event_dated_years_ahead_is_stored_and_forwarded_at_its_receipt_time() -> None:
    future = access_event(1, BASE + YEARS_AHEAD)
    outcome = classify(TOPICS, *wire(future), RECEIPT)
    assert isinstance(outcome, Accepted)
    assert outcome.ts_ms == RECEIPT.at_ms
    assert outcome.ahead_ms == ms_of(BASE + YEARS_AHEAD) - RECEIPT.at_ms
    assert int(outcome.lines.rsplit(" ", 1)[1]) == RECEIPT.at_ms * NS_PER_MS + 1  # the InfluxDB point time
    assert outcome.payload == wire(future)[1]  # what the node sent is kept as sent


def test_events_dated_in_the_past_or_slightly_ahead_keep_their_own_time() -> None:
    for ts in (BASE - timedelta(hours=6), BASE - timedelta(days=30), BASE + timedelta(seconds=299)):
        outcome = classify(TOPICS, *wire(access_event(1, ts)), RECEIPT)
        assert isinstance(outcome, Accepted)
        assert (outcome.ts_ms, outcome.ahead_ms) == (ms_of(ts), 0)
        assert int(outcome.lines.rsplit(" ", 1)[1]) == ms_of(ts) * NS_PER_MS + 1


def test_events_dated_ahead_are_counted_per_node_once_stored(store: Store) -> None:
    future = wire(access_event(1, BASE + YEARS_AHEAD))
    result = store.commit([classify(TOPICS, *m, RECEIPT) for m in (future, future, wire(desk_event(0)))], 0)
    assert result.clock_ahead == {"n1": 1}  # the duplicate is not stored, so not counted again
    assert result.ahead_ms["n1"] >= YEARS_AHEAD / timedelta(milliseconds=1)


def test_a_record_dated_years_ahead_does_not_outlive_its_retention_and_late_replays_are_kept(tmp_path: Path) -> None:
    clock = ManualClock(BASE)
    col = collector(tmp_path, clock)
    future = access_event(1, BASE + YEARS_AHEAD)  # a door Pi whose clock runs 5 years ahead
    replayed = access_event(2, BASE - timedelta(hours=6))  # an outbox replayed after an outage
    received(col, future, replayed, desk_event(3))
    assert col.counters.get("clock_ahead") == 1
    assert col.store.count("events") == 3
    clock.advance(90 * 86400 - 7 * 3600)  # the replayed record is 90 days minus an hour old
    col.purge()
    assert store_ids(col.store.path) == [e.envelope.id for e in (future, replayed, desk_event(3))]
    clock.advance(2 * 3600)  # the replayed record expires 90 days after its own time
    col.purge()
    assert store_ids(col.store.path) == [future.envelope.id, desk_event(3).envelope.id]
    clock.advance(5 * 3600 + 60)  # the other 90 days after it was received, not 5 years later
    col.purge()
    assert store_ids(col.store.path) == [desk_event(3).envelope.id]  # the anonymous desk event stays
    assert col.store.count("accesses") == 0
    assert col.counters.get("purged_pseudonymous_events") == 2
    col.stop()


def test_a_record_stored_years_ahead_before_the_bound_existed_is_purged_by_its_receipt_time(tmp_path: Path) -> None:
    clock = ManualClock(BASE)
    col = collector(tmp_path, clock)
    legacy = classify(TOPICS, *wire(access_event(1, BASE + YEARS_AHEAD)))  # no receipt: as a store from before
    col.store.commit([legacy], ms_of(BASE))
    clock.advance(89 * 86400)
    col.purge()
    assert col.store.count("events") == 1
    clock.advance(2 * 86400)
    col.purge()
    assert col.store.count("events") == 0
    col.stop()


def test_an_event_dated_years_ahead_makes_no_derived_point_beyond_the_collectors_clock(tmp_path: Path) -> None:
    clock = ManualClock(BASE + timedelta(hours=2))
    col = collector(tmp_path, clock)
    ahead = BASE + YEARS_AHEAD
    received(
        col,
        access_event(1, ahead),
        event(DeskOccupancy(desk="d1", zone="z1", state=DeskState.OCCUPIED, since=ahead), 2, ahead),
    )
    assert col.deriver is not None
    while col.deriver.run():
        pass
    limit = ms_of(clock.now()) + HOUR_MS
    with sqlite3.connect(col.store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM derived").fetchone()[0] > 0
        assert db.execute("SELECT MAX(t_ms) FROM derived").fetchone()[0] < limit
        assert db.execute("SELECT MAX(t_ms) FROM accesses").fetchone()[0] < limit
        assert db.execute("SELECT MAX(t_ms) FROM desk_transitions").fetchone()[0] < limit
    col.stop()


# -- desk heartbeats ------------------------------------------------------------------------------------------------


def desk_message(seq: int, ts: datetime, since: datetime, state: DeskState = DeskState.OCCUPIED) -> Event:
    return event(DeskOccupancy(desk="d1", zone="z1", state=state, since=since), seq, ts)


def test_a_heartbeat_adds_no_desk_transition_and_does_not_make_the_past_be_derived_again(tmp_path: Path) -> None:
    clock = ManualClock(BASE + timedelta(hours=3))
    col = collector(tmp_path, clock)
    received(col, desk_message(1, BASE, BASE))
    assert col.deriver is not None
    while col.deriver.run():
        pass
    received(col, *(desk_message(seq, BASE + timedelta(minutes=seq), BASE) for seq in range(2, 6)))
    assert col.store.count("events") == 5
    assert col.store.count("desk_transitions") == 1
    assert col.store.marks.dirty_from == NO_MARK  # three hours of grid are not recomputed for nothing
    col.stop()


def test_a_heartbeat_whose_change_was_lost_still_gives_the_desk_its_transition(store: Store) -> None:
    store.commit([classify(TOPICS, *wire(desk_message(7, BASE + timedelta(minutes=5), BASE)))], 0)
    assert list(store.desk_transitions(0, ms_of(BASE) + HOUR_MS)) == [(ms_of(BASE), "d1", "z1", DeskState.OCCUPIED)]


def test_a_change_and_its_heartbeat_in_one_batch_make_one_transition(store: Store) -> None:
    messages = [desk_message(1, BASE, BASE), desk_message(2, BASE + timedelta(minutes=1), BASE)]
    store.commit([classify(TOPICS, *wire(m)) for m in messages], 0)
    assert (store.count("events"), store.count("desk_transitions")) == (2, 1)


def test_the_purge_aggregates_door_records_before_it_deletes_them(tmp_path: Path) -> None:
    clock = ManualClock(BASE + timedelta(hours=2))
    col = collector(tmp_path, clock)
    col.store.commit([classify(TOPICS, *wire(access_event(1, BASE)))], 0)  # the aggregator never runs by itself here
    day = BASE.astimezone(col.config.tz).date()
    midnight = datetime.combine(day, datetime.min.time(), col.config.tz)
    clock.set(midnight + timedelta(days=90) - timedelta(minutes=30))  # the last purge before the day starts to go
    col.purge()
    [aggregated] = col.store.member_days_between(day, day)
    assert aggregated.members == 1  # counted while all of the day's records were still held
    clock.set(BASE + timedelta(days=90, hours=1))
    col.purge()
    assert col.store.count("accesses") == 0
    assert col.store.member_days_between(day, day) == [aggregated]
    col.stop()
