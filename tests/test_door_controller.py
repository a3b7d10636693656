"""The door controller state machine, as scenarios: at time t (seconds after start) this input gives these effects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from edge.clock import ManualClock
from edge.door.controller import (
    Alarm,
    AlarmCleared,
    AlarmRaised,
    DoorChanged,
    DoorController,
    DoorMode,
    DoorTimings,
    Effect,
    GrantedNotOpened,
    ModeChanged,
    Pattern,
    PlayFeedback,
    SetRelay,
    Step,
)

Input = Callable[[DoorController, float], Step]


def grant(door: DoorController, now: float) -> Step:
    return door.grant(now)


def deny(door: DoorController, now: float) -> Step:
    return door.deny(now)


def rex(door: DoorController, now: float) -> Step:
    return door.request_exit(now)


def opens(door: DoorController, now: float) -> Step:
    return door.contact_changed(False, now)


def closes(door: DoorController, now: float) -> Step:
    return door.contact_changed(True, now)


def tick(door: DoorController, now: float) -> Step:
    return door.tick(now)


def bolt(locked: bool) -> Input:
    return lambda door, now: door.lock_sensed(locked, now)


def mode(value: DoorMode) -> Input:
    return lambda door, now: door.set_mode(value, now)


def schedule(active: bool) -> Input:
    return lambda door, now: door.set_scheduled_unlocked(active, now)


def reader(name: str, ok: bool) -> Input:
    return lambda door, now: door.reader_status(name, ok, now)


LOCK = SetRelay(locked=True)
UNLOCK = SetRelay(locked=False)
GRANTED = PlayFeedback(Pattern.GRANTED)
DENIED = PlayFeedback(Pattern.DENIED)
CLOSED = DoorChanged(open=False)


def raised(alarm: Alarm, detail: str = "") -> AlarmRaised:
    return AlarmRaised(alarm, detail)


def cleared(alarm: Alarm, detail: str = "") -> AlarmCleared:
    return AlarmCleared(alarm, detail)


def opened(cause: str) -> DoorChanged:
    return DoorChanged(open=True, cause=cause)  # type: ignore[arg-type]


Row = tuple[float, Input, list[Effect]]


def run(rows: list[Row], **controller_args: object) -> DoorController:
    """Start a closed door at t=0, then feed each row at its time and compare the effects."""
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    origin = clock.monotonic()
    door = DoorController(**controller_args)  # type: ignore[arg-type]
    door.start(origin)
    door.contact_changed(True, origin)
    for at, action, expected in rows:
        clock.advance(origin + at - clock.monotonic())
        step = action(door, clock.monotonic())
        assert list(step.effects) == expected, f"at t={at}"
    return door


SCENARIOS: dict[str, tuple[list[Row], dict[str, object]]] = {
    "a grant unlocks and relocks after 5 s; the unused grant is recorded": (
        [
            (0, grant, [UNLOCK, GRANTED]),
            (4.999, tick, []),
            (5, tick, [LOCK, GrantedNotOpened()]),
        ],
        {},
    ),
    "the door closing after opening relocks early": (
        [
            (0, grant, [UNLOCK, GRANTED]),
            (1, opens, [opened("grant")]),
            (2.5, closes, [LOCK, CLOSED]),
            (5, tick, []),
        ],
        {},
    ),
    "a door still open when the window ends is relocked, with no unused-grant record": (
        [
            (0, grant, [UNLOCK, GRANTED]),
            (1, opens, [opened("grant")]),
            (5, tick, [LOCK]),
            (6, closes, [CLOSED]),
        ],
        {},
    ),
    "a second grant extends the window from its own time": (
        [
            (0, grant, [UNLOCK, GRANTED]),
            (3, grant, [GRANTED]),
            (5, tick, []),
            (8, tick, [LOCK, GrantedNotOpened()]),
        ],
        {},
    ),
    "the unlock duration is configurable": (
        [
            (0, grant, [UNLOCK, GRANTED]),
            (5, tick, []),
            (8, tick, [LOCK, GrantedNotOpened()]),
        ],
        {"timings": DoorTimings(unlock_s=8)},
    ),
    "held open: raised 30 s after a legitimate opening, cleared when the door closes": (
        [
            (0, grant, [UNLOCK, GRANTED]),
            (1, opens, [opened("grant")]),
            (5, tick, [LOCK]),
            (30.999, tick, []),
            (31, tick, [raised(Alarm.HELD_OPEN)]),
            (40, closes, [CLOSED, cleared(Alarm.HELD_OPEN)]),
        ],
        {},
    ),
    "held open delay is configurable": (
        [
            (0, grant, [UNLOCK, GRANTED]),
            (1, opens, [opened("grant")]),
            (5, tick, [LOCK]),
            (16, tick, [raised(Alarm.HELD_OPEN)]),
        ],
        {"timings": DoorTimings(held_open_s=15)},
    ),
    "a door closed before the held-open delay raises nothing": (
        [
            (0, grant, [UNLOCK, GRANTED]),
            (1, opens, [opened("grant")]),
            (20, closes, [LOCK, CLOSED]),
            (60, tick, []),
        ],
        {},
    ),
    "forced open: the contact opens without grant or exit request; cleared when it closes; relay untouched": (
        [
            (1, opens, [opened("forced"), raised(Alarm.FORCED_OPEN)]),
            (60, tick, []),
            (70, closes, [CLOSED, cleared(Alarm.FORCED_OPEN)]),
        ],
        {},
    ),
    "an opening after the window ended is forced": (
        [
            (0, grant, [UNLOCK, GRANTED]),
            (5, tick, [LOCK, GrantedNotOpened()]),
            (5.5, opens, [opened("forced"), raised(Alarm.FORCED_OPEN)]),
        ],
        {},
    ),
    "an exit request before the contact opens unlocks and suppresses forced open": (
        [
            (0, rex, [UNLOCK]),
            (0.5, opens, [opened("exit_request")]),
            (2, closes, [LOCK, CLOSED]),
        ],
        {},
    ),
    "an exit request nobody uses relocks without an unused-grant record": (
        [
            (0, rex, [UNLOCK]),
            (5, tick, [LOCK]),
        ],
        {},
    ),
    "an exit request after the contact opened comes too late: the opening stays forced": (
        [
            (0, opens, [opened("forced"), raised(Alarm.FORCED_OPEN)]),
            (0.2, rex, [UNLOCK]),
            (1, closes, [LOCK, CLOSED, cleared(Alarm.FORCED_OPEN)]),
        ],
        {},
    ),
    "a monitor-only exit request shunts forced open without touching the relay": (
        [
            (0, rex, []),
            (0.5, opens, [opened("exit_request")]),
            (2, closes, [CLOSED]),
        ],
        {"exit_request_unlocks": False},
    ),
    "a denial plays the denied pattern and leaves the relay alone": (
        [(0, deny, [DENIED])],
        {},
    ),
    "unlocked mode holds the relay unlocked until normal mode relocks it": (
        [
            (0, mode(DoorMode.UNLOCKED), [UNLOCK, ModeChanged(DoorMode.UNLOCKED)]),
            (100, tick, []),
            (200, mode(DoorMode.NORMAL), [LOCK, ModeChanged(DoorMode.NORMAL)]),
        ],
        {},
    ),
    "unlocked mode: openings are not forced and a propped door raises no held-open": (
        [
            (0, mode(DoorMode.UNLOCKED), [UNLOCK, ModeChanged(DoorMode.UNLOCKED)]),
            (1, opens, [opened("unlocked_mode")]),
            (600, tick, []),
        ],
        {},
    ),
    "unlocked mode: a grant only plays feedback": (
        [
            (0, mode(DoorMode.UNLOCKED), [UNLOCK, ModeChanged(DoorMode.UNLOCKED)]),
            (1, grant, [GRANTED]),
            (6, tick, []),
        ],
        {},
    ),
    "leaving unlocked mode with the door open starts the held-open delay then": (
        [
            (0, mode(DoorMode.UNLOCKED), [UNLOCK, ModeChanged(DoorMode.UNLOCKED)]),
            (1, opens, [opened("unlocked_mode")]),
            (100, mode(DoorMode.NORMAL), [LOCK, ModeChanged(DoorMode.NORMAL)]),
            (130, tick, [raised(Alarm.HELD_OPEN)]),
        ],
        {},
    ),
    "lockdown relocks at once, cutting a running grant window": (
        [
            (0, grant, [UNLOCK, GRANTED]),
            (1, mode(DoorMode.LOCKDOWN), [LOCK, ModeChanged(DoorMode.LOCKDOWN)]),
            (5, tick, []),
        ],
        {},
    ),
    "lockdown still executes a grant (the rules decide who is granted in lockdown)": (
        [
            (0, mode(DoorMode.LOCKDOWN), [ModeChanged(DoorMode.LOCKDOWN)]),
            (1, grant, [UNLOCK, GRANTED]),
            (6, tick, [LOCK, GrantedNotOpened()]),
        ],
        {},
    ),
    "lockdown keeps the exit request working: egress stays possible": (
        [
            (0, mode(DoorMode.LOCKDOWN), [ModeChanged(DoorMode.LOCKDOWN)]),
            (1, rex, [UNLOCK]),
            (6, tick, [LOCK]),
        ],
        {},
    ),
    "normal mode follows the unlocked schedule": (
        [
            (0, schedule(True), [UNLOCK, ModeChanged(DoorMode.UNLOCKED)]),
            (3600, schedule(False), [LOCK, ModeChanged(DoorMode.NORMAL)]),
        ],
        {},
    ),
    "lockdown overrides the unlocked schedule, and returning to normal follows it again": (
        [
            (0, schedule(True), [UNLOCK, ModeChanged(DoorMode.UNLOCKED)]),
            (10, mode(DoorMode.LOCKDOWN), [LOCK, ModeChanged(DoorMode.LOCKDOWN)]),
            (20, mode(DoorMode.NORMAL), [UNLOCK, ModeChanged(DoorMode.UNLOCKED)]),
        ],
        {},
    ),
    "lock fault: the sensor still reads locked after the grace period of an unlock": (
        [
            (0, bolt(True), []),
            (1, grant, [UNLOCK, GRANTED]),
            (1.999, tick, []),
            (2, tick, [raised(Alarm.LOCK_FAULT)]),
            (6, tick, [LOCK, GrantedNotOpened(), cleared(Alarm.LOCK_FAULT)]),
        ],
        {"has_lock_sensor": True},
    ),
    "a lock that follows the command within the grace period raises nothing": (
        [
            (0, bolt(True), []),
            (1, grant, [UNLOCK, GRANTED]),
            (1.3, bolt(False), []),
            (6, tick, [LOCK, GrantedNotOpened()]),
            (6.4, bolt(True), []),
            (60, tick, []),
        ],
        {"has_lock_sensor": True},
    ),
    "lock fault: a lock that does not relock is raised, and cleared once it reads locked": (
        [
            (0, bolt(True), []),
            (1, grant, [UNLOCK, GRANTED]),
            (1.2, bolt(False), []),
            (6, tick, [LOCK, GrantedNotOpened()]),
            (7, tick, [raised(Alarm.LOCK_FAULT)]),
            (9, bolt(True), [cleared(Alarm.LOCK_FAULT)]),
        ],
        {"has_lock_sensor": True},
    ),
    "lock fault: a sensor that drops while locked is raised after the grace period": (
        [
            (0, bolt(True), []),
            (10, bolt(False), []),
            (11.5, tick, [raised(Alarm.LOCK_FAULT)]),
        ],
        {"has_lock_sensor": True, "timings": DoorTimings(lock_grace_s=1.5)},
    ),
    "lock sensor: no verdict while the door is open (a maglock cannot bond); judged again from the close": (
        [
            (0, bolt(True), []),
            (1, grant, [UNLOCK, GRANTED]),
            (1.2, bolt(False), []),
            (2, opens, [opened("grant")]),
            (6, tick, [LOCK]),
            (10, closes, [CLOSED]),
            (10.999, tick, []),
            (11, tick, [raised(Alarm.LOCK_FAULT)]),
        ],
        {"has_lock_sensor": True},
    ),
    "without a door contact an unused grant cannot be known and is not recorded": (
        [
            (0, grant, [UNLOCK, GRANTED]),
            (5, tick, [LOCK]),
        ],
        {"has_contact": False},
    ),
    "reader faults are raised and cleared per reader": (
        [
            (0, reader("front-in", False), [raised(Alarm.READER_FAULT, "front-in")]),
            (1, reader("front-in", False), []),
            (2, reader("front-out", False), [raised(Alarm.READER_FAULT, "front-out")]),
            (3, reader("front-in", True), [cleared(Alarm.READER_FAULT, "front-in")]),
        ],
        {},
    ),
    "a late tick replays every deadline in time order, relay commands first": (
        [
            (0, grant, [UNLOCK, GRANTED]),
            (1, opens, [opened("grant")]),
            (100, tick, [LOCK, raised(Alarm.HELD_OPEN)]),
        ],
        {},
    ),
    "an input arriving after a missed deadline sees the deadline applied first": (
        [
            (0, grant, [UNLOCK, GRANTED]),
            (7, opens, [LOCK, GrantedNotOpened(), opened("forced"), raised(Alarm.FORCED_OPEN)]),
        ],
        {},
    ),
    "a repeated contact reading changes nothing": (
        [
            (0, grant, [UNLOCK, GRANTED]),
            (1, closes, []),
            (5, tick, [LOCK, GrantedNotOpened()]),
        ],
        {},
    ),
}


@pytest.mark.parametrize("rows, args", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_scenario(rows: list[Row], args: dict[str, object]) -> None:
    run(rows, **args)


def test_start_commands_the_relay_locked_and_announces_the_mode() -> None:
    door = DoorController()
    assert door.start(0.0) == Step((LOCK, ModeChanged(DoorMode.NORMAL)), None)


def test_start_in_unlocked_mode_commands_the_relay_unlocked() -> None:
    door = DoorController(mode=DoorMode.UNLOCKED)
    assert door.start(0.0).effects == (UNLOCK, ModeChanged(DoorMode.UNLOCKED))


def test_a_door_already_open_at_start_is_not_forced_but_is_watched_for_held_open() -> None:
    door = DoorController()
    door.start(0.0)
    step = door.contact_changed(False, 0.0)
    assert step == Step((opened("unknown"),), 30.0)
    assert door.tick(30.0).effects == (raised(Alarm.HELD_OPEN),)


def test_inputs_before_start_are_refused() -> None:
    with pytest.raises(RuntimeError, match="start"):
        DoorController().grant(0.0)


def test_each_step_names_the_next_deadline() -> None:
    door = DoorController()
    door.start(0.0)
    door.contact_changed(True, 0.0)
    assert door.grant(10.0).deadline == 15.0
    assert door.contact_changed(False, 11.0).deadline == 15.0
    assert door.tick(15.0).deadline == 41.0
    assert door.contact_changed(True, 20.0).deadline is None


def test_status_reports_mode_relay_door_alarms_and_counters() -> None:
    door = run(
        [
            (0, grant, [UNLOCK, GRANTED]),
            (5, tick, [LOCK, GrantedNotOpened()]),
            (6, opens, [opened("forced"), raised(Alarm.FORCED_OPEN)]),
        ]
    )
    status = door.status()
    assert (status.mode, status.locked, status.door) == (DoorMode.NORMAL, True, "open")
    assert status.alarms == ((Alarm.FORCED_OPEN, ""),)
    assert status.counters == {"granted": 1, "granted_not_opened": 1, "opened_forced": 1, "forced_open": 1}


@pytest.mark.parametrize("name", ["unlock_s", "held_open_s", "lock_grace_s"])
def test_timings_must_be_positive(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        DoorTimings(**{name: 0})


def test_the_commanded_mode_is_kept_apart_from_the_scheduled_one() -> None:
    door = DoorController()
    door.start(0.0)
    door.set_scheduled_unlocked(True, 1.0)
    assert (door.mode, door.commanded_mode) == (DoorMode.UNLOCKED, DoorMode.NORMAL)
    door.set_mode(DoorMode("lockdown"), 2.0)
    assert (door.mode, door.commanded_mode) == (DoorMode.LOCKDOWN, DoorMode.LOCKDOWN)
