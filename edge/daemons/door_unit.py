"""One door inside `edge door`: its hardware, its state machine, and the order in which things happen.

Every input (a badge, the contact, the exit button, the lock sensor, a command, the schedule, a deadline) goes
through `DoorUnit` under one lock, so the state machine sees one input at a time. Relay commands are applied
first and synchronously; events are published (stored durably in the outbox) after the lock is released, so a
slow disk never delays the next person at the door.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edge.access.door import (
    AlarmCleared,
    AlarmRaised,
    DoorChanged,
    DoorController,
    DoorTimings,
    GrantedNotOpened,
    ModeChanged,
    PlayFeedback,
    SetRelay,
    Step,
)
from edge.bus import Bus
from edge.clock import Clock, real_seconds
from edge.config.doors import DoorConfig
from edge.contract import Body, DoorAlarm, DoorMode, DoorState
from edge.hardware.door_io import DoorHardware
from edge.metrics import Counters

log = logging.getLogger(__name__)


@dataclass
class MembersInfo:
    """Which member snapshot the door decides with (shown in its retained state)."""

    version: int | None = None
    applied_at: datetime | None = None


class DoorUnit:
    """A door's hardware and controller, driven one input at a time."""

    def __init__(
        self,
        config: DoorConfig,
        hardware: DoorHardware,
        *,
        clock: Clock,
        bus: Bus,
        counters: Counters,
        members: Callable[[], MembersInfo],
        mode: DoorMode,
    ) -> None:
        self.config = config
        self.name = config.name
        self.hardware = hardware
        self.clock = clock
        self.bus = bus
        self.counters = counters
        self._members = members
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._stopping = False
        self._deadline: float | None = None
        self._last_tick = clock.monotonic()
        self.controller = DoorController(
            DoorTimings(
                unlock_s=config.unlock_s,
                held_open_s=config.held_open_s,
                lock_grace_s=config.lock_sensor.grace_s if config.lock_sensor else 1.0,
            ),
            mode=mode,
            has_contact=config.contact is not None,
            has_lock_sensor=config.lock_sensor is not None,
            exit_request_unlocks=config.rex.unlocks if config.rex else True,
        )
        self._ticker = threading.Thread(target=self._tick_loop, name=f"door-{self.name}", daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Command the relay for the mode, read the inputs once, then follow their changes."""
        self.step(self.controller.start)
        hw = self.hardware
        if hw.contact is not None:
            self.step(lambda now: self.controller.contact_changed(hw.contact.is_closed, now))  # type: ignore[union-attr]
            hw.contact.when_changed = self._contact
        if hw.exit_button is not None:
            hw.exit_button.when_changed = self._exit_button
        if hw.lock_sensor is not None:
            self.step(lambda now: self.controller.lock_sensed(hw.lock_sensor.is_locked, now))  # type: ignore[union-attr]
            hw.lock_sensor.when_changed = self._lock_sensor
        self._ticker.start()
        self.publish_state()

    def stop(self) -> None:
        """Lock the relay and release every pin (the hardware layer locks first, whatever fails after)."""
        with self._lock:
            self._stopping = True
            self._wake.notify_all()
        self.hardware.close()

    def alive(self) -> bool:
        """The deadline thread runs and has woken up recently enough."""
        return self._ticker.is_alive()

    # -- inputs ------------------------------------------------------------------------------------------

    def set_scheduled_unlocked(self, active: bool) -> None:
        """Follow the unlocked schedule (e.g. reception hours); only called while the clock is trusted."""
        self.step(lambda now: self.controller.set_scheduled_unlocked(active, now))

    def _contact(self, closed: bool) -> None:
        self.step(lambda now: self.controller.contact_changed(closed, now))

    def _lock_sensor(self, locked: bool) -> None:
        self.step(lambda now: self.controller.lock_sensed(locked, now))

    def _exit_button(self, pressed: bool) -> None:
        if pressed:
            self.step(self.controller.request_exit)

    def step(self, action: Callable[[float], Step], after_relay: Callable[[], None] | None = None) -> Step:
        """Feed one input to the controller, apply its effects (relay first), then publish its events."""
        with self._lock:
            step = action(self.clock.monotonic())
            bodies = self._apply(step, after_relay)
            self._deadline = step.deadline
            self._wake.notify_all()
        for body in bodies:
            self._publish(body)
        return step

    def decide(self, grant: bool, after_relay: Callable[[], None]) -> Step:
        """Act on a rules decision: unlock on a grant, feedback only on a denial; `after_relay` runs once done."""
        return self.step(self.controller.grant if grant else self.controller.deny, after_relay)

    # -- effects -----------------------------------------------------------------------------------------

    def _apply(self, step: Step, after_relay: Callable[[], None] | None) -> list[Body]:
        bodies: list[Body] = []
        state_changed = False
        for effect in step.effects:
            if isinstance(effect, SetRelay):
                if effect.locked:
                    self.hardware.relay.lock()
                else:
                    self.hardware.relay.unlock()
                state_changed = True
            elif isinstance(effect, AlarmRaised | AlarmCleared):
                active = isinstance(effect, AlarmRaised)
                self.counters.inc(f"door.{self.name}.alarm.{effect.alarm}" + ("" if active else ".cleared"))
                log.warning(
                    "door %s: %s %s %s", self.name, effect.alarm, "raised" if active else "cleared", effect.detail
                )
                bodies.append(DoorAlarm(door=self.name, alarm=effect.alarm, active=active))
            elif isinstance(effect, PlayFeedback):
                if self.hardware.feedback is not None:
                    self.hardware.feedback.play(effect.pattern)
            elif isinstance(effect, DoorChanged | ModeChanged):
                state_changed = True
            elif isinstance(effect, GrantedNotOpened):
                self.counters.inc(f"door.{self.name}.granted_not_opened")
                log.info("door %s: unlocked for a member but never opened", self.name)
        if after_relay is not None:
            after_relay()
        if state_changed:
            bodies.append(self._state_body())
        return bodies

    def _state_body(self) -> DoorState:
        status = self.controller.status()
        members = self._members()
        return DoorState(
            door=self.name,
            locked=status.locked,
            open=None if status.door == "unknown" else status.door == "open",
            mode=status.mode,
            members_version=members.version,
            members_applied_at=members.applied_at,
        )

    def publish_state(self) -> None:
        """Publish the door's retained state now (e.g. after a new member snapshot)."""
        with self._lock:
            body = self._state_body()
        self._publish(body)

    def _publish(self, body: Body) -> None:
        try:
            self.bus.publish_event(body)
        except Exception:  # the door keeps working whatever happens to the event log
            self.counters.inc("publish_failures")
            log.exception("door %s: could not store an event", self.name)

    # -- deadlines ---------------------------------------------------------------------------------------

    def _tick_loop(self) -> None:
        with self._lock:
            while not self._stopping:
                deadline = self._deadline
                now = self.clock.monotonic()
                if deadline is not None and now >= deadline:
                    self._lock.release()
                    try:
                        self.step(self.controller.tick)
                    except Exception:
                        self.counters.inc("door_errors")
                        log.exception("door %s: tick failed; relay commanded locked", self.name)
                        self._fail_safe()
                    finally:
                        self._lock.acquire()
                    continue
                wait = 1.0 if deadline is None else min(1.0, real_seconds(self.clock, deadline - now))
                self._wake.wait(max(wait, 0.0005))
                self._last_tick = self.clock.monotonic()

    def _fail_safe(self) -> None:
        try:
            self.hardware.relay.lock()
        except Exception:
            log.exception("door %s: could not lock the relay", self.name)


def describe(unit: DoorUnit) -> dict[str, Any]:
    """Counters of the door for the node status."""
    return {f"door.{unit.name}.{k}": v for k, v in unit.controller.counters.items()}
