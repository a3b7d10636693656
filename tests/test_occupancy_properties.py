"""Properties of the desk state machine over random observation scripts (seat desk, default hysteresis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.occupancy import Fault, Occupancy
from tests.occupancy_script import desk, play, seat

ENTER, RELEASE = 2.0, 60.0

# Observation times on a 0.5 s grid, values: pressed, released, or the sensor going offline.
_scripts = st.lists(
    st.tuples(st.integers(0, 800).map(lambda i: i / 2), st.sampled_from([True, False, Fault.OFFLINE])),
    max_size=30,
).map(lambda events: sorted(dict(events).items()))


def _value_at(script, t):
    """The last observed value at or before t (None before the first observation)."""
    value = None
    for when, observed in script:
        if when > t:
            break
        value = observed
    return value


def _held(script, value, start, end):
    """The observed value was `value` over [start, end) (a deadline at `end` wins over an observation at `end`)."""
    if start < 0 or _value_at(script, start) != value:
        return False
    return all(observed == value for when, observed in script if start < when < end)


@settings(max_examples=150, deadline=None)
@given(_scripts)
def test_vacant_only_after_a_full_release_hold_and_occupied_only_after_a_full_enter_delay(script):
    checks = [t / 2 for t in range(0, 1000, 7)]
    events = [(t, "seat", v) for t, v in script]
    states = play(desk(seat()), events, checks)
    for t, state in states.items():
        if state is Occupancy.VACANT:
            assert any(_held(script, False, w, w + RELEASE) for w, _ in script if w + RELEASE <= t)
        if state is not Occupancy.UNKNOWN:
            assert _value_at(script, t) not in (None, Fault.OFFLINE)
        if state is Occupancy.OCCUPIED:
            assert any(_held(script, True, u, u + ENTER) for u, _ in script if u + ENTER <= t)
