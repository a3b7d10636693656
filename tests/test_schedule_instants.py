"""Schedules at real instants (`active_at`, `next_change`): a door's unlocked schedule and the collector's opening
hours. Inside/outside at local times, next change, midnight spans, closures and DST days (Europe/Paris)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from edge.schedule import NEVER, Schedule, parse_schedule

PARIS = ZoneInfo("Europe/Paris")
RECEPTION = parse_schedule("mon,tue,wed,thu,fri 08:30-18:00; sat 22:00-02:00")  # Saturday's runs into Sunday


def scheduled_unlocked(
    schedule: Schedule, when: datetime, tz: ZoneInfo, closed_days: frozenset[int] = frozenset()
) -> bool:
    return schedule.active_at(when, tz, closed_days)


def next_schedule_change(schedule: Schedule, when: datetime, tz: ZoneInfo) -> datetime | None:
    return schedule.next_change(when, tz)


def local(text: str, fold: int = 0) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS, fold=fold)


# 2026-03-02 is a Monday; 2026-03-07 a Saturday.
INSIDE = [
    ("2026-03-02T08:29:59", False),
    ("2026-03-02T08:30:00", True),
    ("2026-03-02T17:59:59", True),
    ("2026-03-02T18:00:00", False),
    ("2026-03-06T23:00:00", False),  # Friday night
    ("2026-03-07T12:00:00", False),  # Saturday day
    ("2026-03-07T22:00:00", True),
    ("2026-03-08T01:59:59", True),  # Sunday, still Saturday's window
    ("2026-03-08T02:00:00", False),
    ("2026-03-08T12:00:00", False),
]


@pytest.mark.parametrize("when, expected", INSIDE)
def test_inside_the_windows(when: str, expected: bool) -> None:
    assert scheduled_unlocked(RECEPTION, local(when), PARIS) is expected


NEXT = [
    ("2026-03-02T07:00:00", "2026-03-02T08:30:00"),
    ("2026-03-02T12:00:00", "2026-03-02T18:00:00"),
    ("2026-03-06T19:00:00", "2026-03-07T22:00:00"),
    ("2026-03-07T23:00:00", "2026-03-08T02:00:00"),
    ("2026-03-08T03:00:00", "2026-03-09T08:30:00"),
]


@pytest.mark.parametrize("when, expected", NEXT)
def test_next_change(when: str, expected: str) -> None:
    assert next_schedule_change(RECEPTION, local(when), PARIS) == local(expected)


def test_overlapping_and_adjacent_windows_change_only_at_their_outer_edges() -> None:
    windows = parse_schedule("mon 08:00-12:00; mon 11:00-13:00; mon 13:00-14:00")
    assert next_schedule_change(windows, local("2026-03-02T09:00:00"), PARIS) == local("2026-03-02T14:00:00")


def test_no_windows_never_unlock() -> None:
    assert not scheduled_unlocked(NEVER, local("2026-03-02T12:00:00"), PARIS)
    assert next_schedule_change(NEVER, local("2026-03-02T12:00:00"), PARIS) is None


def test_a_window_starting_and_ending_at_midnight_every_day_never_changes() -> None:
    always = parse_schedule("mon,tue,wed,thu,fri,sat,sun 00:00-24:00")
    assert scheduled_unlocked(always, local("2026-03-04T03:00:00"), PARIS)
    assert next_schedule_change(always, local("2026-03-04T03:00:00"), PARIS) is None


def test_spring_forward_night_window_lasts_one_hour_less() -> None:
    night = parse_schedule("sun 01:00-04:00")  # 2026-03-29: 02:00 CET jumps to 03:00 CEST
    start = next_schedule_change(night, local("2026-03-29T00:30:00"), PARIS)
    assert start == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert next_schedule_change(night, start, PARIS) == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)


def test_a_start_inside_the_spring_forward_gap_begins_an_hour_later_on_the_wall_clock() -> None:
    gap = parse_schedule("sun 02:30-05:00")
    assert not scheduled_unlocked(gap, local("2026-03-29T03:29:00"), PARIS)
    assert scheduled_unlocked(gap, local("2026-03-29T03:30:00"), PARIS)


def test_an_ambiguous_autumn_start_means_its_first_occurrence() -> None:
    repeated = parse_schedule("sun 02:30-06:00")  # 2026-10-25: 03:00 CEST falls back to 02:00 CET
    assert next_schedule_change(repeated, local("2026-10-25T01:00:00"), PARIS) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )
    assert scheduled_unlocked(repeated, local("2026-10-25T02:10:00", fold=1), PARIS)


def test_the_answer_does_not_depend_on_the_zone_of_the_instant_given() -> None:
    instant = local("2026-03-02T12:00:00")
    assert next_schedule_change(RECEPTION, instant.astimezone(UTC), PARIS) == local("2026-03-02T18:00:00")


def test_a_closure_suspends_the_windows_that_open_that_day() -> None:
    christmas = local("2026-12-25T00:00:00").date().toordinal()  # a Friday
    assert scheduled_unlocked(RECEPTION, local("2026-12-25T10:00:00"), PARIS)
    assert not scheduled_unlocked(RECEPTION, local("2026-12-25T10:00:00"), PARIS, closed_days={christmas})
    assert scheduled_unlocked(RECEPTION, local("2026-12-24T10:00:00"), PARIS, closed_days={christmas})


def test_a_window_past_midnight_belongs_to_the_day_it_opened() -> None:
    saturday = local("2026-03-07T00:00:00").date().toordinal()
    sunday = saturday + 1
    assert scheduled_unlocked(RECEPTION, local("2026-03-08T01:00:00"), PARIS, closed_days={sunday})
    assert not scheduled_unlocked(RECEPTION, local("2026-03-08T01:00:00"), PARIS, closed_days={saturday})


def test_the_schedules_own_closed_days_suspend_it_like_the_snapshots() -> None:
    closed = parse_schedule("mon-fri 08:30-18:00; sat 22:00-02:00; closed 2026-12-25; closed 2026-03-07")
    assert not closed.active_at(local("2026-12-25T10:00:00"), PARIS)
    assert closed.active_at(local("2026-12-24T10:00:00"), PARIS)
    assert not closed.active_at(local("2026-03-08T01:00:00"), PARIS)  # the night belongs to the closed Saturday
    assert closed.next_change(local("2026-12-24T19:00:00"), PARIS) == local("2026-12-26T22:00:00")  # skips the 25th


def test_a_window_that_ends_at_midnight_ends_at_the_start_of_the_next_day() -> None:
    evening = parse_schedule("mon 20:00-24:00")
    assert evening.active_at(local("2026-03-02T23:59:59"), PARIS)
    assert evening.next_change(local("2026-03-02T21:00:00"), PARIS) == local("2026-03-03T00:00:00")
