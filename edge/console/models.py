"""The console's own data (its SQLite database): staff accounts with a role, and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a staff account may do: managers everything, viewers read only."""

    MANAGER = "manager", _("Manager")
    VIEWER = "viewer", _("Viewer")


class StaffUser(AbstractUser):
    """A staff account of the console (not a member of the space)."""

    role: models.CharField[str, str] = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    @property
    def is_manager(self) -> bool:
        """True for an active manager account."""
        return bool(self.is_active) and self.role == Role.MANAGER


class AuditEntry(models.Model):
    """One staff action: who, what, when, on what, and the details needed to understand (or undo) it.

    The user is kept by name, not by reference: deleting an account never erases what it did. A removed member's
    whole record is kept in `details`, so a removal can be undone by hand.
    """

    at: models.DateTimeField[Any, dt.datetime] = models.DateTimeField(default=timezone.now, db_index=True)
    user: models.CharField[str, str] = models.CharField(max_length=150)
    action: models.CharField[str, str] = models.CharField(max_length=40, db_index=True)
    target: models.CharField[str, str] = models.CharField(max_length=200, blank=True)
    details: models.JSONField[Any, Any] = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-at", "-id")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.target}"
