"""The MFRC522 driver polling a register-level simulated chip through the real `mfrc522` package."""

from __future__ import annotations

import logging
import sys

import pytest

from edge.errors import DeviceError
from edge.hardware.mfrc522 import Mfrc522Reader
from edge.hardware.sim import gpio_standin
from edge.hardware.sim.mfrc522_sim import Mfrc522Sim
from edge.hardware.sim.standins import install_stand_ins
from tests.reader_events import ReaderEvents
from tests.rig.waiting import wait_until

CLASSIC = "04A1B2C3"
NTAG = "04112233445566"
DESFIRE_10 = "04112233445566778899"


@pytest.fixture
def board():
    gpio_standin.reset_board()
    sim = Mfrc522Sim(reset_pin=25)
    yield sim
    sim.close()
    gpio_standin.reset_board()


@pytest.fixture
def events():
    return ReaderEvents()


def make_reader(events, **options):
    settings = {
        "poll_interval_s": 0.02,
        "health_interval_s": 0.1,
        "recover_max_s": 0.1,
        "rearm_s": 0.2,
        "on_scan": events.on_scan,
        "on_fault": events.on_fault,
    }
    settings.update(options)
    return Mfrc522Reader("reception", **settings)


@pytest.fixture
def reader(board, events):
    reader = make_reader(events)
    reader.start()
    yield reader
    reader.close()


@pytest.mark.parametrize("uid", [CLASSIC, NTAG, DESFIRE_10], ids=["4-byte", "7-byte", "10-byte"])
def test_a_presented_card_scans_with_its_full_uid(board, reader, events, uid):
    board.present(uid)
    assert events.wait_scans(1) == [uid]


def test_a_7_byte_uid_does_not_start_with_the_cascade_tag(board, reader, events):
    board.present(NTAG)
    assert not events.wait_scans(1)[0].startswith("88")


def test_a_held_card_is_read_at_every_poll_and_scans_once(board, reader, events):
    card = board.present(CLASSIC)
    events.wait_scans(1)
    wait_until(lambda: reader.health.frames_ok >= 10)
    assert events.uids == [CLASSIC]
    # WUPA + HLTA: the card answers every poll (plain REQA polling gets an answer every other poll).
    assert card.requests_seen >= 10
    assert card.requests_answered == card.requests_seen


def test_a_card_removed_and_presented_again_scans_again(board, reader, events):
    board.present(CLASSIC)
    events.wait_scans(1)
    board.remove()
    wait_until(lambda: reader.clock.monotonic() - events.scans[0][1] > 0.3)
    board.present(CLASSIC)
    assert events.wait_scans(2) == [CLASSIC, CLASSIC]


def test_another_card_scans_at_once(board, reader, events):
    board.present(CLASSIC)
    events.wait_scans(1)
    board.present(NTAG)
    assert events.wait_scans(2) == [CLASSIC, NTAG]


def test_a_wrong_bcc_is_counted_and_never_scanned(board, reader, events):
    board.present(CLASSIC, bad_bcc=True)
    wait_until(lambda: reader.health.bad_checksum >= 3)
    assert events.uids == []
    board.present(NTAG)
    assert events.wait_scans(1) == [NTAG]


def test_an_empty_poll_costs_a_few_spi_transfers_not_thousands(board, reader):
    wait_until(lambda: board.chip.exchanges >= 10)
    before_transfers, before_exchanges = board.chip.transfers, board.chip.exchanges
    wait_until(lambda: board.chip.exchanges >= before_exchanges + 10)
    per_poll = (board.chip.transfers - before_transfers) / (board.chip.exchanges - before_exchanges)
    assert per_poll < 60


def test_a_silent_reader_is_a_fault_until_it_answers_again(board, reader, events):
    board.present(CLASSIC)
    events.wait_scans(1)
    board.go_silent()
    assert events.wait_faults(1) == [True]
    assert "not answering" in (reader.fault or "")
    board.answer_again()
    assert events.wait_faults(2) == [True, False]
    board.remove()
    board.present(NTAG)
    assert events.wait_scans(2) == [CLASSIC, NTAG]


def test_recovery_hard_resets_the_chip_through_the_reset_pin(board, reader, events):
    board.go_silent()
    events.wait_faults(1)
    resets_before = board.chip.resets
    board.answer_again()
    events.wait_faults(2)
    assert board.chip.resets > resets_before
    assert reader.health.resets >= 1


def test_a_chip_that_lost_its_configuration_is_reinitialised_without_a_fault(board, reader, events):
    board.present(CLASSIC)
    events.wait_scans(1)
    board.remove()
    board.brown_out()
    wait_until(lambda: reader.health.resets >= 1)
    wait_until(lambda: reader.clock.monotonic() - events.scans[0][1] > 0.3)
    board.present(CLASSIC)
    assert events.wait_scans(2) == [CLASSIC, CLASSIC]
    assert events.faults == []


def test_spi_transfer_errors_are_a_fault_and_recover(board, reader, events):
    board.chip.fail_transfers = True
    assert events.wait_faults(1) == [True]
    assert "SPI" in (reader.fault or "")
    board.chip.fail_transfers = False
    assert events.wait_faults(2) == [True, False]


def test_a_missing_spi_device_is_a_fault_until_it_appears(events):
    gpio_standin.reset_board()
    install_stand_ins()
    reader = make_reader(events)
    with reader:
        reader.start()
        assert events.wait_faults(1) == [True]
        assert "/dev/spidev0.0" in (reader.fault or "")
        sim = Mfrc522Sim()
        try:
            assert events.wait_faults(2) == [True, False]
            sim.present(CLASSIC)
            assert events.wait_scans(1) == [CLASSIC]
        finally:
            sim.close()
    gpio_standin.reset_board()


def test_reset_pin_is_the_configured_bcm_pin_and_gpio15_is_left_alone(events):
    gpio_standin.reset_board()
    with Mfrc522Sim(reset_pin=22) as sim, make_reader(events, reset_pin=22) as reader:
        reader.start()
        sim.present(CLASSIC)
        events.wait_scans(1)
        assert gpio_standin.getmode() == gpio_standin.BCM
        assert gpio_standin.pin_setup(22) == gpio_standin.PinSetup(gpio_standin.OUT, 1)
        assert gpio_standin.pin_setup(15) is None
    gpio_standin.reset_board()


def test_board_numbering_set_by_someone_else_is_refused(board, events):
    gpio_standin.setmode(gpio_standin.BOARD)
    reader = make_reader(events)
    with pytest.raises(DeviceError):
        reader.start()
    reader.close()


def test_close_releases_only_the_reset_pin(board, reader, events):
    gpio_standin.setup(17, gpio_standin.OUT, initial=gpio_standin.HIGH)  # e.g. a door relay
    board.present(CLASSIC)
    events.wait_scans(1)
    reader.close()
    assert gpio_standin.pin_setup(25) is None
    assert gpio_standin.pin_setup(17) == gpio_standin.PinSetup(gpio_standin.OUT, 1)
    assert gpio_standin.getmode() == gpio_standin.BCM


def test_without_the_mfrc522_package_start_raises_device_error(monkeypatch, events):
    monkeypatch.setitem(sys.modules, "mfrc522", None)
    reader = make_reader(events)
    with pytest.raises(DeviceError, match="mfrc522"):
        reader.start()


def test_nothing_logged_contains_a_uid(board, reader, events, caplog):
    caplog.set_level(logging.DEBUG)
    board.present(NTAG)
    events.wait_scans(1)
    board.present(CLASSIC, bad_bcc=True)
    wait_until(lambda: reader.health.bad_checksum >= 1)
    board.go_silent()
    events.wait_faults(1)
    board.answer_again()
    events.wait_faults(2)
    text = "\n".join(record.getMessage() for record in caplog.records).upper()
    assert caplog.records
    for uid in (NTAG, CLASSIC, "112233", "A1B2C3"):
        assert uid not in text


def test_a_reader_whose_miso_floats_high_is_a_fault(board, reader, events):
    board.chip.go_silent(value=0xFF)
    assert events.wait_faults(1) == [True]
    assert "0xFF" in (reader.fault or "")
    board.answer_again()
    assert events.wait_faults(2) == [True, False]


def test_probe_reads_the_version_register_without_polling(board, events):
    reader = make_reader(events)
    try:
        assert reader.probe() == 0x92
        assert not reader.running
    finally:
        reader.close()


def test_probe_of_a_silent_chip_raises_with_the_register_value(board, events):
    board.go_silent()
    reader = make_reader(events)
    try:
        with pytest.raises(DeviceError, match="version register reads 0x00"):
            reader.probe()
    finally:
        reader.close()


def test_probe_is_refused_while_the_reader_polls(reader):
    with pytest.raises(RuntimeError, match="probe it before start"):
        reader.probe()
