"""Member snapshots: what doors receive instead of the member file, signed by the staff machine.

A snapshot carries badge tokens (HMAC of the UID with the site badge key), never UIDs or names. It is signed
with Ed25519: doors hold only the public key, so a stolen door can check snapshots but cannot forge one
(see docs/security.md). A door applies a snapshot only if the signature verifies against a key it trusts, the
site is its own, and the version is newer than the one it has.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from edge.access.badges import card_token, same_cards
from edge.access.index import SNAPSHOT_FORMAT, SnapshotIndex
from edge.access.members import Member, MemberFile
from edge.access.signing import TrustedKeys, open_signed, sign
from edge.clock import rfc3339_ms
from edge.errors import ConfigError, PayloadError
from edge.schedule import DAY_NAMES, Window, format_time

if TYPE_CHECKING:  # signing is the staff machine's job; doors verify without `cryptography`
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SNAPSHOT_KIND = "edge-members-snapshot/1"
MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024


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


def verify_snapshot(raw: bytes, trusted: TrustedKeys, *, site: str, applied_version: int | None) -> dict[str, Any]:
    """Check signature, site and version of a signed snapshot and return its payload; raise PayloadError otherwise.

    Reasons beyond the signature's (see `open_signed`): wrong_site, not_newer (the same or an older version than
    the one applied: a retained copy seen again after a reconnect is `not_newer` and needs no action).
    """
    payload = open_signed(SNAPSHOT_KIND, raw, trusted, max_bytes=MAX_SNAPSHOT_BYTES)
    if payload.get("site") != site:
        raise PayloadError("wrong_site", f"snapshot for {str(payload.get('site'))[:60]!r}, this door is in {site!r}")
    version = payload.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise PayloadError("malformed", "version is not an integer")
    if applied_version is not None and version <= applied_version:
        raise PayloadError("not_newer", f"version {version}, applied {applied_version}")
    return payload


def apply_snapshot(raw: bytes, trusted: TrustedKeys, *, site: str, applied_version: int | None) -> SnapshotIndex:
    """Verify a signed snapshot and index it; the caller swaps the returned index in (one assignment)."""
    return SnapshotIndex.from_payload(verify_snapshot(raw, trusted, site=site, applied_version=applied_version))


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
