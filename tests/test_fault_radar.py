"""A desk radar that stops sending, then sends again, under `edge presence`: the desk becomes `unknown` (never
`vacant`), then reports what the radar sees once frames come back."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.hardware.sim.ld2410 import EMPTY, RadarSimulator, someone
from tests.fault_support import soak
from tests.presence_support import desk_states, radar_presence, start_daemon, stop_daemon, wait_state, write_config
from tests.rig.mqtt import Recorder
from tests.rig.servers import Mosquitto

# Long fault runs (radar silences and recoveries): CI runs them, `-m "not slow"` does not.
pytestmark = pytest.mark.slow

SILENCES = soak(2, 10)


@pytest.fixture
def radar() -> Iterator[RadarSimulator]:
    folder = Path(tempfile.mkdtemp(prefix="edge-test-", dir="/dev/shm"))  # a serial-device path lives under /dev
    sim = RadarSimulator(folder / "ttyRADAR", rate_hz=20, reading=EMPTY).start()
    yield sim
    sim.stop()
    shutil.rmtree(folder, ignore_errors=True)


def test_a_radar_that_stops_sending_makes_its_desk_unknown_and_the_desk_recovers_when_it_sends_again(
    mosquitto: Mosquitto, radar: RadarSimulator, tmp_path: Path
) -> None:
    config = write_config(tmp_path, mosquitto.port, radar_presence(radar.link))
    recorder = Recorder(mosquitto.port, "edge/lyon/#")
    log = tmp_path / "presence.log"
    proc = start_daemon(config, log)
    try:
        wait_state(recorder, "e01", "vacant")
        for _ in range(SILENCES):
            radar.silence()
            wait_state(recorder, "e01", "unknown")
            radar.show(someone())
            radar.silence(False)
            wait_state(recorder, "e01", "occupied")
            radar.show(EMPTY)
            wait_state(recorder, "e01", "vacant")
        assert proc.alive()
    finally:
        code = stop_daemon(proc)
        recorder.close()
    assert code == 0, log.read_text()
    assert desk_states(recorder.messages, "e01") == ["unknown", "vacant"] + ["unknown", "occupied", "vacant"] * SILENCES
