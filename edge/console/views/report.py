"""The funders' report for a period, produced from the collector's store by edge's report builder.

The form shows the site's commuting assumptions (the config's `report` section) and its opening hours (the
collector's, as Grafana uses them); both may be changed for one report, and the page says so when they differ.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from csp.decorators import csp_update
from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from edge.config.report import ReportConfig
from edge.console import audit
from edge.console.runtime import current
from edge.errors import SourceError
from edge.i18n import Formatter
from edge.report.build import Report, make_report, resolve_period
from edge.report.commute import Commute, ModeShare, parse_mode, with_overrides
from edge.report.factors import NO_TRIP
from edge.report.labels import factor_source, mode_label
from edge.report.pdf import PdfError, print_pdf
from edge.report.period import DEFAULT_OPENING_HOURS, Assumptions
from edge.report.store_source import StoreSource
from edge.schedule import Schedule, ScheduleError, parse_schedule


class ReportForm(forms.Form):
    """The period (inclusive days), the opening hours the report counts utilisation in, and the output."""

    start = forms.DateField(label=_("First day"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Last day"), widget=forms.DateInput(attrs={"type": "date"}))
    hours = forms.CharField(label=_("Opening hours"), max_length=400)
    modes = forms.CharField(
        label=_("Commuting modes for this report"),
        required=False,
        max_length=400,
        help_text=_(
            "Empty: the site's assumptions below. Otherwise MODE=SHARE:KM, comma-separated: car=0.6:12, bike=0.4:4"
        ),
    )
    output = forms.ChoiceField(
        label=_("Format"),
        choices=[("html", _("Page")), ("pdf", _("PDF (A4)")), ("csv", _("Figures (CSV)"))],
    )

    def clean(self) -> dict[str, object]:
        """Dates in order; hours and modes as the report understands them."""
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The last day is before the first day."))
        try:
            data["opening"] = parse_schedule(str(data.get("hours", "")))
        except ScheduleError as exc:
            self.add_error("hours", str(exc))
        try:
            text = str(data.get("modes") or "")
            data["mode_shares"] = [parse_mode(part) for part in text.split(",") if part.strip()]
            if data["mode_shares"]:
                with_overrides(_section().to_commute(), data["mode_shares"])
        except ValueError as exc:
            self.add_error("modes", str(exc))
        return data


def _site_hours() -> Schedule | None:
    """The collector's opening hours, as Grafana uses them; None when the config has no collector section."""
    collector = current().config.collector
    return collector.opening_hours if collector is not None else None


def _section() -> ReportConfig:
    return current().config.report or ReportConfig()


def assumptions_table(commute: Commute, lang: str) -> list[dict[str, Any]]:
    """The commuting assumptions as rows for the form page: mode, share, one-way km, factor and its source."""
    fmt = Formatter(lang)
    return [
        {
            "mode": mode_label(m.mode, fmt),
            "share": fmt.percent(m.share),
            "km": "–" if m.mode in NO_TRIP else fmt.number(m.one_way_km, 1),
            "factor": fmt.number(commute.factor(m.mode).kg_per_km, 4),
            "source": factor_source(m.mode, commute.factor(m.mode), fmt),
        }
        for m in commute.modes
    ]


def _page(request: HttpRequest, form: ReportForm, error: str | None) -> HttpResponse:
    section = _section()
    commute = section.to_commute()
    lang = translation.get_language() or "fr"
    context = {
        "form": form,
        "error": error,
        "assumptions": assumptions_table(commute, lang),
        "configured": commute.configured,
        "survey": commute.survey,
        "round_trips": commute.round_trips,
        "min_count": section.min_count,
        "site_hours": _site_hours(),
    }
    return render(request, "console/report.html", context)


@csp_update({"style-src": ["'unsafe-inline'"]})  # the report is one self-contained page with its own styles
def report(request: HttpRequest) -> HttpResponse:
    """The form; with a period, the report itself (a page to print, its PDF, or its figures as CSV)."""
    runtime = current()
    site_hours = _site_hours()
    if "start" not in request.GET:
        today = runtime.clock.now().astimezone(runtime.config.tz).date()
        first = today.replace(day=1) - dt.timedelta(days=1)
        initial = {
            "start": first.replace(day=1),
            "end": first,
            "hours": str(site_hours or DEFAULT_OPENING_HOURS),
            "output": "html",
        }
        return _page(request, ReportForm(initial=initial), None)
    form = ReportForm(request.GET)
    if not form.is_valid():
        return _page(request, form, None)
    data = form.cleaned_data
    try:
        made = _make(data, site_hours)
        pdf = _pdf(made) if data["output"] == "pdf" else None
    except (SourceError, PdfError, ValueError) as exc:
        return _page(request, form, str(exc))
    audit.record(request, "report", target=f"{data['start']}..{data['end']}", output=data["output"])
    name = f"report-{data['start']}-{data['end']}"
    if data["output"] == "csv":
        response = HttpResponse(made.csv, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if pdf is not None:
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        return response
    return HttpResponse(made.html, content_type="text/html; charset=utf-8")


def _make(data: dict[str, Any], site_hours: Schedule | None) -> Report:
    runtime = current()
    store = runtime.console.collector_store
    if store is None:
        raise SourceError("the console has no collector_store in its config")
    collector = runtime.config.collector
    source = StoreSource(store, directions=dict(collector.directions) if collector else {}, site=runtime.config.site)
    try:
        period = resolve_period(runtime.config.tz, start=data["start"], end=data["end"])
        generated = runtime.clock.now().astimezone(runtime.config.tz).strftime("%Y-%m-%d %H:%M %Z")
        opening: Schedule = data["opening"]
        section = _section()
        modes: list[ModeShare] = data["mode_shares"]
        return make_report(
            source,
            period,
            opening,
            Assumptions(with_overrides(section.to_commute(), modes), section.min_count),
            generated=generated,
            lang=translation.get_language(),
            hours_source="given" if site_hours is None else ("site" if opening == site_hours else "override"),
            site_hours=site_hours,
        )
    finally:
        source.close()


def _pdf(made: Report) -> bytes:
    with tempfile.TemporaryDirectory(prefix="edge-console-pdf-") as tmp:
        return print_pdf(made.html, Path(tmp) / "report.pdf").read_bytes()
