"""The funders' report for a period, produced from the collector's store by edge's report builder."""

from __future__ import annotations

import datetime as dt

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
from edge.report.build import make_report, resolve_period
from edge.report.period import DEFAULT_OPENING_HOURS, Assumptions
from edge.report.store_source import StoreSource
from edge.schedule import Schedule, ScheduleError, parse_schedule


class ReportForm(forms.Form):
    """The period (inclusive days) and the opening hours the report counts utilisation in."""

    start = forms.DateField(label=_("First day"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Last day"), widget=forms.DateInput(attrs={"type": "date"}))
    hours = forms.CharField(label=_("Opening hours"), max_length=400)
    output = forms.ChoiceField(label=_("Format"), choices=[("html", _("Page")), ("csv", _("Figures (CSV)"))])

    def clean(self) -> dict[str, object]:
        """Dates in order; hours and days as the report understands them."""
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The last day is before the first day."))
        try:
            data["opening"] = parse_schedule(str(data.get("hours", "")))
        except ScheduleError as exc:
            self.add_error("hours", str(exc))
        return data


def _site_hours() -> Schedule | None:
    """The collector's opening hours, as Grafana uses them; None when the config has no collector section."""
    collector = current().config.collector
    return collector.opening_hours if collector is not None else None


@csp_update({"style-src": ["'unsafe-inline'"]})  # the report is one self-contained page with its own styles
def report(request: HttpRequest) -> HttpResponse:
    """The form; with a period, the report itself (a page to print, or its figures as CSV)."""
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
        return render(request, "console/report.html", {"form": ReportForm(initial=initial), "error": None})
    form = ReportForm(request.GET)
    if not form.is_valid():
        return render(request, "console/report.html", {"form": form, "error": None})
    store = runtime.console.collector_store
    data = form.cleaned_data
    try:
        if store is None:
            raise SourceError("the console has no collector_store in its config")
        collector = runtime.config.collector
        source = StoreSource(
            store, directions=dict(collector.directions) if collector else {}, site=runtime.config.site
        )
        try:
            period = resolve_period(runtime.config.tz, start=data["start"], end=data["end"])
            generated = runtime.clock.now().astimezone(runtime.config.tz).strftime("%Y-%m-%d %H:%M %Z")
            opening = data["opening"]
            section = runtime.config.report or ReportConfig()
            made = make_report(
                source,
                period,
                opening,
                Assumptions(section.to_commute(), section.min_count),
                generated=generated,
                lang=translation.get_language(),
                hours_source="given" if site_hours is None else ("site" if opening == site_hours else "override"),
                site_hours=site_hours,
            )
        finally:
            source.close()
    except (SourceError, ValueError) as exc:
        return render(request, "console/report.html", {"form": form, "error": str(exc)})
    audit.record(request, "report", target=f"{data['start']}..{data['end']}", output=data["output"])
    if data["output"] == "csv":
        response = HttpResponse(made.csv, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="report-{data["start"]}-{data["end"]}.csv"'
        return response
    return HttpResponse(made.html, content_type="text/html; charset=utf-8")
