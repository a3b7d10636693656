"""The door daemon's member snapshot floor (`DoorService` in-process, not started: no broker needed): kept in its
own file, rebuilt loudly when that file is lost or corrupt, raised by an installer's minimum, and never letting an
older genuine snapshot back in, whether it comes from the broker or is put back on the card."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.access.floor import FloorState, VersionFloor, load_floor, save_floor
from edge.daemons.door import FLOOR_FILE, SNAPSHOT_FILE
from edge.files import write_atomic
from tests.door_service import Door
from tests.door_support import signed_snapshot

ACCESS = "  snapshot_keys: [keys/snapshot-signing.pub]\n  clock_trust: rtc\n"


@pytest.fixture
def doors(tmp_path: Path) -> Iterator[list[Door]]:
    """Doors made by a test, closed at its end (each one a fresh `DoorService` on the same state folder)."""
    made: list[Door] = []
    yield made
    for door in made:
        door.close()


def open_door(doors: list[Door], tmp_path: Path, *, snapshot_version: int | None = None, access: str = "") -> Door:
    door = Door(tmp_path, 1, readers="", snapshot_version=snapshot_version, access=access or ACCESS)
    doors.append(door)
    return door


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def test_applying_a_snapshot_writes_its_floor_to_its_own_file(doors: list[Door], tmp_path: Path) -> None:
    door = open_door(doors, tmp_path)
    raw = signed_snapshot(tmp_path, 3)
    assert door.service.apply_members(raw)
    assert load_floor(door.config.state_dir / FLOOR_FILE) == (VersionFloor(3, digest(raw)), FloorState.OK)
    assert door.service._status()["counters"]["members_floor"] == 3


def test_with_the_snapshot_file_lost_an_older_snapshot_is_refused_and_the_same_one_taken_back(
    doors: list[Door], tmp_path: Path
) -> None:
    first = open_door(doors, tmp_path)
    older, newer = signed_snapshot(tmp_path, 1), signed_snapshot(tmp_path, 2)
    assert first.service.apply_members(older) and first.service.apply_members(newer)
    first.close()
    (first.config.state_dir / SNAPSHOT_FILE).unlink()
    door = open_door(doors, tmp_path)
    assert door.service.index is None and door.service.floor == VersionFloor(2, digest(newer))
    assert not door.service.apply_members(older)
    assert door.service.counters.snapshot()["snapshot_refused.not_newer"] == 1
    assert not door.service.apply_members(signed_snapshot(tmp_path, 2))  # same version, other bytes
    assert door.service.apply_members(newer)  # the retained copy of the snapshot it had
    assert door.service.index is not None and door.service.index.version == 2


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_a_lost_or_corrupt_floor_file_is_counted_logged_and_rebuilt_from_the_stored_snapshot(
    doors: list[Door], tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    door = open_door(doors, tmp_path, snapshot_version=2)
    door.close()
    floor_file = door.config.state_dir / FLOOR_FILE
    assert load_floor(floor_file)[0] == VersionFloor(2, digest((door.config.state_dir / SNAPSHOT_FILE).read_bytes()))
    if damage == "corrupt":
        floor_file.write_text('{"version": 1')
    else:
        floor_file.unlink()
    with caplog.at_level(logging.ERROR, logger="edge.daemons.door"):
        door = open_door(doors, tmp_path, snapshot_version=None)
    assert door.service.counters.snapshot()[f"snapshot_floor.{damage}"] == 1
    assert f"member snapshot floor {floor_file} is {damage}: rebuilt at version 2" in caplog.text
    assert load_floor(floor_file)[0] == door.service.floor and door.service.floor is not None
    assert door.service.floor.version == 2
    assert not door.service.apply_members(signed_snapshot(tmp_path, 1))


def test_a_stored_snapshot_older_than_the_floor_is_refused_at_start(doors: list[Door], tmp_path: Path) -> None:
    door = open_door(doors, tmp_path, snapshot_version=1)
    assert door.service.apply_members(signed_snapshot(tmp_path, 2))
    door.close()
    write_atomic(door.config.state_dir / SNAPSHOT_FILE, signed_snapshot(tmp_path, 1))  # v1 put back on the card
    door = open_door(doors, tmp_path, snapshot_version=None)
    assert door.service.index is None
    assert door.service.counters.snapshot()["snapshot_refused.not_newer"] == 1
    assert door.service.floor is not None and door.service.floor.version == 2


def test_an_installers_minimum_refuses_older_snapshots_at_a_new_door(doors: list[Door], tmp_path: Path) -> None:
    door = open_door(doors, tmp_path, access=ACCESS + "  min_snapshot_version: 5\n")
    assert door.service.counters.snapshot()["snapshot_floor.missing"] == 1
    assert load_floor(door.config.state_dir / FLOOR_FILE) == (VersionFloor(5), FloorState.OK)
    assert not door.service.apply_members(signed_snapshot(tmp_path, 4))
    assert door.service.counters.snapshot()["snapshot_refused.not_newer"] == 1
    assert door.service.apply_members(signed_snapshot(tmp_path, 5))


def test_an_installers_minimum_holds_when_the_floor_file_is_corrupt_and_nothing_is_stored(
    doors: list[Door], tmp_path: Path
) -> None:
    state = tmp_path / "state" / "door-1"
    state.mkdir(parents=True)
    (state / FLOOR_FILE).write_bytes(b"\xff" * 10)
    door = open_door(doors, tmp_path, access=ACCESS + "  min_snapshot_version: 5\n")
    assert door.service.counters.snapshot()["snapshot_floor.corrupt"] == 1
    assert not door.service.apply_members(signed_snapshot(tmp_path, 3))
    assert door.service.index is None


def test_a_new_door_without_a_minimum_takes_its_first_snapshot_and_says_it_had_no_floor(
    doors: list[Door], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="edge.daemons.door"):
        door = open_door(doors, tmp_path)
    assert door.service.floor is None and door.service.counters.snapshot()["snapshot_floor.missing"] == 1
    assert "no snapshot floor yet" in caplog.text
    assert door.service.apply_members(signed_snapshot(tmp_path, 1))


def test_a_floor_that_cannot_be_written_is_counted_and_the_snapshot_still_applies(
    doors: list[Door], tmp_path: Path
) -> None:
    door = open_door(doors, tmp_path)
    (door.config.state_dir / FLOOR_FILE).mkdir()  # os.replace onto a folder fails
    raw = signed_snapshot(tmp_path, 3)
    assert door.service.apply_members(raw)  # a revocation does not wait for the disk
    assert door.service.counters.snapshot()["store_errors"] == 1
    assert door.service.floor == VersionFloor(3, digest(raw))  # and this run still refuses anything older


def test_a_floor_above_the_stored_snapshot_keeps_the_higher_one(doors: list[Door], tmp_path: Path) -> None:
    state = tmp_path / "state" / "door-1"
    state.mkdir(parents=True)
    save_floor(state / FLOOR_FILE, VersionFloor(9))
    door = open_door(doors, tmp_path, snapshot_version=4)
    assert door.service.index is None and door.service.floor == VersionFloor(9)
