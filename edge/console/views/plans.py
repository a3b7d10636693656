"""Plans (with their weekly schedules), closures, and company accounts with their seat limits."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from edge.console import audit
from edge.console.forms import SeatsForm
from edge.console.permissions import manager_required
from edge.console.runtime import current
from edge.console.views.common import loaded
from edge.errors import ConfigError
from edge.staff import edits
from edge.staff.members import Plan
from edge.staff.memberstore import MemberFileChanged


def schedule_text(plan: Plan) -> list[str]:
    """A plan's schedule as lines staff read (`mon-fri 08:00–19:00`), or `always`."""
    dumped: Any = plan.model_dump(mode="json", by_alias=True).get("schedule")
    if isinstance(dumped, str):
        return [dumped]
    lines = []
    for window in dumped or []:
        if isinstance(window, dict):
            days = window.get("days", "")
            days = ", ".join(days) if isinstance(days, list) else str(days)
            lines.append(f"{days} {window.get('from', '')}–{window.get('to', '')}")
        else:
            lines.append(str(window))
    return lines


def plans(request: HttpRequest) -> HttpResponse:
    """Plans, closures and accounts, with how many members each has."""
    current_file = loaded()
    members = current_file.members
    per_plan: dict[str, int] = {}
    per_account: dict[str, int] = {}
    for m in members.members:
        per_plan[m.plan] = per_plan.get(m.plan, 0) + 1
        if m.account:
            per_account[m.account] = per_account.get(m.account, 0) + 1
    accounts = sorted(set(members.accounts) | set(per_account))
    context = {
        "plans": [
            (name, plan, schedule_text(plan), per_plan.get(name, 0)) for name, plan in sorted(members.plans.items())
        ],
        "closures": members.closures,
        "accounts": [(a, members.accounts.get(a), per_account.get(a, 0)) for a in accounts],
        "version": current_file.version,
        "form": SeatsForm(initial={"based_on": current_file.version}),
    }
    return render(request, "console/plans.html", context)


@manager_required
@require_POST
def account_seats(request: HttpRequest) -> HttpResponseBase:
    """Set or lift an account's seat limit."""
    form = SeatsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give an account and a number of seats (or none)."))
        return redirect("plans")
    account, seats = form.cleaned_data["account"], form.cleaned_data["seats"]
    try:
        edit, saved = current().members.edit(
            lambda m: edits.set_account_seats(m, account, seats), based_on=form.cleaned_data["based_on"]
        )
    except MemberFileChanged:
        messages.error(request, _("Someone else changed the member file meanwhile: nothing was saved. Here it is now."))
        return redirect("plans")
    except ConfigError as exc:
        messages.error(request, "; ".join(exc.issues))
        return redirect("plans")
    if edit.changed:
        audit.record(request, "account.seats", target=account, seats=seats, file_version=saved.version)
        messages.success(request, _("Saved. Publish to send it to the doors."))
    return redirect("plans")
