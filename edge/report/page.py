"""The report as one self-contained HTML page (inline CSS and SVG, no script, nothing fetched), in its language.

The page is the Jinja2 template `templates/report.html`, rendered through `edge.i18n.template_environment`:
every text comes from the message catalogue (French by default), numbers and dates from Babel. The same page
prints as the PDF (its print CSS sets A4 pages and page breaks; see `pdf.py`).

Pure: figures and context in, text out. Nothing about a person reaches this module (see `edge.report.model`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from markupsafe import Markup

from edge.collector.members import VISIT_BINS
from edge.i18n import Formatter, template_environment
from edge.report import charts
from edge.report.factors import NO_TRIP
from edge.report.fmt import ReportFormat
from edge.report.labels import factor_source, mode_label
from edge.report.model import Figures, Note, Withheld
from edge.report.period import Assumptions, Period
from edge.schedule import Schedule


@dataclass(frozen=True)
class Context:
    """What the figures are about and how they were made.

    `hours_source` says where the opening hours come from: `site` (the collector's `opening_hours`),
    `override` (given for this report, different from the site's), `default` (no site configuration read).
    """

    site: str
    period: Period
    hours: Schedule
    assumptions: Assumptions
    source: str
    step_s: int
    generated: str
    notes: list[Note] = field(default_factory=list)
    hours_source: str = "default"
    site_hours: Schedule | None = None


def css_string(value: object) -> Markup:
    """Text for a CSS string literal inside `<style>` (the PDF's page headers and footers).

    A style element is raw text: HTML escapes would show as written, so quotes, backslashes and angle brackets
    are escaped the CSS way instead (no `</style>` can close the element early).
    """
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ").replace(">", "\\3e ")
    return Markup("".join(ch if ch.isprintable() else " " for ch in text))


@cache
def _environment(lang: str) -> Any:
    env = template_environment("edge.report", Formatter(lang))
    env.filters["cssstring"] = css_string
    return env


def render(figures: Figures, ctx: Context, lang: str = "fr") -> str:
    """The whole page in `lang`."""
    fmt = ReportFormat(Formatter(lang), ctx.period.tz)
    template = _environment(fmt.lang).get_template("report.html")
    return str(template.render(**variables(figures, ctx, fmt)))


def variables(figures: Figures, ctx: Context, fmt: ReportFormat) -> dict[str, Any]:
    """Everything the templates read."""
    many_days = len(figures.days) > 1
    return {
        "f": figures,
        "ctx": ctx,
        "fmt": fmt,
        "k": ctx.assumptions.min_count,
        "commute": ctx.assumptions.commute,
        "no_trip": NO_TRIP,
        "visit_bins": VISIT_BINS,
        "withheld": lambda value: isinstance(value, Withheld),
        "mode_label": lambda mode: mode_label(mode, fmt.i18n),
        "factor_source": lambda mode, factor: factor_source(mode, factor, fmt.i18n),
        "charts": {
            "heatmap": Markup(charts.heatmap(figures, ctx.period, ctx.hours, fmt)),
            "utilisation": Markup(charts.utilisation(figures, fmt)),
            "concurrency": Markup(charts.concurrency(figures, fmt)),
            "daily_occupancy": Markup(charts.daily_occupancy(figures, fmt)) if many_days else None,
            "daily_members": (
                Markup(charts.daily_members(figures, fmt)) if many_days and figures.members.counted else None
            ),
            "visits": Markup(charts.visit_lengths(figures, fmt)) if figures.visits.histogram else None,
        },
        "step": _step(ctx.step_s, fmt),
    }


def _step(seconds: int, fmt: ReportFormat) -> str:
    if seconds % 60 == 0:
        return fmt.gettext("%(minutes)s min", minutes=seconds // 60)
    return fmt.gettext("%(seconds)s s", seconds=seconds)
