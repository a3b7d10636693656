"""The Today page: each door, occupancy per zone and desk, the nodes, the latest decisions — live."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from edge.console.runtime import current
from edge.console.today import Today, build_today
from edge.console.views.common import member_names
from edge.console.views.live import live_json, sections
from edge.errors import ConfigError
from edge.staff.push import PushRecord, read_record, record_path

SECTIONS = {
    "today-status": "console/today_status.html",
    "today-doors": "console/today_doors.html",
    "today-occupancy": "console/today_occupancy.html",
    "today-nodes": "console/today_nodes.html",
    "today-decisions": "console/today_decisions.html",
}


def push_record() -> tuple[PushRecord | None, list[str]]:
    """The member file's last push record, and a note when it cannot be read."""
    runtime = current()
    try:
        return read_record(record_path(runtime.members.path)), []
    except ConfigError as exc:
        return None, list(exc.issues)


def site_now() -> Today | None:
    """The site as the console's broker link sees it now (None without a link)."""
    runtime = current()
    link = runtime.link
    if link is None:
        return None
    record, _notes = push_record()
    return build_today(link.view, runtime.clock.now(), connected=link.connected, record=record, names=member_names())


def _context() -> dict[str, Any]:
    runtime = current()
    return {"today": site_now(), "now": runtime.clock.now(), "tz": runtime.config.tz}


def today(request: HttpRequest) -> HttpResponse:
    """The page, rendered whole; its script keeps it up to date through `today_live`."""
    return render(request, "console/today.html", _context())


def today_live(request: HttpRequest) -> JsonResponse:
    """The page's data and sections as they are now (polled about once a second)."""
    context = _context()
    state: Today | None = context["today"]
    data = state.to_json() if state is not None else {"connected": False, "doors": []}
    return live_json(request, data, sections(request, context, SECTIONS))
