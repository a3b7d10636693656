"""The Wiegand reader on gpiozero MockFactory pins driven with real pulse timing (50 µs pulses, 2 ms apart).

Two kinds of tests. Those about what a frame means (decoding, parity, repeats, logs) use a reader whose format is
configured (a frame ends at its last bit) with a generous frame timeout, so a simulator thread descheduled
mid-frame on a busy machine changes nothing. Those about the decoder's timing (gaps between frames, slow
readers, noise, the frame timeout) use the default 25 ms timeout and run their stimulus again when the
simulator itself was late by a frame timeout mid-frame (it notes its own gaps): the decoder's counters are then
checked against the stimulus the test meant, never loosened.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from gpiozero import InputDevice
from gpiozero.pins.mock import MockFactory

from edge.clock import ManualClock
from edge.hardware.sim.wiegand_sim import WiegandSim
from edge.hardware.wiegand import PARTIAL_FRAME_S, WiegandReader, encode_wiegand
from tests.reader_events import ReaderEvents
from tests.rig.waiting import wait_until

D0, D1 = 5, 6
GENEROUS_S = 0.5  # a frame timeout no descheduled simulator thread reaches
ATTEMPTS = 5


@pytest.fixture
def factory():
    return MockFactory()


@pytest.fixture
def events():
    return ReaderEvents()


@contextlib.contextmanager
def wiegand_reader(factory: MockFactory, events: ReaderEvents, **settings: Any) -> Iterator[WiegandReader]:
    """A started reader on D0/D1 (by default a 26-bit format and a generous frame timeout)."""
    settings = {"formats": (26,), "frame_timeout_s": GENEROUS_S, "rearm_s": 0.5, **settings}
    reader = WiegandReader(
        "door", D0, D1, pin_factory=factory, on_scan=events.on_scan, on_fault=events.on_fault, **settings
    )
    reader.start()
    try:
        yield reader
    finally:
        reader.close()


@pytest.fixture
def reader(factory, events):
    with wiegand_reader(factory, events) as reader:
        yield reader


@pytest.fixture
def sim(factory):
    return WiegandSim(factory, D0, D1)


def timed(
    factory: MockFactory, scenario: Callable[[WiegandReader, ReaderEvents, MockFactory], WiegandSim], **settings: Any
) -> None:
    """Run a timing scenario on a fresh reader (default timing unless `settings`) until its simulator kept time.

    `scenario` drives the reader, returns the simulator it used and asserts only after checking that simulator
    left no gap of a frame timeout inside a frame (`sim.kept_gaps_below`): if it did, a busy machine, not the
    decoder, shaped the stimulus, and the scenario runs again on a new reader.
    """
    for _ in range(ATTEMPTS):
        events = ReaderEvents()
        with wiegand_reader(factory, events, **{"formats": (26, 34), "frame_timeout_s": 0.025, **settings}) as reader:
            try:
                scenario(reader, events, factory)
                return
            except SimulatorLate:
                continue
    pytest.fail(f"the simulator could not keep its timing in {ATTEMPTS} attempts (machine too busy)")


class SimulatorLate(Exception):
    """The simulator was descheduled mid-frame for as long as the reader's frame timeout."""


def kept_time(sim: WiegandSim, reader: WiegandReader) -> None:
    if not sim.kept_gaps_below(reader.frame_timeout_s - 0.002):
        raise SimulatorLate


def test_data_lines_are_pulled_up_without_debounce(factory, reader):
    for number in (D0, D1):
        pin = factory.pin(number)
        assert (pin.pull, pin.bounce, pin.edges) == ("up", None, "falling")
        assert pin.state == 1


def test_a_26_bit_card_scans_with_its_data_bits_as_uid(reader, sim, events):
    sim.send_card(18, 12345, 26)
    assert events.wait_scans(1) == ["123039"]
    assert reader.health.frames_ok == 1


def test_a_34_bit_card_scans(factory, sim, events):
    with wiegand_reader(factory, events, formats=(34,)):
        sim.send_card(0x1234, 0x5678, 34)
        assert events.wait_scans(1) == ["12345678"]


def test_a_frame_with_bad_parity_is_counted_and_not_scanned(reader, sim, events):
    frame = list(encode_wiegand(18, 12345, 26))
    frame[10] ^= 1
    sim.send_bits(frame)
    sim.send_card(1, 1, 26)
    assert events.wait_scans(1) == ["010001"]
    assert reader.health.bad_checksum == 1


def test_a_card_repeated_by_the_reader_scans_once(reader, sim, events):
    for _ in range(3):
        sim.send_card(5, 55, 26)
    sim.send_card(6, 66, 26)
    assert events.wait_scans(2) == ["050037", "060042"]
    assert reader.health.repeats_suppressed == 2
    assert (reader.health.bad_frames, reader.health.bad_checksum) == (0, 0)


# -- a configured format: the frame ends at its last bit -------------------------------------------------------


def test_with_a_configured_format_a_frame_is_complete_at_its_last_bit(factory, sim, events):
    # The reader's clock never moves, so its frame timer can never expire: only the bit count can end the frame.
    frozen = ManualClock(datetime(2026, 12, 5, 9, tzinfo=UTC))
    with wiegand_reader(factory, events, formats=(26,), frame_timeout_s=0.025, clock=frozen) as reader:
        sim.send_card(18, 12345, 26)
        assert events.wait_scans(1) == ["123039"]
        assert reader.health.frames_ok == 1


def test_without_a_configured_format_a_frame_waits_for_the_timeout(factory, sim, events):
    frozen = ManualClock(datetime(2026, 12, 5, 9, tzinfo=UTC))
    with wiegand_reader(factory, events, formats=(26, 34), frame_timeout_s=0.025, clock=frozen) as reader:
        sim.send_card(18, 12345, 26)
        time.sleep(0.2)  # eight frame timeouts of real time: the frozen clock says none passed
        assert events.uids == []
        frozen.advance(0.03)
        assert events.wait_scans(1) == ["123039"]
        assert reader.health.frames_ok == 1


def test_with_a_configured_format_back_to_back_cards_are_separated_by_count(factory, events):
    close_behind = WiegandSim(factory, D0, D1, frame_gap_s=0.005)  # far under any frame timeout
    with wiegand_reader(factory, events) as reader:
        for facility in (1, 2, 3):
            close_behind.send_card(facility, 1000, 26)
        assert events.wait_scans(3) == ["0103E8", "0203E8", "0303E8"]
        assert (reader.health.frames_ok, reader.health.bad_frames, reader.health.bad_checksum) == (3, 0, 0)


def test_with_a_configured_format_a_frame_missing_a_bit_is_refused_and_the_next_card_reads(factory):
    def scenario(reader: WiegandReader, events: ReaderEvents, factory: MockFactory) -> WiegandSim:
        sim = WiegandSim(factory, D0, D1)  # 100 ms between frames, more than the 25 ms gap that ends a frame
        sim.send_bits(encode_wiegand(18, 12345, 26)[:-1])
        sim.send_card(1, 1, 26)
        kept_time(sim, reader)
        assert events.wait_scans(1) == ["010001"]
        assert wait_until(lambda: reader.health.bad_frames == 1)
        assert reader.health.frames_ok == 1
        return sim

    timed(factory, scenario, formats=(26,))


def test_with_a_configured_format_a_short_frame_is_refused_by_the_partial_frame_timer(factory):
    def scenario(reader: WiegandReader, events: ReaderEvents, factory: MockFactory) -> WiegandSim:
        assert reader.partial_timeout_s == PARTIAL_FRAME_S
        sim = WiegandSim(factory, D0, D1)
        sim.send_bits([1, 0, 1, 1])  # a keypad key, or noise: no more bits come
        kept_time(sim, reader)
        assert wait_until(lambda: reader.health.bad_frames == 1)
        assert events.uids == []
        return sim

    timed(factory, scenario, formats=(26,))


def test_with_a_configured_format_the_rest_of_a_longer_frame_is_counted(factory):
    # A 34-bit card at a reader configured for 26 bits: cut at 26 bits (here its parity refuses them; 1 frame in
    # 4 would pass, which is why a format is only configured for readers known to send it), then 8 bits left.
    bits = encode_wiegand(0x1234, 0x5678, 34)

    def scenario(reader: WiegandReader, events: ReaderEvents, factory: MockFactory) -> WiegandSim:
        sim = WiegandSim(factory, D0, D1)
        sim.send_bits(bits)
        kept_time(sim, reader)
        assert wait_until(lambda: (reader.health.bad_checksum, reader.health.bad_frames) == (1, 1))
        assert events.uids == []
        return sim

    timed(factory, scenario, formats=(26,))


# -- timing: the default frame timeout --------------------------------------------------------------------------


def test_two_cards_back_to_back_never_merge(factory):
    def scenario(reader: WiegandReader, events: ReaderEvents, factory: MockFactory) -> WiegandSim:
        close_behind = WiegandSim(factory, D0, D1, frame_gap_s=0.035)  # just over the 25 ms frame timeout
        for facility in (1, 2, 3):
            close_behind.send_card(facility, 1000, 26)
        kept_time(close_behind, reader)
        assert events.wait_scans(3) == ["0103E8", "0203E8", "0303E8"]
        assert reader.health.bad_frames == 0
        return close_behind

    timed(factory, scenario)


def test_a_slow_reader_within_the_standard_still_reads(factory):
    def scenario(reader: WiegandReader, events: ReaderEvents, factory: MockFactory) -> WiegandSim:
        slow = WiegandSim(factory, D0, D1, pulse_s=100e-6, interval_s=0.01)
        slow.send_card(7, 4242, 26)
        kept_time(slow, reader)
        assert events.wait_scans(1) == ["071092"]
        return slow

    timed(factory, scenario)


def test_a_noise_pulse_is_a_bad_frame(factory):
    def scenario(reader: WiegandReader, events: ReaderEvents, factory: MockFactory) -> WiegandSim:
        sim = WiegandSim(factory, D0, D1)
        sim.send_bits([1])
        assert wait_until(lambda: reader.health.bad_frames == 1)
        sim.send_card(9, 9, 26)
        kept_time(sim, reader)
        assert events.wait_scans(1) == ["090009"]
        assert reader.health.bad_frames == 1
        return sim

    timed(factory, scenario)


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
    reader = WiegandReader(
        "door", D0, D1, formats=(26,), pin_factory=factory, rearm_s=0.5, on_scan=lambda uid, at: release.wait(30)
    )
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
