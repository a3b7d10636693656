"""The portfolio as one self-contained HTML page (Jinja2 template `templates/portfolio.html`, inline CSS, no script)
in the reader's language (French by default) through the message catalogue, and a CSV of the same figures that is
the same in every language: stable English keys, plain numbers, flags as machine codes (docs/report.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from edge.i18n import Formatter, template_environment
from edge.report.csvfile import Dialect, iso_local, write
from edge.report.portfolio import Count, Flag, Members, Portfolio, SiteFigures, Withheld


@dataclass(frozen=True)
class PortfolioContext:
    """What the page is about: the network, the period, where the figures come from, when they were made."""

    name: str
    first: dt.date
    last: dt.date
    timezone: str
    source: str
    generated: dt.datetime
    delay_h: float
    unique: str | None = None  # `monthly` or `yearly`: the period is one calendar month or year
    min_count: int = 5  # counts of people below this are withheld


class PortfolioFormat:
    """Formatting for the page: a dash for a figure that does not exist, local times in the network's zone."""

    def __init__(self, fmt: Formatter, tz: ZoneInfo) -> None:
        self.fmt = fmt
        self.tz = tz

    def num(self, value: float | None, places: int | None = None) -> str:
        """A number, or a dash."""
        return "—" if value is None else self.fmt.number(value, places)

    def pct(self, value: float | None, places: int = 0) -> str:
        """A ratio as a percentage, or a dash."""
        return "—" if value is None else self.fmt.percent(value, places)

    def when(self, t_ms: int | None) -> str:
        """An instant as a local date and time, or a dash."""
        if t_ms is None:
            return "—"
        return self.fmt.datetime(dt.datetime.fromtimestamp(t_ms / 1000, self.tz), "d MMM y, HH:mm")

    def count(self, value: Count) -> str:
        """A count of people: a dash when unknown, `<5` when withheld."""
        if value is None:
            return "—"
        if isinstance(value, Withheld):
            return f"<{value.below}"
        return self.fmt.number(value)

    def duration(self, seconds: float | Withheld | None) -> str:
        """A visit length as hours and minutes (`3 h 05`), a dash, or `<5` members behind it."""
        if seconds is None:
            return "—"
        if isinstance(seconds, Withheld):
            return f"<{seconds.below}"
        minutes = round(seconds / 60)
        return f"{minutes // 60} h {minutes % 60:02d}"

    def unique(self, members: Members) -> str:
        """Unique members, with the yearly estimate's error (`≈ 120 ± 4`)."""
        shown = self.count(members.unique)
        if members.unique_error is None or not isinstance(members.unique, int):
            return shown
        return f"≈ {shown} ± {self.fmt.number(members.unique_error)}"

    def period(self, first: dt.date, last: dt.date) -> str:
        """`5 décembre 2026`, or `1 novembre 2026 – 30 novembre 2026`."""
        if first == last:
            return self.fmt.date(first)
        return self.fmt.gettext("%(first)s to %(last)s", first=self.fmt.date(first), last=self.fmt.date(last))


@cache
def _environment(lang: str) -> Any:
    return template_environment("edge.report", Formatter(lang))


def render_html(portfolio: Portfolio, ctx: PortfolioContext, lang: str) -> str:
    """The page in `lang`."""
    fmt = PortfolioFormat(Formatter(lang), ZoneInfo(ctx.timezone))
    template = _environment(lang).get_template("portfolio.html")
    page = {
        "name": ctx.name or fmt.fmt.gettext("Network of sites"),
        "period_label": fmt.period(ctx.first, ctx.last),
        "timezone": ctx.timezone,
        "source": ctx.source,
        "generated": fmt.when(int(ctx.generated.timestamp() * 1000)),
        "delay_h": ctx.delay_h,
        "unique": ctx.unique,
        "k": ctx.min_count,
    }
    return str(template.render(p=portfolio, ctx=page, fmt=fmt))


CSV_HEADER = [
    "site_id",
    "site",
    "desks",
    "hours_open",
    "utilisation",
    "average_occupied",
    "occupied_desk_hours",
    "peak_occupied",
    "peak_at",
    "hours_with_figures",
    "hours_expected",
    "events_received",
    "events_expected",
    "unknown_share",
    "member_days",
    "granted_entries",
    "average_visit_s",
    "unique_members",
    "unique_members_error",
    "flags",
    "latest_figures_at",
    "note",
]
# Columns that hold numbers with decimals (`,` in the excel-fr dialect); the others are integers, codes or text.
CSV_DECIMALS = frozenset({"hours_open", "utilisation", "average_occupied", "occupied_desk_hours", "unknown_share"})


def flag_code(flag: Flag) -> str:
    """A flag as a stable machine code with its figures: `events_missing:5/50`, `unknown_desks:0.1234`."""
    if flag.code == "no_data":
        return f"no_data:{flag.total}/{flag.total}"
    if flag.code in ("hours_missing", "events_missing"):
        return f"{flag.code}:{flag.count}/{flag.total}"
    if flag.code == "unknown_desks":
        return f"unknown_desks:{plain(flag.share, 4)}"
    return flag.code


def plain(value: float | None, places: int) -> str:
    """A number rounded to `places` decimals, without trailing zeros or exponent (`0.53`, `10`), or empty."""
    if value is None:
        return ""
    text = f"{value:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def render_csv(portfolio: Portfolio, ctx: PortfolioContext, dialect: Dialect = "standard") -> str:
    """Every figure of the page, one row per site and a last one for the network (empty `site_id`)."""
    tz = ZoneInfo(ctx.timezone)

    def people(value: Count | float) -> str:
        if value is None or isinstance(value, Withheld):
            return ""  # a withheld count is left empty, and the row's note says why
        return plain(value, 0)

    def row(s: SiteFigures) -> list[str]:
        latest = next((f.last_ms for f in s.flags if f.code == "hours_missing"), None)
        return [
            s.id,
            s.name or ctx.name,
            str(s.desks),
            plain(s.open_hours, 2),
            plain(s.utilisation, 4),
            plain(s.average_occupied, 2),
            plain(s.occupied_desk_hours, 2),
            "" if s.peak is None else str(s.peak),
            iso_local(s.peak_ms, tz),
            str(s.hours_with_data),
            str(s.hours_expected),
            str(s.events_received),
            str(s.events_expected),
            plain(s.unknown_share, 4),
            people(s.members.member_days),
            people(s.members.entries),
            people(s.members.visit_avg_s),
            people(s.members.unique),
            "" if s.members.unique_error is None else str(s.members.unique_error),
            " ".join(flag_code(flag) for flag in s.flags),
            iso_local(latest, tz),
            f"withheld (<{ctx.min_count})" if has_withheld(s.members) else "",
        ]

    return write(CSV_HEADER, [row(site) for site in [*portfolio.sites, portfolio.network]], dialect, CSV_DECIMALS)


def has_withheld(members: Members) -> bool:
    """Whether any of a site's member figures is withheld."""
    return any(isinstance(value, Withheld) for value in vars(members).values())
