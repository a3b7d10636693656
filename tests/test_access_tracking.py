"""Tracking state: seat limits per account and local day, anti-passback with its reset."""

from __future__ import annotations

import datetime as dt
import json

from edge.access.rules import AccessRequest, Direction, DoorContext, decide, record
from edge.access.tracking import PassbackState, SeatState
from edge.contract.payloads import Reason
from edge.door.store import load_tracking, save_tracking
from tests.access_support import SITE_YAML, index_of, paris, token

INDEX = index_of(SITE_YAML)


def badge(context: DoorContext, uid: str, when: str, direction: Direction = Direction.IN) -> Reason:
    """Present a badge, record the outcome as a door would, return the reason."""
    request = AccessRequest(token(uid), paris(when), direction)
    decision = decide(request, INDEX, context)
    record(request, decision, INDEX, context)
    return decision.reason


def test_an_account_admits_at_most_its_seats_distinct_members_per_day() -> None:
    context = DoorContext()
    assert badge(context, "B1", "2026-11-26 09:00") == Reason.GRANTED
    assert badge(context, "B2", "2026-11-26 09:05") == Reason.GRANTED
    assert badge(context, "B3", "2026-11-26 09:10") == Reason.SEAT_LIMIT


def test_a_member_already_counted_today_comes_back_freely() -> None:
    context = DoorContext()
    for uid in ("B1", "B2", "B1", "B2", "B1"):
        assert badge(context, uid, "2026-11-26 12:00") == Reason.GRANTED


def test_seats_are_counted_per_local_day_not_per_utc_day() -> None:
    context = DoorContext()
    # 00:30 Paris on the 27th is 23:30 UTC on the 26th: a new local day.
    assert badge(context, "B1", "2026-11-26 10:00") == Reason.GRANTED
    assert badge(context, "B2", "2026-11-26 10:00") == Reason.GRANTED
    night = paris("2026-11-27 00:30")
    assert night.date() == dt.date(2026, 11, 26)
    flex_is_closed = decide(AccessRequest(token("B3"), night), INDEX, context).reason
    assert flex_is_closed == Reason.OUTSIDE_SCHEDULE
    assert badge(context, "B3", "2026-11-27 08:00") == Reason.GRANTED


def test_a_refusal_does_not_take_a_seat() -> None:
    context = DoorContext()
    assert badge(context, "B1", "2026-11-28 10:00") == Reason.OUTSIDE_SCHEDULE  # flex is closed on saturday
    assert badge(context, "B2", "2026-11-27 10:00") == Reason.GRANTED
    assert badge(context, "B3", "2026-11-27 10:00") == Reason.GRANTED


def test_leaving_does_not_free_a_seat_for_the_day() -> None:
    context = DoorContext()
    badge(context, "B1", "2026-11-26 09:00")
    badge(context, "B2", "2026-11-26 09:00")
    assert badge(context, "B2", "2026-11-26 11:00", Direction.OUT) == Reason.GRANTED
    assert badge(context, "B3", "2026-11-26 11:30") == Reason.SEAT_LIMIT


def test_seat_state_forgets_days_before_yesterday() -> None:
    seats = SeatState()
    seats.admitted("acme", "m1", 100)
    seats.admitted("acme", "m2", 101)
    seats.admitted("acme", "m3", 102)
    assert seats.used("acme", 100) == frozenset()
    assert seats.used("acme", 101) == {"m2"}
    assert seats.used("acme", 102) == {"m3"}


def test_passback_refuses_a_second_entry_until_the_member_leaves() -> None:
    context = DoorContext(passback=PassbackState())
    assert badge(context, "A1", "2026-11-26 09:00") == Reason.GRANTED
    assert badge(context, "A1", "2026-11-26 09:01") == Reason.PASSBACK
    assert badge(context, "A1", "2026-11-26 12:00", Direction.OUT) == Reason.GRANTED
    assert badge(context, "A1", "2026-11-26 13:00") == Reason.GRANTED


def test_passback_never_keeps_a_member_inside() -> None:
    context = DoorContext(passback=PassbackState())
    # Never badged in (tailgated): the way out still opens.
    assert badge(context, "A1", "2026-11-26 18:00", Direction.OUT) == Reason.GRANTED
    assert badge(context, "A1", "2026-11-26 18:01", Direction.OUT) == Reason.GRANTED


def test_passback_is_forgotten_after_its_reset_time() -> None:
    context = DoorContext(passback=PassbackState(reset_after=dt.timedelta(hours=12)))
    assert badge(context, "A1", "2026-11-26 08:00") == Reason.GRANTED
    assert badge(context, "A1", "2026-11-26 19:59") == Reason.PASSBACK
    assert badge(context, "A1", "2026-11-26 20:00") == Reason.GRANTED


def test_passback_memory_is_bounded_oldest_first() -> None:
    state = PassbackState(max_members=2)
    at = paris("2026-11-26 09:00")
    for member in ("m1", "m2", "m3"):
        state.entered(member, at)
    assert len(state) == 2
    assert not state.is_inside("m1", at)
    assert state.is_inside("m2", at) and state.is_inside("m3", at)


def test_an_untrusted_clock_neither_checks_nor_counts_seats() -> None:
    context = DoorContext(clock_trusted=False)
    # acme members are on the flex plan, which the policy does not admit without a clock.
    assert badge(context, "B1", "2026-11-26 10:00") == Reason.CLOCK_UNTRUSTED
    assert context.seats.used("acme", paris("2026-11-26 10:00").astimezone(INDEX.tz).toordinal()) == frozenset()


# -- kept across restarts ------------------------------------------------------------------------------------


def test_seat_counts_come_back_from_their_dict() -> None:
    seats = SeatState()
    seats.admitted("ACME", "M-1", 739_000)
    seats.admitted("ACME", "M-2", 739_000)
    restored = SeatState()
    restored.restore(json.loads(json.dumps(seats.to_dict())))
    assert restored.used("ACME", 739_000) == {"M-1", "M-2"}
    assert restored.would_exceed("ACME", 2, "M-3", 739_000)


def test_who_is_inside_comes_back_from_its_dict() -> None:
    at = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
    inside = PassbackState()
    inside.entered("M-1", at)
    restored = PassbackState()
    restored.restore(json.loads(json.dumps(inside.to_dict())))
    assert restored.is_inside("M-1", at + dt.timedelta(hours=1))
    assert not restored.is_inside("M-2", at)


def test_a_corrupt_tracking_file_starts_empty_and_says_so(tmp_path, caplog) -> None:
    path = tmp_path / "tracking.json"
    path.write_text('{"seats": {"days": [["ACME", "not a day", []]], "latest": 0}, "passback": {}}')
    seats = SeatState()
    assert not load_tracking(path, seats, {"front": PassbackState()})
    assert seats.to_dict() == {"days": [], "latest": 0}
    assert "unreadable" in caplog.text


def test_saved_tracking_loads_back(tmp_path) -> None:
    at = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
    seats, front = SeatState(), PassbackState()
    seats.admitted("ACME", "M-1", 739_000)
    front.entered("M-1", at)
    save_tracking(tmp_path / "tracking.json", seats, {"front": front, "back": None})
    seats2, front2 = SeatState(), PassbackState()
    assert load_tracking(tmp_path / "tracking.json", seats2, {"front": front2, "back": None})
    assert seats2.used("ACME", 739_000) == {"M-1"}
    assert front2.is_inside("M-1", at)


def test_no_tracking_file_yet_is_not_an_error(tmp_path) -> None:
    assert not load_tracking(tmp_path / "tracking.json", SeatState(), {})
