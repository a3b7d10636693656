"""Live pages: the JSON a page's script polls about once a second, carrying the page's sections rendered again.

Every label stays in the message catalogue: a live page is rendered on the server with Jinja2 like any other,
and its endpoint renders the same section templates again with fresh data (`sections`); the script
(`static/console/console.js`) swaps a section's HTML in when its fingerprint changed, and needs no strings of
its own. The fingerprint leaves out the CSRF token, which Django masks afresh at every rendering: without that,
every poll would replace a section holding a form, and its button would slip away under the pointer.
A poll is passive: it does not renew the session's idle limit (`edge.console.middleware.SessionMiddleware`).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.template.loader import render_to_string

from edge.console.middleware import passive

_CSRF_VALUE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')


def fingerprint(html: str) -> str:
    """What a section shows, as a short digest that ignores the per-rendering CSRF mask."""
    return hashlib.sha256(_CSRF_VALUE.sub(r"\1\2", html).encode()).hexdigest()[:32]


def sections(request: HttpRequest, context: dict[str, Any], templates: dict[str, str]) -> dict[str, dict[str, str]]:
    """Each section's HTML and fingerprint, by the id of the element it fills."""
    rendered = {element: render_to_string(template, context, request) for element, template in templates.items()}
    return {element: {"html": html, "fingerprint": fingerprint(html)} for element, html in rendered.items()}


def live_json(request: HttpRequest, data: dict[str, Any], rendered: dict[str, dict[str, str]]) -> JsonResponse:
    """The poll's answer: the data (for scripts and tests) and the sections; never cached, never activity."""
    passive(request)
    response = JsonResponse({**data, "sections": rendered})
    response["Cache-Control"] = "no-store"
    return response
