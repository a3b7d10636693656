"""The scripted day of the demo, as data: who arrives when, what the door should answer, what goes wrong.

Pure: built from the site's people and a seed, so a run can be checked against its own expectations.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from edge.contract import Reason
from edge.demo.site import DAY, SEED, TZ, Person

UNKNOWN_CARD = "5E12345678"


@dataclass(frozen=True)
class Arrive:
    """Someone presents a card at the front door; if let in, they sit at their desk."""

    at: dt.datetime
    person: str
    card: str
    expect: Reason
    sit: bool = True


@dataclass(frozen=True)
class Leave:
    """Someone stands up and leaves through the exit button."""

    at: dt.datetime
    person: str


@dataclass(frozen=True)
class Revoke:
    """Staff revoke a lost badge and push a new member snapshot."""

    at: dt.datetime
    person: str


@dataclass(frozen=True)
class HoldOpen:
    """The door is propped open (a delivery) for `seconds`: a held-open alarm."""

    at: dt.datetime
    seconds: float


@dataclass(frozen=True)
class BrokerRestart:
    """The broker crashes and comes back after `down_s` (simulated seconds)."""

    at: dt.datetime
    down_s: float


Action = Arrive | Leave | Revoke | HoldOpen | BrokerRestart


def at(hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """A local time of the demo day as an aware datetime."""
    return dt.datetime.combine(DAY, dt.time(hour, minute, second), ZoneInfo(TZ))


def day(people: list[Person]) -> list[Action]:
    """The whole day, in time order."""
    rng = random.Random(SEED)
    by_plan: dict[str, list[Person]] = {}
    for person in people:
        by_plan.setdefault(person.plan, []).append(person)
    residents, team, flex = by_plan["resident"], by_plan["team"], by_plan["flex"]
    active_flex = [p for p in flex if not p.suspended]
    staff = by_plan["staff"][0]
    early, revoked, late = active_flex[0], active_flex[2], active_flex[1]
    actions: list[Action] = [Arrive(at(7, 5), staff.id, staff.card, Reason.GRANTED, sit=False)]
    actions.append(Arrive(at(7, 20), early.id, early.card, Reason.OUTSIDE_SCHEDULE, sit=False))
    for person in residents:
        actions.append(
            Arrive(at(7, 30) + dt.timedelta(minutes=rng.randrange(90)), person.id, person.card, Reason.GRANTED)
        )
    # The team plan has two seats: the third colleague of the day is turned away.
    for index, person in enumerate(team):
        reason = Reason.GRANTED if index < 2 else Reason.SEAT_LIMIT
        actions.append(
            Arrive(at(8, 40) + dt.timedelta(minutes=10 * index), person.id, person.card, reason, sit=index < 2)
        )
    for person in active_flex:
        if person is late:
            continue
        actions.append(
            Arrive(at(8, 5) + dt.timedelta(minutes=rng.randrange(120)), person.id, person.card, Reason.GRANTED)
        )
    actions.append(
        Arrive(at(9, 0), "D-001", next(p.card for p in people if p.id == "D-001"), Reason.EXPIRED, sit=False)
    )
    suspended = next(p for p in people if p.suspended)
    actions.append(Arrive(at(9, 30), suspended.id, suspended.card, Reason.SUSPENDED, sit=False))
    actions.append(Arrive(at(10, 0), "unknown", UNKNOWN_CARD, Reason.UNKNOWN_BADGE, sit=False))
    actions.append(Revoke(at(11, 0), revoked.id))
    actions.append(Arrive(at(11, 30), "finder", revoked.card, Reason.UNKNOWN_BADGE, sit=False))
    seated = [a for a in actions if isinstance(a, Arrive) and a.sit]
    lunch = rng.sample([a for a in seated if a.person != revoked.id], k=min(6, len(seated) - 1))
    for arrival in lunch:
        actions.append(Leave(at(12, 15) + dt.timedelta(minutes=rng.randrange(30)), arrival.person))
        actions.append(
            Arrive(at(13, 10) + dt.timedelta(minutes=rng.randrange(40)), arrival.person, arrival.card, Reason.GRANTED)
        )
    actions.append(BrokerRestart(at(13, 0), down_s=15 * 60))
    actions.append(HoldOpen(at(15, 0), seconds=120))
    for arrival in seated:
        actions.append(Leave(at(16, 30) + dt.timedelta(minutes=rng.randrange(150)), arrival.person))
    actions.append(Arrive(at(19, 30), late.id, late.card, Reason.OUTSIDE_SCHEDULE, sit=False))
    return sorted(actions, key=lambda a: a.at)


def expected_decisions(actions: list[Action]) -> list[tuple[str, Reason]]:
    """(person, reason) for every card presented, in order."""
    return [(a.person, a.expect) for a in actions if isinstance(a, Arrive)]
