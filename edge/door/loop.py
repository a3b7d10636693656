"""The door loop: every door of the node (controllers, relays, the applied member snapshot, seat and passback
state) takes its inputs one at a time, in the order they came, from one bounded queue.

Other threads `post()` inputs (`inputs_dropped` counts what did not fit): badge frames from the reader threads,
contact / exit-button / lock-sensor edges from gpiozero's callback threads, reader faults, obeyed commands from the
command handler (edge.door.command_handler), applied snapshots from the snapshot keeper (edge.door.snapshots), a
clock check every second from the main loop. Timers (the end of an unlock window, held open, the lock grace) fire
from the loop's timer thread, which sleeps until the earliest door deadline.

Whose thread handles an input: the loop's turn is taken by one thread at a time. The thread that posts an input
while nobody holds the turn takes it and handles the queue at once, itself; an input posted while another thread
holds the turn is handled by that thread, after the ones before it. So a badge reaches the relay on the reader's
own thread, without waiting for another thread to be scheduled (on a loaded Pi that wait is the slowest part),
and still nothing is handled twice at once or out of order. No thread ever waits for the turn but the timer
thread and `stop()`.

A badge, in this order and in one direction: `decide` (edge.access.rules) -> the door's controller -> the relay
(edge.door.unit) -> `settle` and `record` -> the events, handed to the writer (edge.door.writer) in the order they
happened. Nothing slow (disk, network) happens in the loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from edge.access.commands import Action
from edge.access.index import SnapshotIndex
from edge.access.rules import AccessRequest, Decision, DoorContext, decide, record, schedule_unlocks, settle
from edge.access.tracking import PassbackState, SeatState
from edge.clock import Clock, real_seconds
from edge.contract import Body, DoorAccess, DoorMode, Reason
from edge.door.clock_trust import ClockTrust
from edge.door.controller import Step
from edge.door.inbox import (
    Badge,
    ContactChanged,
    ExitRequested,
    Input,
    LockSensed,
    Obey,
    ReaderStatus,
    ReadInputs,
    Refresh,
    Reply,
    SnapshotApplied,
)
from edge.door.store import tracking_state
from edge.door.unit import DoorUnit, MembersInfo
from edge.door.writer import EventWriter
from edge.metrics import Counters

log = logging.getLogger(__name__)

STALL_S = 30.0
"""Seconds the loop may stay busy before it counts as stuck (the watchdog ping is then withheld)."""

DEFAULT_MAX_PENDING = 1000
"""Inputs the queue holds; more only arrive when the loop is stuck (the watchdog then restarts the daemon)."""

IDLE_WAKE_S = 1.0
"""The timer thread wakes at least this often, deadlines or not."""


class LoopView(NamedTuple):
    """What other threads may read of the loop's state: each door's mode and counters, the snapshot in force."""

    modes: Mapping[str, DoorMode]
    counters: Mapping[str, Any]
    members: MembersInfo


class DoorLoop:
    """Every door of the node, one input at a time; `start()`, `post()` / `ask()` from any thread, `stop()`."""

    def __init__(
        self,
        *,
        clock: Clock,
        reader_clock: Clock,
        tz: ZoneInfo,
        clock_trust: ClockTrust,
        writer: EventWriter,
        counters: Counters,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        self.clock = clock
        self.reader_clock = reader_clock
        self.tz = tz
        self.clock_trust = clock_trust
        self.writer = writer
        self.counters = counters
        self.units: dict[str, DoorUnit] = {}
        self.index: SnapshotIndex | None = None
        self.members = MembersInfo()
        self.seats = SeatState()  # seat limits count entries at every door of the node
        self.passback: dict[str, PassbackState | None] = {}
        self.view = LoopView({}, {}, self.members)
        self._max_pending = max_pending
        self._pending: deque[tuple[object, Reply | None]] = deque()
        self._turn = threading.Lock()  # held by the one thread handling inputs (see the module docstring)
        self._stopping = False
        self._busy_since: float | None = None
        self._wake = threading.Condition()
        self._timer_due = 0.0  # when the timer thread plans to wake (time.monotonic)
        self._timer = threading.Thread(target=self._run_timer, name="door timers", daemon=True)

    def add(self, unit: DoorUnit) -> None:
        """A door to run (before `start`)."""
        self.units[unit.name] = unit
        self.passback[unit.name] = PassbackState() if unit.config.anti_passback else None

    # -- from any thread ---------------------------------------------------------------------------------

    def post(self, item: Input, reply: Reply | None = None) -> bool:
        """Queue an input and handle the queue now if the loop is idle; False when the queue is full (counted, and
        `reply` answered None). Never waits for another thread."""
        if len(self._pending) >= self._max_pending:
            self.counters.inc("inputs_dropped")
            log.error("door loop queue full (%d inputs): %s dropped", self._max_pending, type(item).__name__)
            if reply is not None:
                reply.set(None)
            return False
        self._pending.append((item, reply))
        self._take_turns()
        return True

    def ask(self, item: Input, timeout: float = 5.0) -> Any:
        """Post an input and wait for the loop's answer (a badge's Decision, ...); None if not handled in time.

        Never from the loop itself (an effect, a callback it runs): it would wait for its own turn."""
        reply = Reply()
        if not self.post(item, reply) or not reply.wait(timeout):
            return None
        return reply.value

    def mode(self, door: str) -> DoorMode:
        """The door's effective mode, as of the last input handled."""
        return self.view.modes[door]

    def alive(self) -> bool:
        """The timer thread runs, and no input has kept the loop busy for `STALL_S`."""
        busy_since = self._busy_since
        return self._timer.is_alive() and (busy_since is None or time.monotonic() - busy_since < STALL_S)

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Command each relay for its door's mode, follow the door inputs, then start the timer thread."""
        with self._turn:  # nothing else reaches a controller before its start
            for unit in self.units.values():
                self._emit(unit.handle(unit.controller.start, self.members))
            for unit in self.units.values():
                # Callbacks first, then the reading, taken in the loop: a change in between is never lost, and a
                # repeat of the same reading changes nothing.
                self._follow_inputs(unit)
                self._pending.append((ReadInputs(unit.name), None))
            self._handle_pending()
        self._timer.start()
        self._take_turns()

    def stop(self, timeout: float = 5.0) -> None:
        """Lock and release every door's relay and pins; from then on no input reaches a relay. Never raises.

        An input being handled finishes first; the inputs still queued are dropped. A loop stuck for `timeout`
        seconds does not keep the doors unlocked: they are then locked from the calling thread.
        """
        self._stopping = True
        with self._wake:
            self._wake.notify_all()
        took = self._turn.acquire(timeout=timeout)
        if not took:
            log.error("the door loop did not finish its input within %.0f s: locking the doors anyway", timeout)
        try:
            self._close_doors()
            self._drop_pending()
        finally:
            if took:
                self._turn.release()
        if self._timer.is_alive() and self._timer is not threading.current_thread():
            self._timer.join(timeout)

    # -- the turn ----------------------------------------------------------------------------------------

    def _take_turns(self) -> None:
        """Handle the queue on this thread while inputs wait and nobody else holds the turn; then store what the
        loop produced (edge.door.writer), out of the turn: the disk never holds up the next input."""
        while self._pending and self._turn.acquire(blocking=False):
            try:
                self._handle_pending()
            finally:
                self._turn.release()
            # An input posted just before the release found the turn taken: it is handled by this loop's next pass.
        self.writer.flush()

    def _handle_pending(self) -> None:
        """Handle every queued input, then the due deadlines (the caller holds the turn)."""
        self._busy_since = time.monotonic()
        try:
            while self._pending:
                item, reply = self._pending.popleft()
                answer = None if self._stopping else self._handle_safely(item)
                if reply is not None:
                    reply.set(answer)
            if not self._stopping:
                self._tick_due()
                self._update_view()
        finally:
            self._busy_since = None
        self._wake_timer()

    def _handle_safely(self, item: object) -> Any:
        try:
            answer = self._handle(item)
        except Exception:
            self.counters.inc("loop_errors")
            log.exception("door loop: handling %s failed", type(item).__name__)
            return None
        self._update_view()  # before the answer: who waited for it may read the view
        return answer

    def _drop_pending(self) -> None:
        while self._pending:  # whoever waits for an answer gets one
            _, reply = self._pending.popleft()
            if reply is not None:
                reply.set(None)

    # -- the timer thread --------------------------------------------------------------------------------

    def _run_timer(self) -> None:
        while not self._stopping:
            with self._wake:
                wait = self._wait_s()
                self._timer_due = time.monotonic() + wait
                self._wake.wait(wait)
            if self._stopping:
                return
            with self._turn:
                self._handle_pending()
            self._take_turns()  # inputs posted meanwhile, and the flush of what the deadlines produced

    def _wake_timer(self) -> None:
        """Wake the timer thread when a door's deadline is now earlier than it planned to wake."""
        with self._wake:  # the timer reads the deadlines and plans its wake under this lock too
            if time.monotonic() + self._wait_s() < self._timer_due:
                self._wake.notify_all()

    def _wait_s(self) -> float:
        deadlines = [unit.deadline for unit in self.units.values() if unit.deadline is not None]
        if not deadlines:
            return IDLE_WAKE_S
        # The controllers' deadlines are in clock seconds; a simulation clock runs faster than the wait.
        return min(IDLE_WAKE_S, max(0.0, real_seconds(self.clock, min(deadlines) - self.clock.monotonic())))

    def _tick_due(self) -> None:
        now = self.clock.monotonic()
        for unit in self.units.values():
            if unit.deadline is not None and unit.deadline <= now:
                self._emit(unit.handle(unit.controller.tick, self.members))

    def _handle(self, item: object) -> Any:
        if isinstance(item, Badge):
            return self._badge(item)
        if isinstance(item, SnapshotApplied):
            return self._apply(item)
        if isinstance(item, Refresh):
            self._judge_schedules()
            return None
        if isinstance(item, Obey):
            return self._obey(item)
        if isinstance(item, ReadInputs):
            self._read_inputs(self.units[item.door])
            return None
        door, action = self._door_action(item)
        self._step(door, action)
        return None

    def _door_action(self, item: object) -> tuple[str, Callable[[float], Step]]:
        """The controller call for a door input."""
        if isinstance(item, ContactChanged):
            controller = self.units[item.door].controller
            return item.door, lambda now: controller.contact_changed(item.closed, now)
        if isinstance(item, ExitRequested):
            return item.door, self.units[item.door].controller.request_exit
        if isinstance(item, LockSensed):
            controller = self.units[item.door].controller
            return item.door, lambda now: controller.lock_sensed(item.locked, now)
        if isinstance(item, ReaderStatus):
            controller = self.units[item.door].controller
            return item.door, lambda now: controller.reader_status(item.reader, item.ok, now)
        raise TypeError(f"not a door input: {item!r}")

    def _step(self, door: str, action: Callable[[float], Step]) -> None:
        unit = self.units[door]
        self._emit(unit.handle(action, self.members))

    # -- a badge -----------------------------------------------------------------------------------------

    def _badge(self, badge: Badge) -> Decision | None:
        """Decide, act at the relay, then hand the access event (with its latency since the frame) to the writer."""
        unit = self.units[badge.door]
        if unit.closed:
            return None
        request = AccessRequest(badge.token, self.clock.now(), badge.direction)
        context = DoorContext(
            mode=unit.mode,
            clock_trusted=self.clock_trust.trusted,
            passback=self.passback[badge.door],
            seats=self.seats,
        )
        decision = decide(request, self.index, context)
        step = unit.feed(unit.controller.grant if decision.granted else unit.controller.deny)
        moved = unit.drive(step)  # the relay first: the person at the door waits for nothing else
        latency_ms = (self.reader_clock.monotonic() - badge.at) * 1000
        events = unit.follow(step, moved, self.members)
        decision = settle(decision, unlocked=unit.unlocked)
        if decision.reason == Reason.DOOR_FAULT:
            log.error("door %s: access granted but the door could not be unlocked (see relay_errors)", badge.door)
        if record(request, decision, self.index, context):
            self.writer.tracking(tracking_state(self.seats, self.passback))
        self.counters.inc("access.granted" if decision.granted else f"access.denied.{decision.reason}")
        member = decision.member
        try:
            access = DoorAccess(
                door=badge.door,
                reader=badge.reader,
                token=badge.token,
                member=member.id if member is not None else None,
                granted=decision.granted,
                reason=decision.reason,
                # A bogus frame time (a reader's clock) must not cost the event: kept within the contract's range.
                latency_ms=round(min(max(latency_ms, 0.0), 3_600_000.0), 3),
            )
            self.writer.event(access, ts=request.at)
        except Exception:
            self.counters.inc("publish_failures")
            log.exception("door %s: could not build the access event", badge.door)
        self._emit(events)
        # No member id or token in the log: the journal outlives the access records' 3 months (the event has them).
        granted = "granted" if decision.granted else "denied"
        log.info("door %s: %s at reader %s (%s)", badge.door, granted, badge.reader, decision.reason)
        return decision

    # -- commands, snapshots, schedules ------------------------------------------------------------------

    def _obey(self, obey: Obey) -> Action:
        controller = self.units[obey.door].controller
        if obey.action == Action.UNLOCK_ONCE:
            self._step(obey.door, controller.grant)
        else:
            mode = DoorMode(str(obey.action))
            self._step(obey.door, lambda now: controller.set_mode(mode, now))
        return obey.action

    def _apply(self, applied: SnapshotApplied) -> bool:
        self.index = applied.snapshot
        self.members = applied.members
        for unit in self.units.values():
            self.writer.event(unit.state(self.members))
        self._judge_schedules()  # the snapshot's closures may start or end an unlocked schedule
        return True

    def _judge_schedules(self) -> None:
        now = self.clock.now()
        trusted = self.clock_trust.trusted
        for unit in self.units.values():
            schedule = unit.config.unlocked_schedule
            if schedule.windows:
                active = schedule_unlocks(schedule, now, self.tz, self.index, clock_trusted=trusted)
                self._step(unit.name, partial(unit.controller.set_scheduled_unlocked, active))

    # -- door inputs -------------------------------------------------------------------------------------

    def _follow_inputs(self, unit: DoorUnit) -> None:
        """Post the door inputs' changes to the loop (they call back from gpiozero's threads)."""
        hw, door = unit.hardware, unit.name

        def contact(closed: bool) -> None:
            self.post(ContactChanged(door, closed))

        def exit_button(pressed: bool) -> None:
            if pressed:
                self.post(ExitRequested(door))

        def lock_sensor(locked: bool) -> None:
            self.post(LockSensed(door, locked))

        if hw.contact is not None:
            hw.contact.when_changed = contact
        if hw.exit_button is not None:
            hw.exit_button.when_changed = exit_button
        if hw.lock_sensor is not None:
            hw.lock_sensor.when_changed = lock_sensor

    def _read_inputs(self, unit: DoorUnit) -> None:
        controller = unit.controller
        if (contact := unit.hardware.contact) is not None:
            closed = contact.is_closed
            self._step(unit.name, lambda now: controller.contact_changed(closed, now))
        if (sensor := unit.hardware.lock_sensor) is not None:
            locked = sensor.is_locked
            self._step(unit.name, lambda now: controller.lock_sensed(locked, now))

    # -- output ------------------------------------------------------------------------------------------

    def _emit(self, bodies: list[Body]) -> None:
        for body in bodies:
            self.writer.event(body)

    def _update_view(self) -> None:
        counters: dict[str, Any] = {}
        for unit in self.units.values():
            counters.update(unit.status_counters())
        modes = {name: unit.mode for name, unit in self.units.items()}
        self.view = LoopView(modes, counters, self.members)

    def _close_doors(self) -> None:
        for unit in self.units.values():
            try:
                final = unit.close(self.members)
            except Exception:
                log.exception("door %s: stopping failed", unit.name)
                continue
            if final is not None:
                self.writer.event(final)
