"""The tap (edge/bus/tap.py): the collector's socket takes incoming messages itself and leaves paho the rest.

Framing on a real socket pair, with packets written by this file from the MQTT specification; then the collector's
link through the tap against a real Mosquitto, in plain TCP and in TLS.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion

from edge.bus.session import make_client
from edge.bus.tap import OUT_LIMIT, Publish, PublishTap
from edge.collector.link import Inbound, Link
from edge.config import MqttConfig, TlsConfig
from edge.metrics import Counters
from tests.node_files_support import client_pair
from tests.rig.servers import Mosquitto
from tests.rig.waiting import wait_until

PINGRESP = b"\xd0\x00"
SUBACK = b"\x90\x04\x00\x07\x00\x01"  # MQTT 5: packet id 7, no properties, granted QoS 1
CONNACK = b"\x20\x03\x00\x00\x00"


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        n, byte = divmod(n, 128)
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def publish_packet(
    topic: bytes, payload: bytes, *, qos: int, mid: int, props: bytes | None, dup: bool = False, retain: bool = False
) -> bytes:
    """A PUBLISH as MQTT 3.1.1 (props None) or 5 lays it out (sections 3.3.1-3.3.3)."""
    head = struct.pack(">H", len(topic)) + topic
    if qos:
        head += struct.pack(">H", mid)
    if props is not None:
        head += varint(len(props)) + props
    body = head + payload
    return bytes([0x30 | dup << 3 | qos << 1 | retain]) + varint(len(body)) + body


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, broker = socket.socketpair()
    ours.setblocking(False)
    yield ours, broker
    ours.close()
    broker.close()


def tapped(pair: tuple[socket.socket, socket.socket], *, v5: bool) -> tuple[PublishTap, socket.socket]:
    """The tap on our end of the pair, and the broker's end."""
    return PublishTap(pair[0], v5=v5), pair[1]


def drain(tap: PublishTap) -> list[Publish | bytes]:
    """What the I/O thread sees: publishes from `take`, and the bytes paho reads when `take` says so."""
    seen: list[Publish | bytes] = []
    while tap.fill():
        progressed = False
        while True:
            publishes, for_paho = tap.take(7)
            seen += publishes
            progressed = progressed or bool(publishes)
            if for_paho:
                seen.append(tap.recv(tap.for_paho()))
                progressed = True
            elif not publishes:
                break
        if not progressed:
            return seen
    return seen


topics = st.text(st.characters(codec="utf-8", exclude_characters="\x00#+"), min_size=1, max_size=40)
messages = st.tuples(
    topics,
    st.binary(max_size=300),
    st.sampled_from([0, 1]),
    st.integers(1, 65535),
    st.binary(max_size=20),
    st.booleans(),
    st.booleans(),
)
streams = st.lists(st.one_of(messages, st.sampled_from([PINGRESP, SUBACK])), max_size=25)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(stream=streams, v5=st.booleans(), cuts=st.lists(st.integers(1, 400), min_size=1, max_size=10))
def test_messages_cut_anywhere_in_the_stream_come_out_whole_in_order_and_other_packets_go_to_paho(
    pair: tuple[socket.socket, socket.socket], stream: list[Any], v5: bool, cuts: list[int]
) -> None:
    tap, broker = tapped(pair, v5=v5)
    wire = b""
    expected: list[Publish | bytes] = []
    for item in stream:
        if isinstance(item, bytes):
            wire += item
            expected.append(item)
            continue
        topic, payload, qos, mid, props, dup, retain = item
        wire += publish_packet(
            topic.encode(), payload, qos=qos, mid=mid, props=props if v5 else None, dup=dup, retain=retain
        )
        expected.append(Publish(topic, payload, mid if qos else 0, qos))
    seen: list[Publish | bytes] = []
    pos, turn = 0, 0
    while pos < len(wire):
        size = cuts[turn % len(cuts)]
        broker.sendall(wire[pos : pos + size])
        pos, turn = pos + size, turn + 1
        seen += drain(tap)
    assert seen == expected
    assert tap.pending() == 0


def test_reading_stops_at_a_packet_for_paho_so_paho_handles_it_before_the_messages_after_it(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    tap, broker = tapped(pair, v5=True)
    first = publish_packet(b"edge/s/desk/d1/occupancy", b"{}", qos=1, mid=1, props=b"")
    after = publish_packet(b"edge/s/desk/d2/occupancy", b"{}", qos=1, mid=1, props=b"")
    broker.sendall(first + CONNACK + after)
    assert tap.fill()
    publishes, for_paho = tap.take(100)
    assert [p.topic for p in publishes] == ["edge/s/desk/d1/occupancy"] and for_paho
    assert tap.recv(1) == CONNACK[:1]  # paho reads its packet byte by byte, as it does from a socket
    assert tap.recv(100) == CONNACK[1:]
    with pytest.raises(BlockingIOError):
        tap.recv(1)  # nothing more for paho: it returns to its loop
    assert tap.pending()  # the message after it waits, and select is told not to block
    assert tap.take(100) == ([Publish("edge/s/desk/d2/occupancy", b"{}", 1, 1)], False)


def test_a_qos_2_message_is_left_to_paho(pair: tuple[socket.socket, socket.socket]) -> None:
    tap, broker = tapped(pair, v5=False)
    packet = publish_packet(b"a/b", b"x", qos=2, mid=9, props=None)
    broker.sendall(packet)
    assert tap.fill()
    assert tap.take(10) == ([], True)
    assert tap.recv(len(packet)) == packet


def test_a_topic_that_is_not_utf8_is_delivered_for_quarantine_instead_of_ending_the_connection(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    tap, broker = tapped(pair, v5=True)
    broker.sendall(publish_packet(b"edge/\xff/x", b"p", qos=1, mid=3, props=b""))
    assert tap.fill()
    (message,), _ = tap.take(10)
    assert message.topic == "edge/\ufffd/x" and message.mid == 3


@pytest.mark.parametrize(
    "wire",
    [
        b"\x32\xff\xff\xff\xff\x01",  # a remaining length of five bytes
        b"\x32\x03\x00\x09ab",  # a topic longer than the packet
        b"\x32\x04\x00\x02ab",  # QoS 1 without its packet id
        b"\x32\x06\x00\x02ab\x00\x00",  # QoS 1 with packet id 0
        b"\x36\x04\x00\x02ab",  # QoS 3
    ],
)
def test_a_stream_that_breaks_the_framing_ends_the_connection_through_paho(
    pair: tuple[socket.socket, socket.socket], wire: bytes
) -> None:
    tap, broker = tapped(pair, v5=False)
    broker.sendall(wire)
    tap.fill()
    assert tap.take(10) == ([], False)
    with pytest.raises(ConnectionError, match="malformed packet from the broker"):
        tap.recv(1)  # paho counts it as the connection lost, and reconnects
    with pytest.raises(ConnectionError):
        tap.send(b"\xc0\x00")  # nothing more is written on a broken stream


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(wire=st.binary(min_size=1, max_size=600), v5=st.booleans())
def test_any_bytes_from_the_broker_give_messages_or_end_the_connection_and_never_raise_elsewhere(
    pair: tuple[socket.socket, socket.socket], wire: bytes, v5: bool
) -> None:
    tap, broker = tapped(pair, v5=v5)
    broker.sendall(wire)
    tap.fill()
    for _ in range(len(wire) + 1):
        publishes, for_paho = tap.take(50)
        assert all(isinstance(p, Publish) for p in publishes)
        if for_paho:
            tap.recv(tap.for_paho())
        elif not publishes:
            break
    with contextlib.suppress(BlockingIOError, ConnectionError):  # nothing for paho, or a broken stream: what paho
        tap.recv(1)  # expects of a socket; anything else would escape paho's handling


def test_acknowledgements_are_pubacks_written_after_what_paho_wrote_before(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    tap, broker = tapped(pair, v5=True)
    assert tap.send(b"\xc0\x00") == 2  # a PINGREQ of paho's
    tap.ack([1, 258, 65535])
    assert broker.recv(100) == b"\xc0\x00" + b"\x40\x02\x00\x01" + b"\x40\x02\x01\x02" + b"\x40\x02\xff\xff"
    assert tap.unsent() == 0


def test_a_broker_that_stops_reading_makes_paho_wait_instead_of_growing_memory(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    tap, broker = tapped(pair, v5=True)
    packet = b"\x30" + varint(65_000) + b"\x00\x01a" + b"x" * 64_997
    written = 0
    with pytest.raises(BlockingIOError):
        for _ in range(1000):
            written += tap.send(packet)
    assert OUT_LIMIT <= tap.unsent() < OUT_LIMIT + len(packet)
    received = 0
    broker.setblocking(False)
    while tap.unsent() or received < written:
        try:
            received += len(broker.recv(1 << 20))
        except BlockingIOError:
            tap.flush()
    assert received == written  # everything paho was told was written, in full


def test_the_end_of_the_connection_reaches_paho_after_the_packets_before_it(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    tap, broker = tapped(pair, v5=True)
    broker.sendall(PINGRESP)
    broker.shutdown(socket.SHUT_WR)
    assert tap.fill()
    assert tap.take(10) == ([], True)
    assert tap.recv(10) == PINGRESP
    assert not tap.fill()
    assert tap.recv(1) == b""  # paho: connection lost


def test_every_connection_of_a_wrapped_client_goes_through_the_wrapper(mosquitto: Mosquitto) -> None:
    wrapped: list[PublishTap] = []

    def wrap(sock: Any) -> PublishTap:
        wrapped.append(PublishTap(sock, v5=True))
        return wrapped[-1]

    client = make_client(MqttConfig(host="127.0.0.1", port=mosquitto.port), "tap-hook", wrap_socket=wrap)
    client.connect("127.0.0.1", mosquitto.port, 10)  # makes the socket and sends CONNECT through it
    try:
        assert len(wrapped) == 1 and client.socket() is wrapped[0]
        wrapped[0].setblocking(True)
        assert wrapped[0].fill() and wrapped[0].take(10) == ([], True)  # the broker's CONNACK, left to paho
        assert client.loop_read() == mqtt.MQTT_ERR_SUCCESS and client.is_connected()
    finally:
        client.disconnect()


# -- the collector's link through the tap, against Mosquitto ---------------------------------------------------


def publish_many(port: int, topic: str, payloads: list[bytes], qos: int, tls: dict[str, Any] | None = None) -> None:
    """Publish, and wait for the broker's acknowledgement of the last message at QoS 1 (so of all, in order)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    if tls is not None:
        client.tls_set(**tls)
    client.connect("127.0.0.1", port, 30)
    client.loop_start()
    try:
        infos = [client.publish(topic, payload, qos=qos) for payload in payloads]
        infos.append(client.publish(topic, b"end", qos=1))
        for info in infos:
            info.wait_for_publish(30)
    finally:
        client.disconnect()
        client.loop_stop()


class Collected:
    """A link that acknowledges each batch as it comes, as the collector does after its commit."""

    def __init__(self, config: MqttConfig, client_id: str = "edge-testsite-tap-collector") -> None:
        self.received: list[Inbound] = []
        self.counters = Counters()
        self.lock = threading.Lock()
        self.link = Link(
            config,
            client_id,
            subscriptions=["edge/testsite/#"],
            deliver=self.deliver,
            counters=self.counters,
            session_expiry_s=300,
            receive_maximum=20,
            batch_max=50,
        )

    def deliver(self, batch: list[Inbound]) -> None:
        with self.lock:
            self.received += batch
        for generation in {m.generation for m in batch}:
            self.link.ack(generation, [m.mid for m in batch if m.qos and m.generation == generation])

    def payloads(self) -> list[bytes]:
        with self.lock:
            return [m.payload for m in self.received]


def exchange(config: MqttConfig, port: int, tls: dict[str, Any] | None = None) -> None:
    """Queue messages for a persistent session, drain them, then show that the broker holds nothing unacknowledged."""
    first = Collected(config)
    first.link.start()
    assert first.link.wait_connected(10)
    first.link.stop()  # the session (and its subscription) stays on the broker
    sizes = [10, 3000, 20_000]  # several TLS records, and packets cut across reads
    queued = [f"{i:05d}".encode() * (sizes[i % 3] // 5) for i in range(600)]
    publish_many(port, "edge/testsite/desk/d1/occupancy", queued, qos=1, tls=tls)
    second = Collected(config)
    second.link.start()
    try:
        wait_until(lambda: len(second.payloads()) > len(queued), timeout=60, info=lambda: len(second.payloads()))
        publish_many(port, "edge/testsite/desk/d1/occupancy", [b"qos0"], qos=0, tls=tls)
        wait_until(lambda: second.payloads()[-1:] == [b"end"] and b"qos0" in second.payloads(), timeout=10)
        assert second.payloads() == [*queued, b"end", b"qos0", b"end"]
        wait_until(lambda: second.counters.get("acked") == len(queued) + 2, timeout=10)
    finally:
        second.link.stop()
    third = Collected(config)  # the same session again: a message left unacknowledged would be sent again first
    third.link.start()
    try:
        assert third.link.wait_connected(10)
        publish_many(port, "edge/testsite/desk/d1/occupancy", [b"marker"], qos=1, tls=tls)
        wait_until(lambda: len(third.payloads()) >= 2, timeout=10)
        assert third.payloads() == [b"marker", b"end"]
    finally:
        third.link.stop()


def test_the_collector_link_drains_a_queued_session_through_the_tap_once_and_acknowledges_it(
    mosquitto: Mosquitto,
) -> None:
    exchange(MqttConfig(host="127.0.0.1", port=mosquitto.port, reconnect_min_s=0.2, reconnect_max_s=1), mosquitto.port)


def test_the_collector_link_drains_a_queued_session_over_tls_through_the_tap(
    tls_broker: Mosquitto, tmp_path: Path
) -> None:
    cert, key = client_pair(tmp_path, name="collector")
    tls = TlsConfig(ca_file=tmp_path / "ca.crt", cert_file=cert, key_file=key)
    config = MqttConfig(host="127.0.0.1", port=tls_broker.port, tls=tls, reconnect_min_s=0.2, reconnect_max_s=1)
    publisher_tls = {"ca_certs": str(tmp_path / "ca.crt"), "certfile": str(cert), "keyfile": str(key)}
    exchange(config, tls_broker.port, tls=publisher_tls)  # the tap over an SSLSocket: `pending()` counts its bytes


def test_a_broker_whose_stream_breaks_the_framing_is_left_and_connected_to_again() -> None:
    # A hostile or broken peer on the broker's port: it accepts the session, then sends a packet that is not MQTT.
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def serve() -> None:
        for _ in range(2):
            conn, _ = listener.accept()
            accepted.append(conn)
            conn.recv(65536)  # CONNECT
            conn.sendall(CONNACK + publish_packet(b"edge/testsite/x", b"ok", qos=1, mid=1, props=b""))
            conn.sendall(b"\x32\xff\xff\xff\xff\x01")  # a remaining length of five bytes

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    config = MqttConfig(host="127.0.0.1", port=listener.getsockname()[1], reconnect_min_s=0.2, reconnect_max_s=1)
    collected = Collected(config)
    collected.link.start()
    try:
        wait_until(lambda: len(accepted) == 2, timeout=15, what="the link to connect again")
        wait_until(lambda: collected.payloads() == [b"ok", b"ok"], timeout=5, info=collected.payloads)
    finally:
        collected.link.stop()
        listener.close()
        for conn in accepted:
            conn.close()
