"""Each badge reader kind is declared once (edge/hardware/reader_kinds.py) and everything else finds it there."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from edge.config.readers import ReaderConfig
from edge.hardware.factory import build_reader
from edge.hardware.reader_kinds import READER_KINDS, ReaderKind, kind_of
from edge.hardware.readers import BadgeReader

CONFIGS = typing.get_args(typing.get_args(ReaderConfig)[0])
IDS = [kind.name for kind in READER_KINDS]


def test_every_reader_config_model_has_exactly_one_kind() -> None:
    assert sorted(kind.config.__name__ for kind in READER_KINDS) == sorted(c.__name__ for c in CONFIGS)
    assert len({kind.name for kind in READER_KINDS}) == len(READER_KINDS)


@pytest.mark.parametrize("kind", READER_KINDS, ids=IDS)
def test_a_kind_is_named_as_its_config_type_and_its_driver(kind: ReaderKind) -> None:
    literal = typing.get_args(kind.config.model_fields["type"].annotation)
    assert literal == (kind.name,)
    driver = kind.driver_class()
    assert issubclass(driver, BadgeReader) and driver.kind == kind.name


@pytest.mark.parametrize("kind", READER_KINDS, ids=IDS)
def test_a_kind_names_a_simulator_that_exists(kind: ReaderKind) -> None:
    assert isinstance(kind.simulator_class(), type)


SECTIONS = {
    "mfrc522": {"type": "mfrc522", "name": "r", "reset_pin": 25},
    "rdm6300": {"type": "rdm6300", "name": "r", "port": "/dev/ttyAMA0"},
    "serial_line": {"type": "serial_line", "name": "r", "port": "/dev/ttyUSB0", "baudrate": 115200},
    "wiegand": {"type": "wiegand", "name": "r", "d0_pin": 20, "d1_pin": 21, "formats": [26]},
}


@pytest.mark.parametrize("kind", READER_KINDS, ids=IDS)
def test_the_factory_builds_each_kind_with_its_configured_options(kind: ReaderKind, tmp_path: Path) -> None:
    config = kind.config.model_validate(SECTIONS[kind.name])
    assert kind_of(config) is kind
    reader = build_reader(config, pin_factory=MockFactory())  # type: ignore[arg-type]
    try:
        assert type(reader) is kind.driver_class() and reader.name == "r"
        if kind.name == "serial_line":
            assert reader.baudrate == 115200  # type: ignore[attr-defined]
        if kind.name == "wiegand":
            assert reader.frame_bits == 26  # type: ignore[attr-defined]
    finally:
        reader.close()


@pytest.mark.parametrize("kind", READER_KINDS, ids=IDS)
def test_the_doctor_has_words_for_each_kind(kind: ReaderKind) -> None:
    config = kind.config.model_validate(SECTIONS[kind.name])
    assert kind.garbage_hint(config) and kind.silence_hint(config) and kind.pins(config)
    assert kind.doctor in ("chip", "card")
