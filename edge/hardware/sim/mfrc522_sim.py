"""A simulated MFRC522 reader board: the register-level chip, wired to the SPI and GPIO stand-ins."""

from __future__ import annotations

from types import TracebackType

from edge.hardware.sim import gpio_standin, spidev_standin
from edge.hardware.sim.iso14443_card import SimCard
from edge.hardware.sim.mfrc522_chip import Mfrc522Chip
from edge.hardware.sim.standins import install_stand_ins


class Mfrc522Sim:
    """An MFRC522 on /dev/spidev{bus}.{device} with its reset line on BCM `reset_pin`; cards come and go."""

    def __init__(self, *, bus: int = 0, device: int = 0, reset_pin: int = 25, version: int = 0x92) -> None:
        install_stand_ins()
        self.bus = bus
        self.device = device
        self.reset_pin = reset_pin
        self.chip = Mfrc522Chip(version)
        spidev_standin.attach(bus, device, self.chip)
        gpio_standin.watch(reset_pin, self.chip.reset_line)

    def present(self, uid: str | bytes, *, sak: int = -1, bad_bcc: bool = False) -> SimCard:
        """Place a card (UID as hex text or bytes: 4, 7 or 10 bytes) on the reader."""
        raw = bytes.fromhex(uid) if isinstance(uid, str) else uid
        card = SimCard(raw, sak=sak, bad_bcc=bad_bcc)
        self.chip.place(card)
        return card

    def remove(self) -> None:
        """Take the card off the reader."""
        self.chip.remove()

    def go_silent(self) -> None:
        """The chip stops answering on SPI (reads 0x00)."""
        self.chip.go_silent()

    def answer_again(self) -> None:
        """The chip answers on SPI again."""
        self.chip.answer_again()

    def brown_out(self) -> None:
        """A supply dip resets the chip's registers."""
        self.chip.brown_out()

    def close(self) -> None:
        """Unplug the simulated board from the stand-ins."""
        spidev_standin.detach(self.bus, self.device)
        gpio_standin.unwatch(self.reset_pin, self.chip.reset_line)

    def __enter__(self) -> Mfrc522Sim:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
