"""Live pages: the JSON a page's script polls about once a second, carrying the page's sections rendered again.

Every label stays in the message catalogue: a live page is rendered on the server with Jinja2 like any other,
and its endpoint renders the same section templates again with fresh data (`sections`); the script
(`static/console/console.js`) swaps a section's HTML in when it changed, and needs no strings of its own.
A poll is passive: it does not renew the session's idle limit (`edge.console.middleware.SessionMiddleware`).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.template.loader import render_to_string

from edge.console.middleware import passive


def sections(request: HttpRequest, context: dict[str, Any], templates: dict[str, str]) -> dict[str, str]:
    """Each section's HTML, by the id of the element it fills."""
    return {element: render_to_string(template, context, request) for element, template in templates.items()}


def live_json(request: HttpRequest, data: dict[str, Any], rendered: dict[str, str]) -> JsonResponse:
    """The poll's answer: the data (for scripts and tests) and the sections; never cached, never activity."""
    passive(request)
    response = JsonResponse({**data, "sections": rendered})
    response["Cache-Control"] = "no-store"
    return response
