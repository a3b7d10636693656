"""ISO/IEC 14443-3 type A pieces shared by the MFRC522 driver and its simulator: commands, CRC_A, BCC, cascade."""

from __future__ import annotations

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
