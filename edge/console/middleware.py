"""The console's own middleware: the language staff chose (French otherwise), the absolute session limit, and
sessions that live pages' polling does not keep alive."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
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


PASSIVE = "edge_passive"
"""Request attribute set by a view that only reads on a page's behalf (a live page's polling): not activity."""


def passive(request: HttpRequest) -> None:
    """Mark `request` as made by a page on its own (polling): it does not renew the session's idle limit."""
    setattr(request, PASSIVE, True)


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's session middleware, except that a passive request leaves the session's expiry as it was.

    Sessions are saved on every request (SESSION_SAVE_EVERY_REQUEST) so that the idle limit counts from the last
    thing staff did. A Today page left open polls every second: that must not keep an unattended browser logged
    in, so its polls are passive and the session still ends `session_idle_minutes` after the last real request.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """Save the session as Django does, unless the request was passive and changed nothing in it."""
        session = getattr(request, "session", None)
        if getattr(request, PASSIVE, False) and session is not None and not session.modified:
            return response
        return super().process_response(request, response)
