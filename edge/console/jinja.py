"""The Jinja2 environment of the console's templates: edge's message catalogue and locale-aware formatting.

Templates translate with `{{ _("Members") }}` and `{{ ngettext("%(num)s member", "%(num)s members", n) }}`
(new-style gettext: placeholders are filled and escaped by Jinja2), through Django's active language, so the
console and the funders' report read the same catalogue. Numbers and dates go through `edge.i18n.Formatter` for
the active language: `{{ count | number }}`, `{{ day | date }}`, `{{ moment | datetime }}`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import jinja2
from django.conf import settings
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from edge.i18n import LANGUAGES, Formatter


def formatter() -> Formatter:
    """The formatter of the language active for this request."""
    return Formatter.for_language(translation.get_language() or settings.LANGUAGE_CODE)


def _localised(name: str) -> Callable[..., str]:
    def apply(value: Any, *args: Any) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, dt.datetime) and name in ("datetime", "time"):
            value = timezone.localtime(value) if timezone.is_aware(value) else value
        method: Callable[..., str] = getattr(formatter(), name)
        return method(value, *args)

    apply.__name__ = name
    return apply


def url(name: str, *args: Any, **kwargs: Any) -> str:
    """The path of a named page (`url("members")`, `url("member", member_id)`)."""
    return reverse(name, args=args or None, kwargs=kwargs or None)


def static(path: str) -> str:
    """The URL of a static file of the console."""
    return f"{settings.STATIC_URL}{path}"


def environment(**options: Any) -> jinja2.Environment:
    """Build the environment Django's Jinja2 backend renders with."""
    options.setdefault("undefined", jinja2.StrictUndefined)
    env = jinja2.Environment(**options)
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        {name: _localised(name) for name in ("number", "percent", "date", "datetime", "time", "weekday")}
    )
    env.globals.update(
        url=url,
        static=static,
        messages=get_messages,
        languages=LANGUAGES,
        current_language=translation.get_language,
    )
    return env
