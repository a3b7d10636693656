"""Badge reader config: one model per reader kind, chosen by `type`; reused as a door's `reader:` section.

`ReaderConfig` is the discriminated union to embed (`readers: tuple[ReaderConfig, ...]` on the node for
standalone readers; a door section embeds one `reader: ReaderConfig`). Pins and ports are claimed
resources, so a pin or port used twice anywhere in the file is reported by the root with both key paths.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, Discriminator, Field, ValidationInfo, field_validator, model_validator

from edge.config.base import GpioPin, Issue, Name, SerialDevice, StrictModel, iter_claims, iter_sections

# BCM pins of the SPI buses an MFRC522 can sit on (MISO, MOSI, SCLK, chip selects); with dtparam=spi=on the
# kernel owns them, so nothing else may use them.
SPI_BUS_PINS: dict[int, dict[int, str]] = {
    0: {9: "MISO", 10: "MOSI", 11: "SCLK", 8: "CE0", 7: "CE1"},
    1: {19: "MISO", 20: "MOSI", 21: "SCLK", 18: "CE0", 17: "CE1", 16: "CE2"},
}


class ReaderBase(StrictModel):
    """Settings every badge reader has."""

    name: Name
    rearm_s: float = Field(default=1.0, gt=0, le=60)

    def cross_check(self, root: BaseModel) -> Iterable[Issue]:
        """A reader name is used once in the whole node (standalone and door readers alike)."""
        first: dict[str, str] = {}
        for path, section in iter_sections(root):
            if not isinstance(section, ReaderBase):
                continue
            if section is self:
                if first.get(self.name, path) != path:
                    yield Issue(f"{path}.name", f"reader name {self.name!r} is already used by {first[self.name]}")
                return
            first.setdefault(section.name, path)


class SerialReaderBase(ReaderBase):
    """Settings of readers on a serial port."""

    port: SerialDevice
    read_timeout_s: float = Field(default=0.5, gt=0, le=10)
    reopen_min_s: float = Field(default=0.5, gt=0, le=60)
    reopen_max_s: float = Field(default=10.0, gt=0, le=600)

    @model_validator(mode="after")
    def _backoff_order(self) -> SerialReaderBase:
        if self.reopen_max_s < self.reopen_min_s:
            raise ValueError("reopen_max_s must be at least reopen_min_s")
        return self


class Mfrc522ReaderConfig(ReaderBase):
    """An MFRC522 on SPI (`/dev/spidev{spi_bus}.{spi_device}`) with its reset line on a GPIO."""

    type: Literal["mfrc522"]
    spi_bus: Literal[0, 1] = 0
    spi_device: int = Field(default=0, ge=0, le=2)
    reset_pin: GpioPin = 25
    spi_hz: int = Field(default=1_000_000, ge=100_000, le=10_000_000)
    poll_interval_s: float = Field(default=0.1, ge=0.02, le=5)
    health_interval_s: float = Field(default=5.0, ge=0.5, le=3600)
    recover_max_s: float = Field(default=30.0, ge=1, le=3600)

    @model_validator(mode="after")
    def _rearm_covers_polls(self) -> Mfrc522ReaderConfig:
        if self.rearm_s < 3 * self.poll_interval_s:
            raise ValueError(
                "rearm_s must be at least 3 × poll_interval_s, or a card held on the reader scans again "
                "whenever one poll misses it"
            )
        return self

    @field_validator("spi_device")
    @classmethod
    def _chip_select_exists(cls, value: int, info: ValidationInfo) -> int:
        if info.data.get("spi_bus") == 0 and value > 1:
            raise ValueError("SPI bus 0 has chip selects 0 and 1 only")
        return value

    def cross_check(self, root: BaseModel) -> Iterable[Issue]:
        """Reader name is unique; no GPIO field uses a pin of this reader's SPI bus."""
        yield from super().cross_check(root)
        spi_pins = SPI_BUS_PINS[self.spi_bus]
        me = None
        for path, section in iter_sections(root):
            if isinstance(section, Mfrc522ReaderConfig) and section.spi_bus == self.spi_bus:
                if section is not self:
                    return  # the first MFRC522 on this bus reports, once
                me = path
                break
        for path, resource, value in iter_claims(root):
            if resource == "GPIO" and value in spi_pins:
                yield Issue(path, f"GPIO {value} is SPI{self.spi_bus} {spi_pins[value]}, used by the MFRC522 at {me}")


class Rdm6300ReaderConfig(SerialReaderBase):
    """An RDM6300-style 125 kHz reader (9600 8N1, STX/hex/checksum/ETX frames)."""

    type: Literal["rdm6300"]
    include_version_byte: bool = True


class SerialLineReaderConfig(SerialReaderBase):
    """A reader printing one UID per line (CR and/or LF) as hex or decimal text."""

    type: Literal["serial_line"]
    baudrate: Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] = 9600
    format: Literal["hex", "decimal"] = "hex"
    pattern: str | None = Field(default=None, min_length=1, max_length=200)
    decimal_bytes: int = Field(default=4, ge=1, le=10)
    max_line: int = Field(default=64, ge=8, le=1024)

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        if "uid" not in compiled.groupindex and compiled.groups != 1:
            raise ValueError("the pattern needs a group named 'uid' (?P<uid>...) or exactly one group")
        return value


class WiegandReaderConfig(ReaderBase):
    """A Wiegand 26/34-bit reader on two GPIO inputs (through a level shifter: data lines are ~5 V)."""

    type: Literal["wiegand"]
    d0_pin: GpioPin
    d1_pin: GpioPin
    formats: tuple[Literal[26, 34], ...] = Field(default=(26, 34), min_length=1)
    frame_timeout_s: float = Field(default=0.025, ge=0.005, le=0.5)


ReaderConfig = Annotated[
    Mfrc522ReaderConfig | Rdm6300ReaderConfig | SerialLineReaderConfig | WiegandReaderConfig,
    Discriminator("type"),
]
"""Any badge reader, chosen by its `type` key."""
