"""The door's rules: one table row per behaviour, every reason code, modes, clock trust, way out, no snapshot yet,
a grant the relay could not carry out; and when the unlocked schedule holds a door open."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from edge.access.rules import (
    AccessRequest,
    Decision,
    Direction,
    DoorContext,
    decide,
    dry_run,
    record,
    schedule_unlocks,
    settle,
)
from edge.access.tracking import PassbackState
from edge.contract.payloads import DoorMode, Reason
from edge.schedule import parse_schedule
from tests.access_support import SITE_YAML, index_of, paris, token

INDEX = index_of(SITE_YAML)
THURSDAY = "2026-11-26"


@dataclass(frozen=True)
class Row:
    """One rule case: a badge at a Paris wall-clock time, the door's situation, and the expected reason."""

    case: str
    badge: str
    when: str
    reason: Reason
    mode: DoorMode = DoorMode.NORMAL
    trusted: bool = True
    direction: Direction = Direction.IN
    before: tuple[str, ...] = ()
    passback: bool = False
    snapshot: bool = True  # False: the door has no member snapshot yet
    unlocked: bool = True  # False: the relay stayed locked when the door acted on the decision


ROWS = [
    Row("resident at 3 am", "A1", f"{THURSDAY} 03:00", Reason.GRANTED),
    Row("unknown badge", "FF", f"{THURSDAY} 10:00", Reason.UNKNOWN_BADGE),
    Row("second badge of a member", "C2", f"{THURSDAY} 10:00", Reason.GRANTED),
    Row("flex inside its hours", "A2", f"{THURSDAY} 10:00", Reason.GRANTED),
    Row("flex at opening minute", "A2", f"{THURSDAY} 08:00", Reason.GRANTED),
    Row("flex one second before opening", "A2", f"{THURSDAY} 07:59:59", Reason.OUTSIDE_SCHEDULE),
    Row("flex last second", "A2", f"{THURSDAY} 18:59:59", Reason.GRANTED),
    Row("flex at closing time", "A2", f"{THURSDAY} 19:00", Reason.OUTSIDE_SCHEDULE),
    Row("flex on saturday", "A2", "2026-11-28 10:00", Reason.OUTSIDE_SCHEDULE),
    Row("night owl on friday night", "A7", "2026-11-27 23:30", Reason.GRANTED),
    Row("night owl after midnight", "A7", "2026-11-28 01:59", Reason.GRANTED),
    Row("night owl at 2 am", "A7", "2026-11-28 02:00", Reason.OUTSIDE_SCHEDULE),
    Row("night owl on thursday night", "A7", f"{THURSDAY} 23:30", Reason.OUTSIDE_SCHEDULE),
    Row("day before first day", "A3", "2026-11-30 23:59:59", Reason.NOT_YET_VALID),
    Row("first day at 00:00", "A3", "2026-12-01 00:00", Reason.GRANTED),
    Row("last day at 23:59:59", "A4", "2026-10-31 23:59:59", Reason.GRANTED),
    Row("day after last day at 00:00", "A4", "2026-11-01 00:00", Reason.EXPIRED),
    Row("suspended", "A5", f"{THURSDAY} 10:00", Reason.SUSPENDED),
    Row("closure: plan not open on Christmas", "A2", "2026-12-25 10:00", Reason.OUTSIDE_SCHEDULE),
    Row("closure: plan still open on Christmas", "A1", "2026-12-25 10:00", Reason.GRANTED),
    Row("lockdown refuses members", "A1", f"{THURSDAY} 10:00", Reason.LOCKDOWN, mode=DoorMode.LOCKDOWN),
    Row("lockdown admits staff", "A6", f"{THURSDAY} 10:00", Reason.GRANTED, mode=DoorMode.LOCKDOWN),
    Row("lockdown: unknown stays unknown", "FF", f"{THURSDAY} 10:00", Reason.UNKNOWN_BADGE, mode=DoorMode.LOCKDOWN),
    Row("lockdown before suspension", "A5", f"{THURSDAY} 10:00", Reason.LOCKDOWN, mode=DoorMode.LOCKDOWN),
    Row("unlocked admits unknown", "FF", f"{THURSDAY} 10:00", Reason.GRANTED, mode=DoorMode.UNLOCKED),
    Row("unlocked admits out of hours", "A2", f"{THURSDAY} 22:00", Reason.GRANTED, mode=DoorMode.UNLOCKED),
    Row("untrusted clock: plan admitted", "A1", f"{THURSDAY} 10:00", Reason.GRANTED, trusted=False),
    Row("untrusted clock: staff admitted", "A6", f"{THURSDAY} 10:00", Reason.GRANTED, trusted=False),
    Row("untrusted clock: plan refused", "A2", f"{THURSDAY} 10:00", Reason.CLOCK_UNTRUSTED, trusted=False),
    Row("untrusted clock: dates not checked", "A4", f"{THURSDAY} 10:00", Reason.GRANTED, trusted=False),
    Row("untrusted clock: suspension checked", "A5", f"{THURSDAY} 10:00", Reason.SUSPENDED, trusted=False),
    Row("seats free", "B3", f"{THURSDAY} 10:00", Reason.GRANTED, before=("B1",)),
    Row("seats taken by two others", "B3", f"{THURSDAY} 10:00", Reason.SEAT_LIMIT, before=("B1", "B2")),
    Row("seat already used today", "B2", f"{THURSDAY} 10:00", Reason.GRANTED, before=("B1", "B2")),
    Row("seats free again the next day", "B3", "2026-11-27 10:00", Reason.GRANTED, before=("B1", "B2")),
    Row("passback: already inside", "A1", f"{THURSDAY} 10:00", Reason.PASSBACK, before=("A1",), passback=True),
    Row("passback off: enter twice", "A1", f"{THURSDAY} 10:00", Reason.GRANTED, before=("A1",)),
    Row("passback: other member", "A2", f"{THURSDAY} 10:00", Reason.GRANTED, before=("A1",), passback=True),
    Row("way out: suspended leaves", "A5", f"{THURSDAY} 22:00", Reason.GRANTED, direction=Direction.OUT),
    Row("way out: expired leaves", "A4", f"{THURSDAY} 22:00", Reason.GRANTED, direction=Direction.OUT),
    Row(
        "way out: member leaves in lockdown",
        "A2",
        f"{THURSDAY} 22:00",
        Reason.GRANTED,
        mode=DoorMode.LOCKDOWN,
        direction=Direction.OUT,
    ),
    Row("way out: unknown badge", "FF", f"{THURSDAY} 10:00", Reason.UNKNOWN_BADGE, direction=Direction.OUT),
    Row("no snapshot yet: a member is unknown", "A1", f"{THURSDAY} 10:00", Reason.UNKNOWN_BADGE, snapshot=False),
    Row("no snapshot yet: staff are unknown", "A6", f"{THURSDAY} 10:00", Reason.UNKNOWN_BADGE, snapshot=False),
    Row(
        "no snapshot yet: an unlocked door is open",
        "A1",
        f"{THURSDAY} 10:00",
        Reason.GRANTED,
        mode=DoorMode.UNLOCKED,
        snapshot=False,
    ),
    Row("granted, but the relay stayed locked", "A1", f"{THURSDAY} 10:00", Reason.DOOR_FAULT, unlocked=False),
    Row("refused, the relay locked: still refused", "A2", f"{THURSDAY} 22:00", Reason.OUTSIDE_SCHEDULE, unlocked=False),
]


def run(row: Row) -> Decision:
    """Replay the row's earlier grants (an hour before, same day), then decide and settle."""
    context = DoorContext(mode=row.mode, clock_trusted=row.trusted, passback=PassbackState() if row.passback else None)
    earlier = paris(f"{THURSDAY} 09:00")
    for badge in row.before:
        warm = AccessRequest(token(badge), earlier)
        decision = decide(warm, INDEX, DoorContext(passback=context.passback, seats=context.seats))
        assert decision.granted, f"setup badge {badge} was refused: {decision.reason}"
        record(warm, decision, INDEX, context)
    request = AccessRequest(token(row.badge), paris(row.when), row.direction)
    return settle(decide(request, INDEX if row.snapshot else None, context), unlocked=row.unlocked)


@pytest.mark.parametrize("row", ROWS, ids=[row.case for row in ROWS])
def test_rule_table(row: Row) -> None:
    decision = run(row)
    assert decision.reason == row.reason
    assert decision.granted == (row.reason == Reason.GRANTED)


def test_the_table_covers_every_reason_code() -> None:
    assert {row.reason for row in ROWS} == set(Reason)


@pytest.mark.parametrize("row", ROWS, ids=[row.case for row in ROWS])
def test_known_badges_carry_their_member(row: Row) -> None:
    decision = run(row)
    if row.badge == "FF" or not row.snapshot:
        assert decision.member is None
    else:
        assert decision.member is not None and decision.member.id == INDEX.by_token[token(row.badge)].id


def test_reasons_are_the_contract_strings() -> None:
    decision = run(ROWS[1])
    assert decision.reason == "unknown_badge"


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        decide(AccessRequest(token("A1"), dt.datetime(2026, 11, 26, 10, 0)), INDEX, DoorContext())


def test_time_is_read_in_the_site_time_zone_whatever_the_offset_given() -> None:
    tokyo = dt.timezone(dt.timedelta(hours=9))
    # 18:30 in Tokyo is 10:30 in Paris (winter): flex is open.
    at = dt.datetime(2026, 11, 26, 18, 30, tzinfo=tokyo)
    assert decide(AccessRequest(token("A2"), at), INDEX, DoorContext()).granted


def test_decide_leaves_the_tracking_state_alone() -> None:
    context = DoorContext(passback=PassbackState())
    request = AccessRequest(token("B1"), paris(f"{THURSDAY} 10:00"))
    decide(request, INDEX, context)
    assert len(context.passback or ()) == 0
    assert context.seats.used("acme", paris(f"{THURSDAY} 10:00").astimezone(INDEX.tz).toordinal()) == frozenset()


def test_refusals_are_not_recorded() -> None:
    context = DoorContext(passback=PassbackState())
    request = AccessRequest(token("A2"), paris(f"{THURSDAY} 22:00"))
    decision = decide(request, INDEX, context)
    record(request, decision, INDEX, context)
    assert not decision.granted
    assert len(context.passback or ()) == 0


def test_leaving_clears_passback() -> None:
    context = DoorContext(passback=PassbackState())
    for direction, expected in [(Direction.IN, True), (Direction.OUT, True), (Direction.IN, True)]:
        request = AccessRequest(token("A1"), paris(f"{THURSDAY} 10:00"), direction)
        decision = decide(request, INDEX, context)
        assert decision.granted is expected
        record(request, decision, INDEX, context)


def test_dry_run_lists_every_member_once_with_a_reason() -> None:
    outcome = {
        member.id: decision.reason for member, decision in dry_run(INDEX, paris(f"{THURSDAY} 22:00"), DoorContext())
    }
    assert outcome["res"] == Reason.GRANTED
    assert outcome["flex"] == Reason.OUTSIDE_SCHEDULE
    assert outcome["susp"] == Reason.SUSPENDED
    assert outcome["gone"] == Reason.EXPIRED
    assert len(outcome) == INDEX.member_count


def test_a_grant_the_relay_could_not_carry_out_is_not_recorded() -> None:
    context = DoorContext(passback=PassbackState())
    request = AccessRequest(token("B1"), paris(f"{THURSDAY} 10:00"))
    decision = settle(decide(request, INDEX, context), unlocked=False)
    assert not record(request, decision, INDEX, context)
    assert len(context.passback or ()) == 0
    assert context.seats.used("acme", request.at.astimezone(INDEX.tz).toordinal()) == frozenset()


def test_without_a_snapshot_nothing_is_recorded() -> None:
    context = DoorContext(mode=DoorMode.UNLOCKED, passback=PassbackState())
    request = AccessRequest(token("A1"), paris(f"{THURSDAY} 10:00"))
    decision = decide(request, None, context)
    assert decision.granted and not record(request, decision, None, context)


RECEPTION = parse_schedule("mon-fri 09:00-12:00")


@pytest.mark.parametrize(
    ("case", "when", "trusted", "expected"),
    [
        ("inside the window", f"{THURSDAY} 10:00", True, True),
        ("outside the window", f"{THURSDAY} 13:00", True, False),
        ("inside, but the clock is not trusted", f"{THURSDAY} 10:00", False, False),
        ("inside, but the snapshot closes the day", "2026-12-25 10:00", True, False),
    ],
)
def test_the_unlocked_schedule_holds_the_door_open_only_on_a_trusted_clock_and_an_open_day(
    case: str, when: str, trusted: bool, expected: bool
) -> None:
    assert schedule_unlocks(RECEPTION, paris(when), INDEX.tz, INDEX, clock_trusted=trusted) is expected


def test_without_a_snapshot_the_unlocked_schedule_knows_no_closure() -> None:
    assert schedule_unlocks(RECEPTION, paris("2026-12-25 10:00"), INDEX.tz, None, clock_trusted=True)


def test_no_unlocked_schedule_never_unlocks() -> None:
    assert not schedule_unlocks(
        parse_schedule("never"), paris(f"{THURSDAY} 10:00"), INDEX.tz, INDEX, clock_trusted=True
    )
