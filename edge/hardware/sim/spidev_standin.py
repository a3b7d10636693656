"""A stand-in for the `spidev` module: `SpiDev.open(bus, device)` connects to a simulated chip attached here.

Opening a bus/device nobody attached fails like a missing /dev/spidevB.D; a closed device refuses transfers.
"""

from __future__ import annotations

import errno
import threading
from typing import Protocol


class SpiTarget(Protocol):
    """A simulated chip on an SPI bus: full-duplex, one byte out per byte in."""

    def transfer(self, data: list[int]) -> list[int]:
        """Clock `data` out on MOSI; return what came back on MISO."""
        ...


_lock = threading.Lock()
_targets: dict[tuple[int, int], SpiTarget] = {}


def attach(bus: int, device: int, target: SpiTarget) -> None:
    """Make `target` answer on /dev/spidev{bus}.{device}."""
    with _lock:
        _targets[(bus, device)] = target


def detach(bus: int, device: int) -> None:
    """Remove the chip at bus/device (later opens fail)."""
    with _lock:
        _targets.pop((bus, device), None)


class SpiDev:
    """The subset of spidev.SpiDev the mfrc522 package uses."""

    def __init__(self, bus: int | None = None, device: int | None = None) -> None:
        self.max_speed_hz = 500_000
        self.mode = 0
        self.bits_per_word = 8
        self._target: SpiTarget | None = None
        if bus is not None and device is not None:
            self.open(bus, device)

    def open(self, bus: int, device: int) -> None:
        """Connect to the chip attached at bus/device."""
        with _lock:
            target = _targets.get((bus, device))
        if target is None:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", f"/dev/spidev{bus}.{device}")
        self._target = target

    def xfer2(self, data: list[int]) -> list[int]:
        """Full-duplex transfer with chip select held for the whole list."""
        if self._target is None:
            raise OSError(errno.EBADF, "Bad file descriptor")
        return self._target.transfer([int(value) & 0xFF for value in data])

    xfer = xfer2

    def close(self) -> None:
        """Disconnect."""
        self._target = None
