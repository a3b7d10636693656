"""How figures read in the report, in its language: percentages, counts that may be withheld, durations, days.

A thin layer over `edge.i18n.Formatter` (Babel's CLDR data, never the process locale) that knows the report's
conventions: a dash for no data, `<k` for a withheld count, `0,4 %` rather than `0 %` for a small share.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal

from edge.i18n import Formatter
from edge.report.model import Withheld
from edge.schedule import DAY_NAMES, Schedule

NA = "–"
_DAY = re.compile(r"\b(?:" + "|".join(DAY_NAMES) + r")\b")


@dataclass(frozen=True)
class ReportFormat:
    """Formats for one language and the site's time zone; its methods are the templates' filters."""

    i18n: Formatter
    tz: ZoneInfo

    @property
    def lang(self) -> str:
        """The language code (`fr`, `en`)."""
        return self.i18n.lang

    def gettext(self, message: str, **values: Any) -> str:
        """A translated message."""
        return self.i18n.gettext(message, **values)

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """A translated message in the plural form for `n`."""
        return self.i18n.ngettext(singular, plural, n, **values)

    def pct(self, value: float | None) -> str:
        """`62 %` (`0,4 %` below one percent, so that a small share does not read as none), or a dash."""
        if value is None:
            return NA
        return self.i18n.percent(value, places=1 if 0 < value < 0.01 else 0)

    def number(self, value: float | Withheld | None, digits: int = 1) -> str:
        """A number with `digits` decimals, `<k` when withheld, a dash when absent."""
        if value is None:
            return NA
        if isinstance(value, Withheld):
            return str(value)
        return self.i18n.number(value, places=digits)

    def count(self, value: int | float | Withheld | None) -> str:
        """A whole count."""
        return self.number(value, 0)

    def significant(self, value: float, digits: int = 3) -> str:
        """A small figure with `digits` significant digits (`0,142`, `0,00428`)."""
        if value == 0:
            return self.i18n.number(0)
        shown = float(f"{value:.{digits}g}")
        places = max(0, digits - 1 - int(f"{value:e}".split("e")[1]))
        return format_decimal(shown, format="#,##0." + "#" * places, locale=self.i18n.locale)

    def duration(self, seconds: float | Withheld | None) -> str:
        """`5 h 20 min`."""
        if seconds is None or isinstance(seconds, Withheld):
            return self.number(seconds)
        minutes = round(seconds / 60)
        hours, minutes = divmod(minutes, 60)
        if hours:
            padded = str(minutes).zfill(2)
            return self.gettext("%(hours)s h %(minutes)s min", hours=hours, minutes=padded)
        return self.gettext("%(minutes)s min", minutes=minutes)

    def local_time(self, t_ms: int | None) -> str:
        """`mar. 24 nov. 10:35`: a day and a time in the site's time zone."""
        if t_ms is None:
            return NA
        when = dt.datetime.fromtimestamp(t_ms / 1000, self.tz)
        return f"{self.day(when.date())} {self.i18n.time(when)}"

    def day(self, value: dt.date) -> str:
        """`mar. 24 nov.`."""
        return self.i18n.date(value, "EEE d MMM")

    def date(self, value: dt.date) -> str:
        """`24 novembre 2026`."""
        return self.i18n.date(value, "long")

    def month(self, value: dt.date) -> str:
        """`novembre 2026`."""
        return self.i18n.date(value, "LLLL y")

    def weekday(self, index: int) -> str:
        """`lun.`: a weekday's short name, Monday = 0."""
        return self.i18n.weekday(index, "abbreviated")

    def schedule(self, schedule: Schedule) -> str:
        """Opening hours in the language: `lun.-ven. 08:00-19:00; fermé le 1 janv. 2026 et 25 déc. 2026`."""
        items = []
        for item in schedule.items():
            if item == "always":
                items.append(self.gettext("every day, all day"))
            elif not item.startswith("closed "):
                items.append(_DAY.sub(lambda m: self.weekday(DAY_NAMES.index(m.group(0))), item))
        if schedule.closed:
            items.append(self.gettext("closed %(dates)s", dates=self.i18n.join(self._closures(schedule.closed))))
        return "; ".join(items) or self.gettext("never open")

    def _closures(self, closed: frozenset[dt.date]) -> list[str]:
        """Closed dates, consecutive ones as a range (`24–26 déc. 2026`)."""
        runs: list[list[dt.date]] = []
        for day in sorted(closed):
            if runs and day - runs[-1][-1] == dt.timedelta(days=1):
                runs[-1].append(day)
            else:
                runs.append([day])
        short = "d MMM y"
        return [
            self.i18n.date(run[0], short)
            if len(run) == 1
            else f"{self.i18n.date(run[0], short)} – {self.i18n.date(run[-1], short)}"
            for run in runs
        ]

    def period(self, first: dt.date, last: dt.date) -> str:
        """`du 23 au 29 novembre 2026`, or one day."""
        if first == last:
            return self.date(first)
        return self.gettext("%(first)s to %(last)s", first=self.date(first), last=self.date(last))
