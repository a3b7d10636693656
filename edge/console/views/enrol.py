"""Enrolling a badge by tapping it: the cards presented at any reader in the last minutes, live; one is given to the
member by its badge token.

The raw UID never leaves the reader's node: a standalone reader (`edge badge`) publishes a scan with the card's
badge token, a door publishes the token in its decision (an unknown card is refused `unknown_badge`). The console
holds the badge key, so it recognises a card already given to someone — by its UID or its token — and refuses
it, naming the holder. The browser never sees a token: the form names the presentation (the event's id), and
the console looks the token up in its site view.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from edge.console import audit
from edge.console.permissions import manager_required
from edge.console.runtime import current
from edge.console.views.common import holders, loaded
from edge.console.views.live import live_json, sections
from edge.errors import ConfigError
from edge.staff import edits
from edge.staff.badges import Holder, mask_badge, token_badge
from edge.staff.members import Member
from edge.staff.memberstore import Loaded, MemberFileChanged
from edge.staff.siteview import Presentation

log = logging.getLogger("edge.console")
WINDOW = dt.timedelta(minutes=10)
"""How long a tapped card stays offered on the enrolment page."""
SHOWN = 10
_EVENT_ID = re.compile(r"^[0-9A-Za-z_.:-]{1,64}$")


@dataclass(frozen=True)
class Card:
    """A card presented at a reader, as the enrolment page offers it: where, when, who holds it (if anyone)."""

    id: str
    at: dt.datetime
    reader: str
    door: str | None
    holder: Holder | None


def reader_key(reader: str, door: str | None) -> str:
    """How the reader filter names a reader: `door/reader` for a door's reader, the name of a standalone one."""
    return f"{door}/{reader}" if door else reader


def _member(members: Loaded, member_id: str) -> Member:
    for member in members.members.members:
        if member.id == member_id:
            return member
    raise Http404(member_id)


def _cards(members: Loaded, reader: str) -> tuple[list[Card], list[tuple[str, str | None]]]:
    runtime = current()
    link = runtime.link
    if link is None:
        return [], []
    since = runtime.clock.now() - WINDOW
    known = holders(members)
    cards = [
        Card(p.id, p.at, p.reader, p.door, known.get(p.token))
        for p in link.view.presentations(since)
        if not reader or reader_key(p.reader, p.door) == reader
    ]
    return cards[:SHOWN], link.view.readers()


def _context(request: HttpRequest, members: Loaded, member: Member) -> dict[str, Any]:
    reader = request.GET.get("reader", "")[:100]
    cards, readers = _cards(members, reader)
    link = current().link
    return {
        "member": member,
        "cards": cards,
        "readers": [(reader_key(r, d), r, d) for r, d in readers],
        "reader": reader,
        "version": members.version,
        "connected": link is not None and link.connected,
        "window_minutes": int(WINDOW.total_seconds() // 60),
    }


@manager_required
@require_http_methods(["GET", "POST"])
def member_enrol(request: HttpRequest, member_id: str) -> HttpResponseBase:
    """The page (GET) and giving the member a card presented at a reader (POST)."""
    members = loaded()
    member = _member(members, member_id)
    if request.method == "POST":
        return _assign(request, member)
    return render(request, "console/enrol.html", _context(request, members, member))


@manager_required
@require_GET
def member_enrol_live(request: HttpRequest, member_id: str) -> JsonResponse:
    """The cards presented lately, rendered again (polled about once a second)."""
    members = loaded()
    context = _context(request, members, _member(members, member_id))
    data = {"cards": [{"id": c.id, "reader": c.reader, "door": c.door, "held": c.holder is not None}
                      for c in context["cards"]]}  # fmt: skip
    return live_json(request, data, sections(request, context, {"enrol-cards": "console/enrol_cards.html"}))


def _presented(presentation_id: str) -> Presentation | None:
    runtime = current()
    if runtime.link is None or not _EVENT_ID.match(presentation_id):
        return None
    found = runtime.link.view.presentation(presentation_id)
    if found is None or found.at < runtime.clock.now() - WINDOW:
        return None
    return found


def _assign(request: HttpRequest, member: Member) -> HttpResponseBase:
    runtime = current()
    presented = _presented(request.POST.get("presentation", ""))
    if presented is None:
        messages.error(request, _("This card was presented too long ago, or not at all: tap it again."))
        return redirect("member_enrol", member_id=member.id)
    try:
        edit, saved = runtime.members.edit(
            lambda m: edits.enrol_token(m, member.id, presented.token, badge_key=runtime.badge_key),
            based_on=request.POST.get("based_on") or None,
        )
    except edits.CardHeld as exc:
        messages.error(
            request,
            _("This card already belongs to %(holder)s: nothing changed. Take it back from them first.")
            % {"holder": exc.holder.label},
        )
        return redirect("member_enrol", member_id=member.id)
    except MemberFileChanged:
        messages.error(request, _("Someone else changed the member file meanwhile: nothing was saved. Try again."))
        return redirect("member_enrol", member_id=member.id)
    except ConfigError as exc:
        messages.error(request, "; ".join(exc.issues))
        return redirect("member_enrol", member_id=member.id)
    if not edit.changed:
        messages.info(request, _("%(who)s already holds this card.") % {"who": member.name or member.id})
        return redirect("member", member_id=member.id)
    where = reader_key(presented.reader, presented.door)
    badge = mask_badge(token_badge(presented.token))
    audit.record(request, "member.enrol", target=member.id, reader=where, badge=badge, file_version=saved.version)
    log.info("enrolled a badge for %s at %s", member.id, where)
    messages.success(
        request, _("Badge given to %(who)s. Publish to send it to the doors.") % {"who": member.name or member.id}
    )
    return redirect("member", member_id=member.id)
