"""What several pages share: the runtime's member file, the doors known to the console, conflict handling."""

from __future__ import annotations

import datetime as dt

from edge.console.runtime import current
from edge.staff.memberstore import Loaded


def doors() -> tuple[str, ...]:
    """The doors that reported their state to the console (every one receives the member snapshot)."""
    link = current().link
    return link.view.door_names() if link is not None else ()


def loaded() -> Loaded:
    """The member file as it is now."""
    return current().members.load()


def site_today() -> dt.date:
    """Today's date at the site."""
    runtime = current()
    return runtime.clock.now().astimezone(runtime.config.tz).date()
