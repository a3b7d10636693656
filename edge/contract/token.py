"""Badge UIDs in their one normal form, and the badge token: the keyed hash that stands for a card everywhere off
the reader. Raw UIDs stop here.

Every reader driver and every staff tool turns a UID into the normal form with `normalise_uid`, so a card enrolled
by hand, imported from a platform's export or tapped on a reader gives the same token.
"""

from __future__ import annotations

import hashlib
import hmac
import re

MAX_UID_BYTES = 16
"""Longest UID accepted: ISO 14443 UIDs are 4, 7 or 10 bytes; EM4100 IDs 5; Wiegand data at most 8."""

TOKEN_LENGTH = 32
TOKEN_PATTERN = r"^[0-9a-f]{32}$"

_SEPARATORS = re.compile(r"[\s:.\-]")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_MALFORMED = f"a UID is 1 to {MAX_UID_BYTES} bytes written in hexadecimal"


def normalise_uid(text: str) -> str:
    """Return a UID written in hexadecimal in its normal form: upper case, whole bytes, no separators.

    Spaces, `:`, `-` and `.` anywhere and a `0x` prefix are ignored and letters upper-cased (`04:a2-3b` ->
    `04A23B`); an odd number of digits gets a leading zero, as a reader printing the UID as a number drops it
    (`4A23B` -> `04A23B`). Raise ValueError otherwise, with a message that never repeats the text: a malformed
    line from a reader may still be most of a member's UID.
    """
    digits = _SEPARATORS.sub("", text)
    if digits[:2] in ("0x", "0X"):
        digits = digits[2:]
    if not _HEX.fullmatch(digits):  # before upper(): "ﬀ".upper() is "FF"
        raise ValueError(_MALFORMED)
    digits = digits.upper()
    if len(digits) % 2:
        digits = "0" + digits
    if len(digits) > 2 * MAX_UID_BYTES:
        raise ValueError(_MALFORMED)
    return digits


def badge_token(key: bytes, uid: str) -> str:
    """HMAC-SHA256 of the normalised UID with the site's badge key, hex, first 32 characters."""
    if len(key) < 16:
        raise ValueError("the badge key must be at least 16 bytes")
    digest = hmac.new(key, normalise_uid(uid).encode("ascii"), hashlib.sha256).hexdigest()
    return digest[:TOKEN_LENGTH]
