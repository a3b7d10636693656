"""The doors: which member snapshot each one applied and since when (the revocation lag), publishing, commands."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from edge.access.commands import Action
from edge.console import audit
from edge.console.models import AuditEntry
from edge.console.permissions import manager_required
from edge.console.runtime import current
from edge.console.today import Today
from edge.console.views.common import loaded
from edge.console.views.live import live_json, sections
from edge.console.views.today import push_record, site_now
from edge.errors import BrokerError, ConfigError, StoreError
from edge.staff.command import send_command
from edge.staff.push import push_snapshot

log = logging.getLogger("edge.console")
COMMANDS = tuple(a.value for a in Action)


def last_published_version() -> str | None:
    """The member file version the console last published (None: never published from the console)."""
    entry = AuditEntry.objects.filter(action="publish").order_by("-at", "-id").first()
    return str(entry.details.get("file_version")) if entry is not None else None


def _doors_context() -> dict[str, Any]:
    runtime = current()
    _record, notes = push_record()
    return {
        "today": site_now(),
        "notes": notes,
        "unpublished": last_published_version() not in (None, loaded().version),
        "commands_enabled": runtime.command_key is not None,
    }


def doors_page(request: HttpRequest) -> HttpResponse:
    """Each door: mode, applied snapshot version, since when, behind or not, revocation lag; its node's state.

    Live: after a publish, each door's version and lag appear as the door confirms, until every door has it.
    """
    return render(request, "console/doors.html", _doors_context())


def doors_live(request: HttpRequest) -> JsonResponse:
    """The doors page's data and its report section as they are now (polled about once a second)."""
    context = _doors_context()
    state: Today | None = context["today"]
    data = state.to_json() if state is not None else {"connected": False, "doors": []}
    return live_json(request, data, sections(request, context, {"doors-report": "console/doors_report.html"}))


@manager_required
@require_http_methods(["GET", "POST"])
def publish(request: HttpRequest) -> HttpResponseBase:
    """Sign the member file as a snapshot and publish it (retained) to every door; then the doors page shows them
    catching up."""
    runtime = current()
    current_file = loaded()
    members = current_file.members
    if request.method == "GET":
        context = {
            "members": len(members.members),
            "badges": sum(len(m.badges) for m in members.members),
            "doors": runtime.link.view.door_names() if runtime.link else (),
            "version": current_file.version,
        }
        return render(request, "console/publish.html", context)
    try:
        record = push_snapshot(
            members,
            runtime.members.path,
            runtime.config,
            signing_key=runtime.snapshot_key,
            badge_key=runtime.badge_key,
            clock=runtime.clock,
            timeout=runtime.link.timeout if runtime.link else 10.0,
            link=runtime.link,
        )
    except (BrokerError, ConfigError, StoreError) as exc:
        log.warning("publish failed: %s", exc)
        messages.error(request, _("Not published: %(reason)s") % {"reason": str(exc)})
        return redirect("doors")
    audit.record(
        request,
        "publish",
        target=str(record.version),
        file_version=current_file.version,
        members=record.members,
        badges=record.badges,
        size=record.size,
    )
    messages.success(
        request,
        _("Published version %(version)s. The doors below confirm as they apply it.") % {"version": record.version},
    )
    return redirect("doors")


@manager_required
@require_http_methods(["GET", "POST"])
def command(request: HttpRequest, door: str, action: str) -> HttpResponseBase:
    """A door command: a confirmation page, then the signed command on POST."""
    if action not in COMMANDS:
        raise Http404(action)
    runtime = current()
    if runtime.command_key is None:
        messages.error(request, _("This console has no command signing key: it cannot send door commands."))
        return redirect("doors")
    if request.method == "GET":
        return render(request, "console/command.html", {"door": door, "action": action})
    try:
        sent = send_command(
            runtime.config,
            door,
            Action(action),
            signing_key=runtime.command_key,
            clock=runtime.clock,
            timeout=runtime.link.timeout if runtime.link else 10.0,
            link=runtime.link,
        )
    except (BrokerError, ConfigError) as exc:
        log.warning("command %s to %s failed: %s", action, door, exc)
        messages.error(request, _("Not sent: %(reason)s") % {"reason": str(exc)})
        return redirect("doors")
    audit.record(request, "command", target=door, command=action, nonce=sent.command.nonce)
    messages.success(
        request, _("Command sent to %(door)s. Its mode below changes once the door obeys.") % {"door": door}
    )
    return redirect("doors")
