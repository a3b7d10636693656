"""Logging in and out, the lockout page, changing one's password, choosing the language."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from edge.console import audit
from edge.console.settings import SESSION_STARTED

log = logging.getLogger("edge.console")


class LoginView(auth_views.LoginView):
    """The login page: the only page served without a session."""

    template_name = "console/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        """Log in, start the session's absolute clock and record the login."""
        response = super().form_valid(form)
        self.request.session[SESSION_STARTED] = time.time()
        audit.record(self.request, "login")
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        """Log the failure (django-axes counts it and locks after too many)."""
        log.warning("failed login for %r from %s", form.data.get("username", ""), self.request.META.get("REMOTE_ADDR"))
        return super().form_invalid(form)


@require_POST
def logout(request: HttpRequest) -> HttpResponseBase:
    """Log out (POST only, with CSRF) and return to the login page."""
    if request.user.is_authenticated:
        audit.record(request, "logout")
    return auth_views.LogoutView.as_view()(request)


def locked_out(request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any) -> HttpResponse:
    """django-axes' answer once a user name and address have failed too often (429)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    log.warning("login locked out for %r from %s", (credentials or {}).get("username"), request.META.get("REMOTE_ADDR"))
    return render(request, "console/locked_out.html", {"minutes": minutes}, status=429)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Any staff member changes their own password (the one change a viewer may make)."""

    template_name = "console/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form: Any) -> HttpResponse:
        """Save, keep the session, record it."""
        from django.contrib import messages

        response = super().form_valid(form)
        audit.record(self.request, "staff.password", target=self.request.user.get_username())
        messages.success(self.request, _("Your password was changed."))
        return response


@login_not_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch (POST, CSRF-checked), also on the login page."""
    return django_set_language(request)
