"""Decision reasons and door modes until `edge.contract.payloads` lands on main.

TODO(lead): replace with `from edge.contract.payloads import DoorMode, Reason`; the values are the contract's.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why a door said yes or no."""

    GRANTED = "granted"
    UNKNOWN_BADGE = "unknown_badge"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    OUTSIDE_SCHEDULE = "outside_schedule"
    SEAT_LIMIT = "seat_limit"
    LOCKDOWN = "lockdown"
    PASSBACK = "passback"
    CLOCK_UNTRUSTED = "clock_untrusted"


class DoorMode(StrEnum):
    """How a door behaves."""

    NORMAL = "normal"
    LOCKDOWN = "lockdown"
    UNLOCKED = "unlocked"
