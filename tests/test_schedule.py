"""The one schedule syntax: every form it accepts, every mistake it names, text round trips, the minute table.

Real instants (`active_at`, `next_change`, DST nights) are in test_schedule_instants.py; the key paths of schedule
mistakes in config files in test_config_schedule.py.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from edge.schedule import (
    ALL_DAYS,
    ALWAYS,
    MINUTES_PER_DAY,
    MINUTES_PER_WEEK,
    NEVER,
    PREVIOUS_DAY,
    SAME_DAY,
    Schedule,
    ScheduleError,
    Window,
    compile_week,
    format_days,
    parse_days,
    parse_schedule,
    parse_time,
)

WEEKDAYS = frozenset(range(5))

# -- every form --------------------------------------------------------------------------------------------

ACCEPTED = [
    ("a day range", "mon-fri 08:00-19:00", [Window(WEEKDAYS, 480, 1140)], "mon-fri 08:00-19:00"),
    ("a list of days", "mon,wed,fri 09:00-17:00", [Window(frozenset({0, 2, 4}), 540, 1020)], None),
    ("ranges and days mixed", "mon-wed,fri 09:00-17:00", [Window(frozenset({0, 1, 2, 4}), 540, 1020)], None),
    ("a range wrapping past sunday", "fri-mon 10:00-14:00", [Window(frozenset({4, 5, 6, 0}), 600, 840)], None),
    ("two days", "sat,sun 10:00-14:00", [Window(frozenset({5, 6}), 600, 840)], None),
    ("a two-day range", "sat-sun 10:00-14:00", [Window(frozenset({5, 6}), 600, 840)], "sat,sun 10:00-14:00"),
    ("one day as a range", "mon-mon 10:00-14:00", [Window(frozenset({0}), 600, 840)], "mon 10:00-14:00"),
    ("the whole week from sunday", "sun-sat 10:00-14:00", [Window(ALL_DAYS, 600, 840)], "mon-sun 10:00-14:00"),
    (
        "case and spaces",
        " Mon - Wed , FRI  8:30 - 18:45 ",
        [Window(frozenset({0, 1, 2, 4}), 510, 1125)],
        "mon-wed,fri 08:30-18:45",
    ),
    ("past midnight", "fri 22:00-02:00", [Window(frozenset({4}), 1320, 120)], None),
    ("until midnight", "sat 22:00-24:00", [Window(frozenset({5}), 1320, 1440)], None),
    ("00:00 as a closing is 24:00", "sat 22:00-00:00", [Window(frozenset({5}), 1320, 1440)], "sat 22:00-24:00"),
    ("a whole day", "sun 00:00-24:00", [Window(frozenset({6}), 0, 1440)], None),
    (
        "several windows a day",
        "mon-fri 08:00-12:00,14:00-18:00",
        [Window(WEEKDAYS, 480, 720), Window(WEEKDAYS, 840, 1080)],
        None,
    ),
    (
        "items separated by ;",
        "mon-fri 08:00-19:00; sat 09:00-13:00;",
        [Window(WEEKDAYS, 480, 1140), Window(frozenset({5}), 540, 780)],
        "mon-fri 08:00-19:00; sat 09:00-13:00",
    ),
    ("always", "always", [Window(ALL_DAYS, 0, 1440)], None),
    ("always, spelt out", "mon-sun 00:00-24:00", [Window(ALL_DAYS, 0, 1440)], "always"),
    ("never", "never", [], None),
]


@pytest.mark.parametrize(("case", "text", "windows", "canonical"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_every_form_of_the_syntax(case: str, text: str, windows: list[Window], canonical: str | None) -> None:
    schedule = parse_schedule(text)
    assert schedule.windows == tuple(windows)
    assert str(schedule) == (canonical or text)


@pytest.mark.parametrize(
    ("text", "closed"),
    [
        ("closed 2026-12-25", ["2026-12-25"]),
        ("CLOSED 2026-12-24..2026-12-26", ["2026-12-24", "2026-12-25", "2026-12-26"]),
        ("closed 2028-02-28 .. 2028-03-01", ["2028-02-28", "2028-02-29", "2028-03-01"]),
        ("closed 2026-12-25; closed 2026-12-25..2026-12-26", ["2026-12-25", "2026-12-26"]),
    ],
)
def test_closed_dates(text: str, closed: list[str]) -> None:
    assert parse_schedule(text).closed == frozenset(dt.date.fromisoformat(day) for day in closed)


def test_a_list_of_items_is_the_same_as_one_line() -> None:
    assert parse_schedule(["mon-fri 08:00-19:00", "closed 2026-12-25"]) == parse_schedule(
        "mon-fri 08:00-19:00; closed 2026-12-25"
    )
    assert parse_schedule([]) == NEVER


@pytest.mark.parametrize(
    ("value", "days"),
    [
        ("mon", {0}),
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("fri-mon", {4, 5, 6, 0}),
        ("sun-tue", {6, 0, 1}),
        ("mon-fri,sat", {0, 1, 2, 3, 4, 5}),
        ("Mon-Wed, Fri", {0, 1, 2, 4}),
        (["mon"], {0}),  # the list forms of member plans and of doors
        (["mon-fri"], {0, 1, 2, 3, 4}),
        (["sat", "sun"], {5, 6}),
        (["MON-wed", "fri"], {0, 1, 2, 4}),
        (["mon", "tue", "wed", "thu", "fri", "sat", "sun"], set(range(7))),
        (["mon-fri,sat"], {0, 1, 2, 3, 4, 5}),
    ],
)
def test_days(value: str | list[str], days: set[int]) -> None:
    assert parse_days(value) == frozenset(days)


@pytest.mark.parametrize(
    ("text", "end", "minutes"),
    [("00:00", False, 0), ("08:00", False, 480), ("8:05", False, 485), ("23:59", False, 1439), ("24:00", True, 1440)],
)
def test_times(text: str, end: bool, minutes: int) -> None:
    assert parse_time(text, end=end) == minutes


# -- every mistake -----------------------------------------------------------------------------------------

DAYS_HOW = "write days as mon, tue, ... or a range mon-fri"
RANGE_HOW = "a range is a first and a last day, e.g. mon-fri; a list is mon,wed,fri"
CLOSED_HOW = "write closed YYYY-MM-DD, or closed YYYY-MM-DD..YYYY-MM-DD for several days"
REFUSED = [
    ("mon-fryday 08:00-19:00", f'"mon-fryday": unknown day "fryday"; {DAYS_HOW}'),
    ("monday 08:00-19:00", f'"monday": unknown day "monday" (write it "mon"); {DAYS_HOW}'),
    ("lun-ven 08:00-19:00", f'"lun-ven": unknown day "lun" (write it "mon"); {DAYS_HOW}'),
    ("mon fri 08:00-19:00", '"mon fri": separate days with commas (mon,fri) or write a range (mon-fri)'),
    ("mon,,fri 08:00-19:00", f'"mon,,fri": a day is missing between commas; {DAYS_HOW}'),
    ("mon-wed-fri 08:00-19:00", f'"mon-wed-fri": {RANGE_HOW}'),
    ("mon- 08:00-19:00", f'"mon-": {RANGE_HOW}'),
    ("mon-fri", '"mon-fri": a window needs times after its days, e.g. "mon-fri 08:00-19:00"'),
    ("monday", f'"monday": unknown day "monday" (write it "mon"); {DAYS_HOW}'),
    ("08:00-19:00", '"08:00-19:00": a window needs days before its times, e.g. "mon-fri 08:00-19:00"'),
    ("sometimes", '"sometimes": write always, never, or windows such as "mon-fri 08:00-19:00"'),
    ("mon 8-19", '"8-19": write a time range as HH:MM-HH:MM, e.g. 08:00-19:00'),
    ("mon 08:00-19", '"08:00-19": write a time range as HH:MM-HH:MM, e.g. 08:00-19:00'),
    ("mon 08:00", '"08:00": write a time range as HH:MM-HH:MM, e.g. 08:00-19:00'),
    ("mon 08:00-12:00,", '"": write a time range as HH:MM-HH:MM, e.g. 08:00-19:00'),
    ("mon 8h00-19:00", '"8h00-19:00": write a time range as HH:MM-HH:MM, e.g. 08:00-19:00'),
    ("mon 8:0-19:00", '"8:0": write times as HH:MM, e.g. 08:30'),
    ("mon 08:00:00-19:00", '"08:00:00": write times as HH:MM, without seconds'),
    ("mon 25:00-26:00", '"25:00": not a time of day; times run from 00:00 to 24:00'),
    ("mon 12:60-13:00", '"12:60": not a time of day; times run from 00:00 to 24:00'),
    ("mon 08:00-24:01", '"24:01": not a time of day; times run from 00:00 to 24:00'),
    ("mon 24:00-08:00", '"24:00": a window cannot open at 24:00; write 00:00'),
    ("mon 08:00-08:00", '"08:00-08:00": opens and closes at the same time; write 00:00-24:00 for a whole day'),
    ("mon 00:00-00:00", '"00:00-00:00": opens and closes at the same time; write 00:00-24:00 for a whole day'),
    (
        "mon-fri 08:00-19:00 sat 09:00-12:00",
        '"mon-fri 08:00-19:00 sat 09:00-12:00": separate windows with ";", e.g. "mon-fri 08:00-19:00; sat 09:00-12:00"',
    ),
    ("closed", f'"closed": {CLOSED_HOW}'),
    ("closed 2026-02-30", f'"closed 2026-02-30": 2026-02-30 is not a date; {CLOSED_HOW}'),
    ("closed 25/12/2026", f'"closed 25/12/2026": 25/12/2026 is not a date; {CLOSED_HOW}'),
    ("closed 2026-W52-5", f'"closed 2026-W52-5": 2026-W52-5 is not a date; {CLOSED_HOW}'),
    ("closed 2026-12-25 2026-12-26", f'"closed 2026-12-25 2026-12-26": {CLOSED_HOW}'),
    ("closed 2026-12-26..2026-12-24", '"closed 2026-12-26..2026-12-24": ends before it starts'),
    ("closed 2026-01-01..2027-01-02", '"closed 2026-01-01..2027-01-02": a closure spans at most 366 days; split it'),
    ("never; mon 08:00-09:00", '"never" stands alone: it means no window at all'),
    ("", 'no schedule given; write always, never, or windows such as "mon-fri 08:00-19:00"'),
    (" ; ", 'no schedule given; write always, never, or windows such as "mon-fri 08:00-19:00"'),
]


@pytest.mark.parametrize(("text", "message"), REFUSED, ids=[r[0] or "(empty)" for r in REFUSED])
def test_every_mistake_is_named_with_how_to_write_it(text: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], f"no day given; {DAYS_HOW}"),
        ([""], f"no day given; {DAYS_HOW}"),
        ([1], f"1 is not a day; {DAYS_HOW}"),
        (["mon", "funday"], f'"mon,funday": unknown day "funday"; {DAYS_HOW}'),
    ],
)
def test_bad_day_lists_are_refused(value: list[object], message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_days(value)  # type: ignore[arg-type]
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "end"),
    [
        ("24:00", False),
        ("24:01", True),
        ("12:60", False),
        ("12", False),
        ("", False),
        ("1:2", False),
        ("ab:cd", False),
        ("123:00", True),
        ("٠٨:٠٠", False),  # Arabic-Indic digits: int() would read them
    ],
)
def test_bad_times_are_refused(text: str, end: bool) -> None:
    with pytest.raises(ScheduleError):
        parse_time(text, end=end)


@pytest.mark.parametrize(
    ("days", "start", "end"), [(frozenset(), 0, 60), (frozenset({7}), 0, 60), (WEEKDAYS, 60, 60), (WEEKDAYS, 0, 0)]
)
def test_a_window_that_cannot_exist_is_refused(days: frozenset[int], start: int, end: int) -> None:
    with pytest.raises(ScheduleError):
        Window(days, start, end)


# -- rendering, the table, the questions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "text"),
    [
        ({0, 1, 2, 3, 4}, "mon-fri"),
        ({4, 5, 6, 0}, "fri-mon"),
        ({0, 1, 2, 4}, "mon-wed,fri"),
        ({5, 6}, "sat,sun"),
        ({6, 0}, "sun,mon"),
        ({2, 4, 5, 6, 0}, "wed,fri-mon"),
        (set(range(7)), "mon-sun"),
    ],
)
def test_days_are_written_back_as_ranges_and_lists(days: set[int], text: str) -> None:
    assert format_days(frozenset(days)) == text


def test_the_table_marks_which_day_a_minute_belongs_to() -> None:
    week = parse_schedule("sun 22:00-02:00; mon 01:00-03:00").week
    monday_0130 = 90
    assert week[monday_0130] == SAME_DAY | PREVIOUS_DAY  # Sunday's night (wrapping the week) and Monday's window
    assert week[6 * MINUTES_PER_DAY + 22 * 60] == SAME_DAY
    assert week[120] == SAME_DAY and week[180] == 0


@pytest.mark.parametrize(
    ("text", "always"),
    [
        ("always", True),
        ("mon-sun 00:00-12:00,12:00-24:00", True),
        ("mon-sun 12:00-12:01; mon-sun 12:01-12:00", True),
        ("mon-sat 00:00-24:00", False),
        ("always; closed 2026-12-25", False),
        ("never", False),
    ],
)
def test_always_means_every_minute_of_the_week(text: str, always: bool) -> None:
    assert parse_schedule(text).is_always is always


def test_opens_on_is_about_the_day_a_window_opens() -> None:
    schedule = parse_schedule("sat 22:00-02:00; closed 2026-12-26")
    assert schedule.opens_on(dt.date(2026, 12, 19))  # a Saturday
    assert not schedule.opens_on(dt.date(2026, 12, 20))  # Sunday: open until 02:00, but nothing opens
    assert not schedule.opens_on(dt.date(2026, 12, 26))  # a closed Saturday


def test_open_in_hour_counts_any_minute_of_the_hour() -> None:
    schedule = parse_schedule("mon 08:30-10:00; fri 23:00-00:30")
    assert [h for h in range(24) if schedule.open_in_hour(0, h)] == [8, 9]
    assert schedule.open_in_hour(5, 0) and not schedule.open_in_hour(5, 1)


def test_a_closure_closes_the_night_that_opens_on_it_and_not_the_one_before() -> None:
    owl = parse_schedule("mon-sun 22:00-02:00; closed 2026-12-25")
    assert owl.contains(dt.datetime(2026, 12, 25, 1, 0))  # the night of the 24th
    assert not owl.contains(dt.datetime(2026, 12, 25, 23, 0))
    assert not owl.contains(dt.datetime(2026, 12, 26, 1, 0))  # the night of the 25th
    assert owl.contains(dt.datetime(2026, 12, 26, 23, 0))


# -- properties --------------------------------------------------------------------------------------------

windows = st.tuples(
    st.frozensets(st.integers(0, 6), min_size=1), st.integers(0, MINUTES_PER_DAY - 1), st.integers(1, MINUTES_PER_DAY)
).filter(lambda w: w[1] != w[2]).map(lambda w: Window(*w)) | st.just(ALWAYS.windows[0])
dates = st.dates(dt.date(2026, 1, 1), dt.date(2028, 12, 31))
closures = st.frozensets(dates, max_size=5) | st.builds(
    lambda first, length: frozenset(first + dt.timedelta(days=n) for n in range(length)), dates, st.integers(1, 800)
)
schedules = st.builds(Schedule, st.lists(windows, max_size=5).map(tuple), st.just(frozenset()) | closures)


@given(schedules)
def test_any_schedule_written_as_text_reads_back_equal(schedule: Schedule) -> None:
    assert parse_schedule(str(schedule)) == schedule
    assert parse_schedule(schedule.items()) == schedule


def open_minutes(schedule: Schedule, days: set[dt.date]) -> set[int]:
    """Every open local minute (minutes since 0001-01-01) of windows opening on these days and the days before,
    found by walking each window minute by minute from its opening."""
    found: set[int] = set()
    for day in {d - dt.timedelta(days=back) for d in days for back in (0, 1)}:
        if day in schedule.closed:
            continue
        for window in schedule.windows:
            if day.weekday() in window.days:
                minute = day.toordinal() * MINUTES_PER_DAY + window.start
                for _ in range((window.end - window.start) % MINUTES_PER_DAY or MINUTES_PER_DAY):
                    found.add(minute)
                    minute += 1
    return found


local_minutes = st.builds(
    lambda day, minute: dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute),
    dates,
    st.integers(0, MINUTES_PER_DAY - 1),
)


@settings(deadline=None)  # the walk takes a few milliseconds, more on a busy machine
@given(schedules, st.lists(local_minutes, min_size=1, max_size=20))
@example(parse_schedule("sun 22:00-02:00"), [dt.datetime(2026, 3, 2, 1, 59), dt.datetime(2026, 3, 2, 2, 0)])
@example(parse_schedule("sun 22:00-02:00; closed 2026-03-01"), [dt.datetime(2026, 3, 2, 1, 0)])
def test_contains_agrees_with_walking_the_windows_minute_by_minute(
    schedule: Schedule, probes: list[dt.datetime]
) -> None:
    walked = open_minutes(schedule, {local.date() for local in probes})
    for local in probes:
        minute = local.toordinal() * MINUTES_PER_DAY + local.hour * 60 + local.minute
        assert schedule.contains(local) == (minute in walked), local


@settings(deadline=None)
@given(schedules, st.lists(local_minutes, min_size=1, max_size=10))
def test_without_daylight_saving_an_instant_and_its_wall_clock_agree(
    schedule: Schedule, probes: list[dt.datetime]
) -> None:
    utc = ZoneInfo("UTC")
    for local in probes:
        assert schedule.active_at(local.replace(tzinfo=utc), utc) == schedule.contains(local), local


@given(st.lists(windows, min_size=1, max_size=4), st.lists(st.integers(0, MINUTES_PER_WEEK - 1), max_size=50))
def test_the_table_flags_agree_with_the_definition(specs: list[Window], probes: list[int]) -> None:
    table = compile_week(specs)
    for minute in probes:
        day, time = divmod(minute, MINUTES_PER_DAY)
        expected = 0
        for w in specs:
            if w.spans_midnight:
                expected |= SAME_DAY if day in w.days and time >= w.start else 0
                expected |= PREVIOUS_DAY if (day - 1) % 7 in w.days and time < w.end else 0
            elif day in w.days and w.start <= time < w.end:
                expected |= SAME_DAY
        assert table[minute] == expected


syntax = st.text(alphabet="monwedfrisatuhclo 0123456789:-,;.", max_size=40)


@given(st.text(max_size=40) | syntax)
def test_any_text_is_a_schedule_or_a_schedule_error(text: str) -> None:
    try:
        schedule = parse_schedule(text)
    except ScheduleError as exc:
        assert str(exc)
    else:
        assert parse_schedule(str(schedule)) == schedule
