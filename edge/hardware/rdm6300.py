"""RDM6300-family 125 kHz readers: 9600 8N1 frames `STX, 10 hex data, 2 hex XOR checksum, ETX`.

The parser is pure and incremental: it takes whatever chunk the UART delivered, never raises, restarts at
every STX (so garbage or a cut frame costs at most that frame), and drops frames whose checksum is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.clock import Clock
from edge.hardware.readers import FaultCallback, ReaderHealth, ScanCallback
from edge.hardware.serial_port import SerialReader
from edge.hardware.uid import uid_from_bytes

STX = 0x02
ETX = 0x03
PAYLOAD_CHARS = 12  # 10 hex digits of data + 2 of checksum
FRAME_LEN = PAYLOAD_CHARS + 2
_HEX_DIGITS = frozenset(b"0123456789ABCDEFabcdef")


@dataclass(frozen=True)
class Rdm6300Frame:
    """A frame whose checksum matched: 5 data bytes (version/customer byte, then the 4-byte tag ID)."""

    data: bytes
    checksum: int

    @property
    def card_number(self) -> int:
        """The number usually printed on the fob: data bytes 2-5 as a 32-bit integer."""
        return int.from_bytes(self.data[1:], "big")


def checksum(data: bytes) -> int:
    """XOR of the data bytes, as the reader computes it."""
    value = 0
    for byte in data:
        value ^= byte
    return value


def encode_frame(data: bytes, check: int | None = None) -> bytes:
    """Build the 14-byte frame for 5 data bytes (a wrong `check` can be forced, for tests and simulators)."""
    if len(data) != 5:
        raise ValueError("an RDM6300 frame carries 5 data bytes")
    value = checksum(data) if check is None else check
    return bytes([STX]) + data.hex().upper().encode() + f"{value:02X}".encode() + bytes([ETX])


class Rdm6300Parser:
    """Incremental frame parser; counts into `health` (frames_ok, bad_checksum, garbage_bytes, resyncs).

    `resyncs` counts how often the parser found a frame start again after having to throw bytes away.
    """

    def __init__(self, health: ReaderHealth | None = None, *, include_version_byte: bool = True) -> None:
        self.health = health if health is not None else ReaderHealth()
        self.include_version_byte = include_version_byte
        self._buf = bytearray()
        self._in_frame = False
        self._lost_sync = False

    def reset(self) -> None:
        """Drop a partial frame (the port was reopened); its bytes count as garbage."""
        if self._in_frame:
            self._discard(1)

    def feed(self, data: bytes) -> list[str]:
        """Consume received bytes; return the normalised UIDs of the valid frames they completed."""
        return [self.uid(frame) for frame in self.feed_frames(data)]

    def uid(self, frame: Rdm6300Frame) -> str:
        """The UID reported for a frame: all 5 bytes, or only the 4 tag bytes if so configured."""
        return uid_from_bytes(frame.data if self.include_version_byte else frame.data[1:])

    def feed_frames(self, data: bytes) -> list[Rdm6300Frame]:
        """Consume received bytes; return the valid frames they completed."""
        frames: list[Rdm6300Frame] = []
        for byte in data:
            if byte == STX:
                if self._in_frame:
                    self._discard(1)  # the STX opening the cut frame
                self._start()
            elif not self._in_frame:
                self.health.garbage_bytes += 1
                self._lost_sync = True
            elif len(self._buf) < PAYLOAD_CHARS:
                if byte in _HEX_DIGITS:
                    self._buf.append(byte)
                else:
                    self._discard(2)  # STX and this byte
            elif byte == ETX:
                frame = self._finish()
                if frame is not None:
                    frames.append(frame)
            else:
                self._discard(2)
        return frames

    def _start(self) -> None:
        if self._lost_sync:
            self.health.resyncs += 1
            self._lost_sync = False
        self._buf.clear()
        self._in_frame = True

    def _discard(self, extra: int) -> None:
        self.health.garbage_bytes += len(self._buf) + extra
        self._buf.clear()
        self._in_frame = False
        self._lost_sync = True

    def _finish(self) -> Rdm6300Frame | None:
        raw = bytes.fromhex(self._buf.decode("ascii"))
        self._buf.clear()
        self._in_frame = False
        data, check = raw[:5], raw[5]
        if checksum(data) != check:
            self.health.bad_checksum += 1
            return None
        self.health.frames_ok += 1
        return Rdm6300Frame(data, check)


class Rdm6300Reader(SerialReader):
    """An RDM6300-style reader on a serial port (9600 8N1)."""

    kind = "rdm6300"

    def __init__(
        self,
        name: str,
        port: str,
        *,
        include_version_byte: bool = True,
        read_timeout_s: float = 0.5,
        reopen_min_s: float = 0.5,
        reopen_max_s: float = 10.0,
        rearm_s: float = 1.0,
        on_scan: ScanCallback | None = None,
        on_fault: FaultCallback | None = None,
        clock: Clock | None = None,
    ) -> None:
        health = ReaderHealth()
        super().__init__(
            name,
            port,
            Rdm6300Parser(health, include_version_byte=include_version_byte),
            baudrate=9600,
            read_timeout_s=read_timeout_s,
            reopen_min_s=reopen_min_s,
            reopen_max_s=reopen_max_s,
            rearm_s=rearm_s,
            on_scan=on_scan,
            on_fault=on_fault,
            clock=clock,
            health=health,
        )
