"""HLK-LD2410 mmWave radar serial protocol: an incremental frame parser that never raises, and frame encoders.

Report frames (radar -> host)::

    F4 F3 F2 F1 | len u16 LE | type (02 basic, 01 eng.) | AA | target data | [gate data] | 55 | check | F8 F7 F6 F5

Target data is 9 bytes: target state (0 none, 1 moving, 2 still, 3 both), moving distance u16 cm, moving
energy u8, still distance u16 cm, still energy u8, detection distance u16 cm. Engineering frames add the last
moving and still gate numbers N and M, N+1 moving and M+1 still gate energies and optional extra bytes
(light level and OUT pin on the LD2410B/C).

Command and acknowledgement frames (both directions) are ``FD FC FB FA | len | command u16 LE | value | 04 03 02 01``;
an acknowledgement's command word has bit 0x0100 set and its value starts with a u16 status (0 = success).
"""

from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass
from enum import IntEnum

REPORT_HEADER = b"\xf4\xf3\xf2\xf1"
REPORT_FOOTER = b"\xf8\xf7\xf6\xf5"
COMMAND_HEADER = b"\xfd\xfc\xfb\xfa"
COMMAND_FOOTER = b"\x04\x03\x02\x01"

BAUDRATE = 256_000
GATE_CM = 75
MAX_GATE = 8
# The longest legitimate frame body is an acknowledgement of "read parameters" (28 bytes); a larger length
# field is garbage that happens to follow a header, and waiting for that many bytes would stall resync.
MAX_BODY = 64

TYPE_ENGINEERING = 0x01
TYPE_BASIC = 0x02
_HEAD = 0xAA
_TAIL = 0x55
_TARGET = struct.Struct("<BHBHBH")

CMD_ENABLE_CONFIG = 0x00FF
CMD_END_CONFIG = 0x00FE
CMD_ENABLE_ENGINEERING = 0x0062
CMD_DISABLE_ENGINEERING = 0x0063
ACK_BIT = 0x0100


class TargetState(IntEnum):
    """What the radar reports seeing."""

    NONE = 0
    MOVING = 1
    STILL = 2
    BOTH = 3

    @property
    def moving(self) -> bool:
        """A moving target is reported."""
        return bool(self & TargetState.MOVING)

    @property
    def still(self) -> bool:
        """A still (stationary) target is reported."""
        return bool(self & TargetState.STILL)


@dataclass(frozen=True, slots=True)
class RadarReading:
    """One report frame, decoded: target state, distances in cm, energies 0-100, and gate energies if any."""

    target: TargetState
    moving_distance_cm: int
    moving_energy: int
    still_distance_cm: int
    still_energy: int
    detection_distance_cm: int
    moving_gates: tuple[int, ...] = ()
    still_gates: tuple[int, ...] = ()
    extra: bytes = b""

    @property
    def engineering(self) -> bool:
        """The frame came from engineering mode (carries per-gate energies)."""
        return bool(self.moving_gates or self.still_gates)


@dataclass(frozen=True, slots=True)
class CommandFrame:
    """A command (host -> radar) or an acknowledgement (radar -> host)."""

    command: int
    value: bytes = b""

    @property
    def is_ack(self) -> bool:
        """This is the radar's answer to a command."""
        return bool(self.command & ACK_BIT)

    @property
    def status(self) -> int | None:
        """An acknowledgement's status word (0 = success); None for a command or a short value."""
        if not self.is_ack or len(self.value) < 2:
            return None
        status: int = struct.unpack_from("<H", self.value)[0]
        return status


Frame = RadarReading | CommandFrame


class FrameParser:
    """Turn a byte stream into frames; resynchronise on garbage; count every problem; never raise.

    Feed it whatever the port returned (any split, any garbage); it keeps at most one frame's worth of
    unconsumed bytes. Problems are counted in `errors` by a short label.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.frames = 0
        self.discarded_bytes = 0
        self.errors: Counter[str] = Counter()

    def feed(self, data: bytes) -> list[Frame]:
        """Consume `data` and return the complete frames it finished, oldest first."""
        self._buf += data
        out: list[Frame] = []
        while True:
            start = _find_header(self._buf)
            if start < 0:
                self._discard(max(0, len(self._buf) - 3))  # keep a possible header prefix
                return out
            if start:
                self._discard(start)
            if len(self._buf) < 6:
                return out
            length = self._buf[4] | (self._buf[5] << 8)
            if length > MAX_BODY:
                self._reject("bad_length")
                continue
            total = 6 + length + 4
            if len(self._buf) < total:
                return out
            report = self._buf[:4] == REPORT_HEADER
            footer = REPORT_FOOTER if report else COMMAND_FOOTER
            if self._buf[total - 4 : total] != footer:
                self._reject("bad_footer")
                continue
            body = bytes(self._buf[6 : 6 + length])
            del self._buf[:total]
            frame = _decode_report(body) if report else _decode_command(body)
            if isinstance(frame, str):
                self.errors[frame] += 1
            else:
                self.frames += 1
                out.append(frame)

    def _discard(self, count: int) -> None:
        if count:
            self.errors["garbage"] += 1
            self.discarded_bytes += count
            del self._buf[:count]

    def _reject(self, reason: str) -> None:
        # The header was a coincidence: skip its first byte and look for the next header.
        self.errors[reason] += 1
        self.discarded_bytes += 1
        del self._buf[:1]


def _find_header(buf: bytearray) -> int:
    report = buf.find(REPORT_HEADER)
    command = buf.find(COMMAND_HEADER)
    if report < 0:
        return command
    if command < 0:
        return report
    return min(report, command)


def _decode_report(body: bytes) -> RadarReading | str:
    """Decode a report body, or return the label of what is wrong with it."""
    if len(body) < 13:
        return "short_report"
    kind = body[0]
    if kind not in (TYPE_BASIC, TYPE_ENGINEERING):
        return "bad_type"
    if body[1] != _HEAD or body[-2] != _TAIL:
        return "bad_marker"
    state, moving_cm, moving_energy, still_cm, still_energy, detection_cm = _TARGET.unpack_from(body, 2)
    if state > TargetState.BOTH:
        return "bad_target"
    if kind == TYPE_BASIC:
        if len(body) != 13:
            return "bad_length"
        return RadarReading(TargetState(state), moving_cm, moving_energy, still_cm, still_energy, detection_cm)
    if len(body) < 15:
        return "short_report"
    last_moving, last_still = body[11], body[12]
    if last_moving > MAX_GATE or last_still > MAX_GATE:
        return "bad_gates"
    gates_end = 13 + last_moving + 1 + last_still + 1
    if gates_end > len(body) - 2:
        return "bad_length"
    moving = tuple(body[13 : 13 + last_moving + 1])
    still = tuple(body[13 + last_moving + 1 : gates_end])
    return RadarReading(
        TargetState(state),
        moving_cm,
        moving_energy,
        still_cm,
        still_energy,
        detection_cm,
        moving,
        still,
        body[gates_end:-2],
    )


def _decode_command(body: bytes) -> CommandFrame | str:
    if len(body) < 2:
        return "short_command"
    return CommandFrame(body[0] | (body[1] << 8), body[2:])


def encode_command(command: int, value: bytes = b"") -> bytes:
    """Encode a command or acknowledgement frame."""
    body = struct.pack("<H", command) + value
    return COMMAND_HEADER + struct.pack("<H", len(body)) + body + COMMAND_FOOTER


def encode_ack(command: int, status: int = 0, value: bytes = b"") -> bytes:
    """Encode the radar's acknowledgement of `command` (what the simulator answers)."""
    return encode_command(command | ACK_BIT, struct.pack("<H", status) + value)


def enable_engineering_commands() -> list[bytes]:
    """The command sequence that switches a radar to engineering reports (config mode in, switch, out)."""
    return [
        encode_command(CMD_ENABLE_CONFIG, b"\x01\x00"),
        encode_command(CMD_ENABLE_ENGINEERING),
        encode_command(CMD_END_CONFIG),
    ]


def disable_engineering_commands() -> list[bytes]:
    """The command sequence that switches a radar back to basic reports."""
    return [
        encode_command(CMD_ENABLE_CONFIG, b"\x01\x00"),
        encode_command(CMD_DISABLE_ENGINEERING),
        encode_command(CMD_END_CONFIG),
    ]


def encode_report(reading: RadarReading) -> bytes:
    """Encode a reading as the radar would send it (engineering frame when it has gate energies)."""
    target = _TARGET.pack(
        int(reading.target),
        reading.moving_distance_cm,
        reading.moving_energy,
        reading.still_distance_cm,
        reading.still_energy,
        reading.detection_distance_cm,
    )
    if reading.engineering:
        if not reading.moving_gates or not reading.still_gates:
            raise ValueError("an engineering reading needs both moving and still gate energies")
        gates = bytes([len(reading.moving_gates) - 1, len(reading.still_gates) - 1])
        gates += bytes(reading.moving_gates) + bytes(reading.still_gates) + reading.extra
        body = bytes([TYPE_ENGINEERING, _HEAD]) + target + gates + bytes([_TAIL, 0])
    else:
        body = bytes([TYPE_BASIC, _HEAD]) + target + bytes([_TAIL, 0])
    return REPORT_HEADER + struct.pack("<H", len(body)) + body + REPORT_FOOTER
