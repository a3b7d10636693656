"""Signed messages as a door opens them: canonical JSON, the keys a door trusts, and signature checks.

A signed message is the JSON object `{"kind": K, "payload": {...}, "signature": {"alg", "key", "value"}}`.
The signature covers `K + "\\n" + canonical(payload)`: the kind separates domains (a signed snapshot can never
pass as a command) and the canonical form (sorted keys, no spaces, ASCII) makes the signed bytes independent of
how the JSON was re-encoded on the way. The verifier checks exactly the payload it then uses. Signing is the
staff machine's job (`edge.staff.signing`); a door only verifies, without `cryptography`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from edge.access.ed25519 import PublicKey
from edge.errors import PayloadError

ALGORITHM = "Ed25519"


def canonical_json(value: Any) -> bytes:
    """Encode JSON deterministically: sorted keys, no whitespace, ASCII only, no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def key_id(key: PublicKey) -> str:
    """A short, stable name for a public key: the first 16 hex characters of SHA-256 of its raw bytes."""
    return hashlib.sha256(key.raw).hexdigest()[:16]


class TrustedKeys:
    """The public keys a door accepts signatures from, by key id (several during a key rotation)."""

    def __init__(self, keys: Iterable[PublicKey]) -> None:
        self._keys: dict[str, PublicKey] = {key_id(key): key for key in keys}
        if not self._keys:
            raise ValueError("at least one trusted public key is needed")

    def get(self, identifier: str) -> PublicKey | None:
        """Return the key with this id, or None."""
        return self._keys.get(identifier)

    @property
    def ids(self) -> tuple[str, ...]:
        """The ids of the trusted keys."""
        return tuple(self._keys)


def open_signed(kind: str, raw: bytes, trusted: TrustedKeys, *, max_bytes: int) -> dict[str, Any]:
    """Verify a signed message of `kind` and return its payload; raise PayloadError with a counted reason.

    Reasons: too_large, not_json, malformed, wrong_kind, unsigned, unknown_key, forged.
    """
    if len(raw) > max_bytes:
        raise PayloadError("too_large", f"{len(raw)} bytes > {max_bytes}")
    try:
        message = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PayloadError("not_json", "not UTF-8") from None
    except (ValueError, RecursionError):
        raise PayloadError("not_json") from None
    if not isinstance(message, dict) or not isinstance(message.get("payload"), dict):
        raise PayloadError("malformed", "expected an object with kind, payload and signature")
    if message.get("kind") != kind:
        raise PayloadError("wrong_kind", f"expected {kind}, got {str(message.get('kind'))[:60]!r}")
    signature = message.get("signature")
    if not isinstance(signature, dict) or not signature.get("value"):
        raise PayloadError("unsigned")
    if signature.get("alg") != ALGORITHM:
        raise PayloadError("unsigned", f"algorithm {str(signature.get('alg'))[:20]!r} is not accepted")
    public = trusted.get(str(signature.get("key")))
    if public is None:
        raise PayloadError("unknown_key", f"key {str(signature.get('key'))[:20]!r} is not trusted here")
    try:
        value = base64.b64decode(str(signature["value"]), validate=True)
        genuine = public.verify(value, kind.encode("ascii") + b"\n" + canonical_json(message["payload"]))
    except (binascii.Error, ValueError):
        genuine = False
    if not genuine:
        raise PayloadError("forged", "the signature does not match the payload")
    payload: dict[str, Any] = message["payload"]
    return payload
