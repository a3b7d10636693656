"""ISO/IEC 14443-3 type A, reader side and shared pieces: commands, CRC_A, BCC, cascade, and the UID read.

`read_uid` is the protocol without the chip: it takes a `transceive` function (what the MFRC522 driver does
over SPI) so its handling of every malformed answer is tested directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from edge.hardware.readers import ReaderHealth
from edge.hardware.uid import uid_from_bytes

REQA = 0x26
"""Request: answered by cards in IDLE only (7-bit short frame)."""
WUPA = 0x52
"""Wake-up: answered by cards in IDLE or HALT (7-bit short frame)."""
HLTA = 0x50
"""Halt: an ACTIVE card goes to HALT and only answers WUPA after it."""
SEL_CL = (0x93, 0x95, 0x97)
"""SEL codes of cascade levels 1, 2 and 3."""
NVB_ANTICOLL = 0x20
"""NVB of an anticollision frame (SEL, NVB only): the card answers its 4 cascade bytes + BCC."""
NVB_SELECT = 0x70
"""NVB of a SELECT frame (SEL, NVB, 4 bytes, BCC, CRC_A)."""
CASCADE_TAG = 0x88
"""First byte of a cascade level that does not hold the last UID bytes."""
SAK_UID_INCOMPLETE = 0x04
"""SAK bit set while the UID continues at the next cascade level."""
SHORT_FRAME_BITS = 7
"""REQA and WUPA are sent as 7-bit frames."""


def crc_a(data: bytes | bytearray | list[int]) -> bytes:
    """CRC_A (ISO 14443-3 annex B): preset 0x6363, returned low byte first as sent on air."""
    crc = 0x6363
    for value in data:
        value ^= crc & 0xFF
        value = (value ^ (value << 4)) & 0xFF
        crc = (crc >> 8) ^ (value << 8) ^ (value << 3) ^ (value >> 4)
    return bytes([crc & 0xFF, (crc >> 8) & 0xFF])


def bcc(data: bytes | bytearray | list[int]) -> int:
    """Block check character: XOR of the 4 bytes of a cascade level."""
    value = 0
    for byte in data:
        value ^= byte
    return value


def cascade_levels(uid: bytes) -> list[bytes]:
    """Split a 4-, 7- or 10-byte UID into the 4-byte groups cards answer per cascade level."""
    if len(uid) == 4:
        return [uid]
    if len(uid) == 7:
        return [bytes([CASCADE_TAG]) + uid[:3], uid[3:]]
    if len(uid) == 10:
        return [bytes([CASCADE_TAG]) + uid[:3], bytes([CASCADE_TAG]) + uid[3:6], uid[6:]]
    raise ValueError("an ISO 14443-A UID has 4, 7 or 10 bytes")


def atqa_for(uid: bytes, low_bits: int = 0x04) -> bytes:
    """ATQA bytes (low byte first) whose UID-size bits (6-7) match the UID's length."""
    size = {4: 0, 7: 1, 10: 2}[len(uid)]
    return bytes([(size << 6) | (low_bits & 0x3F), 0x00])


Status = Literal["ok", "no_card", "collision", "error", "stuck"]
"""Outcome of one exchange: answered, nobody answered (timer), collision, error, or the chip never finished."""


@dataclass(frozen=True)
class Reply:
    """What one transceive returned: status, received bytes and the number of valid bits."""

    status: Status
    data: bytes = b""
    bits: int = 0


Transceive = Callable[[bytes, int, bool], Reply]
"""`transceive(frame, tx_last_bits, expect_reply)`: send a frame to the field and collect the answer."""


def read_uid(transceive: Transceive, health: ReaderHealth) -> tuple[str | None, bool]:
    """One poll: WUPA, anticollision + SELECT per cascade level, HLTA.

    Returns (normalised UID or None, whether every exchange finished normally). Checks the BCC of each level,
    the CRC_A of each SAK and the cascade tag; anything malformed is counted in `health` and yields None.
    """
    answer = transceive(bytes([WUPA]), SHORT_FRAME_BITS, True)
    if answer.status != "ok" or answer.bits != 16 or len(answer.data) != 2:
        return None, answer.status != "stuck"
    uid = bytearray()
    for level, sel in enumerate(SEL_CL):
        part = transceive(bytes([sel, NVB_ANTICOLL]), 0, True)
        if part.status != "ok" or len(part.data) != 5 or part.bits != 40:
            if part.status == "ok":
                health.bad_frames += 1
            return None, part.status != "stuck"
        if bcc(part.data[:4]) != part.data[4]:
            health.bad_checksum += 1
            return None, True
        frame = bytes([sel, NVB_SELECT]) + part.data
        sak = transceive(frame + crc_a(frame), 0, True)
        if sak.status != "ok" or len(sak.data) != 3 or sak.bits != 24:
            if sak.status == "ok":
                health.bad_frames += 1
            return None, sak.status != "stuck"
        if crc_a(sak.data[:1]) != sak.data[1:]:
            health.bad_checksum += 1
            return None, True
        if not sak.data[0] & SAK_UID_INCOMPLETE:
            if part.data[0] == CASCADE_TAG and level == 0:
                health.bad_frames += 1  # a single-size UID never starts with the cascade tag
                return None, True
            uid += part.data[:4]
            break
        if part.data[0] != CASCADE_TAG or level == len(SEL_CL) - 1:
            health.bad_frames += 1
            return None, True
        uid += part.data[1:4]
    halt = bytes([HLTA, 0x00])
    transceive(halt + crc_a(halt), 0, False)
    health.frames_ok += 1
    return uid_from_bytes(bytes(uid)), True
