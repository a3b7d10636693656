"""One door inside `edge door`: its hardware, its state machine, and the order in which things happen.

Every input (a badge, the contact, the exit button, the lock sensor, a command, the schedule, a deadline) goes
through `DoorUnit.step` under one lock, so the state machine sees one input at a time. Relay commands are applied
first and synchronously; events are published (stored durably in the outbox) after the lock is released, so a
slow disk never delays the next person at the door.

Failure rule: nothing that goes wrong here unlocks a door. A controller that raises, or a relay write that fails,
commands the relay locked and is counted (`door.{name}.errors`, `door.{name}.relay_errors`); a failing LED, buzzer
or event store is counted and logged and changes nothing at the lock. After `stop()` no input reaches the relay.
"""

from __future__ import annotations

import logging
import threading
import time
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
    Effect,
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

STALL_S = 30.0
"""Seconds without a pass of a door's deadline thread after which the watchdog ping is withheld."""


@dataclass(frozen=True)
class Pending:
    """An event waiting to be stored; a door state carries the order in which it was built (under the lock)."""

    body: Body
    state_order: int = 0


@dataclass(frozen=True)
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
        self._stopped = False
        # Orders state events against the final one published by stop(): a state built before the stop but
        # stored after it (a reader thread's deferred events) would otherwise leave "unlocked" retained.
        self._publishing = threading.Lock()
        self._final_state_sent = False
        self._states_built = 0  # under the door's lock
        self._state_stored = 0  # under _publishing
        self._deadline: float | None = None
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
        self._tick_beat = time.monotonic()
        self._ticker = threading.Thread(target=self._tick_loop, name=f"door-{self.name}", daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Command the relay for the mode, follow the inputs, read them once, then run the deadline thread."""
        self.step(self.controller.start)
        hw = self.hardware
        # Callbacks first, then the current readings (taken under the lock): a change in between is never lost,
        # and a repeat of the same reading changes nothing.
        if hw.contact is not None:
            hw.contact.when_changed = self._contact
        if hw.exit_button is not None:
            hw.exit_button.when_changed = self._exit_button
        if hw.lock_sensor is not None:
            hw.lock_sensor.when_changed = self._lock_sensor
        if (contact := hw.contact) is not None:
            self.step(lambda now: self.controller.contact_changed(contact.is_closed, now))
        if (sensor := hw.lock_sensor) is not None:
            self.step(lambda now: self.controller.lock_sensed(sensor.is_locked, now))
        self._ticker.start()

    def stop(self) -> None:
        """Lock the relay and release every pin; from then on no input reaches the relay. Idempotent."""
        with self._lock:
            if self._stopped:
                return
            # Set under the lock: a step running now finishes first, and every later one returns at once.
            self._stopped = True
            self._wake.notify_all()
        # Outside the lock: releasing an input may wait for its callback thread, which may be waiting for us.
        self.hardware.close()  # the relay first: locked, then released
        # Only reached when the relay was driven locked: the retained state must not keep saying "unlocked".
        with self._lock:
            status = self.controller.status()
            members = self._members()
        final = DoorState(
            door=self.name,
            locked=True,
            open=None if status.door == "unknown" else status.door == "open",
            mode=status.mode,
            members_version=members.version,
            members_applied_at=members.applied_at,
        )
        with self._publishing:
            self._final_state_sent = True
            self._store(final)
        if self._ticker.is_alive() and self._ticker is not threading.current_thread():
            self._ticker.join(1.0)

    def alive(self) -> bool:
        """The deadline thread runs and passed its loop recently (it wakes at least every second)."""
        return self._ticker.is_alive() and time.monotonic() - self._tick_beat < STALL_S

    @property
    def stopped(self) -> bool:
        """True once `stop()` ran: the relay is locked and released, inputs are ignored."""
        return self._stopped

    @property
    def mode(self) -> DoorMode:
        """The effective mode (explicit mode, or `unlocked` while the unlocked schedule runs)."""
        with self._lock:
            return self.controller.mode

    # -- inputs ------------------------------------------------------------------------------------------

    def set_scheduled_unlocked(self, active: bool) -> None:
        """Follow the unlocked schedule (e.g. reception hours); only called while the clock is trusted."""
        self.step(lambda now: self.controller.set_scheduled_unlocked(active, now))

    def set_mode(self, mode: DoorMode) -> None:
        """Switch the explicit mode (a staff command)."""
        self.step(lambda now: self.controller.set_mode(mode, now))

    def reader_status(self, reader: str, ok: bool) -> None:
        """A reader of this door became faulty or healthy again: raises or clears `reader_fault`."""
        self.step(lambda now: self.controller.reader_status(reader, ok, now))

    def _contact(self, closed: bool) -> None:
        self.step(lambda now: self.controller.contact_changed(closed, now))

    def _lock_sensor(self, locked: bool) -> None:
        self.step(lambda now: self.controller.lock_sensed(locked, now))

    def _exit_button(self, pressed: bool) -> None:
        if pressed:
            self.step(self.controller.request_exit)

    def decide(
        self, grant: bool, after_relay: Callable[[], None], deferred: list[Pending] | None = None
    ) -> Step | None:
        """Act on a rules decision: unlock on a grant, feedback only on a denial; `after_relay` runs once done."""
        return self.step(self.controller.grant if grant else self.controller.deny, after_relay, deferred)

    def step(
        self,
        action: Callable[[float], Step],
        after_relay: Callable[[], None] | None = None,
        deferred: list[Pending] | None = None,
    ) -> Step | None:
        """Feed one input to the controller, apply its effects (relay first), then publish its events.

        `after_relay` runs as soon as the relay was driven (before feedback and events). Events go to `deferred`
        when given (the caller publishes them later with `publish`). Never raises; None when the input was not
        processed (the unit is stopped, or the controller failed and the relay was commanded locked).
        """
        with self._lock:
            if self._stopped:
                return None
            try:
                step = action(self.clock.monotonic())
            except Exception:
                self.counters.inc(f"door.{self.name}.errors")
                log.exception("door %s: the controller failed; relay commanded locked", self.name)
                self._fail_safe()
                self._deadline = None  # the next input sets a new one; a failing tick must not spin
                return None
            bodies = self._apply(step, after_relay)
            self._deadline = step.deadline
            self._wake.notify_all()
        if deferred is not None:
            deferred.extend(bodies)
        else:
            self.publish(bodies)
        return step

    # -- effects -----------------------------------------------------------------------------------------

    def _apply(self, step: Step, after_relay: Callable[[], None] | None) -> list[Pending]:
        state_changed = False
        failed = False
        for effect in step.effects:
            if isinstance(effect, SetRelay):
                failed |= not self._drive_relay(effect.locked)
                state_changed = True
        if not failed:
            state_changed |= self._reconcile()
        if after_relay is not None:
            try:
                after_relay()
            except Exception:
                log.exception("door %s: after-relay callback failed", self.name)
        bodies: list[Pending] = []
        for effect in step.effects:
            if isinstance(effect, SetRelay):
                continue
            try:
                state_changed |= self._effect(effect, bodies)
            except Exception:  # an LED or buzzer that fails must not stop the door
                self.counters.inc(f"door.{self.name}.effect_errors")
                log.exception("door %s: could not apply %r", self.name, effect)
        if state_changed:
            bodies.append(self._state_body())
        return bodies

    def _drive_relay(self, locked: bool) -> bool:
        """Drive the relay; on failure command it locked and return False."""
        try:
            if locked:
                self.hardware.relay.lock()
            else:
                self.hardware.relay.unlock()
        except Exception:
            self.counters.inc(f"door.{self.name}.relay_errors")
            log.exception("door %s: could not drive the relay %s", self.name, "locked" if locked else "unlocked")
            self._fail_safe()
            return False
        return True

    def _reconcile(self) -> bool:
        """After an earlier failure left the relay locked against the controller's command, follow the command
        again (e.g. the next grant opens the door); True when the relay was driven."""
        relay = self.hardware.relay
        wanted = self.controller.relay_locked
        if relay.closed or relay.locked == wanted:
            return False
        self.counters.inc(f"door.{self.name}.relay_retries")
        log.warning(
            "door %s: relay disagrees with the controller; driving it %s", self.name, "locked" if wanted else "unlocked"
        )
        return self._drive_relay(wanted)

    def _effect(self, effect: Effect, bodies: list[Pending]) -> bool:
        """Apply one non-relay effect; True when the door's published state changed."""
        if isinstance(effect, AlarmRaised | AlarmCleared):
            active = isinstance(effect, AlarmRaised)
            self.counters.inc(f"door.{self.name}.alarm.{effect.alarm}" + ("" if active else ".cleared"))
            log.warning("door %s: %s %s %s", self.name, effect.alarm, "raised" if active else "cleared", effect.detail)
            bodies.append(Pending(DoorAlarm(door=self.name, alarm=effect.alarm, active=active)))
        elif isinstance(effect, PlayFeedback):
            if self.hardware.feedback is not None:
                self.hardware.feedback.play(effect.pattern)
        elif isinstance(effect, DoorChanged | ModeChanged):
            return True
        elif isinstance(effect, GrantedNotOpened):
            self.counters.inc(f"door.{self.name}.granted_not_opened")
            log.info("door %s: unlocked for a member but never opened", self.name)
        return False

    def _state_body(self) -> Pending:
        """The door's state now (call under the lock), numbered so that an older one is never stored after it."""
        status = self.controller.status()
        members = self._members()
        self._states_built += 1
        body = DoorState(
            door=self.name,
            locked=status.locked,
            open=None if status.door == "unknown" else status.door == "open",
            mode=status.mode,
            members_version=members.version,
            members_applied_at=members.applied_at,
        )
        return Pending(body, self._states_built)

    def relay_locked(self) -> bool:
        """Whether the relay is in its locked state now."""
        with self._lock:
            return bool(self.hardware.relay.locked)

    def publish_state(self) -> None:
        """Publish the door's retained state now (e.g. after a new member snapshot)."""
        with self._lock:
            body = self._state_body()
        self.publish([body])

    def publish(self, pending: list[Pending]) -> None:
        """Store events in the outbox; a failure is counted and logged, the door keeps working.

        Events are stored by the thread that caused them, after the door's lock is released, so two threads may
        store their door states in the other order: a state older than one already stored is dropped (it is
        superseded), and so is every state after the final one `stop()` stores.
        """
        for item in pending:
            if item.state_order:
                with self._publishing:
                    if not self._final_state_sent and item.state_order > self._state_stored:
                        self._state_stored = item.state_order
                        self._store(item.body)
            else:
                self._store(item.body)

    def _store(self, body: Body) -> None:
        try:
            self.bus.publish_event(body)
        except Exception:
            self.counters.inc("publish_failures")
            log.exception("door %s: could not store an event", self.name)

    def status_counters(self) -> dict[str, Any]:
        """The controller's counters for the node status, prefixed with the door's name."""
        with self._lock:
            counters = dict(self.controller.counters)
            alarms = len(self.controller.status().alarms)
        out = {f"door.{self.name}.{key}": value for key, value in counters.items()}
        out[f"door.{self.name}.alarms_active"] = alarms
        return out

    # -- deadlines ---------------------------------------------------------------------------------------

    def _tick_loop(self) -> None:
        while True:
            self._tick_beat = time.monotonic()
            with self._lock:
                if self._stopped:
                    return
                deadline = self._deadline
                now = self.clock.monotonic()
                if deadline is None or now < deadline:
                    wait = 1.0 if deadline is None else min(1.0, real_seconds(self.clock, deadline - now))
                    self._wake.wait(max(wait, 0.0005))
                    continue
            self.step(self.controller.tick)

    def _fail_safe(self) -> None:
        try:
            self.hardware.relay.lock()
        except Exception:
            self.counters.inc(f"door.{self.name}.relay_errors")
            log.exception("door %s: could not lock the relay", self.name)
