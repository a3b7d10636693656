"""Recording staff actions in the audit log, and the words each action is shown with."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from edge.console.models import AuditEntry

log = logging.getLogger("edge.console.audit")

ACTIONS = {
    "login": _("Logged in"),
    "logout": _("Logged out"),
    "member.add": _("Added a member"),
    "member.edit": _("Changed a member"),
    "member.suspend": _("Suspended a member"),
    "member.unsuspend": _("Lifted a suspension"),
    "member.remove": _("Removed a member"),
    "member.restore": _("Restored a removed member"),
    "member.enrol": _("Enrolled a badge by tapping it"),
    "account.seats": _("Changed an account's seats"),
    "import": _("Imported members"),
    "publish": _("Published the members to the doors"),
    "command": _("Sent a door command"),
    "report": _("Produced the funders' report"),
    "door_log.export": _("Exported the door log"),
    "staff.add": _("Created a staff account"),
    "staff.edit": _("Changed a staff account"),
    "staff.password": _("Set a staff password"),
}
"""Every action the audit log records, by its stable key, with the words staff read."""


def record(request: HttpRequest | None, action: str, target: str = "", user: str = "", **details: Any) -> AuditEntry:
    """Write one entry (and the same line to the journal); `user` defaults to the request's user."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    name = user or (request.user.get_username() if request is not None and request.user.is_authenticated else "")
    entry = AuditEntry.objects.create(user=name or "?", action=action, target=target, details=details)
    log.info("audit: %s %s %s", entry.user, action, target)
    return entry
