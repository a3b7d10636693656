"""Signed door commands (unlock once, lockdown, normal, unlocked) and the checks a door runs before obeying.

A command names its site and door, the action, when it was issued, how long it stays valid and a random
nonce, and is signed with a staff Ed25519 key (`edge.staff.command` makes and signs it; `edge.access.signed`
opens it). A door refuses, in this order:
retained messages (a broker replaying an old command at every reconnect must never act), anything too large
or not JSON, unsigned, signed by a key it does not trust, forged, malformed, addressed to another door or
site, outside its validity window, and nonces it has already seen. Each refusal is a `PayloadError` whose
`reason` is one of: retained, too_large, not_json, malformed, wrong_kind, unsigned, unknown_key, forged,
wrong_door, stale, replayed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from edge.access.signed import TrustedKeys, open_signed
from edge.clock import parse_rfc3339, rfc3339_ms
from edge.errors import PayloadError

COMMAND_KIND = "edge-door-command/1"
MAX_COMMAND_BYTES = 4096
MAX_VALID_FOR_S = 300
DEFAULT_VALID_FOR_S = 30
_NONCE = re.compile(r"^[0-9a-f]{32,64}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")


class Action(StrEnum):
    """What a command asks a door to do."""

    UNLOCK_ONCE = "unlock_once"
    LOCKDOWN = "lockdown"
    NORMAL = "normal"
    UNLOCKED = "unlocked"


@dataclass(frozen=True)
class Command:
    """A door command before signing or after verification."""

    site: str
    door: str
    action: Action
    issued_at: dt.datetime
    valid_for_s: int
    nonce: str

    @property
    def expires_at(self) -> dt.datetime:
        """The last instant the command may be obeyed."""
        return self.issued_at + dt.timedelta(seconds=self.valid_for_s)

    def to_payload(self) -> dict[str, Any]:
        """The signed fields, as JSON values."""
        return {
            "site": self.site,
            "door": self.door,
            "action": self.action.value,
            "issued_at": rfc3339_ms(self.issued_at),
            "valid_for_s": self.valid_for_s,
            "nonce": self.nonce,
        }


class ReplayGuard:
    """Remembers the nonces of obeyed commands so none is obeyed twice; bounded, and can be persisted.

    When full, the oldest nonce is forgotten and `floor` rises to its issue time: from then on any command
    issued at or before `floor` is refused, so a forgotten nonce can never be replayed.
    """

    def __init__(self, capacity: int = 4096, floor: float = float("-inf")) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.floor = floor
        self._seen: OrderedDict[str, float] = OrderedDict()

    def check(self, nonce: str, issued_at: float) -> bool:
        """True when a command with this nonce and issue time (epoch seconds) has not been obeyed yet."""
        return nonce not in self._seen and issued_at > self.floor

    def remember(self, nonce: str, issued_at: float) -> None:
        """Record an obeyed command."""
        self._seen[nonce] = issued_at
        while len(self._seen) > self.capacity:
            _, oldest = self._seen.popitem(last=False)
            self.floor = max(self.floor, oldest)

    def __len__(self) -> int:
        return len(self._seen)

    def to_dict(self) -> dict[str, Any]:
        """The guard's state as JSON values, to persist across restarts."""
        return {"floor": None if self.floor == float("-inf") else self.floor, "seen": list(self._seen.items())}

    @classmethod
    def from_dict(cls, data: Any, capacity: int = 4096) -> ReplayGuard:
        """Restore a persisted guard; raise ValueError on anything malformed (then start from a fresh guard)."""
        guard = cls(capacity)
        if not isinstance(data, dict) or not isinstance(data.get("seen"), list):
            raise ValueError("not a persisted replay guard")
        try:
            floor = data.get("floor")
            if floor is not None:
                guard.floor = float(floor)
            for nonce, issued in data["seen"]:
                if not isinstance(nonce, str) or not isinstance(issued, (int, float)):
                    raise ValueError("not a persisted replay guard")
                guard.remember(nonce, float(issued))
        except TypeError:
            raise ValueError("not a persisted replay guard") from None
        return guard


def verify_command(
    raw: bytes,
    *,
    retained: bool,
    trusted: TrustedKeys,
    site: str,
    door: str,
    now: dt.datetime,
    guard: ReplayGuard,
    max_skew_s: float,
) -> Command:
    """Return the command if this door may obey it now, and remember its nonce; raise PayloadError otherwise.

    `max_skew_s` widens the validity window on both sides for the clocks of the staff machine and the door; it has
    no default here: the door passes its `access.command_max_skew_s` (whose default and reasons are in the config).
    """
    if retained:
        raise PayloadError("retained", "a retained command never acts")
    payload = open_signed(COMMAND_KIND, raw, trusted, max_bytes=MAX_COMMAND_BYTES)
    command = _parse(payload)
    if command.site != site or command.door != door:
        raise PayloadError("wrong_door", f"for {command.site}/{command.door}, this is {site}/{door}")
    skew = dt.timedelta(seconds=max_skew_s)
    if now + skew < command.issued_at:
        raise PayloadError("stale", f"issued {rfc3339_ms(command.issued_at)}, in the future (now {rfc3339_ms(now)})")
    if now > command.expires_at + skew:
        raise PayloadError("stale", f"expired {rfc3339_ms(command.expires_at)} (now {rfc3339_ms(now)})")
    issued = command.issued_at.timestamp()
    if not guard.check(command.nonce, issued):
        raise PayloadError("replayed", f"nonce {command.nonce[:12]}... already used")
    guard.remember(command.nonce, issued)
    return command


def _parse(payload: dict[str, Any]) -> Command:
    try:
        site, door, nonce = payload["site"], payload["door"], payload["nonce"]
        valid_for = payload["valid_for_s"]
        if not isinstance(site, str) or not _NAME.match(site) or not isinstance(door, str) or not _NAME.match(door):
            raise ValueError("site and door must be names")
        if not isinstance(nonce, str) or not _NONCE.match(nonce):
            raise ValueError("nonce must be 32-64 lower-case hex characters")
        if not isinstance(valid_for, int) or isinstance(valid_for, bool) or not 1 <= valid_for <= MAX_VALID_FOR_S:
            raise ValueError(f"valid_for_s must be an integer 1-{MAX_VALID_FOR_S}")
        action = Action(payload["action"])
        issued = parse_rfc3339(payload["issued_at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PayloadError("malformed", str(exc)[:200]) from None
    return Command(site, door, action, issued, valid_for, nonce)
