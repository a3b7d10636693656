"""The door's serial reader unplugged and plugged back (its pty closed and reopened) while `edge door` runs: a
`reader_fault` alarm is raised and then cleared, the status shows the reader down then up, the other reader and
the relay keep working, and badges are read again after the replug. EDGE_SOAK=1 repeats it more times."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from edge.contract import Kind
from edge.hardware.sim.serial_devices import Rdm6300Sim
from tests.door_site import Site
from tests.door_support import PREFIX, RESIDENT, WIEGAND_RESIDENT, counter, events
from tests.fault_support import soak
from tests.rig.mqtt import Recorder
from tests.rig.servers import Mosquitto
from tests.rig.waiting import wait_until

# Long fault runs (reader unplugged and replugged again and again): CI runs them, `-m "not slow"` does not.
pytestmark = pytest.mark.slow

REPLUGS = soak(2, 10)


def reader_faults(recorder: Recorder) -> list[bool]:
    """`active` of every reader_fault alarm seen, in order."""
    return [a.active for a in events(recorder, Kind.DOOR_ALARM) if a.alarm == "reader_fault"]


def wait_faults(recorder: Recorder, expected: list[bool]) -> None:
    """Wait until the reader_fault alarms seen are exactly `expected` (raised, cleared, ...)."""
    assert recorder.wait_for(lambda ms: reader_faults(recorder) == expected, 30), reader_faults(recorder)


def test_an_unplugged_reader_raises_reader_fault_and_reads_again_after_replug(
    tmp_path: Path, mosquitto: Mosquitto, reader: Rdm6300Sim
) -> None:
    site = Site(tmp_path, mosquitto, reader)
    recorder = Recorder(mosquitto.port, f"{PREFIX}/#")
    try:
        version = site.push()
        site.start_door()
        assert recorder.wait_for(
            lambda ms: any(s.members_version == version for s in events(recorder, Kind.DOOR_STATE))
        )
        for n in range(1, REPLUGS + 1):
            reader.unplug()
            wait_faults(recorder, [True, False] * (n - 1) + [True])
            assert recorder.wait_for(lambda ms: counter(recorder, "reader.inside.down") == 1, 10)
            site.wiegand(*WIEGAND_RESIDENT)  # the other reader still opens the door
            wait_until(lambda: not site.relay_locked(), what="the Wiegand reader to unlock while the pty is gone")
            wait_until(site.relay_locked, what="the relay to lock again")
            reader.replug()
            wait_faults(recorder, [True, False] * n)
            assert recorder.wait_for(lambda ms: counter(recorder, "reader.inside.down") == 0, 10)
            time.sleep(0.3)
            reader.send_card(RESIDENT)
            wait_until(lambda: not site.relay_locked(), what="the replugged reader to read a badge")
            wait_until(site.relay_locked, what="the relay to lock again")
        granted = [a.reader for a in events(recorder, Kind.DOOR_ACCESS) if a.granted]
        assert granted == ["outside", "inside"] * REPLUGS
        assert site.stop_door() == 0
    finally:
        recorder.close()
        site.close()
