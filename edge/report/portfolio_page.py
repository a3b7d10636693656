"""The portfolio as one self-contained HTML page (Jinja2 template `templates/portfolio.html`, inline CSS, no script)
and a CSV of the same figures, in the reader's language (French by default) through the message catalogue."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import get_decimal_symbol

from edge.i18n import Formatter, template_environment
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


def flag_text(flag: Flag, fmt: PortfolioFormat) -> str:
    """A flag in words, for the CSV (the page words it in its template)."""
    f = fmt.fmt
    if flag.code == "not_listed":
        return f.gettext("not in the network's list of sites")
    if flag.code == "no_data":
        return f.ngettext(
            "no figures for %(num)s hour of the period",
            "no figures for any of the %(num)s hours of the period",
            flag.total,
            num=f.number(flag.total),
        )
    if flag.code == "hours_missing":
        return f.ngettext(
            "%(num)s hour of %(total)s without figures",
            "%(num)s hours of %(total)s without figures",
            flag.count,
            num=f.number(flag.count),
            total=f.number(flag.total),
        )
    if flag.code == "events_missing":
        return f.ngettext(
            "%(num)s event of %(total)s not received",
            "%(num)s events of %(total)s not received",
            flag.count,
            num=f.number(flag.count),
            total=f.number(flag.total),
        )
    return f.gettext("desks without a known state during %(share)s of opening hours", share=fmt.pct(flag.share))


def render_csv(portfolio: Portfolio, ctx: PortfolioContext, lang: str) -> str:
    """Every figure of the page, one row per site and one for the network; French decimals and `;` in French."""
    fmt = PortfolioFormat(Formatter(lang), ZoneInfo(ctx.timezone))
    f = fmt.fmt
    decimal = get_decimal_symbol(f.locale)

    def number(value: float | None, places: int) -> str:
        return "" if value is None else f"{value:.{places}f}".replace(".", decimal)

    header = [
        f.gettext("Site id"),
        f.gettext("Site"),
        f.gettext("Desks"),
        f.gettext("Hours open"),
        f.gettext("Utilisation"),
        f.gettext("Average desks occupied"),
        f.gettext("Desk-hours occupied"),
        f.gettext("Peak"),
        f.gettext("Peak at"),
        f.gettext("Hours with figures"),
        f.gettext("Hours expected"),
        f.gettext("Events received"),
        f.gettext("Events expected"),
        f.gettext("Desk-time with unknown state"),
        f.gettext("Member-days"),
        f.gettext("Entries"),
        f.gettext("Average visit (seconds)"),
        f.gettext("Unique members"),
        f.gettext("Unique members: standard error"),
        f.gettext("Incomplete data"),
    ]

    withheld = f.gettext("member counts below %(k)s withheld", k=ctx.min_count)

    def people(value: Count | float, places: int = 0) -> str:
        if value is None or isinstance(value, Withheld):
            return ""  # a withheld count is left empty, and the row says why
        return number(value, places) if places or isinstance(value, float) else str(value)

    def row(s: SiteFigures) -> list[str]:
        peak_at = "" if s.peak_ms is None else dt.datetime.fromtimestamp(s.peak_ms / 1000, fmt.tz).isoformat()
        return [
            s.id,
            s.name or f.gettext("Network"),
            str(s.desks),
            number(s.open_hours, 1),
            number(s.utilisation, 4),
            number(s.average_occupied, 2),
            number(s.occupied_desk_hours, 1),
            "" if s.peak is None else str(s.peak),
            peak_at,
            str(s.hours_with_data),
            str(s.hours_expected),
            str(s.events_received),
            str(s.events_expected),
            number(s.unknown_share, 4),
            people(s.members.member_days),
            people(s.members.entries),
            people(s.members.visit_avg_s, 0),
            people(s.members.unique),
            "" if s.members.unique_error is None else str(s.members.unique_error),
            " ; ".join([flag_text(flag, fmt) for flag in s.flags] + ([withheld] if has_withheld(s.members) else [])),
        ]

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if decimal == "," else ",", lineterminator="\r\n")
    writer.writerow(header)
    for site in [*portfolio.sites, portfolio.network]:
        writer.writerow(row(site))
    return out.getvalue()


def has_withheld(members: Members) -> bool:
    """Whether any of a site's member figures is withheld."""
    return any(isinstance(value, Withheld) for value in vars(members).values())
