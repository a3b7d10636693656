"""Signed messages: canonical JSON, Ed25519 signatures, and the keys a door trusts.

A signed message is the JSON object `{"kind": K, "payload": {...}, "signature": {"alg", "key", "value"}}`.
The signature covers `K + "\\n" + canonical(payload)`: the kind separates domains (a signed snapshot can never
pass as a command) and the canonical form (sorted keys, no spaces, ASCII) makes the signed bytes independent of
how the JSON was re-encoded on the way. The verifier checks exactly the payload it then uses.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from edge.access.ed25519 import PublicKey
from edge.errors import PayloadError

if TYPE_CHECKING:  # signing happens on the staff machine only; doors never import `cryptography`
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ALGORITHM = "Ed25519"


def canonical_json(value: Any) -> bytes:
    """Encode JSON deterministically: sorted keys, no whitespace, ASCII only, no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def key_id(key: PublicKey) -> str:
    """A short, stable name for a public key: the first 16 hex characters of SHA-256 of its raw bytes."""
    return hashlib.sha256(key.raw).hexdigest()[:16]


def public_key_of(private: Ed25519PrivateKey) -> PublicKey:
    """The verifying half of a staff signing key."""
    return PublicKey(private.public_key().public_bytes_raw())


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


def sign(kind: str, payload: Mapping[str, Any], key: Ed25519PrivateKey) -> bytes:
    """Return the signed message carrying `payload`, as canonical JSON bytes."""
    body = canonical_json(payload)
    value = key.sign(kind.encode("ascii") + b"\n" + body)
    signature = {"alg": ALGORITHM, "key": key_id(public_key_of(key)), "value": base64.b64encode(value).decode("ascii")}
    # Sorted keys kind < payload < signature: this concatenation is the envelope's canonical form.
    return (
        b'{"kind":' + canonical_json(kind) + b',"payload":' + body + b',"signature":' + canonical_json(signature) + b"}"
    )


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
