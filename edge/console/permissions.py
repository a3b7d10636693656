"""Who may do what: managers change things, viewers only read; every mutating view says so with `manager_required`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def is_manager(request: HttpRequest) -> bool:
    """True when the request's user is an active manager."""
    return bool(getattr(request.user, "is_manager", False))


def manager_required(view: View) -> View:
    """Refuse (403) the view to everyone but managers, whatever the method: its pages lead to a change."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not is_manager(request):
            raise PermissionDenied("managers only")
        return view(request, *args, **kwargs)

    wrapped.edge_manager_only = True  # type: ignore[attr-defined]
    return cast(View, wrapped)
