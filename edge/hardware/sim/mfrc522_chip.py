"""An MFRC522 emulated at register level, behind the `spidev`/`RPi.GPIO` stand-ins.

The real `mfrc522` package and our driver run unmodified against it. Emulated: the SPI address byte, the
registers the package and driver touch, the 64-byte FIFO, interrupt flags with their Set1 write semantics,
the Transceive command with StartSend and short frames, the CRC coprocessor, the timer (period computed from
TMode/TPrescaler/TReload, started at the end of a transmission that gets no answer), soft reset, hard reset
through the NRSTPD (reset) pin, the antenna switch, and one card in the field (`SimCard`).

Faults: `go_silent()` makes MISO read 0x00 (chip unpowered or unplugged), `answer_again()` undoes it,
`brown_out()` resets the registers behind the driver's back, `fail_transfers` makes the SPI device error.
"""

from __future__ import annotations

import errno
import threading
import time
from collections import deque
from collections.abc import Callable

from edge.hardware.iso14443 import crc_a
from edge.hardware.sim.iso14443_card import SimCard

COMMAND, COMM_IEN, DIV_IEN, COMM_IRQ, DIV_IRQ, ERROR, STATUS1, STATUS2 = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08
FIFO_DATA, FIFO_LEVEL, CONTROL, BIT_FRAMING = 0x09, 0x0A, 0x0C, 0x0D
MODE, TX_MODE, RX_MODE, TX_CONTROL = 0x11, 0x12, 0x13, 0x14
CRC_RESULT_M, CRC_RESULT_L = 0x21, 0x22
T_MODE, T_PRESCALER, T_RELOAD_H, T_RELOAD_L = 0x2A, 0x2B, 0x2C, 0x2D
VERSION = 0x37

CMD_IDLE, CMD_CALC_CRC, CMD_TRANSCEIVE, CMD_SOFT_RESET = 0x00, 0x03, 0x0C, 0x0F
FIFO_SIZE = 64

_RESET_VALUES = {
    COMMAND: 0x20,
    COMM_IEN: 0x80,
    COMM_IRQ: 0x14,
    CONTROL: 0x10,
    0x0E: 0x80,  # CollReg
    MODE: 0x3F,
    TX_CONTROL: 0x80,  # antenna off
    0x16: 0x10,
    0x17: 0x84,
    0x18: 0x84,
    0x19: 0x4D,
    0x1C: 0x62,
    0x1F: 0xEB,
    CRC_RESULT_M: 0xFF,
    CRC_RESULT_L: 0xFF,
    0x24: 0x26,
    0x26: 0x48,
    0x27: 0x88,
    0x28: 0x20,
    0x29: 0x20,
}


class Mfrc522Chip:
    """Register-level MFRC522 with one optional card in its field."""

    def __init__(self, version: int = 0x92, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.version = version
        self._monotonic = monotonic
        self._lock = threading.RLock()
        self.card: SimCard | None = None
        self.silent = False
        self.silent_value = 0x00
        self.fail_transfers = False
        self.powered = True
        self.transfers = 0
        self.exchanges = 0
        self.resets = 0
        self._power_on_reset()

    # -- simulator controls ------------------------------------------------------------------------------------

    def place(self, card: SimCard) -> None:
        """Put a card in the field (it powers up in IDLE if the antenna is on)."""
        with self._lock:
            card.power_off()
            self.card = card

    def remove(self) -> None:
        """Take the card away."""
        with self._lock:
            self.card = None

    def go_silent(self, value: int = 0x00) -> None:
        """Stop answering on SPI: every byte on MISO reads `value`, writes are lost."""
        with self._lock:
            self.silent = True
            self.silent_value = value

    def answer_again(self) -> None:
        """Answer on SPI again (registers keep whatever they had)."""
        with self._lock:
            self.silent = False

    def brown_out(self) -> None:
        """Reset every register, as a supply dip would, without the driver being told."""
        with self._lock:
            self._power_on_reset()

    def reset_line(self, level: int) -> None:
        """NRSTPD pin: low powers the chip down, the rising edge resets it."""
        with self._lock:
            if not level:
                self.powered = False
            elif not self.powered:
                self.powered = True
                self._power_on_reset()

    # -- SPI -----------------------------------------------------------------------------------------------------

    def transfer(self, data: list[int]) -> list[int]:
        """One chip-select cycle: address byte, then data (write) or next addresses (read)."""
        with self._lock:
            self.transfers += 1
            if self.fail_transfers:
                raise OSError(errno.EIO, "Input/output error")
            if self.silent or not self.powered or not data:
                return [self.silent_value] * len(data)
            self._tick()
            register = (data[0] >> 1) & 0x3F
            if data[0] & 0x80:
                out = [0]
                for value in data[1:]:
                    out.append(self._read(register))
                    register = (value >> 1) & 0x3F
                return out
            for value in data[1:]:
                self._write(register, value)
            return [0] * len(data)

    # -- registers -------------------------------------------------------------------------------------------------

    def _power_on_reset(self) -> None:
        self.regs = bytearray(64)
        for register, value in _RESET_VALUES.items():
            self.regs[register] = value
        self.fifo: deque[int] = deque()
        self._timer_deadline: float | None = None
        self.resets += 1
        if self.card is not None:
            self.card.power_off()

    def _read(self, register: int) -> int:
        if register == FIFO_DATA:
            return self.fifo.popleft() if self.fifo else 0
        if register == FIFO_LEVEL:
            return len(self.fifo)
        if register == VERSION:
            return self.version
        return self.regs[register]

    def _write(self, register: int, value: int) -> None:
        if register == COMMAND:
            self._command(value)
        elif register in (COMM_IRQ, DIV_IRQ):
            # Set1 (bit 7) says whether the marked bits are set or cleared.
            mask = value & 0x7F
            self.regs[register] = (self.regs[register] | mask) if value & 0x80 else (self.regs[register] & ~mask)
        elif register == FIFO_DATA:
            if len(self.fifo) < FIFO_SIZE:
                self.fifo.append(value)
            else:
                self.regs[ERROR] |= 0x10  # BufferOvfl
        elif register == FIFO_LEVEL:
            if value & 0x80:
                self.fifo.clear()
                self.regs[ERROR] &= ~0x10
        elif register == BIT_FRAMING:
            self.regs[BIT_FRAMING] = value
            if value & 0x80 and self.regs[COMMAND] & 0x0F == CMD_TRANSCEIVE:
                self._exchange(value & 0x07)
        elif register == TX_CONTROL:
            was_on = self.regs[TX_CONTROL] & 0x03
            self.regs[TX_CONTROL] = value
            if was_on != value & 0x03 and self.card is not None:
                self.card.power_off()
        elif register != VERSION:
            self.regs[register] = value

    def _command(self, value: int) -> None:
        command = value & 0x0F
        if command == CMD_SOFT_RESET:
            self._power_on_reset()
            return
        self.regs[COMMAND] = value & 0x3F
        if command == CMD_CALC_CRC:
            crc = crc_a(list(self.fifo))
            self.fifo.clear()
            self.regs[CRC_RESULT_L], self.regs[CRC_RESULT_M] = crc[0], crc[1]
            self.regs[DIV_IRQ] |= 0x04  # CRCIRq
            self.regs[COMMAND] = value & 0x30  # the command finishes at once: back to Idle
            self.regs[COMM_IRQ] |= 0x10  # IdleIRq

    def _antenna_on(self) -> bool:
        return self.regs[TX_CONTROL] & 0x03 != 0

    def _timer_period(self) -> float:
        prescaler = (self.regs[T_MODE] & 0x0F) << 8 | self.regs[T_PRESCALER]
        reload = self.regs[T_RELOAD_H] << 8 | self.regs[T_RELOAD_L]
        return (2 * prescaler + 1) * (reload + 1) / 13.56e6

    def _tick(self) -> None:
        if self._timer_deadline is not None and self._monotonic() >= self._timer_deadline:
            self._timer_deadline = None
            self.regs[COMM_IRQ] |= 0x01  # TimerIRq

    def _exchange(self, tx_last_bits: int) -> None:
        self.exchanges += 1
        frame = bytes(self.fifo)
        self.fifo.clear()
        self.regs[ERROR] = 0
        if self.regs[TX_MODE] & 0x80:  # TxCRCEn: the chip appends CRC_A
            frame += crc_a(frame)
        self.regs[COMM_IRQ] |= 0x40  # TxIRq: transmission done
        answer = None
        if self._antenna_on() and self.card is not None:
            answer = self.card.respond(frame, tx_last_bits)
        if answer is None:
            auto = self.regs[T_MODE] & 0x80
            self._timer_deadline = self._monotonic() + self._timer_period() if auto else None
            return
        self._timer_deadline = None
        if self.regs[RX_MODE] & 0x80:  # RxCRCEn: the chip checks and strips CRC_A
            if len(answer) < 3 or crc_a(answer[:-2]) != answer[-2:]:
                self.regs[ERROR] |= 0x04  # CRCErr
            answer = answer[:-2]
        self.fifo.extend(answer)
        self.regs[CONTROL] = (self.regs[CONTROL] & ~0x07) & 0xFF  # whole bytes received
        self.regs[COMM_IRQ] |= 0x20  # RxIRq
