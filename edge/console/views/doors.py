"""The doors: which member snapshot each one applied and since when (the revocation lag), publishing, commands."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from edge.access.commands import Action
from edge.console import audit
from edge.console.models import AuditEntry
from edge.console.permissions import manager_required
from edge.console.runtime import current
from edge.console.views.common import loaded
from edge.errors import BrokerError, ConfigError, StoreError
from edge.staff.command import send_command
from edge.staff.push import push_snapshot, read_record, record_path

log = logging.getLogger("edge.console")
COMMANDS = tuple(a.value for a in Action)


def last_published_version() -> str | None:
    """The member file version the console last published (None: never published from the console)."""
    entry = AuditEntry.objects.filter(action="publish").order_by("-at", "-id").first()
    return str(entry.details.get("file_version")) if entry is not None else None


def doors_page(request: HttpRequest) -> HttpResponse:
    """Each door: mode, applied snapshot version, since when, behind or not, revocation lag; its node's state."""
    runtime = current()
    link = runtime.link
    record = None
    notes: list[str] = []
    try:
        record = read_record(record_path(runtime.members.path))
    except ConfigError as exc:
        notes.extend(exc.issues)
    report = link.view.status(runtime.clock.now(), record=record) if link is not None else None
    current_file = loaded()
    context = {
        "report": report,
        "connected": link is not None and link.connected,
        "unpublished": last_published_version() not in (None, current_file.version),
        "commands_enabled": runtime.command_key is not None,
        "notes": notes,
    }
    return render(request, "console/doors.html", context)


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
