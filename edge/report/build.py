"""Making a report: read a source for a period, compute the figures, write the HTML page and its CSV.

`write_report(store_path, out, day=...)` is the one-call form the demo uses at the end of its day.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from edge.i18n import language
from edge.report import csvfile, page
from edge.report.figures import compute
from edge.report.model import Figures
from edge.report.period import DEFAULT_OPENING_HOURS, Assumptions, Period
from edge.report.source import Source, read
from edge.report.store_source import StoreSource
from edge.schedule import Schedule

DEFAULT_STEP_S = 300


@dataclass(frozen=True)
class Report:
    """A made report: its figures, the HTML page and the CSV text."""

    figures: Figures
    html: str
    csv: str


def make_report(
    source: Source,
    period: Period,
    hours: Schedule,
    assumptions: Assumptions,
    *,
    step_s: int = DEFAULT_STEP_S,
    generated: str = "",
    lang: str | None = None,
    hours_source: str = "default",
    site_hours: Schedule | None = None,
    csv_dialect: csvfile.Dialect = "standard",
) -> Report:
    """Read the source for the period and render the figures in `lang` (`$EDGE_LANG`, then French, if None).

    `hours_source` says where `hours` come from (see `page.Context`): the page notes hours that are not the
    site's.
    """
    data = read(source, period, step_s * 1000)
    figures = compute(data, period, hours, assumptions)
    ctx = page.Context(
        site=data.site,
        period=period,
        hours=hours,
        assumptions=assumptions,
        source=data.source,
        step_s=step_s,
        generated=generated,
        notes=data.notes,
        hours_source=hours_source,
        site_hours=site_hours,
    )
    html = page.render(figures, ctx, language(lang))
    return Report(figures, html, csvfile.render(figures, ctx, csv_dialect))


def csv_path(out: Path) -> Path:
    """Where the CSV goes: next to the page, same name, `.csv`."""
    return out.with_suffix(".csv")


def save(report: Report, out: Path) -> Path:
    """Write the page and its CSV (each through a temporary file, so a reader never sees half a file)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    for path, text in ((out, report.html), (csv_path(out), report.csv)):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return out


def resolve_period(
    tz: ZoneInfo, day: dt.date | None = None, start: dt.date | None = None, end: dt.date | None = None
) -> Period:
    """A single `day`, or `start`..`end` inclusive (either alone means one day)."""
    if day is not None:
        if start is not None or end is not None:
            raise ValueError("give either a day or a start and end, not both")
        return Period.one_day(day, tz)
    first = start or end
    if first is None:
        raise ValueError("a report needs a day, or a start and an end")
    return Period(first, end or first, tz)


def write_report(
    store_path: Path,
    out: Path,
    *,
    day: dt.date | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    timezone: str = "Europe/Paris",
    hours: Schedule | None = None,
    assumptions: Assumptions | None = None,
    directions: Mapping[str, str] | None = None,
    site: str | None = None,
    step_s: int = DEFAULT_STEP_S,
    generated: str | None = None,
    lang: str | None = None,
) -> Path:
    """Write the report of a collector store for one day (or start..end) to `out` (HTML) and `out`.csv.

    `directions` maps exit readers to "out" (as in `collector.directions`); returns `out`.
    """
    tz = ZoneInfo(timezone)
    period = resolve_period(tz, day, start, end)
    source = StoreSource(Path(store_path), directions=directions, site=site)
    try:
        report = make_report(
            source,
            period,
            hours or DEFAULT_OPENING_HOURS,
            assumptions or Assumptions(),
            step_s=step_s,
            generated=generated or dt.datetime.now(tz).strftime("%Y-%m-%d %H:%M %Z"),
            lang=lang,
            hours_source="default" if hours is None else "given",
        )
    finally:
        source.close()
    return save(report, Path(out))
