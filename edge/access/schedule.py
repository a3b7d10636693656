"""Weekly schedules in wall-clock time, compiled to a minute-of-week table for constant-time lookups.

A window `fri 22:00-02:00` opens on Friday at 22:00 and closes on Saturday at 02:00. Each minute of the week
carries two flags: open by a window that started that calendar day (`SAME_DAY`), and open by a window that
started the day before and runs past midnight (`PREVIOUS_DAY`). Closures use the flags to know which day's
closure applies: the night of the 24th belongs to the 24th.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 1440
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
SAME_DAY = 1
PREVIOUS_DAY = 2


@dataclass(frozen=True)
class WindowSpec:
    """One weekly window: the weekdays it opens on (0 = Monday) and its start and end minute of the day."""

    days: frozenset[int]
    start: int
    end: int

    @property
    def spans_midnight(self) -> bool:
        """True when the window closes on the next day (e.g. 22:00-02:00)."""
        return self.end <= self.start


def parse_days(items: Iterable[str]) -> frozenset[int]:
    """Turn day names and ranges (`mon`, `mon-fri`, `fri-mon`) into weekday numbers; raise ValueError otherwise."""
    days: set[int] = set()
    for item in items:
        text = item.strip().lower()
        first, sep, last = text.partition("-")
        if first not in DAY_NAMES or (sep and last not in DAY_NAMES):
            raise ValueError(f"{item!r} is not a day or a range of days (use mon..sun, e.g. mon-fri)")
        start = DAY_NAMES.index(first)
        stop = DAY_NAMES.index(last) if sep else start
        day = start
        while True:
            days.add(day)
            if day == stop:
                break
            day = (day + 1) % 7
    if not days:
        raise ValueError("at least one day is needed")
    return frozenset(days)


def parse_time(text: str, *, end: bool = False) -> int:
    """Turn `HH:MM` into minutes since midnight; `24:00` is accepted only as an end; raise ValueError otherwise."""
    hours, sep, minutes = text.partition(":")
    if not sep or len(minutes) != 2 or not hours.isdigit() or not minutes.isdigit() or len(hours) > 2:
        raise ValueError(f"{text!r} is not a time of day written HH:MM")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > MINUTES_PER_DAY or (value == MINUTES_PER_DAY and not end):
        limit = "00:00-24:00" if end else "00:00-23:59"
        raise ValueError(f"{text!r} is not a time of day ({limit})")
    return value


def format_time(minutes: int) -> str:
    """Turn minutes since midnight into `HH:MM`."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def compile_week(windows: Iterable[WindowSpec]) -> bytes:
    """Build the 10,080-entry table of flags, one per minute of the week, Monday 00:00 first."""
    table = bytearray(MINUTES_PER_WEEK)
    for window in windows:
        for day in window.days:
            if window.spans_midnight:
                _mark(table, day, window.start, MINUTES_PER_DAY, SAME_DAY)
                _mark(table, (day + 1) % 7, 0, window.end, PREVIOUS_DAY)
            else:
                _mark(table, day, window.start, window.end, SAME_DAY)
    return bytes(table)


def _mark(table: bytearray, day: int, start: int, end: int, flag: int) -> None:
    base = day * MINUTES_PER_DAY
    for minute in range(base + start, base + end):
        table[minute] |= flag
