"""LD2410 reader over a real pty: decoding, engineering mode, garbage, unplug/replug, absent at start, stop."""

from __future__ import annotations

import threading

import pytest

from edge.hardware.ld2410 import CMD_ENABLE_CONFIG, CMD_ENABLE_ENGINEERING, CMD_END_CONFIG, TargetState
from edge.hardware.ld2410_port import Ld2410Port
from edge.hardware.sim.ld2410 import EMPTY, RadarSimulator, someone
from tests.rig.waiting import wait_until


class Recorder:
    """Collects what the reader reports, from its thread."""

    def __init__(self):
        self.readings = []
        self.offline = []
        self._lock = threading.Lock()

    def reading(self, reading, at):
        with self._lock:
            self.readings.append(reading)

    def went_offline(self, reason, at):
        with self._lock:
            self.offline.append(reason)

    def count(self):
        with self._lock:
            return len(self.readings)


@pytest.fixture
def radar(tmp_path):
    sim = RadarSimulator(tmp_path / "ttyRADAR", rate_hz=50, reading=someone(90, 60)).start()
    yield sim
    sim.stop()


def _port(path, recorder, **options):
    defaults = {"forward_every_s": 0.0, "reopen_min_s": 0.05, "reopen_max_s": 0.2}
    return Ld2410Port(str(path), on_reading=recorder.reading, on_offline=recorder.went_offline, **(defaults | options))


def test_reports_arrive_decoded(radar):
    recorder = Recorder()
    with _port(radar.link, recorder) as port:
        wait_until(lambda: recorder.count() >= 3, what="three readings")
    first = recorder.readings[0]
    assert (first.target, first.still_distance_cm, first.engineering) == (TargetState.STILL, 90, False)
    assert port.errors == {}


def test_engineering_mode_is_switched_on_and_acknowledged(radar):
    recorder = Recorder()
    with _port(radar.link, recorder, engineering=True) as port:
        wait_until(lambda: any(r.engineering for r in list(recorder.readings)), what="an engineering frame")
        wait_until(lambda: sum(port.acks.values()) == 3, what="three acknowledgements")
    assert radar.commands == [CMD_ENABLE_CONFIG, CMD_ENABLE_ENGINEERING, CMD_END_CONFIG]
    engineering = next(r for r in recorder.readings if r.engineering)
    assert len(engineering.moving_gates) == len(engineering.still_gates) == 9
    assert engineering.still_gates[1] >= 60  # 90 cm is gate 1


def test_line_noise_is_counted_and_reading_continues(radar):
    recorder = Recorder()
    with _port(radar.link, recorder) as port:
        wait_until(lambda: recorder.count() >= 1, what="a reading")
        radar.inject(b"\x00\xff\xf4\xf3noise\xf4\xf3\xf2\xf1\x0d\x00\x02")
        before = recorder.count()
        wait_until(lambda: recorder.count() >= before + 5, what="readings after the noise")
    assert port.errors["garbage"] + port.errors["bad_footer"] >= 1


def test_unplug_reports_offline_once_and_replug_resumes(radar):
    recorder = Recorder()
    with _port(radar.link, recorder) as port:
        wait_until(lambda: recorder.count() >= 1, what="a reading")
        radar.unplug()
        wait_until(lambda: recorder.offline, what="offline")
        wait_until(lambda: not port.online, what="the port to close")
        radar.replug()
        before = recorder.count()
        wait_until(lambda: recorder.count() >= before + 3, what="readings after replug")
    assert len(recorder.offline) == 1
    assert port.opens == 2


def test_engineering_mode_is_restored_after_a_power_cycle(radar):
    recorder = Recorder()
    with _port(radar.link, recorder, engineering=True):
        wait_until(lambda: radar.engineering, what="engineering mode")
        radar.unplug()
        wait_until(lambda: recorder.offline, what="offline")
        radar.replug()
        assert not radar.engineering
        wait_until(lambda: radar.engineering, what="engineering mode again")


def test_a_radar_absent_at_start_is_offline_until_it_appears(tmp_path):
    recorder = Recorder()
    sim = RadarSimulator(tmp_path / "ttyLATE", rate_hz=50, reading=EMPTY)
    with _port(sim.link, recorder):
        wait_until(lambda: recorder.offline, what="offline")
        assert "cannot open" in recorder.offline[0]
        with sim:
            wait_until(lambda: recorder.count() >= 1, what="a reading")
            assert len(recorder.offline) == 1


def test_readings_are_rate_limited_but_a_target_change_passes_at_once(radar):
    recorder = Recorder()
    with _port(radar.link, recorder, forward_every_s=3600):
        wait_until(lambda: recorder.count() >= 1, what="a reading")
        sent = radar.frames_sent
        wait_until(lambda: radar.frames_sent >= sent + 10, what="more frames")
        assert recorder.count() == 1
        radar.show(EMPTY)
        wait_until(lambda: recorder.count() >= 2, what="the target change")
        sent = radar.frames_sent
        wait_until(lambda: radar.frames_sent >= sent + 10, what="more frames")
    assert [r.target for r in recorder.readings] == [TargetState.STILL, TargetState.NONE]


def test_stop_ends_the_thread_while_the_radar_is_silent(radar):
    recorder = Recorder()
    port = _port(radar.link, recorder, read_timeout_s=30).start()
    wait_until(lambda: recorder.count() >= 1, what="a reading")
    radar.silence()
    port.stop()
    assert port._thread is not None and not port._thread.is_alive()
