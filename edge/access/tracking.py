"""The little state decisions depend on: who is inside (anti-passback) and who used a seat today (seat limits).

Pure objects: no I/O, no clock. `decide` only reads them; the door records a decision after acting on it. Both
turn into plain JSON-able dicts and back, so the door keeps them across a restart (edge.door.store).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PassbackState:
    """Where each member was last seen by a door with in and out readers, for `reset_after`.

    An entry older than `reset_after` is forgotten, so a member who left without badging out is not locked out
    for ever; `max_members` bounds memory (the oldest entries go first).
    """

    reset_after: dt.timedelta = dt.timedelta(hours=12)
    max_members: int = 200_000
    _inside: dict[str, dt.datetime] = field(default_factory=dict)

    def is_inside(self, member_id: str, at: dt.datetime) -> bool:
        """True when the member badged in less than `reset_after` ago and has not badged out since."""
        since = self._inside.get(member_id)
        return since is not None and at - since < self.reset_after

    def entered(self, member_id: str, at: dt.datetime) -> None:
        """Record a granted entry."""
        self._inside.pop(member_id, None)
        self._inside[member_id] = at
        while len(self._inside) > self.max_members:
            del self._inside[next(iter(self._inside))]

    def left(self, member_id: str) -> None:
        """Record a granted exit."""
        self._inside.pop(member_id, None)

    def __len__(self) -> int:
        return len(self._inside)

    def to_dict(self) -> dict[str, Any]:
        """Who is inside since when (RFC 3339), oldest entry first."""
        return {"inside": {member: at.isoformat() for member, at in self._inside.items()}}

    def restore(self, data: dict[str, Any]) -> None:
        """Take back what `to_dict` gave; raises ValueError (or KeyError, TypeError) on anything else."""
        inside = {str(member): dt.datetime.fromisoformat(at) for member, at in dict(data["inside"]).items()}
        if any(at.tzinfo is None for at in inside.values()):
            raise ValueError("passback times must carry their UTC offset")
        self._inside = inside


@dataclass
class SeatState:
    """Distinct members admitted per account and local day, for accounts with a seat limit."""

    _days: dict[tuple[str, int], set[str]] = field(default_factory=dict)
    _latest: int = 0

    def used(self, account: str, day: int) -> frozenset[str]:
        """The members of `account` already admitted on local day `day` (a date ordinal)."""
        return frozenset(self._days.get((account, day), ()))

    def would_exceed(self, account: str, seats: int, member_id: str, day: int) -> bool:
        """True when admitting the member would make more than `seats` distinct members of the account that day."""
        used = self._days.get((account, day))
        return used is not None and member_id not in used and len(used) >= seats

    def admitted(self, account: str, member_id: str, day: int) -> None:
        """Record a granted entry; days before yesterday are forgotten when a new day starts."""
        self._days.setdefault((account, day), set()).add(member_id)
        if day > self._latest:
            self._latest = day
            for key in [key for key in self._days if key[1] < day - 1]:
                del self._days[key]

    def to_dict(self) -> dict[str, Any]:
        """Members admitted per account and day, as lists."""
        days = [[account, day, sorted(members)] for (account, day), members in self._days.items()]
        return {"days": days, "latest": self._latest}

    def restore(self, data: dict[str, Any]) -> None:
        """Take back what `to_dict` gave; raises ValueError (or KeyError, TypeError) on anything else."""
        days = {(str(account), int(day)): {str(m) for m in members} for account, day, members in data["days"]}
        self._days = days
        self._latest = int(data["latest"])
