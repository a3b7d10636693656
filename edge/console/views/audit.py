"""The audit log page: every staff action, who, what, when, newest first; a removed member restored from it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from edge.console import audit
from edge.console.audit import ACTIONS
from edge.console.models import AuditEntry
from edge.console.permissions import manager_required
from edge.console.runtime import current
from edge.console.views.common import loaded
from edge.errors import ConfigError
from edge.staff import edits
from edge.staff.members import mask_uid
from edge.staff.memberstore import MemberFileChanged

PAGE_SIZE = 100


def removed_records(entry: AuditEntry) -> list[dict[str, Any]]:
    """The whole records of the members an entry removed (a removal, or an import's removals)."""
    value = entry.details.get("removed")
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def _member_summary(record: dict[str, Any]) -> str:
    """A removed member as the page shows it: fields that say something, badges masked."""
    badges = ", ".join(mask_uid(str(b)) for b in record.get("badges", []))
    shown = {k: v for k, v in record.items() if k != "badges" and v not in (None, "", False)}
    return ", ".join(f"{k}: {v}" for k, v in shown.items()) + (f", badges: {badges}" if badges else "")


def _details(entry: AuditEntry) -> list[tuple[str, str]]:
    """The details worth showing, badges masked (a removed member's record keeps them in full in the database)."""
    out = []
    for key, value in sorted(entry.details.items()):
        if key == "removed":
            records = removed_records(entry)
            value = "; ".join(_member_summary(r) for r in records) if records else value
        out.append((key, str(value)))
    return out


def _restorable(entry: AuditEntry, present: set[str]) -> list[tuple[str, str]]:
    """(id, name) of the members the entry removed that are not in the member file now."""
    records = removed_records(entry)
    return [(str(r.get("id")), str(r.get("name") or r.get("id"))) for r in records if r.get("id") not in present]


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
    present = {m.id for m in loaded().members.members}
    rows = [(e, ACTIONS.get(e.action, e.action), _details(e), _restorable(e, present)) for e in shown]
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


@manager_required
@require_POST
def restore(request: HttpRequest, entry_id: int) -> HttpResponseBase:
    """Put a removed member back from the record their removal kept; refused when the id or a card was reused."""
    entry = get_object_or_404(AuditEntry, pk=entry_id)
    member_id = request.POST.get("member_id", "")
    record = next((r for r in removed_records(entry) if r.get("id") == member_id), None)
    if record is None:
        raise Http404(member_id)
    runtime = current()
    try:
        edit, saved = runtime.members.edit(lambda m: edits.restore_member(m, record, badge_key=runtime.badge_key))
    except MemberFileChanged:
        messages.error(request, _("Someone else changed the member file meanwhile: nothing was saved. Try again."))
        return redirect("audit")
    except ConfigError as exc:
        messages.error(request, _("Not restored: %(reason)s") % {"reason": "; ".join(exc.issues)})
        return redirect("audit")
    audit.record(request, "member.restore", target=member_id, from_entry=entry.pk, file_version=saved.version)
    for warning in edit.warnings:
        messages.warning(request, warning)
    messages.success(request, _("Member restored. Publish to let their badges in again."))
    return redirect("member", member_id=member_id)
