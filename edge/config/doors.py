"""The `doors:` section: each door's readers, relay, inputs, feedback, timings, mode and unlocked schedule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, model_validator

from edge.config.base import GpioPin, Issue, Name, StrictModel
from edge.config.readers import ReaderConfig
from edge.config.schedule import ScheduleField
from edge.schedule import NEVER

if TYPE_CHECKING:
    from edge.config.node import NodeConfig

Level = Literal["low", "high"]

Debounce = Annotated[float, Field(ge=0, le=1)]
"""Seconds a contact level must be stable before it counts; 0 turns debouncing off."""


class RelayConfig(StrictModel):
    """The lock relay: pin, board polarity, lock type and the relay contact the lock is wired through."""

    pin: GpioPin
    active_high: bool = False  # most Pi relay boards switch on a LOW input
    lock_type: Literal["fail_safe", "fail_secure"]
    wired_to: Literal["nc", "no"] | None = None  # default: NC for fail_safe (maglock), NO for fail_secure (strike)


class ContactConfig(StrictModel):
    """Door contact (reed switch): the level it gives when the door is closed."""

    pin: GpioPin
    closed_when: Level = "low"
    pull_up: bool | None = True  # None: external resistor, no internal pull
    debounce_s: Debounce = 0.05


class RexConfig(StrictModel):
    """Request-to-exit input; `unlocks: false` for monitor-only REX next to mechanical egress."""

    pin: GpioPin
    pressed_when: Level = "low"
    pull_up: bool | None = True
    debounce_s: Debounce = 0.05
    unlocks: bool = True


class LockSensorConfig(StrictModel):
    """Lock-status output (bolt switch, maglock bond sensor) and how long it may disagree with the command."""

    pin: GpioPin
    locked_when: Level = "low"
    pull_up: bool | None = True
    debounce_s: Debounce = 0.05
    grace_s: float = Field(default=2.0, gt=0, le=30)


class FeedbackOutput(StrictModel):
    """One feedback output (LED or buzzer)."""

    pin: GpioPin
    active_high: bool = True


class FeedbackConfig(StrictModel):
    """The door's LED and/or buzzer for granted/denied patterns."""

    led: FeedbackOutput | None = None
    buzzer: FeedbackOutput | None = None

    @model_validator(mode="after")
    def _one_output(self) -> FeedbackConfig:
        if self.led is None and self.buzzer is None:
            raise ValueError("give led, buzzer or both")
        return self


class DoorReaderConfig(StrictModel):
    """A reader bound to a door, on its way in or its way out."""

    direction: Literal["in", "out"] = "in"
    reader: ReaderConfig


class DoorConfig(StrictModel):
    """One door driven by this node."""

    name: Name
    relay: RelayConfig
    readers: tuple[DoorReaderConfig, ...] = ()
    anti_passback: bool = False  # needs an in and an out reader
    unlock_s: float = Field(default=5.0, ge=3, le=60)  # EN 60839-11-1: release for at least 3 s
    held_open_s: float = Field(default=30.0, ge=5, le=3600)
    contact: ContactConfig | None = None
    rex: RexConfig | None = None
    lock_sensor: LockSensorConfig | None = None
    feedback: FeedbackConfig | None = None
    mode: Literal["normal", "lockdown", "unlocked"] = "normal"
    unlocked_schedule: ScheduleField = NEVER  # when the door stays unlocked (reception hours)

    def cross_check(self, root: NodeConfig) -> Iterable[Issue]:
        """Door names are unique on the node (they name MQTT topics and events)."""
        doors: tuple[DoorConfig, ...] = getattr(root, "doors", ())
        index = next((i for i, door in enumerate(doors) if door is self), None)
        if index is None:
            return
        for other in range(index):
            if doors[other].name == self.name:
                yield Issue(f"doors[{index}].name", f"door {self.name!r} is already defined at doors[{other}]")
                return
        directions = {reader.direction for reader in self.readers}
        if self.anti_passback and directions != {"in", "out"}:
            yield Issue(f"doors[{index}].anti_passback", "anti-passback needs an `in` and an `out` reader")
        if getattr(root, "access", None) is None:
            yield Issue(
                f"doors[{index}]",
                "a door needs the `access` section (snapshot_keys: the keys that sign member snapshots)",
            )
