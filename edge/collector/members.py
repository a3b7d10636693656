"""Member figures per day and per month, from the granted passages of pseudonymous members. Pure: no I/O, no clock.

These are what a yearly report needs and what survives the access records (docs/data-model.md, "Member
aggregates"): counts only, nothing that names or points at a member.

* A day: distinct members with a granted passage (entry or exit) that local day; granted entries; time on site
  per member-day, measured from each entry to the same member's next exit that day (member-days with an
  unpaired passage are counted as incomplete and left out), summed, and counted per length bin.
* A month: distinct members over its days, and how many members came on 1, 2-4, 5-9 and 10 or more days of it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

HOUR_S = 3600
# Visit length bins: (upper bound in hours, label); the last bin is open-ended. Each bin includes its lower bound.
VISIT_BINS: tuple[tuple[float, str], ...] = (
    (1, "< 1 h"),
    (2, "1–2 h"),
    (4, "2–4 h"),
    (6, "4–6 h"),
    (8, "6–8 h"),
    (float("inf"), "≥ 8 h"),
)
# How often members came in a month: (fewest days, most days or None, label).
FREQUENCY_BUCKETS: tuple[tuple[int, int | None, str], ...] = (
    (1, 1, "1"),
    (2, 4, "2–4"),
    (5, 9, "5–9"),
    (10, None, "10+"),
)


Visitor = int | str
"""Who made a passage: a number (the report) or a pseudonymous id (the collector); never shown."""


@dataclass(frozen=True, slots=True)
class Passage:
    """A granted door passage of visitor `visitor` (an id that lives only while the figures are computed)."""

    t_ms: int
    visitor: Visitor
    exit: bool = False


@dataclass(frozen=True)
class DayMembers:
    """One local day's member figures."""

    day: dt.date
    members: int
    entries: int
    measured: int  # member-days whose every entry has its exit the same day
    incomplete: int  # member-days with an unpaired entry or exit
    visit_s: int  # time on site summed over the measured member-days
    bins: tuple[int, ...]  # measured member-days per VISIT_BINS bin


@dataclass(frozen=True)
class MonthMembers:
    """One calendar month's member figures; `days` is how many of its days the figures cover."""

    month: dt.date  # its first day
    members: int
    frequency: tuple[int, ...]  # members per FREQUENCY_BUCKETS bucket
    days: int


@dataclass(frozen=True)
class YearMembers:
    """One calendar year's distinct members: estimated from its sketch while open, fixed once it closes.

    `registers` is the sketch while the year is open (None once closed); `first_day`..`last_day` are the days
    it counts; `interrupted` says its key was lost during the year (members seen before and after may count twice).
    """

    year: int
    members: int
    error: int
    first_day: dt.date
    last_day: dt.date
    final: bool
    interrupted: bool = False
    registers: bytes | None = None


def visit_bin(seconds: float) -> int:
    """The index of the VISIT_BINS bin a time on site falls in."""
    return next(i for i, (upper, _) in enumerate(VISIT_BINS) if seconds < upper * HOUR_S)


MemberDays = tuple[list[tuple[Visitor, float]], int]


def time_on_site(passages: Iterable[Passage], day_of: Callable[[int], dt.date]) -> MemberDays:
    """Time inside per member-day: the sum of its entry -> next exit intervals.

    Returns ([(visitor, seconds)] for complete member-days, number of incomplete ones). A member-day is
    incomplete when an entry has no exit that day or an exit has no entry before it (door held for someone,
    exit button): its time inside is unknown, so it is left out rather than guessed.
    """
    days: dict[tuple[Visitor, dt.date], list[Passage]] = defaultdict(list)
    for p in passages:
        days[(p.visitor, day_of(p.t_ms))].append(p)
    complete: list[tuple[Visitor, float]] = []
    incomplete = 0
    for (visitor, _day), own in sorted(days.items(), key=lambda item: (str(item[0][0]), item[0][1])):
        inside_ms, open_at, ok = 0, None, True
        for p in sorted(own, key=lambda p: p.t_ms):
            if not p.exit:
                ok = ok and open_at is None
                open_at = p.t_ms
            elif open_at is None:
                ok = False
            else:
                inside_ms += p.t_ms - open_at
                open_at = None
        if ok and open_at is None:
            complete.append((visitor, inside_ms / 1000))
        else:
            incomplete += 1
    return complete, incomplete


def day_members(day: dt.date, passages: Sequence[Passage], day_of: Callable[[int], dt.date]) -> DayMembers:
    """The figures of one day from its passages (all of them inside that local day)."""
    visits, incomplete = time_on_site(passages, day_of) if any(p.exit for p in passages) else ([], 0)
    bins = [0] * len(VISIT_BINS)
    for _, seconds in visits:
        bins[visit_bin(seconds)] += 1
    return DayMembers(
        day=day,
        members=len({p.visitor for p in passages}),
        entries=sum(1 for p in passages if not p.exit),
        measured=len(visits),
        incomplete=incomplete,
        visit_s=round(sum(seconds for _, seconds in visits)),
        bins=tuple(bins),
    )


def frequency(days_per_member: Iterable[int]) -> tuple[int, ...]:
    """Members per FREQUENCY_BUCKETS bucket, from each member's number of days."""
    counts = [0] * len(FREQUENCY_BUCKETS)
    for n in days_per_member:
        for i, (low, high, _) in enumerate(FREQUENCY_BUCKETS):
            if n >= low and (high is None or n <= high):
                counts[i] += 1
                break
    return tuple(counts)


def month_members(month: dt.date, visitors_by_day: Mapping[dt.date, set[Visitor]], days: int) -> MonthMembers:
    """A month's distinct members and how many days each came, from the visitors of the `days` days covered."""
    days_per_member: dict[Visitor, int] = defaultdict(int)
    for visitors in visitors_by_day.values():
        for visitor in visitors:
            days_per_member[visitor] += 1
    return MonthMembers(month, len(days_per_member), frequency(days_per_member.values()), days)
