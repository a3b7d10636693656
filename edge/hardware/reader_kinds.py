"""Every badge reader kind, declared once: the `type:` an installer writes, its config model, its driver and the
driver's options from that model, its simulator, and what `edge doctor` checks and tells an installer about it.

Adding a kind is one config model (edge/config/readers.py), one driver module, one simulator and one entry here;
`tests/test_reader_kinds.py` fails while any of them is missing. Drivers and simulators are named, not imported:
a door that uses one kind of reader never loads the others (or their libraries: spidev, RPi.GPIO).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from edge.config.readers import (
    Mfrc522ReaderConfig,
    Rdm6300ReaderConfig,
    ReaderBase,
    SerialLineReaderConfig,
    WiegandReaderConfig,
)

Options = tuple[tuple[Any, ...], dict[str, Any]]


@dataclass(frozen=True)
class ReaderKind:
    """One kind of badge reader, from its config to its doctor check."""

    name: str
    """What `type:` says in a config."""
    config: type[ReaderBase]
    driver: str
    """`module:Class` of the driver (a `BadgeReader`)."""
    options: Callable[[Any], Options]
    """The driver's positional and keyword arguments from a config of this kind (name and callbacks aside)."""
    simulator: str
    """`module:Class` of the simulator tests, benchmarks and the demo present cards to."""
    doctor: Literal["chip", "card"]
    """How `edge doctor` checks it: read the chip's version register, or wait for a card presented."""
    garbage_hint: Callable[[Any], str]
    """What to check when bytes or pulses arrive but never a valid frame."""
    silence_hint: Callable[[Any], str]
    """What to check when nothing arrives at all."""
    pins: Callable[[Any], str] = lambda _config: ""
    """Where it is wired, in words (for messages)."""
    gpiozero: bool = False
    """Its driver reads gpiozero pins, so it takes the node's pin factory (MockFactory under --simulate)."""

    def driver_class(self) -> type[Any]:
        """The driver class, imported now."""
        return _load(self.driver)

    def simulator_class(self) -> type[Any]:
        """The simulator class, imported now."""
        return _load(self.simulator)


def _load(spec: str) -> type[Any]:
    module, _, name = spec.partition(":")
    loaded: type[Any] = getattr(importlib.import_module(module), name)
    return loaded


def _serial_timing(config: Rdm6300ReaderConfig | SerialLineReaderConfig) -> dict[str, Any]:
    return {
        "read_timeout_s": config.read_timeout_s,
        "reopen_min_s": config.reopen_min_s,
        "reopen_max_s": config.reopen_max_s,
    }


def _serial_silence(config: Rdm6300ReaderConfig | SerialLineReaderConfig) -> str:
    return f"check the reader's power and that its TX goes to the RX of {config.port} (grounds joined)"


READER_KINDS: tuple[ReaderKind, ...] = (
    ReaderKind(
        name="mfrc522",
        config=Mfrc522ReaderConfig,
        driver="edge.hardware.mfrc522:Mfrc522Reader",
        options=lambda c: (
            (),
            {
                "spi_bus": c.spi_bus,
                "spi_device": c.spi_device,
                "reset_pin": c.reset_pin,
                "spi_hz": c.spi_hz,
                "poll_interval_s": c.poll_interval_s,
                "health_interval_s": c.health_interval_s,
                "recover_max_s": c.recover_max_s,
            },
        ),
        simulator="edge.hardware.sim.mfrc522_sim:Mfrc522Sim",
        doctor="chip",
        garbage_hint=lambda c: f"check the SPI wiring and that RST goes to GPIO {c.reset_pin}",
        silence_hint=lambda c: f"check the SPI wiring and that RST goes to GPIO {c.reset_pin}",
        pins=lambda c: f"/dev/spidev{c.spi_bus}.{c.spi_device}, reset GPIO {c.reset_pin}",
    ),
    ReaderKind(
        name="rdm6300",
        config=Rdm6300ReaderConfig,
        driver="edge.hardware.rdm6300:Rdm6300Reader",
        options=lambda c: ((c.port,), {"include_version_byte": c.include_version_byte, **_serial_timing(c)}),
        simulator="edge.hardware.sim.serial_devices:Rdm6300Sim",
        doctor="card",
        garbage_hint=lambda _c: (
            "wrong baud rate or wiring: an RDM6300 sends 9600 baud; check that the reader really is an RDM6300-type "
            "(type: in the config), that its TX goes to the Pi's RXD and the grounds are joined"
        ),
        silence_hint=_serial_silence,
        pins=lambda c: str(c.port),
    ),
    ReaderKind(
        name="serial_line",
        config=SerialLineReaderConfig,
        driver="edge.hardware.serial_line:SerialLineReader",
        options=lambda c: (
            (c.port,),
            {
                "baudrate": c.baudrate,
                "fmt": c.format,
                "pattern": c.pattern,
                "decimal_bytes": c.decimal_bytes,
                "max_line": c.max_line,
                **_serial_timing(c),
            },
        ),
        simulator="edge.hardware.sim.serial_devices:LineReaderSim",
        doctor="card",
        garbage_hint=lambda c: (
            f"wrong baud rate (configured {c.baudrate}) or line format: check the reader's manual for its "
            f"baud rate, and format:/pattern: against what it prints"
        ),
        silence_hint=_serial_silence,
        pins=lambda c: str(c.port),
    ),
    ReaderKind(
        name="wiegand",
        config=WiegandReaderConfig,
        driver="edge.hardware.wiegand:WiegandReader",
        options=lambda c: ((c.d0_pin, c.d1_pin), {"formats": c.formats, "frame_timeout_s": c.frame_timeout_s}),
        simulator="edge.hardware.sim.wiegand_sim:WiegandSim",
        doctor="card",
        garbage_hint=lambda _c: "D0 and D1 may be swapped, or the reader sends a Wiegand format not listed in formats:",
        silence_hint=lambda _c: (
            "check the reader's power (12 V), the level shifter and that D0/D1 go to the configured GPIOs"
        ),
        pins=lambda c: f"D0 GPIO {c.d0_pin}, D1 GPIO {c.d1_pin}",
        gpiozero=True,
    ),
)

_BY_CONFIG: dict[type[ReaderBase], ReaderKind] = {kind.config: kind for kind in READER_KINDS}


def kind_of(config: ReaderBase) -> ReaderKind:
    """The kind a reader config section describes."""
    try:
        return _BY_CONFIG[type(config)]
    except KeyError:
        raise TypeError(f"no reader kind for config {type(config).__name__}") from None
