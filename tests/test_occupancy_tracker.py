"""Tracker: emitted desk changes with `since`, heartbeats, zone counts only on change, wake-up scheduling."""

from __future__ import annotations

from datetime import timedelta

import pytest

from edge.clock import ManualClock
from edge.occupancy import DeskUpdate, Occupancy, OccupancyTracker, ZoneCounts, ZoneSpec
from tests.occupancy_script import START, desk, seat


def _tracker(*desks, zones=("z",), heartbeat_s=60.0):
    clock = ManualClock(START, monotonic=0.0)
    tracker = OccupancyTracker(list(desks), [ZoneSpec(z) for z in zones], clock, heartbeat_s=heartbeat_s)
    return clock, tracker


def _desk_updates(updates):
    return [u for u in updates if isinstance(u, DeskUpdate)]


def _zone_updates(updates):
    return [u for u in updates if isinstance(u, ZoneCounts)]


def test_first_tick_announces_every_desk_unknown_since_start():
    _, tracker = _tracker(desk(seat(), name="a"), desk(seat(), name="b"))
    updates = _desk_updates(tracker.tick())
    assert [(u.desk, u.state, u.since, u.heartbeat) for u in updates] == [
        ("a", Occupancy.UNKNOWN, START, False),
        ("b", Occupancy.UNKNOWN, START, False),
    ]


def test_since_is_the_moment_of_the_change_even_when_the_tick_is_late():
    clock, tracker = _tracker(desk(seat()))
    tracker.tick()
    tracker.observe("d1", "seat", True)
    clock.advance(50)
    (update,) = _desk_updates(tracker.tick())
    assert update.state is Occupancy.OCCUPIED
    assert update.since == START + timedelta(seconds=2)


def test_nothing_is_emitted_when_nothing_changed():
    clock, tracker = _tracker(desk(seat()))
    tracker.tick()
    clock.advance(10)
    assert tracker.tick() == []


def test_heartbeat_reconfirms_an_unchanged_state_with_the_same_since():
    clock, tracker = _tracker(desk(seat()), heartbeat_s=60)
    tracker.observe("d1", "seat", True)
    clock.advance(3)
    (change,) = _desk_updates(tracker.tick())
    clock.advance(59.9)
    assert _desk_updates(tracker.tick()) == []  # first heartbeat not yet due
    clock.advance(0.1)
    (beat,) = _desk_updates(tracker.tick())
    assert beat.heartbeat
    assert (beat.state, beat.since) == (change.state, change.since)


def test_a_change_postpones_the_heartbeat():
    clock, tracker = _tracker(desk(seat()), heartbeat_s=60)
    tracker.tick()
    clock.advance(50)
    tracker.observe("d1", "seat", True)
    clock.advance(2)
    assert [u.heartbeat for u in _desk_updates(tracker.tick())] == [False]
    clock.advance(59)
    assert _desk_updates(tracker.tick()) == []
    clock.advance(1)
    assert [u.heartbeat for u in _desk_updates(tracker.tick())] == [True]


def test_next_due_is_the_enter_deadline_then_the_heartbeat():
    clock, tracker = _tracker(desk(seat()), heartbeat_s=60)
    tracker.tick()
    assert tracker.next_due() == 60.0
    clock.advance(5)
    tracker.observe("d1", "seat", True)
    assert tracker.next_due() == 7.0


def test_zone_counts_are_emitted_at_start_and_then_only_on_change():
    clock, tracker = _tracker(
        desk(seat(), name="a", zone="east"),
        desk(seat(), name="b", zone="east"),
        desk(seat(), name="c", zone="west"),
        zones=("east", "west", "empty"),
    )
    assert _zone_updates(tracker.tick()) == [
        ZoneCounts("east", occupied=0, vacant=0, unknown=2),
        ZoneCounts("west", occupied=0, vacant=0, unknown=1),
        ZoneCounts("empty", occupied=0, vacant=0, unknown=0),
    ]
    tracker.observe("a", "seat", True)
    clock.advance(1)
    assert _zone_updates(tracker.tick()) == []
    clock.advance(1)
    assert _zone_updates(tracker.tick()) == [ZoneCounts("east", occupied=1, vacant=0, unknown=1)]
    clock.advance(120)  # heartbeats, no count change
    assert _zone_updates(tracker.tick()) == []


def test_zone_total_counts_every_desk():
    assert ZoneCounts("z", occupied=2, vacant=3, unknown=1).total == 6


def test_a_desk_in_an_unknown_zone_is_refused():
    with pytest.raises(ValueError, match="unknown zone"):
        _tracker(desk(seat(), zone="nowhere"))


def test_snapshot_reports_every_desk_as_a_heartbeat():
    clock, tracker = _tracker(desk(seat(), name="a"), desk(seat(), name="b"))
    tracker.observe("a", "seat", True)
    clock.advance(2)
    tracker.tick()
    assert [(u.desk, u.state, u.heartbeat) for u in tracker.snapshot()] == [
        ("a", Occupancy.OCCUPIED, True),
        ("b", Occupancy.UNKNOWN, True),
    ]


def test_updates_say_which_sensor_is_faulty_and_nothing_about_people():
    _, tracker = _tracker(desk(seat()))
    (update,) = _desk_updates(tracker.tick())
    assert [f.value for f in update.faults] == ["starting"]
    assert set(DeskUpdate.__dataclass_fields__) == {"desk", "zone", "state", "since", "heartbeat", "sensors"}
