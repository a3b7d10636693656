"""A reader's UID in the normal form the badge token hashes (`edge.contract.token.normalise_uid`): from raw bytes,
from hex text or from a decimal number. Malformed input is a FrameError, counted and dropped by the driver.

Error messages never repeat the input: a malformed line may still be most of a member's UID.
"""

from __future__ import annotations

import re
from typing import Literal

from edge.contract.token import MAX_UID_BYTES, normalise_uid
from edge.errors import FrameError

UidFormat = Literal["hex", "decimal"]
"""How a line reader prints a UID: hexadecimal digits, or a decimal number."""

_DECIMAL = re.compile(r"[0-9]+")


def uid_from_bytes(data: bytes) -> str:
    """Return the normal form of a UID read as raw bytes."""
    if not 1 <= len(data) <= MAX_UID_BYTES:
        raise FrameError(f"a UID has 1-{MAX_UID_BYTES} bytes, got {len(data)}")
    return normalise_uid(data.hex())


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
    return uid_from_bytes(value.to_bytes(width_bytes, "big"))


def uid_from_text(text: str, fmt: UidFormat = "hex", *, decimal_bytes: int = 4) -> str:
    """Normalise a UID printed as `fmt` by a line reader; raise FrameError (without echoing the text) if malformed."""
    if fmt == "decimal":
        return uid_from_decimal(text, decimal_bytes)
    try:
        return normalise_uid(text)
    except ValueError as exc:
        raise FrameError(str(exc)) from None
