"""The collector's socket: it takes the broker's PUBLISH packets itself, a chunk of the stream at a time.

paho handles a message in about 50 µs of Python (four `recv` calls, a packet dictionary, a `Properties` object,
an `MQTTMessage`, the callback machinery) and an acknowledgement in a few more (one `send` per PUBACK). That is
the whole of one core's budget at the collector's ceiling, and the collector shares the interpreter with its
store, so the store's work came on top of paho's: 0.38-0.52 of the bare paho rate (docs/benchmarks.md). The tap
sits between paho and the broker (paho's socket is a `PublishTap`): it reads up to `CHUNK` bytes per call, splits
them into packets, parses each incoming PUBLISH of QoS 0 or 1 into a `Publish` (topic, payload, packet id) in a
few µs, and writes the acknowledgements of a whole store batch in one `send`.

Everything else stays paho's: connecting (TLS, credentials, properties), subscribing, keepalive pings, our own
publishes, QoS 2, disconnecting and reconnecting. Every packet that is not an incoming QoS 0/1 PUBLISH reaches
paho unchanged and in stream order through `recv`, and the reader lets paho handle it before it takes the next
packet (a CONNACK must be paho's before the messages that follow it are counted as the new connection's).

Outgoing bytes, paho's and the acknowledgements, share one ordered buffer (`send` never splits a packet of paho's
between two writers), bounded at `OUT_LIMIT`: beyond it paho's writes wait (paho retries them). A stream that
breaks the framing (a remaining length over four bytes, a PUBLISH too short for its own fields) ends the
connection as paho would: `recv` raises, paho reports the connection lost, the broker resends what was not
acknowledged. Properties of an incoming PUBLISH are skipped: the collector reads none, and a broker sends no
topic alias to a client that announced no Topic Alias Maximum (MQTT 5, 3.2.2.3.8).
"""

from __future__ import annotations

import ssl
import struct
from collections.abc import Sequence
from typing import Any, NamedTuple

CHUNK = 256 * 1024  # bytes read per `fill`: about a thousand desk events
OUT_LIMIT = 1 << 20  # unsent bytes beyond which paho's writes wait

PUBLISH = 3
_PUBACK = struct.Struct(">BBH")


class Publish(NamedTuple):
    """An incoming PUBLISH: what the collector stores and what its acknowledgement needs."""

    topic: str
    payload: bytes
    mid: int  # 0 for QoS 0
    qos: int


class FrameError(ValueError):
    """The broker's byte stream is not MQTT: the connection must end."""


def variable_int(buf: bytes | bytearray, pos: int) -> tuple[int, int] | None:
    """MQTT's Variable Byte Integer at `pos` and the position after it; None if `buf` ends inside it."""
    value = 0
    for i in range(4):
        if pos + i >= len(buf):
            return None
        byte = buf[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, pos + i + 1
    raise FrameError("variable byte integer longer than four bytes")


def packet_bounds(buf: bytes | bytearray, start: int) -> tuple[int, int] | None:
    """(where the packet starting at `start` has its variable header, where it ends), or None if incomplete."""
    length = variable_int(buf, start + 1)
    if length is None:
        return None
    body_start = length[1]
    end = body_start + length[0]
    return (body_start, end) if end <= len(buf) else None


def parse_publish(command: int, body: bytes, *, v5: bool) -> Publish:
    """The PUBLISH whose fixed header's first byte is `command` and whose remaining bytes are `body`."""
    qos = (command >> 1) & 0x03
    if qos == 3:
        raise FrameError("PUBLISH with QoS 3")
    if len(body) < 2:
        raise FrameError("PUBLISH shorter than its topic length")
    topic_end = 2 + ((body[0] << 8) | body[1])
    pos = topic_end
    mid = 0
    if qos:
        mid = (body[pos] << 8) | body[pos + 1] if pos + 2 <= len(body) else -1
        pos += 2
    if v5:
        props = variable_int(body, pos)
        if props is None:
            raise FrameError("PUBLISH shorter than its properties")
        pos = props[1] + props[0]
    if pos > len(body) or mid < 0 or (qos and mid == 0):
        raise FrameError("PUBLISH shorter than its fields or without a packet id")
    # Mosquitto refuses a topic that is not UTF-8; should one come anyway, it is stored as an unknown topic (and
    # acknowledged) rather than dropping the connection, which would bring the same message back for ever.
    topic = body[2:topic_end].decode("utf-8", "replace")
    return Publish(topic, bytes(body[pos:]), mid, qos)


def pubacks(mids: Sequence[int]) -> bytes:
    """PUBACK packets (success, no reason code or properties: valid in MQTT 3.1.1 and 5) for these packet ids."""
    pack = _PUBACK.pack
    return b"".join([pack(0x40, 2, mid) for mid in mids])


class PublishTap:
    """paho's socket for the collector: incoming QoS 0/1 PUBLISH packets are taken here, everything else is paho's.

    The I/O thread calls `fill` when the socket is readable, then `take` until it returns nothing, running paho's
    `loop_read` whenever `take` says a packet waits for paho. Only that thread may call any method.
    """

    def __init__(self, sock: Any, *, v5: bool) -> None:
        self._sock = sock
        self._v5 = v5
        self._in = bytearray()  # read, not yet split into packets
        self._start = 0  # where the next packet of `_in` starts
        self._for_paho = bytearray()  # packets paho has yet to read
        self._out = bytearray()  # bytes written by paho or acknowledgements, not yet accepted by the kernel
        self._error: OSError | None = None  # the connection failed: paho learns it from `recv`
        self._ended = False  # the broker closed the connection

    # -- the reader's side ---------------------------------------------------------------------------------------

    def fill(self) -> bool:
        """Read what the socket has (up to CHUNK bytes); False once the connection has ended or failed."""
        if self._error is not None or self._ended:
            return False
        try:
            data = self._sock.recv(CHUNK)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return True
        except OSError as exc:
            self._error = exc
            return False
        if not data:
            self._ended = True
            return False
        if self._start:
            del self._in[: self._start]
            self._start = 0
        self._in += data
        return True

    def take(self, most: int) -> tuple[list[Publish], bool]:
        """Up to `most` publishes in stream order, stopping early at a packet for paho (then True: run paho)."""
        taken: list[Publish] = []
        buf, v5 = self._in, self._v5
        while len(taken) < most and self._error is None:
            start = self._start
            if start >= len(buf):
                break
            try:
                bounds = packet_bounds(buf, start)
                if bounds is None:
                    break
                body_start, end = bounds
                command = buf[start]
                if command >> 4 == PUBLISH and (command >> 1) & 0x03 != 2:  # QoS 0, 1 (or 3: refused)
                    taken.append(parse_publish(command, bytes(buf[body_start:end]), v5=v5))
                    self._start = end
                    continue
            except FrameError as exc:
                self._error = ConnectionError(f"malformed packet from the broker: {exc}")
                break
            self._for_paho += buf[start:end]
            self._start = end
            return taken, True
        return taken, False

    def serves(self, client: Any) -> bool:
        """Whether this is the paho client's socket now (a reconnection makes another)."""
        return client.socket() is self

    @property
    def broken(self) -> bool:
        """The connection ended or failed (or its stream broke MQTT's framing): paho's `recv` will say so."""
        return self._error is not None or self._ended

    def for_paho(self) -> int:
        """Bytes of packets paho has yet to read (run its `loop_read` until this is 0)."""
        return len(self._for_paho)

    def ack(self, mids: Sequence[int]) -> None:
        """Acknowledge QoS 1 publishes of this connection (one write for all of them)."""
        self._out += pubacks(mids)
        self.flush()

    def unsent(self) -> int:
        """Bytes waiting for the socket to accept them (select it for writing while this is not 0)."""
        return len(self._out)

    def flush(self) -> None:
        """Write what the kernel accepts now."""
        while self._out and self._error is None:
            try:
                sent = self._sock.send(self._out[:65536])
            except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                return
            except OSError as exc:
                self._error = exc
                return
            del self._out[:sent]

    # -- paho's side ---------------------------------------------------------------------------------------------

    def recv(self, size: int) -> bytes:
        """paho reads the packets `take` left for it; then the end of the connection, or nothing (would block)."""
        if self._for_paho:
            data = bytes(self._for_paho[:size])
            del self._for_paho[:size]
            return data
        if self._error is not None:
            raise self._error
        if self._ended:
            return b""
        raise BlockingIOError

    def send(self, data: bytes | bytearray | memoryview) -> int:
        """paho writes a packet: queued whole behind what waits, then written as far as the kernel takes it."""
        if self._error is not None:
            raise self._error
        if len(self._out) >= OUT_LIMIT:
            raise BlockingIOError
        self._out += data
        self.flush()
        return len(data)

    def pending(self) -> int:
        """Bytes read that paho or `take` can use without waiting for the socket (like `ssl.SSLSocket.pending`)."""
        waiting = len(self._for_paho)
        inner = getattr(self._sock, "pending", None)
        if inner is not None:
            waiting += inner()
        if self._start < len(self._in):
            try:
                waiting += packet_bounds(self._in, self._start) is not None
            except FrameError:
                waiting += 1  # `take` will find it and end the connection
        return waiting

    def fileno(self) -> int:
        """The socket's descriptor, for select."""
        return int(self._sock.fileno())

    def setblocking(self, flag: bool) -> None:
        """As `socket.setblocking`."""
        self._sock.setblocking(flag)

    def close(self) -> None:
        """Write what waits if the kernel takes it at once (a DISCONNECT), then close."""
        self.flush()
        self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)
