"""MFRC522 (13.56 MHz, SPI) badge reader on top of the `mfrc522` package's low-level `MFRC522` class.

What is taken from the library: SPI register access (`Read_MFRC522`/`Write_MFRC522`) and chip initialisation
(`MFRC522_Init`: soft reset, timer, antenna). What is not, and why:

- `SimpleMFRC522.read()`/`read_id()` busy-loop without timeout, read MIFARE Classic sectors, and return a
  40-bit number that includes the BCC.
- `MFRC522_ToCard`'s wait loop tests its flags with `~` instead of `not`, so it ignores the chip's timer
  interrupt: every poll without a card costs 2000 SPI reads. Our `_transceive` stops on the timer interrupt
  and sleeps between status reads.
- `MFRC522_Anticoll` only knows cascade level 1, so 7-byte UIDs (NTAG, Ultralight, DESFire) come back as
  `88` + 3 bytes. We run anticollision + SELECT per level until the SAK says the UID is complete.
- `Close_MFRC522` calls the global `GPIO.cleanup()`, releasing every pin of the process; we release ours.
- The constructor's reset-pin default is GPIO 15 (UART RXD) in BCM mode; we always pass the pin, and set
  BCM mode ourselves if nobody did.

Each poll sends WUPA, reads the UID and halts the card (HLTA): a held card then answers every poll (a card
left ACTIVE answers neither REQA nor WUPA, which is why plain REQA loops see it every other poll), and the
scan debouncer turns "present at every poll" into one scan per presentation.

Health: the version register is read every `health_interval_s` (and after any exchange the chip did not
finish); 0x00/0xFF means the chip stopped answering: fault, hard reset via the reset pin + re-init, retry
with backoff until it answers again. A chip that answers but lost its configuration (brown-out) is
re-initialised without a fault.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from edge.backoff import Backoff
from edge.clock import Clock
from edge.errors import DeviceError
from edge.hardware.iso14443 import Reply, Status, read_uid
from edge.hardware.readers import BadgeReader, FaultCallback, ScanCallback

log = logging.getLogger(__name__)

# Registers and values from the NXP MFRC522 datasheet (section 9).
COMMAND_REG = 0x01
COMM_IEN_REG = 0x02
COMM_IRQ_REG = 0x04
ERROR_REG = 0x06
FIFO_DATA_REG = 0x09
FIFO_LEVEL_REG = 0x0A
CONTROL_REG = 0x0C
BIT_FRAMING_REG = 0x0D
TX_CONTROL_REG = 0x14
T_MODE_REG = 0x2A
VERSION_REG = 0x37

CMD_IDLE = 0x00
CMD_TRANSCEIVE = 0x0C
IRQ_SET1 = 0x80
IRQ_TX = 0x40
IRQ_RX = 0x20
IRQ_IDLE = 0x10
IRQ_ERR = 0x02
IRQ_TIMER = 0x01
ERR_COLLISION = 0x08
ERR_FATAL = 0x13  # buffer overflow, parity, protocol
START_SEND = 0x80
FLUSH_FIFO = 0x80
T_MODE_INIT = 0x8D  # what MFRC522_Init writes; anything else means the chip reset behind our back
ANTENNA_ON = 0x03
DEAD_VERSIONS = (0x00, 0xFF)  # MISO stuck low or floating high: nobody is answering

EXCHANGE_DEADLINE_S = 0.05  # the chip's own timer (≈15 ms as initialised) must have fired well before this
STATUS_POLL_S = 0.001


class Mfrc522Reader(BadgeReader):
    """An MFRC522 polled over SPI for 4-, 7- and 10-byte ISO 14443-A UIDs."""

    kind = "mfrc522"

    def __init__(
        self,
        name: str,
        *,
        spi_bus: int = 0,
        spi_device: int = 0,
        reset_pin: int = 25,
        spi_hz: int = 1_000_000,
        poll_interval_s: float = 0.1,
        health_interval_s: float = 5.0,
        recover_max_s: float = 30.0,
        rearm_s: float = 1.0,
        on_scan: ScanCallback | None = None,
        on_fault: FaultCallback | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(name, rearm_s=rearm_s, on_scan=on_scan, on_fault=on_fault, clock=clock)
        self.spi_bus = spi_bus
        self.spi_device = spi_device
        self.reset_pin = reset_pin
        self.spi_hz = spi_hz
        self.poll_interval_s = poll_interval_s
        self.health_interval_s = health_interval_s
        self.recover_max_s = recover_max_s
        self.version: int | None = None
        self._gpio: Any = None
        self._chip_class: Any = None
        self._chip: Any = None
        self._down = False

    @property
    def device(self) -> str:
        """The SPI device node this reader uses."""
        return f"/dev/spidev{self.spi_bus}.{self.spi_device}"

    def start(self) -> None:
        """Import the Pi-only libraries (raising DeviceError if they cannot load) and start polling."""
        self._load_library()
        super().start()

    def probe(self) -> int:
        """Bring the chip up once without polling and return its version register; DeviceError says why not.

        For `edge doctor`: call it on a reader that is not started, then `close()` it.
        """
        if self.running:
            raise RuntimeError(f"mfrc522 reader {self.name} is polling; probe it before start()")
        self._load_library()
        if not self._bring_up() or self.version is None:
            raise DeviceError(self.fault or f"{self.device} not answering")
        return self.version

    def _load_library(self) -> None:
        if self._chip_class is None:
            gpio, chip_class = _import_library()
            mode = gpio.getmode()
            if mode is None:
                gpio.setmode(gpio.BCM)
            elif mode != gpio.BCM:
                raise DeviceError("RPi.GPIO is in BOARD mode in this process; the MFRC522 reset pin is a BCM number")
            self._gpio, self._chip_class = gpio, chip_class

    # -- the reader thread -------------------------------------------------------------------------------------

    def _run(self) -> None:
        # A chip that does not answer is tried again after half a second, then less and less often.
        backoff = Backoff(min(0.5, self.recover_max_s), self.recover_max_s)
        next_check = 0.0
        while not self._stopping.is_set():
            began = self.clock.monotonic()
            self._back_within(self.poll_interval_s)  # a poll is a few SPI transfers: milliseconds
            if self._chip is None or self._down:
                if self._bring_up():
                    backoff.succeeded()
                    next_check = began + self.health_interval_s
                else:
                    delay = backoff.failed()
                    self._back_within(delay)
                    self._stopping.wait(delay)
                    continue
            try:
                if began >= next_check:
                    next_check = began + self.health_interval_s
                    self._check_health()
                if not self._down:
                    uid, finished = read_uid(self._transceive, self.health)
                    if not finished:
                        next_check = 0.0  # the chip did not complete an exchange: look at it now
                    if uid is not None:
                        self._deliver(uid, self.clock.monotonic())
            except OSError as exc:
                self._go_down(f"SPI transfer failed: {exc.strerror or exc}")
                continue
            self._stopping.wait(max(0.0, began + self.poll_interval_s - self.clock.monotonic()))

    def _bring_up(self) -> bool:
        """Open the chip if needed, reset it, and check it answers; report the fault state. True if it is up."""
        try:
            if self._chip is None:
                self._chip = self._chip_class(
                    bus=self.spi_bus,
                    device=self.spi_device,
                    spd=self.spi_hz,
                    pin_mode=self._gpio.BCM,
                    pin_rst=self.reset_pin,
                )
                _quiet_library_logger()
            else:
                self._hard_reset()
                self._chip.MFRC522_Init()
                self.health.resets += 1
            problem = self._probe()
        except OSError as exc:
            problem = f"cannot use {self.device}: {exc.strerror or exc}"
        if problem is not None:
            self._go_down(problem)
            return False
        self._down = False
        self._set_fault(False, f"answering (version 0x{self.version or 0:02X})")
        return True

    def _go_down(self, detail: str) -> None:
        self._down = True
        self._set_fault(True, detail)

    def _probe(self) -> str | None:
        """Return why the chip is not usable, or None if it answers."""
        version = self._read(VERSION_REG)
        if version in DEAD_VERSIONS:
            return f"{self.device} not answering (version register reads 0x{version:02X})"
        self.version = version
        return None

    def _check_health(self) -> None:
        problem = self._probe()
        if problem is not None:
            self._go_down(problem)
            return
        if self._read(T_MODE_REG) != T_MODE_INIT or self._read(TX_CONTROL_REG) & ANTENNA_ON != ANTENNA_ON:
            # It answers but forgot its setup (a supply dip resets it): silently deaf until re-initialised.
            log.warning("mfrc522 reader %s lost its configuration; re-initialising", self.name)
            self._chip.MFRC522_Init()
            self.health.resets += 1

    def _hard_reset(self) -> None:
        # NRSTPD low powers the chip down; the rising edge resets it (oscillator start-up is well under 10 ms).
        self._gpio.output(self.reset_pin, 0)
        time.sleep(0.001)
        self._gpio.output(self.reset_pin, 1)
        time.sleep(0.01)

    # -- the chip -------------------------------------------------------------------------------------------------

    def _transceive(self, data: bytes, tx_last_bits: int, expect_reply: bool) -> Reply:
        """Send a frame and collect the answer, sleeping between status reads."""
        write = self._chip.Write_MFRC522
        write(COMM_IEN_REG, 0x77 | 0x80)
        write(COMM_IRQ_REG, 0x7F)  # Set1=0: clears every interrupt flag
        write(FIFO_LEVEL_REG, FLUSH_FIFO)
        write(COMMAND_REG, CMD_IDLE)
        for byte in data:
            write(FIFO_DATA_REG, byte)
        write(COMMAND_REG, CMD_TRANSCEIVE)
        write(BIT_FRAMING_REG, START_SEND | tx_last_bits)
        wanted = IRQ_RX | IRQ_IDLE if expect_reply else IRQ_TX
        deadline = self.clock.monotonic() + EXCHANGE_DEADLINE_S
        status: Status = "ok"
        irq = self._read(COMM_IRQ_REG)
        while not irq & wanted or irq & IRQ_SET1:
            if irq & IRQ_SET1:  # reads as 0 on a live chip: MISO is floating high
                status = "stuck"
                break
            if irq & IRQ_TIMER:
                status = "no_card"
                break
            if self.clock.monotonic() > deadline:
                status = "stuck"
                break
            time.sleep(STATUS_POLL_S)
            irq = self._read(COMM_IRQ_REG)
        write(BIT_FRAMING_REG, 0)
        write(COMMAND_REG, CMD_IDLE)
        if status != "ok" or not expect_reply:
            return Reply(status)
        error = self._read(ERROR_REG)
        if error & ERR_COLLISION:
            return Reply("collision")
        if error & ERR_FATAL or irq & IRQ_ERR:
            return Reply("error")
        count = self._read(FIFO_LEVEL_REG) & 0x7F
        last_bits = self._read(CONTROL_REG) & 0x07
        received = bytes(self._read(FIFO_DATA_REG) for _ in range(count))
        bits = (count - 1) * 8 + last_bits if last_bits else count * 8
        return Reply("ok", received, bits)

    def _read(self, register: int) -> int:
        value: int = self._chip.Read_MFRC522(register)
        return value

    def _release(self) -> None:
        chip, self._chip = self._chip, None
        if chip is None:
            return
        try:
            chip.Write_MFRC522(COMMAND_REG, CMD_IDLE)
            chip.spi.close()
        except OSError:
            log.debug("closing the MFRC522 SPI device failed", exc_info=True)
        self._gpio.cleanup(self.reset_pin)  # our pin only: Close_MFRC522's cleanup() frees every pin


def _import_library() -> tuple[Any, Any]:
    """Import RPi.GPIO and mfrc522 lazily: they only load on a Raspberry Pi (or with the simulator's stand-ins)."""
    try:
        import RPi.GPIO as gpio
        from mfrc522 import MFRC522
    except ImportError as exc:
        raise DeviceError(f"the mfrc522 reader needs the 'mfrc522' package (pip install 'edge[pi]'): {exc}") from None
    except RuntimeError as exc:  # RPi.GPIO refuses to load off a Pi
        raise DeviceError(f"the mfrc522 reader cannot load RPi.GPIO on this machine: {exc}") from None
    return gpio, MFRC522


def _quiet_library_logger() -> None:
    # The library adds a StreamHandler to "mfrc522Logger" per instance; let records reach our handlers once.
    logger = logging.getLogger("mfrc522Logger")
    for handler in list(logger.handlers):
        if type(handler) is logging.StreamHandler:
            logger.removeHandler(handler)
