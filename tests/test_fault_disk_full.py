"""A door node whose state directory fills up (a tiny tmpfs): the node reports it (`store_errors` in its status),
keeps deciding and moving the relay, and every decision reaches the broker once the disk has room again."""

from __future__ import annotations

import errno
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.contract import Kind
from edge.hardware.sim.serial_devices import Rdm6300Sim
from tests.door_site import Site
from tests.door_support import PREFIX, RESIDENT, SUSPENDED, UNKNOWN, counter, events, wait_counter, wait_events
from tests.fault_support import soak
from tests.rig.mqtt import Recorder
from tests.rig.servers import Mosquitto
from tests.rig.waiting import wait_until

# Long fault runs (a tmpfs filled up under a running door): CI runs them, `-m "not slow"` does not.
pytestmark = pytest.mark.slow

ROUNDS = soak(3, 20)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """The door's state dir on its own 16 MB tmpfs (needs root, as the test rig runs)."""
    folder = tmp_path / "state" / "door-1"
    folder.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Write a file until the filesystem says it is full; the file."""
    filler = folder / "filler"
    try:
        with filler.open("wb") as out:
            while True:
                out.write(b"\0" * 4096)
                out.flush()
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    return filler


def test_a_full_disk_is_reported_and_the_door_keeps_deciding_and_loses_nothing(
    tmp_path: Path, mosquitto: Mosquitto, reader: Rdm6300Sim, small_disk: Path
) -> None:
    site = Site(tmp_path, mosquitto, reader)
    recorder = Recorder(mosquitto.port, f"{PREFIX}/#")
    try:
        version = site.push()
        site.start_door()
        assert recorder.wait_for(
            lambda ms: any(s.members_version == version for s in events(recorder, Kind.DOOR_STATE))
        )
        filler = fill(small_disk)
        newer = site.push()  # applied, though it cannot be kept on disk
        # Its door-state event waits in memory with the others; the status (not stored) shows the version.
        assert wait_counter(recorder, "members_version", newer), counter(recorder, "members_version")
        badged = 0
        for _ in range(ROUNDS):
            reader.send_card(RESIDENT)
            wait_until(lambda: not site.relay_locked(), what="the relay to unlock with the disk full")
            for card in (UNKNOWN, SUSPENDED):
                time.sleep(0.3)
                reader.send_card(card)
            wait_until(site.relay_locked, what="the relay to lock again")
            time.sleep(0.3)
            badged += 3
        assert wait_counter(recorder, "store_errors", 1), counter(recorder, "store_errors")
        assert wait_counter(recorder, "access.granted", ROUNDS)
        filler.unlink()  # room again: what was kept in memory is written, then published
        assert wait_events(recorder, Kind.DOOR_ACCESS, badged, 30), len(events(recorder, Kind.DOOR_ACCESS))
        time.sleep(1)
        accesses = events(recorder, Kind.DOOR_ACCESS)
        assert [a.reason for a in accesses] == ["granted", "unknown_badge", "suspended"] * ROUNDS
        assert counter(recorder, "events_dropped_spill") == 0
        assert any(s.members_version == newer for s in events(recorder, Kind.DOOR_STATE))
        assert site.stop_door() == 0
    finally:
        recorder.close()
        site.close()
