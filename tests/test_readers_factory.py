"""build_reader: a validated config section becomes a working driver."""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory

from edge.config import parse_config
from edge.hardware import build_reader
from edge.hardware.mfrc522 import Mfrc522Reader
from edge.hardware.rdm6300 import Rdm6300Reader
from edge.hardware.serial_line import SerialLineReader
from edge.hardware.sim import gpio_standin
from edge.hardware.sim.mfrc522_sim import Mfrc522Sim
from edge.hardware.sim.serial_devices import LineReaderSim, Rdm6300Sim
from edge.hardware.sim.wiegand_sim import WiegandSim
from edge.hardware.wiegand import WiegandReader
from tests.reader_events import ReaderEvents


def reader_config(line: str):
    (config,) = parse_config(
        f"site: s\nnode: n\nbadge_key_file: k\nreaders:\n  - {line}\n", check_secrets=False
    ).readers
    return config


def test_rdm6300_config_builds_a_working_reader():
    with Rdm6300Sim() as device:
        events = ReaderEvents()
        config = reader_config(f"{{type: rdm6300, name: door, port: {device.tty}, include_version_byte: false}}")
        with build_reader(config, on_scan=events.on_scan) as reader:
            assert isinstance(reader, Rdm6300Reader)
            reader.start()
            assert reader.wait_connected(5)
            device.send_card("0A00BC614E")
            assert events.wait_scans(1) == ["00BC614E"]


def test_serial_line_config_builds_a_working_reader():
    with LineReaderSim() as device:
        events = ReaderEvents()
        config = reader_config(
            f"{{type: serial_line, name: usb, port: {device.tty}, format: decimal, pattern: 'ID=(\\d+)'}}"
        )
        with build_reader(config, on_scan=events.on_scan) as reader:
            assert isinstance(reader, SerialLineReader)
            reader.start()
            assert reader.wait_connected(5)
            device.send_line("ID=12345678")
            assert events.wait_scans(1) == ["00BC614E"]


def test_wiegand_config_builds_a_working_reader():
    factory = MockFactory()
    events = ReaderEvents()
    config = reader_config("{type: wiegand, name: gate, d0_pin: 5, d1_pin: 6, formats: [34]}")
    with build_reader(config, pin_factory=factory, on_scan=events.on_scan) as reader:
        assert isinstance(reader, WiegandReader)
        reader.start()
        sim = WiegandSim(factory, 5, 6)
        sim.send_card(1, 2, 26)  # not an allowed format here
        sim.send_card(0x1234, 0x5678, 34)
        assert events.wait_scans(1) == ["12345678"]
        assert reader.health.bad_frames == 1


@pytest.fixture
def board():
    gpio_standin.reset_board()
    sim = Mfrc522Sim(bus=0, device=1, reset_pin=24)
    yield sim
    sim.close()
    gpio_standin.reset_board()


def test_mfrc522_config_builds_a_working_reader(board):
    events = ReaderEvents()
    config = reader_config("{type: mfrc522, name: nfc, spi_device: 1, reset_pin: 24, poll_interval_s: 0.05}")
    with build_reader(config, on_scan=events.on_scan) as reader:
        assert isinstance(reader, Mfrc522Reader)
        reader.start()
        board.present("04112233445566")
        assert events.wait_scans(1) == ["04112233445566"]
