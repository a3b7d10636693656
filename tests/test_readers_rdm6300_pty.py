"""The RDM6300 reader through a real pseudo-terminal: frames in, scans out; unplug, replug, bad input."""

from __future__ import annotations

import logging

import pytest

from edge.hardware.rdm6300 import Rdm6300Reader
from edge.hardware.sim.serial_devices import Rdm6300Sim
from tests.reader_events import ReaderEvents
from tests.rig.waiting import wait_until

TAG = "0A00BC614E"
TAG2 = "1F2E3D4C5B"


@pytest.fixture
def device():
    sim = Rdm6300Sim()
    yield sim
    sim.close()


@pytest.fixture
def events():
    return ReaderEvents()


@pytest.fixture
def reader(device, events):
    reader = Rdm6300Reader(
        "reception",
        device.path,
        rearm_s=0.3,
        reopen_min_s=0.02,
        reopen_max_s=0.1,
        on_scan=events.on_scan,
        on_fault=events.on_fault,
    )
    reader.start()
    assert reader.wait_connected(5)
    yield reader
    reader.close()


def test_a_frame_becomes_a_scan_with_the_normalised_uid(device, reader, events):
    device.send_card(TAG.lower())
    assert events.wait_scans(1) == [TAG]
    assert reader.health.frames_ok == 1


def test_scan_time_is_when_the_frame_was_complete(device, reader, events):
    before = reader.clock.monotonic()
    device.send_card(TAG)
    events.wait_scans(1)
    assert before <= events.scans[0][1] <= reader.clock.monotonic()


def test_a_held_card_repeating_its_frame_scans_once(device, reader, events):
    device.hold_card(TAG, seconds=0.5, interval_s=0.05).join()
    device.send_card(TAG2)
    assert events.wait_scans(2) == [TAG, TAG2]
    assert reader.health.repeats_suppressed >= 5


def test_a_card_presented_again_after_the_rearm_time_scans_again(device, reader, events):
    device.send_card(TAG)
    events.wait_scans(1)
    wait_until(lambda: reader.clock.monotonic() - events.scans[0][1] > 0.35)
    device.send_card(TAG)
    assert events.wait_scans(2) == [TAG, TAG]


def test_garbage_and_bad_checksums_are_counted_and_reading_goes_on(device, reader, events):
    device.write(b"\x00\xffnoise\x02123")
    device.send_card(TAG, checksum=0x00)
    device.send_card(TAG2)
    assert events.wait_scans(1) == [TAG2]
    assert reader.health.bad_checksum == 1
    assert reader.health.garbage_bytes == 11
    assert reader.health.resyncs == 2
    assert reader.running


def test_unplug_reports_a_fault_and_replug_recovers(device, reader, events):
    device.unplug()
    assert events.wait_faults(1) == [True]
    assert not reader.connected
    device.replug()
    assert events.wait_faults(2) == [True, False]
    assert reader.wait_connected(5)
    device.send_card(TAG)
    assert events.wait_scans(1) == [TAG]
    assert reader.health.reopens == 1
    assert reader.health.faults == 1


def test_a_device_missing_at_start_is_a_fault_until_it_appears(device, events):
    device.unplug()
    reader = Rdm6300Reader("late", device.path, reopen_min_s=0.02, reopen_max_s=0.05, on_fault=events.on_fault)
    reader.on_scan = events.on_scan
    with reader:
        reader.start()
        assert events.wait_faults(1) == [True]
        assert "cannot open" in (reader.fault or "")
        device.replug()
        assert reader.wait_connected(5)
        device.send_card(TAG)
        assert events.wait_scans(1) == [TAG]
        assert events.fault_states == [True, False]
        assert reader.fault is None


def test_a_failing_scan_callback_is_counted_and_does_not_stop_the_reader(device, reader, events):
    def explode(uid, at):
        raise RuntimeError("downstream broke")

    reader.on_scan = explode
    device.send_card(TAG)
    wait_until(lambda: reader.health.callback_errors == 1)
    reader.on_scan = events.on_scan
    device.send_card(TAG2)
    assert events.wait_scans(1) == [TAG2]
    assert reader.running


def test_close_stops_the_thread(device, reader):
    reader.close()
    assert not reader.running
    with pytest.raises(RuntimeError):
        reader.start()


def test_nothing_logged_contains_a_uid(device, reader, events, caplog):
    caplog.set_level(logging.DEBUG)
    device.send_card(TAG)
    device.send_card(TAG2, checksum=0)
    device.write(b"garbage" + TAG.encode())
    events.wait_scans(1)
    device.unplug()
    events.wait_faults(1)
    device.replug()
    events.wait_faults(2)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records
    for uid in (TAG, TAG2, "BC614E"):
        assert uid not in text.upper()
