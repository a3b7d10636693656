"""The audit log page: every staff action, who, what, when, newest first."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from edge.console.audit import ACTIONS
from edge.console.models import AuditEntry
from edge.staff.members import mask_uid

PAGE_SIZE = 100


def _details(entry: AuditEntry) -> list[tuple[str, str]]:
    """The details worth showing, badges masked (a removed member's record keeps them in full in the database)."""
    out = []
    for key, value in sorted(entry.details.items()):
        if key == "removed" and isinstance(value, dict):
            badges = ", ".join(mask_uid(str(b)) for b in value.get("badges", []))
            shown = {k: v for k, v in value.items() if k != "badges" and v not in (None, "", False)}
            value = ", ".join(f"{k}: {v}" for k, v in shown.items()) + (f", badges: {badges}" if badges else "")
        out.append((key, str(value)))
    return out


def audit_log(request: HttpRequest) -> HttpResponse:
    """The log, 100 entries per page, filterable by action and user."""
    entries = AuditEntry.objects.all()
    action = request.GET.get("action", "")
    user = request.GET.get("user", "")[:150]
    if action in ACTIONS:
        entries = entries.filter(action=action)
    if user:
        entries = entries.filter(user=user)
    total = entries.count()
    pages = max(1, -(-total // PAGE_SIZE))
    try:
        page = min(max(1, int(request.GET.get("page", "1"))), pages)
    except ValueError:
        page = 1
    shown = entries[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    rows = [(e, ACTIONS.get(e.action, e.action), _details(e)) for e in shown]
    context = {
        "rows": rows,
        "actions": ACTIONS,
        "action": action,
        "user": user,
        "page": page,
        "pages": pages,
        "total": total,
    }
    return render(request, "console/audit.html", context)
