"""What several pages share: the runtime's member file, the doors known to the console, names and card holders
worked out once per member file version."""

from __future__ import annotations

import datetime as dt
import threading

from edge.console.runtime import current
from edge.staff.badges import Holder, card_holders
from edge.staff.memberstore import Loaded

_lock = threading.Lock()
_names: tuple[str, dict[str, str]] | None = None
_holders: tuple[str, bytes, dict[str, Holder]] | None = None


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


def member_names(members: Loaded | None = None) -> dict[str, str]:
    """Member id -> name, for the member file's current version (worked out once per version)."""
    global _names
    members = members or loaded()
    with _lock:
        if _names is None or _names[0] != members.version:
            _names = (members.version, {m.id: m.name for m in members.members.members})
        return _names[1]


def holders(members: Loaded | None = None) -> dict[str, Holder]:
    """Every card of the member file by its badge token (the console has the badge key), once per version."""
    global _holders
    members = members or loaded()
    key = current().badge_key
    with _lock:
        if _holders is None or _holders[0] != members.version or _holders[1] != key:
            _holders = (members.version, key, card_holders(members.members, key))
        return _holders[2]


def forget() -> None:
    """Drop what was worked out (tests start each site afresh)."""
    global _names, _holders
    with _lock:
        _names = _holders = None
