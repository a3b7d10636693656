"""Signing on the staff machine: the envelope a door opens with `edge.access.signed.open_signed`.

The signature covers `kind + "\\n" + canonical(payload)` and names the signing key by its id (docs/security.md).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from edge.access.ed25519 import PublicKey
from edge.access.signed import ALGORITHM, canonical_json, key_id

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def public_key_of(private: Ed25519PrivateKey) -> PublicKey:
    """The verifying half of a staff signing key."""
    return PublicKey(private.public_key().public_bytes_raw())


def sign(kind: str, payload: Mapping[str, Any], key: Ed25519PrivateKey) -> bytes:
    """Return the signed message carrying `payload`, as canonical JSON bytes."""
    body = canonical_json(payload)
    value = key.sign(kind.encode("ascii") + b"\n" + body)
    signature = {"alg": ALGORITHM, "key": key_id(public_key_of(key)), "value": base64.b64encode(value).decode("ascii")}
    # Sorted keys kind < payload < signature: this concatenation is the envelope's canonical form.
    return (
        b'{"kind":' + canonical_json(kind) + b',"payload":' + body + b',"signature":' + canonical_json(signature) + b"}"
    )
