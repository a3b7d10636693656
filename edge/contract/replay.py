"""Replay requests: the collector asks a node to publish again the events of a seq range it never received.

A broker that is killed (power cut, OOM, kill -9) loses what it acknowledged but had not yet saved to disk
(Mosquitto saves every `autosave_interval`). Nodes keep acknowledged events for a while (`outbox.keep_acked_s`);
the collector sees the hole in a node's seq numbers and asks for it on `P/node/{node}/replay` (QoS 1, never
retained). The node re-publishes what it still has, with the original id, ts and seq; consumers are idempotent
on `id`. The payload: `{"v": 1, "first_seq": 120, "last_seq": 180}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from edge.contract.payloads import SCHEMA_VERSION, decode_json_object
from edge.errors import PayloadError

MAX_REPLAY_BYTES = 256
MAX_REPLAY_SPAN = 10_000
"""At most this many seq numbers per request: a bounded amount of work for a node per message."""


@dataclass(frozen=True)
class ReplayRequest:
    """Publish again the events first_seq..last_seq (inclusive) that are still kept."""

    first_seq: int
    last_seq: int

    def __post_init__(self) -> None:
        if not 1 <= self.first_seq <= self.last_seq:
            raise ValueError(f"bad seq range {self.first_seq}..{self.last_seq}")
        if self.last_seq - self.first_seq + 1 > MAX_REPLAY_SPAN:
            raise ValueError(f"a request spans at most {MAX_REPLAY_SPAN} seq numbers")

    def encode(self) -> bytes:
        """The wire form."""
        body = {"v": SCHEMA_VERSION, "first_seq": self.first_seq, "last_seq": self.last_seq}
        return json.dumps(body, separators=(",", ":")).encode("ascii")


def decode_replay(raw: bytes) -> ReplayRequest:
    """Parse a replay request; PayloadError with a counted reason for anything else."""
    data = decode_json_object(raw, MAX_REPLAY_BYTES)
    if data.get("v") != SCHEMA_VERSION:
        raise PayloadError("unknown_version", str(data.get("v"))[:20])
    if set(data) != {"v", "first_seq", "last_seq"}:
        raise PayloadError("malformed", "expected exactly v, first_seq and last_seq")
    first, last = data["first_seq"], data["last_seq"]
    if not all(type(value) is int for value in (first, last)):
        raise PayloadError("malformed", "seq numbers must be integers")
    try:
        return ReplayRequest(first, last)
    except ValueError as exc:
        raise PayloadError("malformed", str(exc)) from None
