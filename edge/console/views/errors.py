"""Error pages in the staff's language: refused (403), not found (404), server error (500), CSRF failure."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

log = logging.getLogger("edge.console")


def _page(request: HttpRequest, status: int, title: str, explanation: str) -> HttpResponse:
    return render(request, "console/error.html", {"title": title, "explanation": explanation}, status=status)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: a viewer asked for a manager's page."""
    log.warning("refused %s %s to %s (403)", request.method, request.path, request.user)
    return _page(request, 403, _("Not allowed"), _("Your account can read but not change anything here."))


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404."""
    return _page(request, 404, _("Page not found"), _("This page does not exist, or what it showed was removed."))


def server_error(request: HttpRequest) -> HttpResponse:
    """500: the details are in the journal, never in the page."""
    return _page(request, 500, _("Something went wrong"), _("Nothing was changed. The details are in the log."))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 for a form sent without its CSRF token (a forged request, or a page left open too long)."""
    log.warning("refused %s %s: CSRF check failed (%s)", request.method, request.path, reason)
    return _page(
        request,
        403,
        _("The form was refused"),
        _("It was not sent from this console's own page, or the page was too old. Reload the page and try again."),
    )
