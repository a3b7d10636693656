"""The door log page and its CSV export: decisions with the member's name, filtered by door, reason and day."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from edge.console import audit
from edge.console.doorlog import DoorLog, Filters
from edge.console.runtime import current
from edge.console.views.common import loaded
from edge.contract.payloads import Reason
from edge.errors import SourceError

PAGE_SIZE = 100
REASONS = tuple(r.value for r in Reason)


def _filters(request: HttpRequest) -> Filters:
    reason = request.GET.get("reason", "")
    try:
        day = dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = None
    return Filters(door=request.GET.get("door", "")[:48], reason=reason if reason in REASONS else "", day=day)


def _open() -> DoorLog:
    runtime = current()
    store = runtime.console.collector_store
    if store is None:
        raise SourceError("the console has no collector_store in its config")
    return DoorLog(store, runtime.config.tz, days=runtime.console.door_log_days)


def _names() -> dict[str, str]:
    return {m.id: m.name for m in loaded().members.members}


def door_log(request: HttpRequest) -> HttpResponse:
    """The log, newest first, 100 per page."""
    filters = _filters(request)
    now = current().clock.now()
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    context: dict[str, object] = {"filters": filters, "reasons": REASONS, "page": page, "error": None}
    try:
        log = _open()
    except SourceError as exc:
        context.update(error=str(exc), rows=[], total=0, pages=1, doors=[])
        return render(request, "console/door_log.html", context)
    try:
        total = log.count(filters, now)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(page, pages)
        entries = log.entries(filters, now, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        names = _names()
        rows = [(e, names.get(e.member or "", "")) for e in entries]
        context.update(rows=rows, total=total, pages=pages, page=page, doors=log.doors(now))
    finally:
        log.close()
    return render(request, "console/door_log.html", context)


def door_log_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Every matching decision as CSV (UTF-8 with a BOM, so Excel opens it right); recorded in the audit log."""
    filters = _filters(request)
    runtime = current()
    try:
        log = _open()
    except SourceError as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    names = _names()
    audit.record(request, "door_log.export", door=filters.door, reason=filters.reason, day=str(filters.day or ""))

    class _Echo:
        def write(self, value: str) -> str:
            return value

    def rows() -> Iterator[str]:
        writer = csv.writer(_Echo())
        try:
            yield "\ufeff" + writer.writerow(["time", "door", "reader", "member_id", "name", "granted", "reason"])
            for e in log.stream(filters, runtime.clock.now()):
                member = e.member or ""
                yield writer.writerow(
                    [
                        e.at.isoformat(timespec="seconds"),
                        e.door,
                        e.reader,
                        member,
                        names.get(member, ""),
                        e.granted,
                        e.reason,
                    ]
                )
        finally:
            log.close()

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="door-log.csv"'
    return response
