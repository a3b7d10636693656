"""Helpers for the access tests: a site's member file, its signed snapshot index, Paris wall-clock times."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge.access.index import SnapshotIndex
from edge.access.signed import TrustedKeys
from edge.access.snapshot import apply_snapshot
from edge.contract.token import badge_token
from edge.staff.memberfile import parse_member_file
from edge.staff.members import MemberFile
from edge.staff.signing import public_key_of
from edge.staff.snapshot import build_snapshot, sign_snapshot

PARIS = ZoneInfo("Europe/Paris")
BADGE_KEY = b"test-badge-key-0123456789abcdef"
CREATED = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)

# The start of a member file: the site and three of its plans (the tests add their own plans and members)
PLANS_HEAD = """\
site: lyon
timezone: Europe/Paris
plans:
  resident: {schedule: always}
  flex:
    schedule:
      - {days: mon-fri, from: "08:00", to: "19:00"}
  staff: {schedule: always}
"""
SITE_YAML = (
    PLANS_HEAD
    + """\
  night:
    schedule:
      - {days: [fri, sat], from: 22:00, to: 02:00}
closures:
  - {name: Christmas, date: 2026-12-25, open_to: [resident, staff]}
accounts:
  acme: {seats: 2}
policy:
  lockdown: {staff: true, plans: []}
  untrusted_clock: {staff: true, plans: [resident]}
members:
  - {id: res, plan: resident, badges: ["A1"]}
  - {id: flex, plan: flex, badges: ["A2"]}
  - {id: future, plan: resident, badges: ["A3"], valid_from: 2026-12-01}
  - {id: gone, plan: resident, badges: ["A4"], valid_until: 2026-10-31}
  - {id: susp, plan: resident, badges: ["A5"], suspended: true}
  - {id: boss, plan: staff, badges: ["A6"], staff: true}
  - {id: owl, plan: night, badges: ["A7"]}
  - {id: acme-1, plan: flex, badges: ["B1"], account: acme}
  - {id: acme-2, plan: flex, badges: ["B2"], account: acme}
  - {id: acme-3, plan: flex, badges: ["B3"], account: acme}
  - {id: two-cards, plan: resident, badges: ["C1", "C2"]}
"""
)


def paris(text: str, fold: int = 0) -> dt.datetime:
    """An aware datetime from Paris wall-clock text `YYYY-MM-DD HH:MM[:SS]`, returned in UTC."""
    naive = dt.datetime.fromisoformat(text)
    return naive.replace(tzinfo=PARIS, fold=fold).astimezone(dt.UTC)


def token(uid: str) -> str:
    """The badge token of a UID with the test badge key."""
    return badge_token(BADGE_KEY, uid)


def index_of(members: MemberFile | str, version: int = 1) -> SnapshotIndex:
    """Build, sign, verify and index a snapshot: the same path a door takes."""
    if isinstance(members, str):
        members = parse_member_file(members)
    key = Ed25519PrivateKey.generate()
    payload = build_snapshot(members, version=version, badge_key=BADGE_KEY, created_at=CREATED)
    raw = sign_snapshot(payload, key)
    return apply_snapshot(raw, TrustedKeys([public_key_of(key)]), site=members.site, applied_version=None)
