"""Badge tokens: the keyed hash that stands for a card everywhere off the reader. Raw UIDs stop here."""

from __future__ import annotations

import hashlib
import hmac
import re

_SEPARATORS = re.compile(r"[\s:\-.]")
_HEX = re.compile(r"^[0-9A-F]+$")
TOKEN_LENGTH = 32
TOKEN_PATTERN = r"^[0-9a-f]{32}$"


def normalise_uid(uid: str) -> str:
    """Return a hex UID in upper case without separators ("04:a2-3b" -> "04A23B"); raise ValueError otherwise."""
    text = _SEPARATORS.sub("", uid).upper()
    if text.startswith("0X"):
        text = text[2:]
    if not text or len(text) % 2 or len(text) > 32 or not _HEX.match(text):
        raise ValueError("a UID is 1 to 16 bytes written in hexadecimal")
    return text


def badge_token(key: bytes, uid: str) -> str:
    """HMAC-SHA256 of the normalised UID with the site's badge key, hex, first 32 characters."""
    if len(key) < 16:
        raise ValueError("the badge key must be at least 16 bytes")
    digest = hmac.new(key, normalise_uid(uid).encode("ascii"), hashlib.sha256).hexdigest()
    return digest[:TOKEN_LENGTH]
