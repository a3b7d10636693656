"""What leaves a site for the network's central store: the one allow-list, and the rule that applies it.

A site keeps everything it measures (raw events with pseudonyms for `retention_days`, desk-level series). Only
anonymous, derived series at zone or site level leave it (docs/architecture.md, "What leaves a site"):

* occupancy of each zone and of the site on the derive grid (`zone_occupancy`, `site_occupancy`), and the site's
  desk-time per hour within and outside opening hours (`site_hourly`, utilisation's numerator and denominator);
* data completeness per node (`data_completeness`): how far the evidence can be trusted;
* the member aggregates (`members_daily`, `members_monthly`, `members_yearly`): counts over all of a site's members
  of a day, month or year (docs/data-model.md, "Member aggregates"); the yearly sketch and its key never leave.

Never: badge tokens, member ids, door decisions or any raw event, desk-level series (`desk_hourly`: a desk can be
one member's dedicated desk), hourly door counts (`entries_hourly`, `access_hourly`: with one door and few
members an hour's entry is a person's arrival), `people_present`. An occupancy point that covers fewer than
`min_desks` desks (a zone of one or two desks is a desk) is withheld too.

A running figure of a day, month or year (the member counts) is updated by the site until its period ends, and the
central store keeps one value per instant: it leaves once its period is over (edge.collector.network holds it).

Adding a series to the network is one line in `LEAVES_SITE`; `tests/test_collector_egress.py` checks that every
entry is an anonymous aggregate of the schema with no desk, door, reader or member tag.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Egress:
    """How a measurement leaves the site: `desks_field` names the field counting the desks a point covers;
    `period` (day, month, year) marks a running figure of the period that starts at the point's time, which the
    site updates until the period ends: it leaves only then (`release_ms`)."""

    desks_field: str | None = None
    period: str | None = None


# The allow-list: measurement -> how it leaves. Nothing else ever does.
LEAVES_SITE: dict[str, Egress] = {
    "zone_occupancy": Egress(desks_field="total"),
    "site_occupancy": Egress(desks_field="total"),
    "site_hourly": Egress(desks_field="desks"),
    "data_completeness": Egress(),
    "members_daily": Egress(period="day"),
    "members_monthly": Egress(period="month"),
    "members_yearly": Egress(period="year"),
}

DEFAULT_MIN_DESKS = 3
# A year's member count becomes final this many days after the year ends (edge.collector.aggregates).
YEAR_CLOSES_AFTER_DAYS = 7


def period_end_ms(period: str, start_ms: int, tz: ZoneInfo) -> int:
    """When the day, month or year starting at local midnight `start_ms` is over (a year: once its count closed)."""
    start = dt.datetime.fromtimestamp(start_ms / 1000, tz).date()
    if period == "day":
        end = start + dt.timedelta(days=1)
    elif period == "month":
        end = (start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    else:
        end = dt.date(start.year + 1, 1, 1) + dt.timedelta(days=YEAR_CLOSES_AFTER_DAYS)
    return int(dt.datetime.combine(end, dt.time(0), tz).timestamp() * 1000)


def measurement_of(line: str) -> str:
    """The measurement of a line of line protocol (up to the first unescaped comma or space)."""
    escaped = False
    for index, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ", ":
            return line[:index].replace("\\", "")
    return line


def time_ms(line: str) -> int | None:
    """The timestamp of a line of line protocol, in milliseconds (None when it has none)."""
    parts = _split(line, " ", quotes=True)
    try:
        return int(parts[-1]) // 1_000_000 if len(parts) >= 3 else None
    except ValueError:
        return None


def integer_field(line: str, name: str) -> int | None:
    """The value of integer field `name` in a line (None when absent or not an integer)."""
    for item in _split(_field_section(line), ",", quotes=True):
        key, sep, value = item.partition("=")
        if sep and key == name and value.endswith("i"):
            try:
                return int(value[:-1])
            except ValueError:
                return None
    return None


def _field_section(line: str) -> str:
    """The fields of a line: after the series (no quoting there), up to the timestamp (quoted strings kept)."""
    series_end = len(_split(line, " ", quotes=False)[0])
    return _split(line[series_end + 1 :], " ", quotes=True)[0]


def _split(text: str, separator: str, *, quotes: bool) -> list[str]:
    """Split on separators that are neither backslash-escaped nor (with `quotes`) inside a quoted string."""
    parts, current, escaped, quoted = [], [], False, False
    for char in text:
        current.append(char)
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"' and quotes:
            quoted = not quoted
        elif char == separator and not quoted:
            current.pop()
            parts.append("".join(current))
            current = []
    parts.append("".join(current))
    return parts


class EgressFilter:
    """Decides, line by line, what leaves the site: `select` returns the line, or "" to keep it on the site;
    `release_ms` says when a running figure of a period may leave (0: at once)."""

    def __init__(self, min_desks: int = DEFAULT_MIN_DESKS, tz: ZoneInfo | None = None) -> None:
        self.min_desks = min_desks
        self.tz = tz or ZoneInfo("UTC")

    def release_ms(self, lines: str) -> int:
        """The earliest time these lines may leave: the end of the period of any running figure among them."""
        release = 0
        for line in lines.split("\n"):
            egress = LEAVES_SITE.get(measurement_of(line))
            start = time_ms(line) if egress is not None and egress.period else None
            if egress is not None and egress.period and start is not None:
                release = max(release, period_end_ms(egress.period, start, self.tz))
        return release

    def leaves(self, line: str) -> bool:
        """Whether this line of a derived series may leave the site."""
        egress = LEAVES_SITE.get(measurement_of(line))
        if egress is None:
            return False
        if egress.desks_field is not None:
            desks = integer_field(line, egress.desks_field)
            return desks is not None and desks >= self.min_desks
        return True

    def select(self, lines: str) -> str:
        """The lines (one row may hold several) that leave, joined by newlines; "" when none does."""
        return "\n".join(line for line in lines.split("\n") if line and self.leaves(line))
