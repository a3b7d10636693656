"""Plans' schedules at the door, in wall-clock time: DST nights in Paris, windows past midnight, closures, leap day,
validity edges. The schedule syntax and its table are tested in test_schedule.py."""

from __future__ import annotations

import datetime as dt

import pytest

from edge.access.rules import AccessRequest, DoorContext, decide
from edge.contract.payloads import Reason
from tests.access_support import index_of, paris, token

UTC = dt.UTC

SCHEDULES = """\
site: lyon
timezone: Europe/Paris
plans:
  resident: {schedule: always}
  flex: {schedule: [{days: mon-fri, from: 08:00, to: 19:00}]}
  saturday-night: {schedule: [{days: sat, from: 22:00, to: 02:30}]}
  early-sunday: {schedule: [{days: sun, from: 01:00, to: 03:00}]}
  owl: {schedule: [{days: fri, from: 22:00, to: 02:00}]}
  monday-night: {schedule: [{days: mon, from: 22:00, to: 02:00}]}
closures:
  - {name: Boxing Saturday, date: 2026-12-26}
  - {name: Leap closure, date: 2028-02-29, open_to: [resident, monday-night]}
  - {name: Inventory, date: 2028-03-06}
members:
  - {id: res, plan: resident, badges: ["01"]}
  - {id: flex, plan: flex, badges: ["02"]}
  - {id: sat, plan: saturday-night, badges: ["03"]}
  - {id: sun, plan: early-sunday, badges: ["04"]}
  - {id: owl, plan: owl, badges: ["05"]}
  - {id: mon, plan: monday-night, badges: ["06"]}
  - {id: ends-spring, plan: resident, badges: ["07"], valid_until: 2026-03-29}
  - {id: ends-autumn, plan: resident, badges: ["08"], valid_until: 2026-10-25}
  - {id: leap-pass, plan: resident, badges: ["09"], valid_from: 2028-02-29, valid_until: 2028-02-29}
"""
INDEX = index_of(SCHEDULES)


def utc(text: str) -> dt.datetime:
    """An aware UTC datetime from `YYYY-MM-DD HH:MM[:SS]`."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def reason(badge: str, at: dt.datetime) -> Reason:
    """The reason given to a badge at an instant, door in normal mode with a trusted clock."""
    return decide(AccessRequest(token(badge), at), INDEX, DoorContext()).reason


G, OUT, EXP, NYV = Reason.GRANTED, Reason.OUTSIDE_SCHEDULE, Reason.EXPIRED, Reason.NOT_YET_VALID

# Paris 2026: clocks go 02:00 CET -> 03:00 CEST on Sunday 29 March (01:00 UTC),
# and 03:00 CEST -> 02:00 CET on Sunday 25 October (01:00 UTC).
DST_CASES = [
    # spring forward: a window closing at 02:30 closes when 02:00 jumps to 03:00
    ("spring: sat window before the jump", "03", utc("2026-03-29 00:59:59"), G),
    ("spring: sat window after the jump (03:00 CEST)", "03", utc("2026-03-29 01:00"), OUT),
    ("spring: 01:00-03:00 window at 01:59 CET", "04", utc("2026-03-29 00:59"), G),
    ("spring: 01:00-03:00 window at 03:00 CEST", "04", utc("2026-03-29 01:00"), OUT),
    ("spring: resident at the jump", "01", utc("2026-03-29 01:00"), G),
    ("spring: flex monday 07:59 CEST", "02", utc("2026-03-30 05:59"), OUT),
    ("spring: flex monday 08:00 CEST", "02", utc("2026-03-30 06:00"), G),
    ("spring: flex friday before 08:00 CET", "02", utc("2026-03-27 06:59"), OUT),
    ("spring: flex friday 08:00 CET", "02", utc("2026-03-27 07:00"), G),
    # fall back: 02:00-02:59 happens twice, both inside a window that ends at 02:30 or 03:00
    ("autumn: first 02:15 (CEST)", "03", utc("2026-10-25 00:15"), G),
    ("autumn: second 02:15 (CET)", "03", utc("2026-10-25 01:15"), G),
    ("autumn: second 02:30 (CET) closes", "03", utc("2026-10-25 01:30"), OUT),
    ("autumn: 01:00-03:00 at second 02:59 CET", "04", utc("2026-10-25 01:59"), G),
    ("autumn: 01:00-03:00 at 03:00 CET", "04", utc("2026-10-25 02:00"), OUT),
    ("autumn: flex monday 07:59 CET", "02", utc("2026-10-26 06:59"), OUT),
    ("autumn: flex monday 08:00 CET", "02", utc("2026-10-26 07:00"), G),
    # validity over the short (23 h) and long (25 h) days
    ("spring: last day 23:59:59 CEST", "07", utc("2026-03-29 21:59:59"), G),
    ("spring: day after 00:00 CEST", "07", utc("2026-03-29 22:00"), EXP),
    ("autumn: last day 23:59:59 CET", "08", utc("2026-10-25 22:59:59"), G),
    ("autumn: day after 00:00 CET", "08", utc("2026-10-25 23:00"), EXP),
]


@pytest.mark.parametrize(("case", "badge", "at", "expected"), DST_CASES, ids=[c[0] for c in DST_CASES])
def test_daylight_saving_nights_in_paris(case: str, badge: str, at: dt.datetime, expected: Reason) -> None:
    assert reason(badge, at) == expected


@pytest.mark.parametrize("night", ["2026-03-28 22:00", "2026-10-24 22:00"])
def test_a_24_7_plan_is_open_every_minute_of_a_dst_night(night: str) -> None:
    start = paris(night)
    minutes = [start + dt.timedelta(minutes=m) for m in range(0, 8 * 60)]
    assert {reason("01", at) for at in minutes} == {G}


MIDNIGHT_AND_CLOSURE_CASES = [
    ("fri 22:00 opens", "05", "2026-11-27 22:00", G),
    ("fri 21:59 not yet", "05", "2026-11-27 21:59", OUT),
    ("sat 01:59 still open", "05", "2026-11-28 01:59", G),
    ("sat 02:00 closed", "05", "2026-11-28 02:00", OUT),
    ("sat 22:00 not an owl night", "05", "2026-11-28 22:00", OUT),
    ("the night of the 25th is not cut by a closure on the 26th", "05", "2026-12-26 01:00", G),
    ("the night of the 25th opens", "05", "2026-12-25 23:00", G),
    ("sunday wraps to monday", "06", "2026-11-30 22:30", G),
    ("monday night ends tuesday 02:00", "06", "2026-12-01 01:59", G),
    ("leap: monday-night runs into feb 29", "06", "2028-02-29 01:00", G),
    ("leap: closure on feb 29 closes flex", "02", "2028-02-29 10:00", OUT),
    ("leap: flex on feb 28", "02", "2028-02-28 10:00", G),
    ("leap: flex on mar 1", "02", "2028-03-01 10:00", G),
    ("closure on a monday closes the night that starts on it", "06", "2028-03-06 23:00", OUT),
    ("and its part after midnight", "06", "2028-03-07 01:00", OUT),
    ("leap day pass: feb 28 23:59:59", "09", "2028-02-28 23:59:59", NYV),
    ("leap day pass: feb 29 00:00", "09", "2028-02-29 00:00", G),
    ("leap day pass: feb 29 23:59:59", "09", "2028-02-29 23:59:59", G),
    ("leap day pass: mar 1 00:00", "09", "2028-03-01 00:00", EXP),
]


@pytest.mark.parametrize(
    ("case", "badge", "when", "expected"), MIDNIGHT_AND_CLOSURE_CASES, ids=[c[0] for c in MIDNIGHT_AND_CLOSURE_CASES]
)
def test_midnight_windows_closures_and_leap_day(case: str, badge: str, when: str, expected: Reason) -> None:
    assert reason(badge, paris(when)) == expected
