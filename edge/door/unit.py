"""One door inside `edge door`: its hardware and its state machine, driven by the door loop (edge.door.loop).

Only the loop's thread calls `feed`, `drive`, `follow` (or `handle`, the three in a row) and `close`, so nothing
here takes a lock. The relay comes first: `drive` applies a step's relay commands at once, and only then does
`follow` play the feedback and turn alarms and changes into event bodies, which the loop hands to the writer.

Failure rule: nothing that goes wrong here unlocks a door. A controller that raises, or a relay write that fails,
commands the relay locked and is counted (`door.{name}.errors`, `door.{name}.relay_errors`); a failing LED or
buzzer is counted and logged and changes nothing at the lock. After `close()` no input reaches the relay.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from edge.clock import Clock
from edge.config.doors import DoorConfig
from edge.contract import Body, DoorAlarm, DoorMode, DoorState
from edge.door.controller import (
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
from edge.door.hardware import DoorHardware
from edge.metrics import Counters

log = logging.getLogger(__name__)


class MembersInfo(NamedTuple):
    """Which member snapshot the door decides with (shown in its retained state)."""

    version: int | None = None
    applied_at: datetime | None = None


class DoorUnit:
    """A door's hardware and controller, fed one input at a time by the loop."""

    def __init__(
        self, config: DoorConfig, hardware: DoorHardware, *, clock: Clock, counters: Counters, mode: DoorMode
    ) -> None:
        self.config = config
        self.name = config.name
        self.hardware = hardware
        self.clock = clock
        self.counters = counters
        self.closed = False
        self.deadline: float | None = None
        """When the controller must next be ticked (the clock's monotonic seconds), or None."""
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

    @property
    def mode(self) -> DoorMode:
        """The effective mode (explicit mode, or `unlocked` while the unlocked schedule runs)."""
        return self.controller.mode

    @property
    def unlocked(self) -> bool:
        """Whether the relay is in its unlocked state now."""
        return not self.hardware.relay.locked

    # -- one input -----------------------------------------------------------------------------------------

    def feed(self, action: Callable[[float], Step]) -> Step | None:
        """Give one input to the controller at the clock's now; None when closed, or when the controller failed
        (the relay is then commanded locked)."""
        if self.closed:
            return None
        try:
            step = action(self.clock.monotonic())
        except Exception:
            self.counters.inc(f"door.{self.name}.errors")
            log.exception("door %s: the controller failed; relay commanded locked", self.name)
            self._fail_safe()
            self.deadline = None  # the next input sets a new one; a failing tick must not spin
            return None
        self.deadline = step.deadline
        return step

    def drive(self, step: Step | None) -> bool:
        """Apply the step's relay commands, first and at once; True when the relay was driven."""
        if step is None:
            return False
        moved = False
        failed = False
        for effect in step.effects:
            if isinstance(effect, SetRelay):
                failed |= not self._drive_relay(effect.locked)
                moved = True
        if not failed:
            moved |= self._reconcile()
        return moved

    def follow(self, step: Step | None, moved: bool, members: MembersInfo) -> list[Body]:
        """Apply the rest of the step (feedback, alarms, changes); the events it makes, the door's state last when
        it changed (`moved`: the relay was driven)."""
        if step is None:
            return []
        bodies: list[Body] = []
        state_changed = moved
        for effect in step.effects:
            if isinstance(effect, SetRelay):
                continue
            try:
                state_changed |= self._effect(effect, bodies)
            except Exception:  # an LED or buzzer that fails must not stop the door
                self.counters.inc(f"door.{self.name}.effect_errors")
                log.exception("door %s: could not apply %r", self.name, effect)
        if state_changed:
            bodies.append(self.state(members))
        return bodies

    def handle(self, action: Callable[[float], Step], members: MembersInfo) -> list[Body]:
        """`feed`, `drive` and `follow` in a row: an input whose timing nobody measures."""
        step = self.feed(action)
        return self.follow(step, self.drive(step), members)

    # -- state and status ----------------------------------------------------------------------------------

    def state(self, members: MembersInfo, *, locked: bool | None = None) -> DoorState:
        """The door's state now, for its retained `state` message (`locked`: what the relay is known to be)."""
        status = self.controller.status()
        return DoorState(
            door=self.name,
            locked=status.locked if locked is None else locked,
            open=None if status.door == "unknown" else status.door == "open",
            mode=status.mode,
            members_version=members.version,
            members_applied_at=members.applied_at,
        )

    def status_counters(self) -> dict[str, Any]:
        """The controller's counters for the node status, prefixed with the door's name."""
        counters = dict(self.controller.counters)
        out: dict[str, Any] = {f"door.{self.name}.{key}": value for key, value in counters.items()}
        out[f"door.{self.name}.alarms_active"] = len(self.controller.status().alarms)
        return out

    def close(self, members: MembersInfo) -> DoorState | None:
        """Lock the relay and release every pin; the final state to store (it says locked). From then on no input
        reaches the relay. None when already closed."""
        if self.closed:
            return None
        self.closed = True
        self.hardware.close()  # the relay first: locked, then released
        # Only reached when the relay was driven locked: the retained state must not keep saying "unlocked".
        return self.state(members, locked=True)

    # -- effects -------------------------------------------------------------------------------------------

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

    def _effect(self, effect: Effect, bodies: list[Body]) -> bool:
        """Apply one non-relay effect; True when the door's published state changed."""
        if isinstance(effect, AlarmRaised | AlarmCleared):
            active = isinstance(effect, AlarmRaised)
            self.counters.inc(f"door.{self.name}.alarm.{effect.alarm}" + ("" if active else ".cleared"))
            log.warning("door %s: %s %s %s", self.name, effect.alarm, "raised" if active else "cleared", effect.detail)
            bodies.append(DoorAlarm(door=self.name, alarm=effect.alarm, active=active))
        elif isinstance(effect, PlayFeedback):
            if self.hardware.feedback is not None:
                self.hardware.feedback.play(effect.pattern)
        elif isinstance(effect, DoorChanged | ModeChanged):
            return True
        elif isinstance(effect, GrantedNotOpened):
            self.counters.inc(f"door.{self.name}.granted_not_opened")
            log.info("door %s: unlocked for a member but never opened", self.name)
        return False

    def _fail_safe(self) -> None:
        try:
            self.hardware.relay.lock()
        except Exception:
            self.counters.inc(f"door.{self.name}.relay_errors")
            log.exception("door %s: could not lock the relay", self.name)
