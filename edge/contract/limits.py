"""How large an MQTT packet may be: the site broker's limit and the limit each kind of client announces.

The broker refuses any packet above `LARGE_PACKET_BYTES` (Mosquitto's `max_packet_size`, set by the edge_broker
role to the same number) and disconnects whoever sends one. Each client also announces an MQTT 5 Maximum Packet
Size when it connects, and the broker never sends it anything larger: a client that reads the signed member
snapshot (a door, the staff tools, the console) announces the broker's limit; every other daemon receives only
events, node statuses and replay requests, and announces `SMALL_PACKET_BYTES`, so a huge retained message is never
even read.
Sizes are of the whole packet (header, topic, properties and payload); see docs/security.md for the numbers.
"""

from __future__ import annotations

from edge.contract.payloads import MAX_EVENT_BYTES

LARGE_PACKET_BYTES = 8 * 1024 * 1024
"""The largest packet on a site: fits a signed snapshot of ~80,000 members (10,000 take 1.0 MiB)."""

SMALL_PACKET_BYTES = 4 * MAX_EVENT_BYTES
"""What a daemon that reads no snapshot accepts: an event (at most MAX_EVENT_BYTES) with room to spare."""

SNAPSHOT_READERS = frozenset({"door", "staff", "console"})
"""The clients that receive the member snapshot on P/members."""


def default_max_packet_size(client: str) -> int:
    """The Maximum Packet Size a kind of client (door, badge, presence, collector, staff ...) announces."""
    return LARGE_PACKET_BYTES if client in SNAPSHOT_READERS else SMALL_PACKET_BYTES


def publish_packet_size(topic: str, payload_bytes: int) -> int:
    """The size of an MQTT 5 PUBLISH at QoS 1 without properties (what edge clients send): header, topic, payload."""
    remaining = 2 + len(topic.encode()) + 2 + 1 + payload_bytes  # topic, packet id, empty properties, payload
    return 1 + _varint_bytes(remaining) + remaining


def largest_payload(topic: str, max_packet_bytes: int) -> int:
    """The most payload bytes a message on `topic` may carry in a packet of at most `max_packet_bytes`."""
    payload = max(0, max_packet_bytes - publish_packet_size(topic, 0))
    while payload > 0 and publish_packet_size(topic, payload) > max_packet_bytes:
        payload -= 1
    return payload


def _varint_bytes(value: int) -> int:
    return 1 if value < 128 else 2 if value < 16_384 else 3 if value < 2_097_152 else 4
