"""The console's Django application."""

from __future__ import annotations

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """Staff accounts, the audit log and the console's pages."""

    name = "edge.console"
    label = "console"
    default_auto_field = "django.db.models.BigAutoField"
