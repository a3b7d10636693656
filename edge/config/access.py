"""How a door node trusts member snapshots and staff commands, and its clock."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from edge.config.base import FilePath, StrictModel


class AccessConfig(StrictModel):
    """Public keys that may sign snapshots and commands; clock-trust policy."""

    public_keys: tuple[FilePath, ...] = Field(min_length=1)
    # ntp: trust the clock once the kernel reports it synchronised; rtc: the Pi has a battery-backed clock module,
    # so the time is right from boot. Until trusted, only the plans the snapshot admits without a clock get in.
    clock_trust: Literal["ntp", "rtc"] = "ntp"
    command_max_skew_s: float = Field(default=30.0, ge=1, le=600)
