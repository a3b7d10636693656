"""Safety properties of the door controller over any sequence of inputs and time advances."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.door.controller import (
    AlarmCleared,
    AlarmRaised,
    DoorController,
    DoorMode,
    DoorTimings,
    SetRelay,
    Step,
)

UNLOCK_S = 5.0

Event = tuple[str, object]

events = st.one_of(
    st.tuples(st.just("advance"), st.floats(min_value=0, max_value=40, allow_nan=False)),
    st.tuples(st.just("grant"), st.none()),
    st.tuples(st.just("deny"), st.none()),
    st.tuples(st.just("rex"), st.none()),
    st.tuples(st.just("contact"), st.booleans()),
    st.tuples(st.just("lock_sensor"), st.booleans()),
    st.tuples(st.just("mode"), st.sampled_from(list(DoorMode))),
    st.tuples(st.just("schedule"), st.booleans()),
    st.tuples(st.just("reader"), st.tuples(st.sampled_from(["in", "out"]), st.booleans())),
    st.tuples(st.just("tick"), st.none()),
)

# The inputs that may legitimately unlock; a sequence without them must never unlock.
UNLOCKING = {"grant", "rex", ("mode", DoorMode.UNLOCKED), ("schedule", True)}


@dataclass
class Run:
    """Feeds events to a controller and records what it commanded."""

    door: DoorController
    now: float = 0.0
    commands: list[bool] = field(default_factory=list)
    last_unlock_request: float | None = None
    alarm_states: dict[tuple[object, str], bool] = field(default_factory=dict)

    def record(self, step: Step) -> None:
        for effect in step.effects:
            if isinstance(effect, SetRelay):
                self.commands.append(effect.locked)
            elif isinstance(effect, (AlarmRaised, AlarmCleared)):
                key = (effect.alarm, effect.detail)
                active = isinstance(effect, AlarmRaised)
                assert self.alarm_states.get(key, False) != active, f"{effect} repeated"
                self.alarm_states[key] = active
        if step.deadline is not None:
            assert step.deadline > self.now, "a deadline at or before now should already have fired"

    def apply(self, kind: str, arg: object) -> None:
        door, now = self.door, self.now
        if kind == "advance":
            assert isinstance(arg, float)
            self.now += arg
            return
        if kind == "grant":
            step = door.grant(now)
            self.last_unlock_request = now
        elif kind == "deny":
            step = door.deny(now)
        elif kind == "rex":
            step = door.request_exit(now)
            self.last_unlock_request = now
        elif kind == "contact":
            step = door.contact_changed(bool(arg), now)
        elif kind == "lock_sensor":
            step = door.lock_sensed(bool(arg), now)
        elif kind == "mode":
            assert isinstance(arg, DoorMode)
            step = door.set_mode(arg, now)
        elif kind == "schedule":
            step = door.set_scheduled_unlocked(bool(arg), now)
        elif kind == "reader":
            assert isinstance(arg, tuple)
            step = door.reader_status(str(arg[0]), bool(arg[1]), now)
        else:
            step = door.tick(now)
        self.record(step)


def started(**kwargs: object) -> Run:
    door = DoorController(DoorTimings(unlock_s=UNLOCK_S), **kwargs)  # type: ignore[arg-type]
    run = Run(door)
    run.record(door.start(0.0))
    return run


def unlocking(event: Event) -> bool:
    kind, arg = event
    return kind in UNLOCKING or (kind, arg) in UNLOCKING


@settings(max_examples=400)
@given(st.lists(events, max_size=60), st.booleans())
def test_after_the_unlock_window_the_relay_is_locked_unless_in_unlocked_mode(seq: list[Event], sensor: bool) -> None:
    run = started(has_lock_sensor=sensor)
    for kind, arg in seq:
        run.apply(kind, arg)
        run.record(run.door.tick(run.now))
        window_over = run.last_unlock_request is None or run.now >= run.last_unlock_request + UNLOCK_S
        if window_over and run.door.mode is not DoorMode.UNLOCKED:
            assert run.door.relay_locked
            assert run.commands[-1] is True


@settings(max_examples=400)
@given(st.lists(events.filter(lambda e: not unlocking(e)), max_size=60))
def test_no_input_without_grant_exit_request_or_unlocked_mode_ever_unlocks(seq: list[Event]) -> None:
    run = started(has_lock_sensor=True)
    for kind, arg in seq:
        run.apply(kind, arg)
    run.record(run.door.tick(run.now + 3600))
    assert all(run.commands), run.commands


@settings(max_examples=300)
@given(st.lists(events, max_size=60), st.floats(min_value=0, max_value=1, exclude_max=True))
def test_nothing_happens_before_the_announced_deadline(seq: list[Event], fraction: float) -> None:
    run = started(has_lock_sensor=True)
    for kind, arg in seq:
        run.apply(kind, arg)
    deadline = run.door.next_deadline
    if deadline is not None and deadline > run.now:
        early = run.now + (deadline - run.now) * fraction
        if early < deadline:
            assert run.door.tick(early).effects == ()


@settings(max_examples=300)
@given(st.lists(events, max_size=60))
def test_the_last_relay_command_always_matches_the_reported_state(seq: list[Event]) -> None:
    run = started()
    for kind, arg in seq:
        run.apply(kind, arg)
        assert run.commands[-1] == run.door.relay_locked == run.door.status().locked
