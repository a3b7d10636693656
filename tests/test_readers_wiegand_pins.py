"""The Wiegand reader on gpiozero MockFactory pins driven with real pulse timing (50 µs pulses, 2 ms apart)."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from gpiozero import InputDevice
from gpiozero.pins.mock import MockFactory

from edge.hardware.sim.wiegand_sim import WiegandSim
from edge.hardware.wiegand import WiegandReader, encode_wiegand
from tests.reader_events import ReaderEvents
from tests.rig.waiting import wait_until

D0, D1 = 5, 6


@pytest.fixture
def factory():
    return MockFactory()


@pytest.fixture
def events():
    return ReaderEvents()


@pytest.fixture
def reader(factory, events):
    reader = WiegandReader(
        "door", D0, D1, pin_factory=factory, rearm_s=0.5, on_scan=events.on_scan, on_fault=events.on_fault
    )
    reader.start()
    yield reader
    reader.close()


@pytest.fixture
def sim(factory):
    return WiegandSim(factory, D0, D1)


def test_data_lines_are_pulled_up_without_debounce(factory, reader):
    for number in (D0, D1):
        pin = factory.pin(number)
        assert (pin.pull, pin.bounce, pin.edges) == ("up", None, "falling")
        assert pin.state == 1


def test_a_26_bit_card_scans_with_its_data_bits_as_uid(reader, sim, events):
    sim.send_card(18, 12345, 26)
    assert events.wait_scans(1) == ["123039"]
    assert reader.health.frames_ok == 1


def test_a_34_bit_card_scans(reader, sim, events):
    sim.send_card(0x1234, 0x5678, 34)
    assert events.wait_scans(1) == ["12345678"]


def test_a_frame_with_bad_parity_is_counted_and_not_scanned(reader, sim, events):
    frame = list(encode_wiegand(18, 12345, 26))
    frame[10] ^= 1
    sim.send_bits(frame)
    sim.send_card(1, 1, 26)
    assert events.wait_scans(1) == ["010001"]
    assert reader.health.bad_checksum == 1


def test_two_cards_back_to_back_never_merge(factory, reader, events):
    close_behind = WiegandSim(factory, D0, D1, frame_gap_s=0.035)  # just over the 25 ms frame timeout
    for facility in (1, 2, 3):
        close_behind.send_card(facility, 1000, 26)
    assert events.wait_scans(3) == ["0103E8", "0203E8", "0303E8"]
    assert reader.health.bad_frames == 0


def test_a_slow_reader_within_the_standard_still_reads(factory, reader, events):
    slow = WiegandSim(factory, D0, D1, pulse_s=100e-6, interval_s=0.01)
    slow.send_card(7, 4242, 26)
    assert events.wait_scans(1) == ["071092"]


def test_a_noise_pulse_is_a_bad_frame(reader, sim, events):
    sim.send_bits([1])
    wait_until(lambda: reader.health.bad_frames == 1)
    sim.send_card(9, 9, 26)
    assert events.wait_scans(1) == ["090009"]
    assert reader.health.bad_frames == 1


def test_a_card_repeated_by_the_reader_scans_once(reader, sim, events):
    for _ in range(3):
        sim.send_card(5, 55, 26)
    sim.send_card(6, 66, 26)
    assert events.wait_scans(2) == ["050037", "060042"]
    assert reader.health.repeats_suppressed == 2


def test_close_releases_both_pins(factory, reader):
    reader.close()
    for number in (D0, D1):
        InputDevice(number, pin_factory=factory).close()


def test_nothing_logged_contains_a_uid(reader, sim, events, caplog):
    caplog.set_level(logging.DEBUG)
    sim.send_card(18, 12345, 26)
    frame = list(encode_wiegand(18, 12345, 26))
    frame[3] ^= 1
    sim.send_bits(frame)
    events.wait_scans(1)
    wait_until(lambda: reader.health.bad_checksum == 1)
    assert "123039" not in "\n".join(record.getMessage() for record in caplog.records).upper()


def test_a_reader_thread_stuck_in_its_callback_counts_as_hung_until_it_moves_again(factory, sim, monkeypatch):
    # Short limits so the test runs in a second; the daemons use 5 s idle wakes and a 15 s grace.
    monkeypatch.setattr("edge.hardware.readers.HANG_GRACE_S", 0.3)
    monkeypatch.setattr("edge.hardware.wiegand.IDLE_WAKE_S", 0.1)
    release = threading.Event()
    reader = WiegandReader("door", D0, D1, pin_factory=factory, rearm_s=0.5, on_scan=lambda uid, at: release.wait(30))
    reader.start()
    try:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:  # idle is not hung: the thread wakes and checks in
            assert not reader.hung
            time.sleep(0.05)
        sim.send_card(18, 12345, 26)  # the callback blocks, like a decision stuck on a lock
        assert wait_until(lambda: reader.hung, timeout=5)
        assert reader.running
        release.set()
        assert wait_until(lambda: not reader.hung, timeout=5)
    finally:
        release.set()
        reader.close()
