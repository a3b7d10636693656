"""The door's rules, pure and constant-time: who gets in (`decide`), what a grant the relay could not carry out
becomes (`settle`), what a grant leaves behind (`record`), and when the unlocked schedule holds a door open
(`schedule_unlocks`). The door daemon applies them and decides nothing itself.

Order of the checks in `decide` (the first that fails gives the reason):
  mode unlocked -> granted (the door is open anyway; the member is attached when known)
  unknown_badge (also every badge while the door has no snapshot yet: nobody is known)
  way out (an out reader) -> granted: nobody is kept inside by schedules, validity, suspension or lockdown
  lockdown (door in lockdown and the member not admitted by the lockdown policy)
  suspended
  clock_untrusted (no synchronised clock and the plan not admitted by the policy; admitted plans skip the
                   date and schedule checks, which need the time)
  not_yet_valid / expired (inclusive local dates)
  outside_schedule (weekly windows in wall-clock time, closures)
  passback (already inside, for doors with in and out readers)
  seat_limit (the account's seats for the local day are taken by other members)
  granted
Then `settle(decision, unlocked)`: a grant the relay could not carry out (the door stayed locked) is `door_fault`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from edge.access.index import CompiledPlan, MemberEntry, SnapshotIndex
from edge.access.tracking import PassbackState, SeatState
from edge.contract.payloads import DoorMode, Reason
from edge.schedule import MINUTES_PER_DAY, PREVIOUS_DAY, SAME_DAY, Schedule


class Direction(StrEnum):
    """Which reader of the door was used: the way in or the way out."""

    IN = "in"
    OUT = "out"


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """A badge presented at a door: its token, when (an aware datetime), and which way."""

    token: str
    at: dt.datetime
    direction: Direction = Direction.IN


@dataclass(frozen=True)
class DoorContext:
    """What the door knows besides the snapshot: its mode, whether its clock is trusted, and its tracking state."""

    mode: DoorMode = DoorMode.NORMAL
    clock_trusted: bool = True
    passback: PassbackState | None = None
    seats: SeatState = field(default_factory=SeatState)


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer: granted or not, the reason code, and the member when the badge is known."""

    granted: bool
    reason: Reason
    member: MemberEntry | None


_UNKNOWN = Decision(False, Reason.UNKNOWN_BADGE, None)


def decide(request: AccessRequest, index: SnapshotIndex | None, context: DoorContext) -> Decision:
    """Decide on one badge with the applied snapshot (None: the door has none yet); reads the context's state but
    never changes it (see `record`)."""
    if request.at.tzinfo is None:
        raise ValueError("decide needs an aware datetime")
    member = index.by_token.get(request.token) if index is not None else None
    if context.mode == DoorMode.UNLOCKED:
        return Decision(True, Reason.GRANTED, member)
    if member is None or index is None:
        return _UNKNOWN
    if request.direction == Direction.OUT:
        return Decision(True, Reason.GRANTED, member)
    if context.mode == DoorMode.LOCKDOWN and not index.lockdown.admits(member):
        return Decision(False, Reason.LOCKDOWN, member)
    if member.suspended:
        return Decision(False, Reason.SUSPENDED, member)
    day = 0
    if not context.clock_trusted:
        if not index.untrusted_clock.admits(member):
            return Decision(False, Reason.CLOCK_UNTRUSTED, member)
    else:
        local = request.at.astimezone(index.tz)
        day = local.toordinal()
        if day < member.valid_from:
            return Decision(False, Reason.NOT_YET_VALID, member)
        if day > member.valid_until:
            return Decision(False, Reason.EXPIRED, member)
        if not is_open(member.plan, local, index.closures):
            return Decision(False, Reason.OUTSIDE_SCHEDULE, member)
    if context.passback is not None and context.passback.is_inside(member.id, request.at):
        return Decision(False, Reason.PASSBACK, member)
    if (
        context.clock_trusted
        and member.seats is not None
        and member.account is not None
        and context.seats.would_exceed(member.account, member.seats, member.id, day)
    ):
        return Decision(False, Reason.SEAT_LIMIT, member)
    return Decision(True, Reason.GRANTED, member)


def settle(decision: Decision, *, unlocked: bool) -> Decision:
    """What the door did with a decision: a grant while the relay stayed locked (it could not be driven, or the
    controller failed) is `door_fault`, so the member is not counted as inside nor given a seat."""
    if decision.granted and not unlocked:
        return Decision(False, Reason.DOOR_FAULT, decision.member)
    return decision


def schedule_unlocks(
    schedule: Schedule, at: dt.datetime, tz: ZoneInfo, index: SnapshotIndex | None, *, clock_trusted: bool
) -> bool:
    """Whether a door's unlocked schedule (e.g. reception hours) holds it unlocked at `at`: never on an untrusted
    clock (judged on a wrong clock it could unlock a door at night), never on a day the snapshot closes."""
    if not clock_trusted or not schedule.windows:
        return False
    closed_days = frozenset(index.closures) if index is not None else frozenset()
    return schedule.active_at(at, tz, closed_days)


def is_open(plan: CompiledPlan, local: dt.datetime, closures: Mapping[int, frozenset[str]]) -> bool:
    """True when the plan's schedule admits at local wall-clock time `local`, closures considered.

    A window running past midnight belongs to the day it opened: a closure on the 25th does not cut short the
    night of the 24th, and a closure on the 24th closes it.
    """
    flags = plan.week[local.weekday() * MINUTES_PER_DAY + local.hour * 60 + local.minute]
    if not flags or not closures:
        return flags != 0
    day = local.toordinal()
    if flags & SAME_DAY:
        open_to = closures.get(day)
        if open_to is None or plan.name in open_to:
            return True
    if flags & PREVIOUS_DAY:
        open_to = closures.get(day - 1)
        if open_to is None or plan.name in open_to:
            return True
    return False


def record(request: AccessRequest, decision: Decision, index: SnapshotIndex | None, context: DoorContext) -> bool:
    """Update the context's tracking state after the door acted on a decision (only grants count).

    True when some state was updated (a door with anti-passback, or a member of an account with seats).
    """
    member = decision.member
    if not decision.granted or member is None or index is None:
        return False
    changed = False
    if context.passback is not None:
        if request.direction == Direction.IN:
            context.passback.entered(member.id, request.at)
        else:
            context.passback.left(member.id)
        changed = True
    counts_seat = context.clock_trusted and member.seats is not None
    if request.direction == Direction.IN and counts_seat and member.account is not None:
        context.seats.admitted(member.account, member.id, request.at.astimezone(index.tz).toordinal())
        changed = True
    return changed


def dry_run(index: SnapshotIndex, at: dt.datetime, context: DoorContext) -> Iterator[tuple[MemberEntry, Decision]]:
    """Who would be admitted at `at` and why: one decision per member (on their first badge), nothing recorded."""
    first_token: dict[str, str] = {}
    for token, entry in index.by_token.items():
        first_token.setdefault(entry.id, token)
    for entry in index.members():
        yield entry, decide(AccessRequest(first_token[entry.id], at), index, context)
