"""How a door node trusts member snapshots and staff commands, and its clock."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from edge.config.base import FilePath, Name, StrictModel


class AccessConfig(StrictModel):
    """Public keys that may sign snapshots, and (separately) commands; clock-trust policy; Home Assistant."""

    # Separate keys: whoever may open doors remotely is not thereby allowed to change who is a member.
    snapshot_keys: tuple[FilePath, ...] = Field(min_length=1)
    # Empty: the door obeys no remote command (each one is refused and counted as `command_refused.disabled`).
    command_keys: tuple[FilePath, ...] = ()
    # ntp: trust the clock once the kernel reports it synchronised; rtc: the Pi has a battery-backed clock module,
    # so the time is right from boot. Until trusted, only the plans the snapshot admits without a clock get in.
    clock_trust: Literal["ntp", "rtc"] = "ntp"
    # Clock difference allowed, both ways, between the machine that signed a command and the door (docs/security.md):
    # a door trusts its clock only once synchronised, yet may run hours on its own crystal after losing NTP, and the
    # staff laptop's clock is rarely better than a few seconds. Nonces stop replays whatever this is; it only bounds
    # how late a command held back by someone on the broker can still act (valid_for_s + this).
    command_max_skew_s: float = Field(default=30.0, ge=1, le=600)
    # The oldest member snapshot version this door may ever apply (0: none). For a new door (or a new SD card), set it
    # to the version last pushed, so an older genuine snapshot re-published on the broker is refused from the start.
    min_snapshot_version: int = Field(default=0, ge=0, strict=True)
    # Home Assistant MQTT discovery for this node's doors (lock, open/closed, one problem sensor per alarm).
    home_assistant: bool = False
    discovery_prefix: Name = "homeassistant"  # Home Assistant's `discovery_prefix` (its MQTT integration setting)

    @model_validator(mode="before")
    @classmethod
    def _moved_public_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and "public_keys" in data:
            raise ValueError(
                "public_keys was split into snapshot_keys (snapshot-signing.pub) and command_keys "
                "(command-signing.pub, optional)"
            )
        return data
