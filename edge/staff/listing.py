"""`edge members list`: every member with plan, validity, status and how many badges — never the UIDs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from edge.staff.members import Member, MemberFile


@dataclass(frozen=True)
class MemberRow:
    """One member as staff see them in the list."""

    id: str
    name: str
    plan: str
    account: str | None
    valid_from: dt.date | None
    valid_until: dt.date | None
    status: str
    badges: int
    staff: bool
    source: str

    @property
    def validity(self) -> str:
        """`2026-09-01 → 2026-12-31`, with `…` for an open end, or `always`."""
        if self.valid_from is None and self.valid_until is None:
            return "always"
        start = self.valid_from.isoformat() if self.valid_from else "…"
        end = self.valid_until.isoformat() if self.valid_until else "…"
        return f"{start} → {end}"


def member_status(member: Member, today: dt.date) -> str:
    """`active`, `suspended`, `expired`, `not yet valid` or `no badge`, on the site's local date `today`."""
    if member.suspended:
        return "suspended"
    if member.valid_until is not None and today > member.valid_until:
        return "expired"
    if member.valid_from is not None and today < member.valid_from:
        return "not yet valid"
    if not member.badges:
        return "no badge"
    return "active"


def list_members(members: MemberFile, today: dt.date) -> list[MemberRow]:
    """The member file as rows, in file order."""
    return [
        MemberRow(
            id=m.id,
            name=m.name,
            plan=m.plan,
            account=m.account,
            valid_from=m.valid_from,
            valid_until=m.valid_until,
            status=member_status(m, today),
            badges=len(m.badges),
            staff=m.staff,
            source=m.source,
        )
        for m in members.members
    ]
