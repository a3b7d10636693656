"""The door's writer (`DoorService` in this process, no broker): what the loop produced is stored by the thread that
handled it, once that thread has let go of the loop, so a disk that stops answering holds up no other input; the
events are still stored in the order they happened, and a writer stuck on the disk withholds the watchdog ping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge.access.rules import Direction
from edge.bus.outbox import Row
from edge.contract import DoorAccess, DoorState, Kind, badge_token, decode
from edge.door import writer as door_writer
from edge.door.inbox import Badge
from tests.door_service import Door
from tests.door_support import RESIDENT, UNKNOWN
from tests.rig.waiting import wait_until


class HangingDisk:
    """The outbox's writes hang while `hanging` is set (an SD card that stops answering), until `answers` is set."""

    def __init__(self, append: Callable[[Callable[[int], Row]], Row]) -> None:
        self._append = append
        self.hanging = threading.Event()
        self.answers = threading.Event()
        self.stuck = threading.Event()  # a write is hanging now

    def append(self, build: Callable[[int], Row]) -> Row:
        if self.hanging.is_set() and not self.answers.is_set():
            self.stuck.set()
            self.answers.wait(60)
        return self._append(build)


@pytest.fixture
def door(tmp_path: Path) -> Iterator[tuple[Door, HangingDisk]]:
    """A started door (no reader pins, a 60 s unlock) whose outbox writes hang on demand."""
    door = Door(tmp_path, 1, readers="", unlock_s=60)
    disk = HangingDisk(door.service.bus.outbox.append)
    try:
        door.start()
        assert door.service.writer.wait_idle(10)
        door.service.bus.outbox.append = disk.append  # type: ignore[method-assign]
        yield door, disk
    finally:
        disk.answers.set()
        door.close()


def badge(door: Door, uid: str) -> Badge:
    token = badge_token((door.folder / "keys/badge.key").read_bytes().strip(), uid)
    return Badge("front", "outside", Direction.IN, token, time.monotonic())


def hang_a_reader_on_the_disk(door: Door, disk: HangingDisk) -> None:
    """An unknown badge from a reader thread: denied, then its thread hangs storing the denial."""
    disk.hanging.set()
    threading.Thread(target=door.service.loop.post, args=(badge(door, UNKNOWN),), daemon=True).start()
    assert disk.stuck.wait(10), "the reader's thread never stored its denial"


def stored(door: Door) -> list[tuple[Kind, object]]:
    """The door's events in the outbox, oldest first, as (kind, body)."""
    kinds = {"/access": Kind.DOOR_ACCESS, "/state": Kind.DOOR_STATE, "/alarm": Kind.DOOR_ALARM}
    events = []
    for row in door.service.bus.outbox.pending(10_000):
        kind = next((k for suffix, k in kinds.items() if row.topic.endswith(suffix)), None)
        if kind is not None:
            events.append((kind, decode(kind, row.payload).body))
    return events


def test_a_disk_that_hangs_does_not_keep_another_badge_from_the_relay(door: tuple[Door, HangingDisk]) -> None:
    site, disk = door
    hang_a_reader_on_the_disk(site, disk)
    assert site.sim.relay_locked
    assert site.service.loop.ask(badge(site, RESIDENT)).granted
    assert not site.sim.relay_locked
    assert site.service.writer.pending > 0  # queued behind the hanging write, not stored by this thread


def test_events_stored_after_a_hanging_write_keep_the_order_they_happened_in(door: tuple[Door, HangingDisk]) -> None:
    site, disk = door
    before = len(stored(site))
    hang_a_reader_on_the_disk(site, disk)
    site.service.loop.ask(badge(site, RESIDENT))
    disk.answers.set()
    assert site.service.writer.wait_idle(10)
    events = stored(site)[before:]
    accesses = [body for kind, body in events if kind == Kind.DOOR_ACCESS]
    assert [a.granted for a in accesses if isinstance(a, DoorAccess)] == [False, True]
    kinds = [kind for kind, _ in events]
    assert kinds.index(Kind.DOOR_STATE) > kinds.index(Kind.DOOR_ACCESS)  # the grant's unlock follows its access
    last_state = [body for kind, body in events if kind == Kind.DOOR_STATE][-1]
    assert isinstance(last_state, DoorState) and last_state.locked is False


def test_a_writer_stuck_on_the_disk_withholds_the_watchdog_ping(
    door: tuple[Door, HangingDisk], monkeypatch: pytest.MonkeyPatch
) -> None:
    site, disk = door
    monkeypatch.setattr(door_writer, "STALL_S", 0.5)
    assert site.service.alive()
    hang_a_reader_on_the_disk(site, disk)
    wait_until(lambda: not site.service.writer.alive(), what="the stuck writer to count as stuck")
    assert not site.service.alive()
    disk.answers.set()
    wait_until(site.service.writer.alive, what="the writer to be alive again once the write returned")


def test_what_does_not_fit_the_queue_is_dropped_and_counted(
    door: tuple[Door, HangingDisk], monkeypatch: pytest.MonkeyPatch
) -> None:
    site, disk = door
    writer = site.service.writer
    monkeypatch.setattr(writer, "_max_pending", 3)
    hang_a_reader_on_the_disk(site, disk)
    for _ in range(5):  # an access event and a door state each
        site.service.loop.ask(badge(site, UNKNOWN))
    assert writer.pending == 3
    assert site.service.counters.get("outputs_dropped") > 0
