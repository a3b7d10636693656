"""The MFRC522 simulator against the unmodified `mfrc522` package: it must behave like the real chip and card,
including the library traps our driver avoids (40-bit id with BCC, no 7-byte UIDs, a held card every other poll).
"""

from __future__ import annotations

import pytest

from edge.hardware.iso14443 import crc_a
from edge.hardware.sim import gpio_standin
from edge.hardware.sim.mfrc522_sim import Mfrc522Sim


@pytest.mark.parametrize(
    ("data", "crc"),
    [
        ([0x50, 0x00], [0x57, 0xCD]),  # HLTA as sent on air
        ([0x00, 0x00], [0xA0, 0x1E]),  # ISO/IEC 14443-3 annex B examples
        ([0x12, 0x34], [0x26, 0xCF]),
    ],
)
def test_crc_a_matches_the_standard_examples(data, crc):
    assert list(crc_a(data)) == crc


@pytest.fixture
def sim():
    gpio_standin.reset_board()
    board = Mfrc522Sim(reset_pin=25)
    yield board
    board.close()
    gpio_standin.reset_board()


@pytest.fixture
def library(sim):
    from mfrc522 import MFRC522, SimpleMFRC522

    gpio_standin.setmode(gpio_standin.BCM)
    simple = SimpleMFRC522.__new__(SimpleMFRC522)  # its __init__ takes no pin: build it on an explicit chip
    simple.READER = MFRC522(pin_rst=25)
    return simple


def test_library_request_and_anticollision_read_a_4_byte_uid_with_bcc(sim, library):
    sim.present("04A1B2C3")
    chip = library.READER
    status, bits = chip.MFRC522_Request(chip.PICC_REQIDL)
    assert (status, bits) == (chip.MI_OK, 16)
    status, data = chip.MFRC522_Anticoll()
    assert status == chip.MI_OK
    assert data == [0x04, 0xA1, 0xB2, 0xC3, 0x04 ^ 0xA1 ^ 0xB2 ^ 0xC3]


def test_library_id_is_40_bits_including_the_bcc(sim, library):
    sim.present("04A1B2C3")
    assert library.read_id_no_block() == int.from_bytes(bytes.fromhex("04A1B2C3") + bytes([0x04 ^ 0xA1 ^ 0xB2 ^ 0xC3]))


def test_library_reads_a_7_byte_uid_as_cascade_tag_plus_3_bytes(sim, library):
    sim.present("04112233445566")
    assert library.read_id_no_block() >> 32 == 0x88


def test_library_sees_a_held_card_every_other_poll(sim, library):
    card = sim.present("04A1B2C3")
    results = [library.read_id_no_block() is not None for _ in range(4)]
    assert results == [True, False, True, False]
    assert (card.requests_seen, card.requests_answered) == (4, 2)


def test_library_select_and_crc_coprocessor_work_against_the_chip(sim, library):
    sim.present("04A1B2C3", sak=0x08)
    chip = library.READER
    assert chip.CalulateCRC([0x50, 0x00]) == [0x57, 0xCD]
    chip.MFRC522_Request(chip.PICC_REQIDL)
    _, uid = chip.MFRC522_Anticoll()
    assert chip.MFRC522_SelectTag(uid) == 0x08


def test_an_empty_poll_costs_the_library_thousands_of_spi_reads(sim, library):
    before = sim.chip.transfers
    assert library.read_id_no_block() is None
    assert sim.chip.transfers - before > 2000


def test_reset_pin_low_powers_the_chip_down_and_high_resets_it(sim, library):
    chip = library.READER
    assert chip.Read_MFRC522(chip.VersionReg) == 0x92
    gpio_standin.output(25, 0)
    assert chip.Read_MFRC522(chip.VersionReg) == 0x00
    gpio_standin.output(25, 1)
    assert chip.Read_MFRC522(chip.VersionReg) == 0x92
    assert chip.Read_MFRC522(chip.TxControlReg) & 0x03 == 0  # reset: antenna off until initialised


def test_a_silent_chip_reads_zero(sim, library):
    sim.go_silent()
    assert library.READER.Read_MFRC522(0x37) == 0x00
    sim.answer_again()
    assert library.READER.Read_MFRC522(0x37) == 0x92


def test_opening_a_bus_without_a_chip_fails_like_a_missing_device(sim):
    from spidev import SpiDev

    with pytest.raises(FileNotFoundError):
        SpiDev().open(1, 0)
