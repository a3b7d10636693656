"""The door loop (`DoorService` in this process, no broker): one input at a time, from a bounded queue whose drops
are counted, and a loop stuck on one input neither keeps a door unlocked at stop nor hides from the watchdog."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.access.rules import Direction
from edge.contract import badge_token
from edge.door import loop as door_loop
from edge.door.inbox import Badge, ContactChanged
from tests.door_service import Door, StallingPin
from tests.door_support import RESIDENT
from tests.rig.waiting import wait_until


@pytest.fixture
def stalling(tmp_path: Path) -> Iterator[Door]:
    """A door whose LED writes hang once `StallingPin.stalled` is set."""
    StallingPin.stalled.clear()
    StallingPin.released.clear()
    door = Door(tmp_path, 1, readers="", pin_class=StallingPin, unlock_s=60)
    try:
        door.start()
        yield door
    finally:
        StallingPin.released.set()
        door.close()


def stall_on_a_grant(door: Door) -> None:
    """A resident's badge posted from another thread: the relay unlocks, then the LED write hangs, the turn held."""
    StallingPin.stalled.set()
    token = badge_token((door.folder / "keys/badge.key").read_bytes().strip(), RESIDENT)
    badge = Badge("front", "outside", Direction.IN, token, time.monotonic())
    threading.Thread(target=door.service.loop.post, args=(badge,), daemon=True).start()
    wait_until(lambda: not door.sim.relay_locked, what="the grant to unlock the relay")


def test_inputs_beyond_the_bound_are_dropped_and_counted(stalling: Door) -> None:
    stall_on_a_grant(stalling)
    loop = stalling.service.loop
    posted = [loop.post(ContactChanged("front", n % 2 == 0)) for n in range(door_loop.DEFAULT_MAX_PENDING + 5)]
    assert posted.count(False) == 5
    assert stalling.service.counters.get("inputs_dropped") == 5


def test_stopping_while_the_loop_is_stuck_locks_the_relay(stalling: Door) -> None:
    stall_on_a_grant(stalling)
    assert not stalling.sim.relay_locked
    # stop() waits half a second for the stuck input, then locks from its own thread (it then hangs on the LED).
    threading.Thread(target=stalling.service.loop.stop, kwargs={"timeout": 0.5}, daemon=True).start()
    wait_until(lambda: stalling.sim.relay_locked, what="the relay to be locked by stop()")
    wait_until(lambda: stalling.factory.pin(5).function == "input", what="the relay pin to be released")


def test_a_loop_stuck_on_one_input_withholds_the_watchdog_ping(stalling: Door, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(door_loop, "STALL_S", 0.5)
    assert stalling.service.alive()
    stall_on_a_grant(stalling)
    wait_until(lambda: not stalling.service.loop.alive(), what="the stuck loop to count as stuck")
    assert not stalling.service.alive()
    StallingPin.released.set()
    wait_until(stalling.service.loop.alive, what="the loop to be alive again once the write returned")
