"""Report periods, opening hours and assumptions: parsing and the local-time rules."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.report.build import resolve_period
from edge.report.period import Assumptions, OpeningHours, Period, parse_days

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("hours", "days", "opens", "closes", "weekdays", "label"),
    [
        ("08:00-19:00", "mon-fri", dt.time(8), dt.time(19), {0, 1, 2, 3, 4}, "mon-fri 08:00-19:00"),
        ("8:30 - 18:45", "mon-sat", dt.time(8, 30), dt.time(18, 45), {0, 1, 2, 3, 4, 5}, "mon-sat 08:30-18:45"),
        ("00:00-24:00", "mon-sun", dt.time(0), dt.time.max, set(range(7)), "mon-sun 00:00-24:00"),
        ("09:00-17:00", "mon,wed,fri", dt.time(9), dt.time(17), {0, 2, 4}, "mon,wed,fri 09:00-17:00"),
        ("09:00-17:00", "Mon-Wed, Fri", dt.time(9), dt.time(17), {0, 1, 2, 4}, "mon,tue,wed,fri 09:00-17:00"),
        ("09:00-17:00", "sat,sun", dt.time(9), dt.time(17), {5, 6}, "sat,sun 09:00-17:00"),
    ],
)
def test_opening_hours_parse(hours, days, opens, closes, weekdays, label) -> None:
    parsed = OpeningHours.parse(hours, days)
    assert (parsed.opens, parsed.closes, set(parsed.weekdays)) == (opens, closes, weekdays)
    assert f"{parsed.days_label()} {parsed.hours_label()}" == label


@pytest.mark.parametrize(
    ("hours", "days", "message"),
    [
        ("8-19", "mon-fri", "HH:MM-HH:MM"),
        ("19:00-08:00", "mon-fri", "close after they open"),
        ("08:00-08:00", "mon-fri", "close after they open"),
        ("08:00-25:00", "mon-fri", "not a time of day"),
        ("08:61-19:00", "mon-fri", "not a time of day"),
        ("08:00-19:00", "monday", "day names"),
        ("08:00-19:00", "fri-mon", "runs backwards"),
        ("08:00-19:00", "mon-wed-fri", "day names"),
        ("08:00-19:00", "", "day names"),
    ],
)
def test_bad_opening_hours_are_refused_with_a_reason(hours, days, message) -> None:
    with pytest.raises(ValueError, match=message):
        OpeningHours.parse(hours, days)


@given(st.text(max_size=20), st.text(max_size=20))
def test_opening_hours_parser_gives_valid_hours_or_a_value_error(hours, days) -> None:
    try:
        parsed = OpeningHours.parse(hours, days)
    except ValueError:
        return
    assert parsed.opens < parsed.closes and parsed.weekdays and parsed.weekdays <= set(range(7))


@pytest.mark.parametrize(
    ("local", "is_open"),
    [
        (dt.datetime(2026, 11, 23, 7, 59), False),  # Monday before opening
        (dt.datetime(2026, 11, 23, 8, 0), True),  # opening instant counts
        (dt.datetime(2026, 11, 23, 18, 59), True),
        (dt.datetime(2026, 11, 23, 19, 0), False),  # closing instant does not
        (dt.datetime(2026, 11, 28, 10, 0), False),  # Saturday
    ],
)
def test_open_from_opening_time_until_just_before_closing(local, is_open) -> None:
    assert OpeningHours.parse("08:00-19:00", "mon-fri").contains(local.replace(tzinfo=PARIS)) is is_open


def test_a_period_runs_from_local_midnight_to_local_midnight_inclusive() -> None:
    period = Period(dt.date(2026, 11, 23), dt.date(2026, 11, 29), PARIS)
    assert period.start_ms == int(dt.datetime(2026, 11, 22, 23, 0, tzinfo=dt.UTC).timestamp() * 1000)
    assert period.end_ms - period.start_ms == 7 * 86_400_000
    assert len(list(period.days())) == 7


def test_the_day_clocks_go_back_has_25_hours() -> None:
    period = Period.one_day(dt.date(2026, 10, 25), PARIS)  # CEST -> CET
    assert period.end_ms - period.start_ms == 25 * 3_600_000


def test_a_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Period(dt.date(2026, 11, 2), dt.date(2026, 11, 1), PARIS)


@pytest.mark.parametrize(
    ("day", "start", "end", "first", "last"),
    [
        (dt.date(2026, 11, 24), None, None, dt.date(2026, 11, 24), dt.date(2026, 11, 24)),
        (None, dt.date(2026, 11, 1), dt.date(2026, 11, 30), dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
        (None, dt.date(2026, 11, 1), None, dt.date(2026, 11, 1), dt.date(2026, 11, 1)),
        (None, None, dt.date(2026, 11, 30), dt.date(2026, 11, 30), dt.date(2026, 11, 30)),
    ],
)
def test_resolve_period(day, start, end, first, last) -> None:
    period = resolve_period(PARIS, day, start, end)
    assert (period.first, period.last) == (first, last)


@pytest.mark.parametrize(
    ("day", "start", "end"), [(None, None, None), (dt.date(2026, 11, 24), dt.date(2026, 11, 1), None)]
)
def test_resolve_period_needs_exactly_one_way_of_saying_it(day, start, end) -> None:
    with pytest.raises(ValueError):
        resolve_period(PARIS, day, start, end)


def test_parse_days_accepts_ranges_and_lists() -> None:
    assert parse_days("mon-tue,thu-fri") == frozenset({0, 1, 3, 4})


@pytest.mark.parametrize(("km", "factor", "k"), [(-1.0, 0.193, 5), (20.0, -0.1, 5), (20.0, 0.193, 0)])
def test_assumptions_refuse_impossible_values(km, factor, k) -> None:
    with pytest.raises(ValueError):
        Assumptions(km, factor, k)
