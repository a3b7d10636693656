"""Build a badge reader driver from its config section; driver modules are imported only when used."""

from __future__ import annotations

from typing import Any

from edge.clock import Clock
from edge.config.readers import (
    Mfrc522ReaderConfig,
    Rdm6300ReaderConfig,
    ReaderConfig,
    SerialLineReaderConfig,
    WiegandReaderConfig,
)
from edge.hardware.readers import BadgeReader, FaultCallback, ScanCallback


def build_reader(
    config: ReaderConfig,
    *,
    pin_factory: Any = None,
    on_scan: ScanCallback | None = None,
    on_fault: FaultCallback | None = None,
    clock: Clock | None = None,
) -> BadgeReader:
    """Return the (not yet started) reader a config section describes."""
    common: dict[str, Any] = {"rearm_s": config.rearm_s, "on_scan": on_scan, "on_fault": on_fault, "clock": clock}
    if isinstance(config, Mfrc522ReaderConfig):
        from edge.hardware.mfrc522 import Mfrc522Reader

        return Mfrc522Reader(
            config.name,
            spi_bus=config.spi_bus,
            spi_device=config.spi_device,
            reset_pin=config.reset_pin,
            spi_hz=config.spi_hz,
            poll_interval_s=config.poll_interval_s,
            health_interval_s=config.health_interval_s,
            recover_max_s=config.recover_max_s,
            **common,
        )
    if isinstance(config, Rdm6300ReaderConfig):
        from edge.hardware.rdm6300 import Rdm6300Reader

        return Rdm6300Reader(
            config.name,
            config.port,
            include_version_byte=config.include_version_byte,
            read_timeout_s=config.read_timeout_s,
            reopen_min_s=config.reopen_min_s,
            reopen_max_s=config.reopen_max_s,
            **common,
        )
    if isinstance(config, SerialLineReaderConfig):
        from edge.hardware.serial_line import SerialLineReader

        return SerialLineReader(
            config.name,
            config.port,
            baudrate=config.baudrate,
            fmt=config.format,
            pattern=config.pattern,
            decimal_bytes=config.decimal_bytes,
            max_line=config.max_line,
            read_timeout_s=config.read_timeout_s,
            reopen_min_s=config.reopen_min_s,
            reopen_max_s=config.reopen_max_s,
            **common,
        )
    if isinstance(config, WiegandReaderConfig):
        from edge.hardware.wiegand import WiegandReader

        return WiegandReader(
            config.name,
            config.d0_pin,
            config.d1_pin,
            formats=config.formats,
            frame_timeout_s=config.frame_timeout_s,
            pin_factory=pin_factory,
            **common,
        )
    raise TypeError(f"no driver for reader config {type(config).__name__}")
