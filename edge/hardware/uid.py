"""Badge UID normalisation: every reader hands on upper-case hex with no separators, the form the badge token hashes.

Error messages never repeat the input: a malformed line may still be most of a member's UID.
"""

from __future__ import annotations

import re
from typing import Literal

from edge.errors import FrameError

UidFormat = Literal["hex", "decimal"]
"""How a line reader prints a UID: hexadecimal digits, or a decimal number."""

MAX_UID_BYTES = 16
"""Longest UID accepted: ISO 14443 UIDs are 4, 7 or 10 bytes; EM4100 IDs 5; Wiegand data at most 8."""

_SEPARATORS = re.compile(r"[\s:\-]")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_DECIMAL = re.compile(r"[0-9]+")


def uid_from_bytes(data: bytes) -> str:
    """Return the normal form of a UID read as raw bytes."""
    if not 1 <= len(data) <= MAX_UID_BYTES:
        raise FrameError(f"a UID has 1-{MAX_UID_BYTES} bytes, got {len(data)}")
    return data.hex().upper()


def normalize_hex_uid(text: str) -> str:
    """Normalise hex text (`04:a1-b2 c3`, `0x04A1B2C3`) to `04A1B2C3`; an odd digit count gets a leading zero."""
    digits = _SEPARATORS.sub("", text.strip())
    if digits[:2] in ("0x", "0X"):
        digits = digits[2:]
    if not digits or not _HEX.fullmatch(digits):
        raise FrameError("UID is not hexadecimal")
    if len(digits) % 2:
        digits = "0" + digits
    if len(digits) > 2 * MAX_UID_BYTES:
        raise FrameError(f"UID is longer than {MAX_UID_BYTES} bytes")
    return digits.upper()


def uid_from_decimal(text: str, width_bytes: int = 4) -> str:
    """Normalise a decimal UID (`0012345678`) to hex zero-padded to `width_bytes` bytes (`00BC614E`)."""
    digits = text.strip()
    if not digits or len(digits) > 40 or not _DECIMAL.fullmatch(digits):
        raise FrameError("UID is not a decimal number")
    if not 1 <= width_bytes <= MAX_UID_BYTES:
        raise ValueError(f"width_bytes must be 1-{MAX_UID_BYTES}")
    value = int(digits)
    if value >= 1 << (8 * width_bytes):
        raise FrameError(f"decimal UID does not fit in {width_bytes} bytes")
    return value.to_bytes(width_bytes, "big").hex().upper()


def normalize_uid(text: str, fmt: UidFormat = "hex", *, decimal_bytes: int = 4) -> str:
    """Normalise a UID printed as `fmt`; raise FrameError (without echoing the text) if it is malformed."""
    if fmt == "hex":
        return normalize_hex_uid(text)
    return uid_from_decimal(text, decimal_bytes)
