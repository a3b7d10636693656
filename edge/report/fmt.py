"""How figures read in the report: percentages, counts that may be withheld, durations, local times."""

from __future__ import annotations

import datetime as dt
from html import escape
from zoneinfo import ZoneInfo

from edge.report.model import Withheld

NA = "–"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def pct(value: float | None) -> str:
    """`62 %` (`0.4 %` below one percent, so that a small share does not read as none), or a dash."""
    if value is None:
        return NA
    return f"{value * 100:.1f} %" if 0 < value < 0.01 else f"{value * 100:.0f} %"


def number(value: float | Withheld | None, digits: int = 1) -> str:
    """A number with `digits` decimals (thousands separated), `<k` when withheld, a dash when absent."""
    if value is None:
        return NA
    if isinstance(value, Withheld):
        return str(value)
    return f"{value:,.{digits}f}".replace(",", "\u202f")


def count(value: int | Withheld | None) -> str:
    """A whole count."""
    return number(value, 0)


def duration(seconds: float | Withheld | None) -> str:
    """`5 h 20 min`."""
    if seconds is None or isinstance(seconds, Withheld):
        return number(seconds)
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def local_time(t_ms: int | None, tz: ZoneInfo) -> str:
    """`Tue 24 Nov 10:35`."""
    if t_ms is None:
        return NA
    when = dt.datetime.fromtimestamp(t_ms / 1000, tz)
    return f"{WEEKDAYS[when.weekday()]} {when.day} {when:%b %H:%M}"


def day(value: dt.date) -> str:
    """`Tue 24 Nov`."""
    return f"{WEEKDAYS[value.weekday()]} {value.day} {value:%b}"


def html(value: str) -> str:
    """Escaped for HTML text and attributes."""
    return escape(value)
