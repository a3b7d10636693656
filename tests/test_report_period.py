"""Report periods, opening hours (`--hours`, `--days`) and assumptions: parsing and the local-time rules."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.cli.report import UsageError, opening_hours
from edge.report.build import resolve_period
from edge.report.commute import Commute, ModeShare
from edge.report.factors import Factor
from edge.report.period import DEFAULT_OPENING_HOURS, Assumptions, Period

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("hours", "days", "label"),
    [
        (None, None, "mon-fri 08:00-19:00"),
        ("08:00-19:00", "mon-fri", "mon-fri 08:00-19:00"),
        ("8:30 - 18:45", "mon-sat", "mon-sat 08:30-18:45"),
        ("00:00-24:00", "mon-sun", "always"),
        ("09:00-17:00", "mon,wed,fri", "mon,wed,fri 09:00-17:00"),
        ("09:00-17:00", "Mon-Wed, Fri", "mon-wed,fri 09:00-17:00"),
        ("09:00-17:00", "sat,sun", "sat,sun 09:00-17:00"),
        ("09:00-17:00", None, "mon-fri 09:00-17:00"),
        (None, "mon-sat", "mon-sat 08:00-19:00"),
        # what the report refused before its hours took the one schedule syntax
        ("08:00-19:00", "fri-mon", "fri-mon 08:00-19:00"),
        ("19:00-08:00", "mon-fri", "mon-fri 19:00-08:00"),
        ("08:00-12:00,14:00-19:00", "mon-fri", "mon-fri 08:00-12:00,14:00-19:00"),
        ("mon-fri 08:00-19:00; sat 09:00-12:00", None, "mon-fri 08:00-19:00; sat 09:00-12:00"),
        ("always; closed 2026-12-25", None, "always; closed 2026-12-25"),
    ],
)
def test_opening_hours_options(hours: str | None, days: str | None, label: str) -> None:
    assert str(opening_hours(hours, days)) == label


@pytest.mark.parametrize(
    ("hours", "days", "message"),
    [
        ("8-19", "mon-fri", '--hours: "8-19": write a time range as HH:MM-HH:MM'),
        ("08:00-08:00", "mon-fri", '--hours: "08:00-08:00": opens and closes at the same time'),
        ("08:00-25:00", "mon-fri", '--hours: "25:00": not a time of day'),
        ("08:61-19:00", "mon-fri", '--hours: "08:61": not a time of day'),
        ("08:00-19:00", "monday", '--days: "monday": unknown day "monday" (write it "mon")'),
        ("08:00-19:00", "mon-wed-fri", '--days: "mon-wed-fri": a range is a first and a last day'),
        ("08:00-19:00", "", "--days: no day given"),
        ("mon-fri 08:00-19:00", "sat", "--days goes with times-only --hours"),
        ("sometimes", None, '--hours: "sometimes": write always, never, or windows'),
    ],
)
def test_bad_opening_hours_options_are_refused_naming_the_option(hours: str, days: str | None, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        opening_hours(hours, days)
    assert str(caught.value).startswith(message)


@given(st.none() | st.text(max_size=30), st.none() | st.text(max_size=20))
def test_the_opening_hours_options_give_a_schedule_or_a_usage_error(hours: str | None, days: str | None) -> None:
    try:
        opening_hours(hours, days)
    except UsageError as exc:
        assert str(exc).startswith(("--hours: ", "--days"))


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
def test_open_from_opening_time_until_just_before_closing(local: dt.datetime, is_open: bool) -> None:
    assert DEFAULT_OPENING_HOURS.contains(local.replace(tzinfo=PARIS)) is is_open


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


@pytest.mark.parametrize(
    "make",
    [
        lambda: Assumptions(min_count=0),
        lambda: Assumptions(Commute((ModeShare("car", 1.0, -1.0),))),
        lambda: Assumptions(Commute((ModeShare("car", 0.5, 10.0),))),  # shares add up to 0.5
        lambda: Assumptions(Commute((ModeShare("plane", 1.0, 10.0),))),  # no such mode, no factor given
        lambda: Assumptions(Commute(round_trips=0)),
        lambda: Factor(-0.1),
    ],
)
def test_assumptions_refuse_impossible_values(make) -> None:
    with pytest.raises(ValueError):
        make()
