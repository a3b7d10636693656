"""The unlocked schedule (e.g. reception hours): is it active at an instant, and when does that next change.

Windows are local wall-clock times in the site's zone. A start that falls in a spring-forward gap takes effect at
the same wall-clock offset as before the jump (02:30 becomes 03:30); an ambiguous autumn time means its first
occurrence. The daemon must not apply the schedule while the clock is untrusted: a wrong clock would unlock.

Closures (holidays from the member snapshot, as local-date ordinals) suspend the schedule: a window that opens on a
closed day does not unlock the door. As for plans, a window running past midnight belongs to the day it opened.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from edge.config.doors import WEEKDAYS, WeeklyWindow

_HORIZON_DAYS = 8  # a weekly schedule repeats within a week; one more day covers windows crossing midnight


_NO_CLOSURES: frozenset[int] = frozenset()


def _intervals(
    windows: Sequence[WeeklyWindow], around: datetime, tz: ZoneInfo, closed_days: Container[int] = _NO_CLOSURES
) -> Iterator[tuple[datetime, datetime]]:
    local_day = around.astimezone(tz).date()
    for offset in range(-1, _HORIZON_DAYS):
        day = local_day + timedelta(days=offset)
        if day.toordinal() in closed_days:
            continue
        weekday = WEEKDAYS[day.weekday()]
        for window in windows:
            if weekday not in window.days:
                continue
            start = datetime.combine(day, window.start, tzinfo=tz)
            end_day = day + timedelta(days=1) if window.end <= window.start else day
            yield start.astimezone(UTC), datetime.combine(end_day, window.end, tzinfo=tz).astimezone(UTC)


def scheduled_unlocked(
    windows: Sequence[WeeklyWindow], when: datetime, tz: ZoneInfo, closed_days: Container[int] = _NO_CLOSURES
) -> bool:
    """True when `when` (aware) falls inside one of the windows; windows opening on `closed_days` do not count."""
    return any(start <= when < end for start, end in _intervals(windows, when, tz, closed_days))


def next_schedule_change(windows: Sequence[WeeklyWindow], when: datetime, tz: ZoneInfo) -> datetime | None:
    """The first instant after `when` at which `scheduled_unlocked` changes, or None if it never does."""
    current = scheduled_unlocked(windows, when, tz)
    boundaries = sorted({edge for interval in _intervals(windows, when, tz) for edge in interval if edge > when})
    for boundary in boundaries:
        if scheduled_unlocked(windows, boundary, tz) != current:
            return boundary
    return None
