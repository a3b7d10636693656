"""Member snapshots as the staff machine makes them: what doors receive instead of the member file, signed.

A snapshot carries badge tokens (HMAC of the UID with the site badge key), never UIDs or names, and leaves
defaults out. Doors check it with `edge.access.snapshot.verify_snapshot` and index it (`edge.access.index`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from edge.access.index import SNAPSHOT_FORMAT
from edge.access.snapshot import SNAPSHOT_KIND
from edge.clock import rfc3339_ms
from edge.errors import ConfigError
from edge.schedule import DAY_NAMES, Window, format_time
from edge.staff.badges import card_token, same_cards
from edge.staff.members import Member, MemberFile
from edge.staff.signing import sign

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def build_snapshot(members: MemberFile, *, version: int, badge_key: bytes, created_at: dt.datetime) -> dict[str, Any]:
    """Turn a member file into a snapshot payload: tokens instead of UIDs, no names, defaults left out.

    Badges held by their token (enrolled at a reader) pass through unchanged. A card given twice — the same badge,
    or a UID and the token it hashes to — is refused with a ConfigError naming both members.
    """
    if version < 0:
        raise ValueError("a snapshot version is a non-negative integer")
    twice = same_cards(members, badge_key)
    if twice:
        raise ConfigError([f"{same}: give each card to one member" for same in twice])
    closures: dict[str, list[str]] = {}
    for closure in members.closures:
        for day in closure.days():
            # Two closures on one day: a plan enters only if both let it.
            previous = closures.get(day.isoformat())
            open_to = set(closure.open_to) if previous is None else set(previous) & set(closure.open_to)
            closures[day.isoformat()] = sorted(open_to)
    return {
        "format": SNAPSHOT_FORMAT,
        "site": members.site,
        "version": version,
        "created_at": rfc3339_ms(created_at),
        "timezone": members.timezone,
        "plans": {name: [_window(w) for w in plan.schedule.windows] for name, plan in members.plans.items()},
        "closures": closures,
        "accounts": {name: account.seats for name, account in members.accounts.items() if account.seats},
        "policy": {
            section: {"staff": rule.staff, "plans": list(rule.plans)}
            for section, rule in (
                ("lockdown", members.policy.lockdown),
                ("untrusted_clock", members.policy.untrusted_clock),
            )
        },
        "members": [_member(member, badge_key) for member in members.members],
    }


def sign_snapshot(payload: dict[str, Any], key: Ed25519PrivateKey) -> bytes:
    """Sign a snapshot payload; the bytes are what gets published (retained) on `P/members` and stored by doors."""
    return sign(SNAPSHOT_KIND, payload, key)


def _window(window: Window) -> dict[str, Any]:
    days = [DAY_NAMES[d] for d in sorted(window.days)]
    return {"days": days, "from": format_time(window.start), "to": format_time(window.end)}


def _member(member: Member, badge_key: bytes) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": member.id,
        "plan": member.plan,
        "tokens": [card_token(badge, badge_key) for badge in member.badges],
    }
    if member.valid_from is not None:
        entry["from"] = member.valid_from.isoformat()
    if member.valid_until is not None:
        entry["until"] = member.valid_until.isoformat()
    if member.suspended:
        entry["suspended"] = True
    if member.account is not None:
        entry["account"] = member.account
    if member.staff:
        entry["staff"] = True
    return entry
