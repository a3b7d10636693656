"""The console's own middleware: the language staff chose (French otherwise), and the absolute session limit."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from edge.console.settings import SESSION_STARTED


class LanguageMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware, except that the browser's Accept-Language is ignored.

    The people who run a tiers-lieu read French; a browser set to English (a shared laptop, a fresh install)
    must not switch the console to English. The language cookie set by the language form is the only choice.
    """

    def process_request(self, request: HttpRequest) -> None:
        """Activate the chosen language, or French."""
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        known = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in known else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language


class SessionLimitMiddleware:
    """End a session `session_max_hours` after login, however active it stays (the idle limit is Django's)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Log the user out when the session is older than the limit; the login page follows."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.get(SESSION_STARTED)
            if not isinstance(started, (int, float)) or time.time() - started > settings.EDGE_SESSION_MAX_AGE:
                logout(request)
        return self.get_response(request)
