"""All the physical parts of one door, built from its config, with the relay first to be built and first to lock."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Self

from edge.config.doors import DoorConfig
from edge.door.feedback import DoorFeedback
from edge.door.inputs import DoorContact, ExitButton, LockSensor
from edge.door.relay import LockRelay

log = logging.getLogger(__name__)


@dataclass
class DoorHardware:
    """Relay, optional contact / exit button / lock sensor / feedback of one door."""

    relay: LockRelay
    contact: DoorContact | None = None
    exit_button: ExitButton | None = None
    lock_sensor: LockSensor | None = None
    feedback: DoorFeedback | None = None

    @classmethod
    def from_config(cls, config: DoorConfig, *, pin_factory: Any = None) -> DoorHardware:
        """Claim the door's pins; on any failure, release what was claimed (the relay locked) and re-raise."""
        relay_cfg = config.relay
        # The relay comes first so the lock is asserted before anything else can fail.
        door = cls(
            LockRelay(
                relay_cfg.pin,
                lock_type=relay_cfg.lock_type,
                active_high=relay_cfg.active_high,
                wired_to=relay_cfg.wired_to,
                pin_factory=pin_factory,
            )
        )
        try:
            if (c := config.contact) is not None:
                door.contact = DoorContact(
                    c.pin, closed_when=c.closed_when, pull_up=c.pull_up, bounce_s=c.debounce_s, pin_factory=pin_factory
                )
            if (r := config.rex) is not None:
                door.exit_button = ExitButton(
                    r.pin,
                    pressed_when=r.pressed_when,
                    pull_up=r.pull_up,
                    bounce_s=r.debounce_s,
                    pin_factory=pin_factory,
                )
            if (s := config.lock_sensor) is not None:
                door.lock_sensor = LockSensor(
                    s.pin, locked_when=s.locked_when, pull_up=s.pull_up, bounce_s=s.debounce_s, pin_factory=pin_factory
                )
            if (f := config.feedback) is not None:
                door.feedback = DoorFeedback(
                    f.led.pin if f.led else None,
                    f.buzzer.pin if f.buzzer else None,
                    led_active_high=f.led.active_high if f.led else True,
                    buzzer_active_high=f.buzzer.active_high if f.buzzer else True,
                    pin_factory=pin_factory,
                )
        except BaseException:
            door.close()
            raise
        return door

    def close(self) -> None:
        """Lock and release the relay, then release every other pin (each attempted even if one fails)."""
        try:
            self.relay.close()
        finally:
            for part in (self.contact, self.exit_button, self.lock_sensor, self.feedback):
                if part is not None:
                    try:
                        part.close()
                    except Exception:
                        log.exception("could not release %r", part)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
