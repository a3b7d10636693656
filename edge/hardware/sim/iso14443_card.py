"""A simulated ISO 14443-3 type A card: the IDLE/READY/ACTIVE/HALT state machine with 1-3 cascade levels.

It answers what a real card answers and, like one, falls back to IDLE (or HALT, if it was woken from HALT)
on any frame it does not expect; that is what makes plain REQA polling see a held card every other time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edge.hardware.iso14443 import (
    HLTA,
    NVB_ANTICOLL,
    NVB_SELECT,
    REQA,
    SAK_UID_INCOMPLETE,
    SEL_CL,
    SHORT_FRAME_BITS,
    WUPA,
    atqa_for,
    bcc,
    cascade_levels,
    crc_a,
)

SAK_MIFARE_CLASSIC_1K = 0x08
SAK_ULTRALIGHT_NTAG = 0x00


@dataclass
class SimCard:
    """A card in the field. `bad_bcc` makes it answer anticollision with a wrong check byte."""

    uid: bytes
    sak: int = -1
    bad_bcc: bool = False
    state: str = field(default="idle", init=False)
    _level: int = field(default=0, init=False)
    _from_halt: bool = field(default=False, init=False)
    requests_seen: int = field(default=0, init=False)
    requests_answered: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._levels = cascade_levels(self.uid)
        if self.sak < 0:
            self.sak = SAK_MIFARE_CLASSIC_1K if len(self.uid) == 4 else SAK_ULTRALIGHT_NTAG
        self.atqa = atqa_for(self.uid)

    def power_off(self) -> None:
        """The field went away: the card forgets everything."""
        self.state = "idle"
        self._from_halt = False

    def respond(self, frame: bytes, tx_last_bits: int) -> bytes | None:
        """Process a frame from the reader; return the card's answer (whole bytes) or None for silence."""
        if tx_last_bits == SHORT_FRAME_BITS and len(frame) == 1 and frame[0] in (REQA, WUPA):
            return self._request(frame[0])
        if tx_last_bits == 0 and self.state == "ready" and len(frame) >= 2 and frame[0] == SEL_CL[self._level]:
            if frame[1] == NVB_ANTICOLL and len(frame) == 2:
                part = self._levels[self._level]
                return part + bytes([bcc(part) ^ (0xFF if self.bad_bcc else 0)])
            if frame[1] == NVB_SELECT and len(frame) == 9:
                return self._select(frame)
        if tx_last_bits == 0 and self.state == "active" and frame == _HLTA_FRAME:
            self.state = "halt"
            return None
        self._unexpected()
        return None

    def _request(self, command: int) -> bytes | None:
        self.requests_seen += 1
        if self.state == "idle" or (self.state == "halt" and command == WUPA):
            self._from_halt = self.state == "halt"
            self.state = "ready"
            self._level = 0
            self.requests_answered += 1
            return self.atqa
        self._unexpected()
        return None

    def _select(self, frame: bytes) -> bytes | None:
        part = self._levels[self._level]
        if crc_a(frame[:7]) != frame[7:] or frame[2:7] != part + bytes([bcc(part)]):
            self._unexpected()
            return None
        if self._level < len(self._levels) - 1:
            self._level += 1
            sak = SAK_UID_INCOMPLETE
        else:
            self.state = "active"
            sak = self.sak & ~SAK_UID_INCOMPLETE
        return bytes([sak]) + crc_a([sak])

    def _unexpected(self) -> None:
        if self.state in ("ready", "active"):
            self.state = "halt" if self._from_halt else "idle"


_HLTA_FRAME = bytes([HLTA, 0x00]) + crc_a([HLTA, 0x00])
