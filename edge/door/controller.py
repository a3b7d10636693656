"""The door controller: a pure state machine from door inputs and decisions to relay commands, alarms and events.

No I/O and no clock of its own: every input carries `now` (monotonic seconds, e.g. `Clock.monotonic()` read when
the input happened) and returns a `Step` — the effects the daemon must apply, in order, and the next deadline at
which `tick` must be called. Between deadlines nothing can change, so the daemon sleeps exactly until then.

Deadlines that fall before an input's `now` are processed first, each at its own time, so the result does not
depend on how late the daemon called `tick`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from edge.contract.payloads import Alarm, DoorMode


class Pattern(StrEnum):
    """Feedback patterns played on the door's LED and buzzer."""

    GRANTED = "granted"
    DENIED = "denied"


OpenCause = Literal["grant", "exit_request", "unlocked_mode", "forced", "unknown"]
"""Why an opening was allowed: `forced` means it was not; `unknown` is a door already open at start."""


@dataclass(frozen=True, slots=True)
class SetRelay:
    """Drive the lock relay to the locked or unlocked state."""

    locked: bool


@dataclass(frozen=True, slots=True)
class AlarmRaised:
    """An alarm became active; `detail` names the part concerned (the reader for `reader_fault`)."""

    alarm: Alarm
    detail: str = ""


@dataclass(frozen=True, slots=True)
class AlarmCleared:
    """An active alarm ended."""

    alarm: Alarm
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PlayFeedback:
    """Play a pattern on the door's LED/buzzer."""

    pattern: Pattern


@dataclass(frozen=True, slots=True)
class DoorChanged:
    """The door contact changed: the door is now open (with the cause of the opening) or closed."""

    open: bool
    cause: OpenCause | None = None


@dataclass(frozen=True, slots=True)
class ModeChanged:
    """The effective mode changed (explicit mode, or `normal` following the unlocked schedule)."""

    mode: DoorMode


@dataclass(frozen=True, slots=True)
class GrantedNotOpened:
    """A grant's unlock window ended without the door opening: logged by standards; reveals a dead strike."""


Effect = SetRelay | AlarmRaised | AlarmCleared | PlayFeedback | DoorChanged | ModeChanged | GrantedNotOpened
"""Everything the controller can ask of the daemon."""


@dataclass(frozen=True, slots=True)
class Step:
    """The result of one input: effects to apply in order (relay commands first), and when to call `tick` next."""

    effects: tuple[Effect, ...]
    deadline: float | None


@dataclass(frozen=True, slots=True)
class DoorTimings:
    """Durations in seconds: unlock window, held-open delay, lock-sensor grace."""

    unlock_s: float = 5.0
    held_open_s: float = 30.0
    lock_grace_s: float = 1.0

    def __post_init__(self) -> None:
        for name in ("unlock_s", "held_open_s", "lock_grace_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be more than zero")


@dataclass(frozen=True, slots=True)
class DoorStatus:
    """A snapshot for the retained state message."""

    mode: DoorMode
    locked: bool
    door: Literal["open", "closed", "unknown"]
    alarms: tuple[tuple[Alarm, str], ...]
    counters: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Window:
    """An access window opened by a grant or exit request."""

    until: float
    unlocks: bool
    granted: bool
    opened: bool


class DoorController:
    """One door's state machine; see the module docstring and docs/doors.md."""

    def __init__(
        self,
        timings: DoorTimings | None = None,
        *,
        mode: DoorMode = DoorMode.NORMAL,
        has_contact: bool = True,
        has_lock_sensor: bool = False,
        exit_request_unlocks: bool = True,
    ) -> None:
        self.timings = timings or DoorTimings()
        self._has_contact = has_contact
        self._has_lock_sensor = has_lock_sensor
        self._rex_unlocks = exit_request_unlocks
        self._mode = DoorMode(mode)
        self._scheduled_unlocked = False
        self._relay_locked = True  # the relay driver starts locked
        self._door: Literal["open", "closed", "unknown"] = "unknown"
        self._window: _Window | None = None
        self._held_open_at: float | None = None
        self._sensor_locked: bool | None = None
        self._lock_fault_at: float | None = None
        self._alarms: dict[tuple[Alarm, str], None] = {}
        self.counters: Counter[str] = Counter()
        self._out: list[Effect] = []
        self._started = False
        self._announced_mode: DoorMode | None = None

    # ----- inputs -----

    def start(self, now: float) -> Step:
        """Announce the mode and command the relay for it; call once, before any other input."""
        if self._started:
            raise RuntimeError("DoorController.start() was already called")
        self._started = True
        self._settle(now)
        if not self._out or not isinstance(self._out[-1], SetRelay):
            self._out.append(SetRelay(self._relay_locked))  # restate it even though the driver starts locked
        return self._finish(now)

    def grant(self, now: float) -> Step:
        """A decision granted access: unlock for `unlock_s` (the rules already applied the mode's policy)."""
        self._advance(now)
        self.counters["granted"] += 1
        self._out.append(PlayFeedback(Pattern.GRANTED))
        if self.mode is not DoorMode.UNLOCKED:
            self._open_window(now, unlocks=True, granted=True)
        return self._finish(now)

    def deny(self, now: float) -> Step:
        """A decision denied access: feedback only; the relay is never touched."""
        self._advance(now)
        self.counters["denied"] += 1
        self._out.append(PlayFeedback(Pattern.DENIED))
        return self._finish(now)

    def request_exit(self, now: float) -> Step:
        """The request-to-exit input fired: unlock (unless configured monitor-only) and expect an opening."""
        self._advance(now)
        self.counters["exit_requests"] += 1
        if self.mode is not DoorMode.UNLOCKED:
            self._open_window(now, unlocks=self._rex_unlocks, granted=False)
        return self._finish(now)

    def contact_changed(self, closed: bool, now: float) -> Step:
        """The door contact reads closed (True) or open (False); repeats of the same state are ignored."""
        self._advance(now)
        state: Literal["open", "closed"] = "closed" if closed else "open"
        if state != self._door:
            previous, self._door = self._door, state
            if closed:
                self._door_closed(now)
            else:
                self._door_opened(now, first_reading=previous == "unknown")
        return self._finish(now)

    def lock_sensed(self, locked: bool, now: float) -> Step:
        """The lock-status sensor reads locked (bolt thrown / magnet bonded) or not."""
        self._advance(now)
        self._sensor_locked = locked
        return self._finish(now)

    def set_mode(self, mode: DoorMode, now: float) -> Step:
        """Switch the explicit mode; `lockdown` relocks at once, `unlocked` holds the relay unlocked."""
        self._advance(now)
        self._mode = DoorMode(mode)
        return self._finish(now)

    def set_scheduled_unlocked(self, active: bool, now: float) -> Step:
        """The unlocked schedule (e.g. reception hours) started or ended; only `normal` mode follows it."""
        self._advance(now)
        self._scheduled_unlocked = active
        return self._finish(now)

    def reader_status(self, reader: str, ok: bool, now: float) -> Step:
        """A reader reported healthy or faulty: raises or clears `reader_fault` for that reader."""
        self._advance(now)
        self._set_alarm(Alarm.READER_FAULT, not ok, reader)
        return self._finish(now)

    def tick(self, now: float) -> Step:
        """Process every deadline up to `now`; calling it earlier than the deadline changes nothing."""
        self._advance(now)
        return self._finish(now)

    # ----- views -----

    @property
    def mode(self) -> DoorMode:
        """The effective mode: the explicit one, or `unlocked` when `normal` and the schedule is active."""
        if self._mode is DoorMode.NORMAL and self._scheduled_unlocked:
            return DoorMode.UNLOCKED
        return self._mode

    @property
    def commanded_mode(self) -> DoorMode:
        """The explicit mode last set (what the daemon persists so a lockdown survives a restart)."""
        return self._mode

    @property
    def relay_locked(self) -> bool:
        """The state last commanded to the relay."""
        return self._relay_locked

    @property
    def next_deadline(self) -> float | None:
        """When `tick` must next be called, or None when no timer runs."""
        deadlines = [d for d in (self._window_end(), self._held_open_at, self._lock_fault_at) if d is not None]
        return min(deadlines) if deadlines else None

    def status(self) -> DoorStatus:
        """Snapshot of mode, relay, door and active alarms."""
        return DoorStatus(self.mode, self._relay_locked, self._door, tuple(self._alarms), dict(self.counters))

    # ----- transitions -----

    def _open_window(self, now: float, *, unlocks: bool, granted: bool) -> None:
        until = now + self.timings.unlock_s
        window = self._window
        if window is None:
            self._window = _Window(until, unlocks, granted, opened=self._door == "open")
        else:
            window.until = max(window.until, until)
            window.unlocks |= unlocks
            window.granted |= granted

    def _close_window(self, *, expired: bool) -> None:
        window = self._window
        self._window = None
        if window is not None and expired and window.granted and not window.opened and self._has_contact:
            self.counters["granted_not_opened"] += 1
            self._out.append(GrantedNotOpened())

    def _window_end(self) -> float | None:
        return self._window.until if self._window is not None else None

    def _door_opened(self, now: float, *, first_reading: bool) -> None:
        cause: OpenCause
        if self.mode is DoorMode.UNLOCKED:
            cause = "unlocked_mode"
        elif self._window is not None:
            self._window.opened = True
            cause = "grant" if self._window.granted else "exit_request"
        elif first_reading:
            cause = "unknown"
        else:
            cause = "forced"
        self._out.append(DoorChanged(open=True, cause=cause))
        self.counters[f"opened_{cause}"] += 1
        if cause == "forced":
            self._set_alarm(Alarm.FORCED_OPEN, True)
        elif cause != "unlocked_mode":
            self._held_open_at = now + self.timings.held_open_s

    def _door_closed(self, now: float) -> None:
        self._out.append(DoorChanged(open=False))
        self._held_open_at = None
        self._set_alarm(Alarm.HELD_OPEN, False)
        self._set_alarm(Alarm.FORCED_OPEN, False)
        if self._window is not None and self._window.opened:
            self._close_window(expired=False)  # relock early: the person is through

    def _advance(self, now: float) -> None:
        """Fire every deadline up to `now`, in time order, each at its own time."""
        if not self._started:
            raise RuntimeError("DoorController.start() must be called first")
        while True:
            due = self.next_deadline
            if due is None or due > now:
                return
            if due == self._window_end():
                self._close_window(expired=True)
            elif due == self._held_open_at:
                self._held_open_at = None
                self._set_alarm(Alarm.HELD_OPEN, True)
            else:
                self._lock_fault_at = None
                self._set_alarm(Alarm.LOCK_FAULT, True)
            self._settle(due)

    def _finish(self, now: float) -> Step:
        self._settle(now)
        # Relay commands first (in their own order): the door must not wait for feedback or event handling.
        effects = sorted(self._out, key=lambda effect: not isinstance(effect, SetRelay))
        self._out = []
        return Step(tuple(effects), self.next_deadline)

    def _settle(self, now: float) -> None:
        """Bring derived state in line: mode announcements, relay command, held-open and lock supervision."""
        mode = self.mode
        if self._announced_mode is not mode:
            self._mode_changed(mode, now)
        locked = mode is not DoorMode.UNLOCKED and not (self._window is not None and self._window.unlocks)
        command_changed = locked != self._relay_locked
        if command_changed:
            self._relay_locked = locked
            self._out.append(SetRelay(locked))
        self._supervise_lock(now, restart=command_changed)

    def _mode_changed(self, mode: DoorMode, now: float) -> None:
        self._announced_mode = mode
        self._out.append(ModeChanged(mode))
        if mode is DoorMode.UNLOCKED:
            # Held open is normal during reception hours; a pending grant has nothing left to prove.
            self._window = None
            self._held_open_at = None
            self._set_alarm(Alarm.HELD_OPEN, False)
        else:
            if mode is DoorMode.LOCKDOWN:
                self._window = None
            if self._door == "open" and self._held_open_at is None and Alarm.FORCED_OPEN not in self._active():
                self._held_open_at = now + self.timings.held_open_s

    def _supervise_lock(self, now: float, *, restart: bool) -> None:
        """Raise `lock_fault` when the sensor disagrees with the command for longer than the grace period."""
        if not self._has_lock_sensor or self._sensor_locked is None:
            return
        if self._door == "open":
            # A bond sensor cannot bond and a bolt may not throw with the door open: no verdict until it closes.
            self._lock_fault_at = None
            return
        if self._sensor_locked == self._relay_locked:
            self._lock_fault_at = None
            self._set_alarm(Alarm.LOCK_FAULT, False)
        elif Alarm.LOCK_FAULT not in self._active() and (self._lock_fault_at is None or restart):
            # A new command restarts the grace: the lock needs time to follow it.
            self._lock_fault_at = now + self.timings.lock_grace_s

    def _active(self) -> set[Alarm]:
        return {alarm for alarm, _ in self._alarms}

    def _set_alarm(self, alarm: Alarm, active: bool, detail: str = "") -> None:
        key = (alarm, detail)
        if active and key not in self._alarms:
            self._alarms[key] = None
            self.counters[alarm.value] += 1
            self._out.append(AlarmRaised(alarm, detail))
        elif not active and key in self._alarms:
            del self._alarms[key]
            self._out.append(AlarmCleared(alarm, detail))
