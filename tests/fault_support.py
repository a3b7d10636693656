"""What the fault tests share: the bad payloads every subscribed topic is fed, and the soak switch."""

from __future__ import annotations

import json
import os

SOAK = os.environ.get("EDGE_SOAK") == "1"  # EDGE_SOAK=1 runs the long variants (docs/reliability.md)


def soak(short: int, long: int) -> int:
    """`long` under EDGE_SOAK=1, else `short` (rounds, outages, cards...)."""
    return long if SOAK else short


def unknown_version(valid: bytes) -> bytes:
    """A genuine payload whose format version (`.../1` in its kind) is one this code does not know."""
    changed = valid.replace(b'/1"', b'/99"', 1).replace(b'{"v":1,', b'{"v":99,', 1)
    assert changed != valid, "the payload has no versioned kind to change"
    return changed


def bad_payloads(valid: bytes) -> dict[str, bytes]:
    """Oversized, non-JSON, wrong-type, unknown-version and binary payloads, by name."""
    return {
        "oversized": b'{"pad":"' + b"x" * (2 * 1024 * 1024) + b'"}',
        "not_json": b"{this is not json",
        "wrong_type": json.dumps({"kind": 42, "payload": [1, 2, 3], "signature": None}).encode(),
        "unknown_version": unknown_version(valid),
        "binary": bytes(range(256)) * 4,
        "empty_object": b"{}",
    }
