"""The in-memory form of an applied snapshot: members by badge token, compiled schedules, closures, policy.

Built once per snapshot (about a second for 100,000 members) so that a decision is a dict lookup and a few
integer comparisons. Everything here is immutable; a new snapshot builds a new index and swaps it in whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from edge.errors import PayloadError
from edge.schedule import Window, compile_week, make_window

SNAPSHOT_FORMAT = 1
_NO_START = dt.date.min.toordinal()
_NO_END = dt.date.max.toordinal()


@dataclass(frozen=True, slots=True)
class CompiledPlan:
    """A plan's name and its minute-of-week table (see `edge.schedule`)."""

    name: str
    week: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class MemberEntry:
    """What a door knows about a member: no name, no UID; validity as inclusive local date ordinals."""

    id: str
    plan: CompiledPlan
    valid_from: int
    valid_until: int
    suspended: bool
    account: str | None
    seats: int | None
    staff: bool

    @property
    def first_day(self) -> dt.date | None:
        """First day the member may enter, or None when open-ended."""
        return None if self.valid_from == _NO_START else dt.date.fromordinal(self.valid_from)

    @property
    def last_day(self) -> dt.date | None:
        """Last day the member may enter (all of it), or None when open-ended."""
        return None if self.valid_until == _NO_END else dt.date.fromordinal(self.valid_until)


@dataclass(frozen=True, slots=True)
class AdmitRule:
    """Who still enters in a degraded situation: staff badges and/or members of some plans."""

    staff: bool
    plans: frozenset[str]

    def admits(self, member: MemberEntry) -> bool:
        """True when this rule lets the member in."""
        return (self.staff and member.staff) or member.plan.name in self.plans


@dataclass(frozen=True)
class SnapshotIndex:
    """An applied snapshot, indexed for constant-time decisions."""

    site: str
    version: int
    created_at: str
    tz: ZoneInfo
    by_token: Mapping[str, MemberEntry]
    plans: Mapping[str, CompiledPlan]
    closures: Mapping[int, frozenset[str]]
    lockdown: AdmitRule
    untrusted_clock: AdmitRule
    member_count: int

    def members(self) -> Iterator[MemberEntry]:
        """Every member once (a member with several badges appears once)."""
        seen: set[str] = set()
        for entry in self.by_token.values():
            if entry.id not in seen:
                seen.add(entry.id)
                yield entry

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> SnapshotIndex:
        """Index a verified snapshot payload; raise PayloadError("malformed", ...) if it is not well-formed."""
        try:
            return _build(payload)
        except PayloadError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PayloadError("malformed", f"{type(exc).__name__}: {exc}") from None


def _build(payload: Mapping[str, Any]) -> SnapshotIndex:
    if payload.get("format") != SNAPSHOT_FORMAT:
        raise PayloadError("unsupported_format", f"format {str(payload.get('format'))[:20]!r}")
    version = payload["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ValueError("version must be a non-negative integer")
    try:
        tz = ZoneInfo(str(payload["timezone"]))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {payload['timezone']!r}") from None
    plans = {
        _text(name): CompiledPlan(name, compile_week(_window(w) for w in windows))
        for name, windows in _mapping(payload["plans"]).items()
    }
    closures = {
        dt.date.fromisoformat(day).toordinal(): frozenset(_known_plans(open_to, plans))
        for day, open_to in _mapping(payload.get("closures", {})).items()
    }
    seats = {_text(name): int(count) for name, count in _mapping(payload.get("accounts", {})).items()}
    policy = _mapping(payload.get("policy", {}))
    by_token: dict[str, MemberEntry] = {}
    count = 0
    positions: dict[str, int] = {}
    # Errors name members by position, never by id: they end up in the door's log, kept longer than access records.
    for position, raw in enumerate(payload["members"]):
        entry = _member(raw, plans, seats)
        count += 1
        for token in raw.get("tokens", ()):
            if not isinstance(token, str) or len(token) != 32:
                raise ValueError(f"members[{position}]: a badge token is 32 hex characters")
            if by_token.setdefault(token, entry) is not entry:
                raise ValueError(f"members[{position}]: a badge token already belongs to members[{positions[token]}]")
            positions[token] = position
    return SnapshotIndex(
        site=_text(payload["site"]),
        version=version,
        created_at=_text(payload["created_at"]),
        tz=tz,
        by_token=by_token,
        plans=plans,
        closures=closures,
        lockdown=_admit(policy.get("lockdown", {}), plans),
        untrusted_clock=_admit(policy.get("untrusted_clock", {}), plans),
        member_count=count,
    )


def _member(raw: Mapping[str, Any], plans: Mapping[str, CompiledPlan], seats: Mapping[str, int]) -> MemberEntry:
    account = raw.get("account")
    start, end = raw.get("from"), raw.get("until")
    return MemberEntry(
        id=_text(raw["id"]),
        plan=plans[raw["plan"]],
        valid_from=dt.date.fromisoformat(start).toordinal() if start else _NO_START,
        valid_until=dt.date.fromisoformat(end).toordinal() if end else _NO_END,
        suspended=raw.get("suspended", False) is True,
        account=None if account is None else _text(account),
        seats=None if account is None else seats.get(account),
        staff=raw.get("staff", False) is True,
    )


def _window(raw: Mapping[str, Any]) -> Window:
    days = raw["days"]
    if not isinstance(days, list):
        raise TypeError("a window's days are a list")
    return make_window(days, _text(raw["from"]), _text(raw["to"]))


def _admit(raw: Mapping[str, Any], plans: Mapping[str, CompiledPlan]) -> AdmitRule:
    return AdmitRule(staff=raw.get("staff", True) is True, plans=frozenset(_known_plans(raw.get("plans", ()), plans)))


def _known_plans(names: Any, plans: Mapping[str, CompiledPlan]) -> list[str]:
    for name in names:
        if name not in plans:
            raise ValueError(f"unknown plan {name!r}")
    return list(names)


def _mapping(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError("expected an object")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value
