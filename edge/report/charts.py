"""The report's charts as inline SVG, with their words and numbers in the report's language.

Each function takes the figures and a `ReportFormat` and returns SVG text (safe to insert: `svg.py` escapes
every label). The page's templates place them.
"""

from __future__ import annotations

from collections.abc import Sequence

from edge.report import svg
from edge.report.fmt import ReportFormat
from edge.report.model import DayFigures, Figures, Withheld
from edge.report.period import Period
from edge.schedule import Schedule

TEAL, AMBER, SLATE = "#2a9d8f", "#e9a23b", "#64748b"


def _words(f: ReportFormat) -> svg.Words:
    return svg.Words(
        no_data=f.gettext("no data"),
        low=f.pct(0.0),
        high=f.pct(1.0),
        outlined=f.gettext("outlined: opening hours"),
    )


def _number(f: ReportFormat) -> svg.Number:
    def number(value: float) -> str:
        return f.i18n.number(round(value, 1))

    return number


def open_runs(hours: Schedule, weekday: int) -> list[tuple[int, int]]:
    """Runs of hours of the day (first, last) with some minute inside opening hours, for the heatmap's outline."""
    runs: list[tuple[int, int]] = []
    for hour in range(24):
        if hours.open_in_hour(weekday, hour):
            if runs and runs[-1][1] == hour - 1:
                runs[-1] = (runs[-1][0], hour)
            else:
                runs.append((hour, hour))
    return runs


def _clock(hour: int) -> str:
    return f"{hour:02d}:00"


def heatmap(figures: Figures, period: Period, hours: Schedule, f: ReportFormat) -> str:
    """Utilisation by weekday x hour of day; the opening hours outlined."""
    weekdays = sorted({d.weekday() for d in period.days()})  # a short period shows only its own weekdays
    row = {weekday: i for i, weekday in enumerate(weekdays)}
    cells = {
        (row[c.weekday], c.hour): svg.Cell(
            c.utilisation if c.utilisation is not None else 0.0,
            f.i18n.number(round((c.utilisation or 0.0) * 100)) if c.utilisation is not None else "",
            f.gettext(
                "%(day)s %(start)s–%(end)s: %(share)s of known desks occupied, %(desks)s desks on average",
                day=f.weekday(c.weekday),
                start=_clock(c.hour),
                end=_clock(c.hour + 1),
                share=f.pct(c.utilisation),
                desks=f.number(c.average_occupied),
            ),
        )
        for c in figures.heatmap
        if c.weekday in row
    }
    outlined = [(row[d], first, last) for d in weekdays for first, last in open_runs(hours, d)]
    return svg.heatmap(
        [f.weekday(d) for d in weekdays],
        [f"{h:02d}" for h in range(24)],
        cells,
        f.gettext("Desk utilisation by weekday and hour"),
        outlined,
        _words(f),
    )


def utilisation(figures: Figures, f: ReportFormat) -> str:
    """Utilisation within opening hours per zone and for the site."""
    rows = [(z.name, z.utilisation_open, f.pct(z.utilisation_open)) for z in [*figures.zones, figures.site]]
    return svg.hbars(rows, f.gettext("Utilisation per zone within opening hours"))


def concurrency(figures: Figures, f: ReportFormat) -> str:
    """Peak and average concurrent occupancy per zone and for the site."""
    everything = [*figures.zones, figures.site]
    return svg.bars(
        [z.name for z in everything],
        [
            svg.Series(f.gettext("peak"), [z.peak for z in everything], AMBER),
            svg.Series(f.gettext("average while open"), [z.average_open for z in everything], TEAL),
        ],
        f.gettext("Peak and average concurrent occupancy per zone and for the site"),
        unit=f.gettext("desks"),
        height=240,
        number=_number(f),
    )


def _daily_labels(days: Sequence[DayFigures], f: ReportFormat) -> list[str]:
    if len(days) > 62:  # a year: one label per month start
        return [f.i18n.date(d.day, "MMM") if d.day.day == 1 else "" for d in days]
    return [f.day(d.day) for d in days]


def daily_occupancy(figures: Figures, f: ReportFormat) -> str:
    """The site's peak and average per day (only for periods of several days)."""
    days = figures.days
    return svg.bars(
        _daily_labels(days, f),
        [
            svg.Series(f.gettext("peak"), [d.peak for d in days], AMBER),
            svg.Series(f.gettext("average while open"), [d.average_open for d in days], TEAL),
        ],
        f.gettext("Site peak and average concurrent occupancy per day"),
        unit=f.gettext("desks"),
        value_labels=len(days) <= 14,
        number=_number(f),
        thin_labels=len(days) <= 62,
    )


def _people(value: int | Withheld | None) -> float | str | None:
    return str(value) if isinstance(value, Withheld) else value


def daily_members(figures: Figures, f: ReportFormat) -> str:
    """Unique members per day."""
    days = figures.days
    return svg.bars(
        _daily_labels(days, f),
        [svg.Series(f.gettext("unique members"), [_people(d.unique_members) for d in days], TEAL)],
        f.gettext("Unique members per day"),
        unit=f.gettext("members"),
        value_labels=len(days) <= 31,
        number=_number(f),
        thin_labels=len(days) <= 62,
    )


def visit_lengths(figures: Figures, f: ReportFormat) -> str:
    """Member-days by time on site."""
    histogram = figures.visits.histogram
    return svg.bars(
        [label for label, _ in histogram],
        [svg.Series(f.gettext("member-days"), [_people(n) for _, n in histogram], SLATE)],
        f.gettext("Member-days by time on site"),
        unit=f.gettext("member-days"),
        height=220,
        number=_number(f),
    )
