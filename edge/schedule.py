"""Weekly schedules: one syntax and one model for plans, unlocked doors, opening hours and the report.

The text form (docs/configuration.md, "Weekly schedules") is a list of items, or one line of items separated
by `;`:

* `mon-fri 08:00-19:00`: days, then one or more time ranges (`mon-fri 08:00-12:00,14:00-18:00`). Days are
  `mon` ... `sun`, ranges `mon-fri` (`fri-mon` wraps past Sunday) and lists `mon,wed,fri`. A range that closes
  at or before it opens runs past midnight (`fri 22:00-02:00` closes on Saturday at 02:00); `24:00` ends a day.
* `always`: every day, 00:00-24:00. `never`, alone: no window at all.
* `closed 2026-12-25`, `closed 2026-12-24..2026-12-26`: dates on which no window opens.

A window belongs to the day it opens: a closure on the 25th closes the night of the 25th to the 26th and leaves
the night of the 24th alone. Compiled, a schedule is a table of one byte per minute of the week: `SAME_DAY` when a
window that opened that calendar day covers the minute, `PREVIOUS_DAY` when one that opened the day before runs
past midnight into it; closures use the two flags to know which day's closure applies.

Two questions, which differ only when a window starts or ends inside a daylight-saving jump:
* `contains(local)` reads a wall clock (member plans, the report): at the spring jump `sat 22:00-02:30` closes
  at 03:00 local, the jump; in the autumn's repeated hour both readings of 02:15 are inside it.
* `active_at(instant, tz)` asks about a real instant (a door's unlocked schedule, the collector's opening hours):
  each window is a real interval; a time in the spring gap counts as if the clock had not jumped (02:30 is 03:30)
  and a repeated autumn time means its first occurrence, so a door never unlocks twice in one night.

Pure: no I/O, no clock. Errors are `ScheduleError` (a ValueError) whose message quotes the bad part and says how
to write it; the caller puts the key or option in front.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS = frozenset(range(7))
MINUTES_PER_DAY = 1440
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
SAME_DAY = 1
PREVIOUS_DAY = 2
MAX_CLOSURE_DAYS = 366

_DAYS_HOW = "write days as mon, tue, ... or a range mon-fri"
_WINDOW_EXAMPLE = '"mon-fri 08:00-19:00"'
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CLOSED = re.compile(r"closed\s+(\S+?)(?:\s*\.\.\s*(\S+))?", re.IGNORECASE)
_FRENCH = {"lun": "mon", "mar": "tue", "mer": "wed", "jeu": "thu", "ven": "fri", "sam": "sat", "dim": "sun"}
_HORIZON_DAYS = 8  # a week repeats within 7 days; one more covers windows crossing midnight
_NONE: frozenset[int] = frozenset()


class ScheduleError(ValueError):
    """A schedule written wrongly; the message quotes the part and says how to write it."""


def _q(text: str) -> str:
    return f'"{text}"'


# -- parsing -----------------------------------------------------------------------------------------------


def parse_days(value: str | Iterable[str]) -> frozenset[int]:
    """`mon-fri,sat`, `fri-mon` (wraps past Sunday), or a list of such parts -> weekday numbers (0 = Monday)."""
    if isinstance(value, str):
        items = [value]
    else:
        items = list(value)
        for item in items:
            if not isinstance(item, str):
                raise ScheduleError(f"{item!r} is not a day; {_DAYS_HOW}")
    shown = ",".join(items)
    if not shown.strip():
        raise ScheduleError(f"no day given; {_DAYS_HOW}")
    days: set[int] = set()
    for part in shown.split(","):
        days.update(_day_range(part, shown))
    return frozenset(days)


def _day_range(part: str, shown: str) -> Iterator[int]:
    ends = [end.strip().lower() for end in part.split("-")]
    if ends == [""]:
        raise ScheduleError(f"{_q(shown)}: a day is missing between commas; {_DAYS_HOW}")
    if len(ends) > 2 or "" in ends:
        raise ScheduleError(f"{_q(shown)}: a range is a first and a last day, e.g. mon-fri; a list is mon,wed,fri")
    first, last = _day(ends[0], shown), _day(ends[-1], shown)
    return ((first + step) % 7 for step in range((last - first) % 7 + 1))


def _day(name: str, shown: str) -> int:
    if name in DAY_NAMES:
        return DAY_NAMES.index(name)
    if any(c.isspace() for c in name):
        raise ScheduleError(f"{_q(shown)}: separate days with commas (mon,fri) or write a range (mon-fri)")
    guess = name[:3] if name[:3] in DAY_NAMES else _FRENCH.get(name[:3])
    hint = f' (write it "{guess}")' if guess else ""
    raise ScheduleError(f"{_q(shown)}: unknown day {_q(name)}{hint}; {_DAYS_HOW}")


def parse_time(text: str, *, end: bool = False) -> int:
    """`HH:MM` -> minutes since midnight; `24:00` is accepted only as an end."""
    text = text.strip()
    match = _TIME.fullmatch(text)
    if match is None:
        if re.fullmatch(r"[0-9]{1,2}:[0-9]{2}:[0-9]{2}", text):
            raise ScheduleError(f"{_q(text)}: write times as HH:MM, without seconds")
        raise ScheduleError(f"{_q(text)}: write times as HH:MM, e.g. 08:30")
    hours, minutes = int(match[1]), int(match[2])
    value = hours * 60 + minutes
    if minutes > 59 or value > MINUTES_PER_DAY:
        raise ScheduleError(f"{_q(text)}: not a time of day; times run from 00:00 to 24:00")
    if value == MINUTES_PER_DAY and not end:
        raise ScheduleError(f"{_q(text)}: a window cannot open at 24:00; write 00:00")
    return value


def parse_times(days: frozenset[int], text: str) -> list[Window]:
    """`08:00-12:00,14:00-18:00` on these days -> one window per time range."""
    windows = []
    for part in text.split(","):
        ends = part.split("-")
        if len(ends) != 2 or not all(":" in e for e in ends):
            raise ScheduleError(f"{_q(part.strip())}: write a time range as HH:MM-HH:MM, e.g. 08:00-19:00")
        windows.append(window_from(days, parse_time(ends[0]), parse_time(ends[1], end=True)))
    return windows


def window_from(days: frozenset[int], start: int, end: int) -> Window:
    """A window from parsed days and minutes; a closing at 00:00 is midnight at the end of the day (24:00)."""
    if end == start:
        shown = f"{format_time(start)}-{format_time(end)}"
        raise ScheduleError(f"{_q(shown)}: opens and closes at the same time; write 00:00-24:00 for a whole day")
    return Window(days, start, end or MINUTES_PER_DAY)


def make_window(days: str | Iterable[str], start: str, end: str) -> Window:
    """A window from its days and its opening and closing times as text (the mapping and snapshot forms)."""
    return window_from(parse_days(days), parse_time(start), parse_time(end, end=True))


def parse_item(text: str) -> Schedule:
    """One item: `mon-fri 08:00-19:00[,...]`, `always` or `closed DATE[..DATE]`."""
    item = " ".join(text.split())
    word = item.lower()
    if not item:
        raise ScheduleError(f"an empty item; write a window such as {_WINDOW_EXAMPLE}")
    if word == "always":
        return ALWAYS
    if word == "never":
        raise ScheduleError('"never" stands alone: it means no window at all')
    if word.split(" ")[0] == "closed":
        return Schedule(closed=_closure(item))
    digit = next((i for i, c in enumerate(item) if c in "0123456789"), None)
    if digit is None:
        if not re.search(r"[\s,-]", item) and word[:3] not in DAY_NAMES and word[:3] not in _FRENCH:
            raise ScheduleError(f"{_q(item)}: write always, never, or windows such as {_WINDOW_EXAMPLE}")
        parse_days(item)
        raise ScheduleError(f'{_q(item)}: a window needs times after its days, e.g. "{item} 08:00-19:00"')
    days, times = item[:digit].strip(), item[digit:]
    if not days:
        raise ScheduleError(f'{_q(item)}: a window needs days before its times, e.g. "mon-fri {item}"')
    if re.search(r"[a-z]{3}", times, re.IGNORECASE):  # another window's days
        raise ScheduleError(f'{_q(item)}: separate windows with ";", e.g. "mon-fri 08:00-19:00; sat 09:00-12:00"')
    return Schedule(tuple(parse_times(parse_days(days), times)))


def _closure(item: str) -> frozenset[dt.date]:
    how = "write closed YYYY-MM-DD, or closed YYYY-MM-DD..YYYY-MM-DD for several days"
    match = _CLOSED.fullmatch(item)
    if match is None:
        raise ScheduleError(f"{_q(item)}: {how}")
    first = _date(match[1], item, how)
    last = _date(match[2], item, how) if match[2] else first
    if last < first:
        raise ScheduleError(f"{_q(item)}: ends before it starts")
    if (last - first).days >= MAX_CLOSURE_DAYS:
        raise ScheduleError(f"{_q(item)}: a closure spans at most {MAX_CLOSURE_DAYS} days; split it")
    return frozenset(first + dt.timedelta(days=n) for n in range((last - first).days + 1))


def _date(text: str, item: str, how: str) -> dt.date:
    try:
        if _DATE.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise ScheduleError(f"{_q(item)}: {text} is not a date; {how}")


def parse_schedule(value: str | Iterable[str]) -> Schedule:
    """A whole schedule: items separated by `;` in one string, or a list of items; an empty list is `never`."""
    if isinstance(value, str):
        items = [item for item in value.split(";") if item.strip()]
        if not items:
            raise ScheduleError(f"no schedule given; write always, never, or windows such as {_WINDOW_EXAMPLE}")
    else:
        items = list(value)
    if [item.strip().lower() for item in items] == ["never"]:
        return NEVER
    return merge(parse_item(item) for item in items)


def merge(parts: Iterable[Schedule]) -> Schedule:
    """One schedule made of the windows of every part, in order, and all their closures."""
    windows: list[Window] = []
    closed: set[dt.date] = set()
    for part in parts:
        windows.extend(part.windows)
        closed.update(part.closed)
    return Schedule(tuple(windows), frozenset(closed))


# -- rendering ---------------------------------------------------------------------------------------------


def format_time(minutes: int) -> str:
    """Minutes since midnight as `HH:MM` (1440 is `24:00`)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def format_days(days: frozenset[int]) -> str:
    """Weekday numbers as text: runs of three or more as ranges (`mon-fri`, `fri-mon`), others listed."""
    if days == ALL_DAYS:
        return "mon-sun"
    parts = []
    for first in sorted(d for d in days if (d - 1) % 7 not in days):
        length = 1
        while (first + length) % 7 in days:
            length += 1
        if length >= 3:
            parts.append(f"{DAY_NAMES[first]}-{DAY_NAMES[(first + length - 1) % 7]}")
        else:
            parts.extend(DAY_NAMES[(first + n) % 7] for n in range(length))
    return ",".join(parts)


def _closure_items(closed: frozenset[dt.date]) -> Iterator[str]:
    days = sorted(closed)
    while days:
        first = last = days.pop(0)
        while days and days[0] == last + dt.timedelta(days=1) and (days[0] - first).days < MAX_CLOSURE_DAYS:
            last = days.pop(0)
        yield f"closed {first}" if first == last else f"closed {first}..{last}"


# -- the model ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """Weekdays a window opens on (0 = Monday), its opening minute and its closing minute (1440 = 24:00).

    A closing minute before the opening one is on the next day.
    """

    days: frozenset[int]
    start: int
    end: int

    def __post_init__(self) -> None:
        if not self.days or not self.days <= ALL_DAYS:
            raise ScheduleError(f"a window opens on some of the days 0-6 (mon-sun), not {sorted(self.days)}")
        if not 0 <= self.start < MINUTES_PER_DAY or not 0 < self.end <= MINUTES_PER_DAY or self.start == self.end:
            raise ScheduleError(f"a window opens at 0-1439 and closes at another minute 1-1440, not {self.times}")

    @property
    def spans_midnight(self) -> bool:
        """True when the window closes on the next day (e.g. 22:00-02:00)."""
        return self.end < self.start

    @property
    def times(self) -> str:
        """`HH:MM-HH:MM`."""
        return f"{format_time(self.start)}-{format_time(self.end)}"

    def __str__(self) -> str:
        return f"{format_days(self.days)} {self.times}"


@dataclass(frozen=True)
class Schedule:
    """Weekly windows in the site's wall-clock time, and dates on which none of them opens."""

    windows: tuple[Window, ...] = ()
    closed: frozenset[dt.date] = field(default_factory=frozenset)

    @cached_property
    def week(self) -> bytes:
        """One byte of `SAME_DAY` / `PREVIOUS_DAY` flags per minute of the week, Monday 00:00 first."""
        return compile_week(self.windows)

    @cached_property
    def _closed_days(self) -> frozenset[int]:
        return frozenset(day.toordinal() for day in self.closed)

    @cached_property
    def is_always(self) -> bool:
        """Open every minute of every day: no closure and no minute of the week left out."""
        return not self.closed and all(self.week)

    def contains(self, local: dt.datetime) -> bool:
        """Open at this wall-clock reading (the site's local time), closures considered."""
        flags = self.week[local.weekday() * MINUTES_PER_DAY + local.hour * 60 + local.minute]
        if not flags or not self.closed:
            return flags != 0
        day = local.toordinal()
        return bool(
            (flags & SAME_DAY and day not in self._closed_days)
            or (flags & PREVIOUS_DAY and day - 1 not in self._closed_days)
        )

    def opens_on(self, day: dt.date) -> bool:
        """Some window opens on this date (its weekday, and the date is not closed)."""
        return day not in self.closed and any(day.weekday() in w.days for w in self.windows)

    def open_in_hour(self, weekday: int, hour: int) -> bool:
        """Some minute of this hour of this weekday is inside a window (closures aside)."""
        first = weekday * MINUTES_PER_DAY + hour * 60
        return any(self.week[first : first + 60])

    def active_at(self, instant: dt.datetime, tz: ZoneInfo, closed_days: Container[int] = _NONE) -> bool:
        """Inside a window at this real (aware) instant; windows opening on `closed_days` (ordinals) do not count."""
        return any(start <= instant < end for start, end in self._intervals(instant, tz, closed_days))

    def next_change(
        self, instant: dt.datetime, tz: ZoneInfo, closed_days: Container[int] = _NONE
    ) -> dt.datetime | None:
        """The first instant after `instant` at which `active_at` changes, or None if it never does."""
        current = self.active_at(instant, tz, closed_days)
        edges = sorted({edge for pair in self._intervals(instant, tz, closed_days) for edge in pair if edge > instant})
        for edge in edges:
            if self.active_at(edge, tz, closed_days) != current:
                return edge
        return None

    def _intervals(
        self, around: dt.datetime, tz: ZoneInfo, closed_days: Container[int]
    ) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        local_day = around.astimezone(tz).date()
        for offset in range(-1, _HORIZON_DAYS):
            day = local_day + dt.timedelta(days=offset)
            ordinal = day.toordinal()
            if ordinal in self._closed_days or ordinal in closed_days:
                continue
            weekday = day.weekday()
            for window in self.windows:
                if weekday in window.days:
                    start = dt.datetime.combine(day, _clock(window.start), tzinfo=tz)
                    end_day = day + dt.timedelta(days=1) if window.end <= window.start or window.end == 1440 else day
                    end = dt.datetime.combine(end_day, _clock(window.end % MINUTES_PER_DAY), tzinfo=tz)
                    yield start.astimezone(dt.UTC), end.astimezone(dt.UTC)

    def items(self) -> list[str]:
        """The schedule as text items (windows with the same days on one item), which parse back to it."""
        out: list[str] = []
        index = 0
        while index < len(self.windows):
            days = self.windows[index].days
            group = [self.windows[index]]
            while index + len(group) < len(self.windows) and self.windows[index + len(group)].days == days:
                group.append(self.windows[index + len(group)])
            index += len(group)
            times = ",".join(w.times for w in group)
            out.append("always" if group == [_ALWAYS_WINDOW] else f"{format_days(days)} {times}")
        out.extend(_closure_items(self.closed))
        return out

    def __str__(self) -> str:
        return "; ".join(self.items()) or "never"


def _clock(minute: int) -> dt.time:
    return dt.time(minute // 60, minute % 60)


def compile_week(windows: Iterable[Window]) -> bytes:
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


_ALWAYS_WINDOW = Window(ALL_DAYS, 0, MINUTES_PER_DAY)
ALWAYS = Schedule((_ALWAYS_WINDOW,))
"""Every day, 00:00-24:00."""
NEVER = Schedule()
"""No window."""
