"""LD2410 frame parser: real frames, frames split across reads, garbage, bad frames counted, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.hardware.ld2410 import (
    CMD_ENABLE_CONFIG,
    CMD_ENABLE_ENGINEERING,
    CommandFrame,
    FrameParser,
    RadarReading,
    TargetState,
    enable_engineering_commands,
    encode_ack,
    encode_report,
)

# Frames as printed in the HLK-LD2410 serial protocol manual (basic and engineering examples) and frames
# captured from radars, quoted in the Tasmota LD2410 driver's comments.
MANUAL_BASIC = "F4 F3 F2 F1 0D 00 02 AA 02 51 00 00 00 00 3B 00 00 55 00 F8 F7 F6 F5"
MANUAL_ENGINEERING = (
    "F4 F3 F2 F1 23 00 01 AA 03 1E 00 3C 00 00 39 00 00 08 08 3C 22 05 03 03 04 03 06 05"
    " 00 00 39 10 13 06 06 08 04 03 05 55 00 F8 F7 F6 F5"
)
CAPTURED_NO_TARGET = "F4 F3 F2 F1 0D 00 02 AA 00 45 00 3E 00 00 3A 00 00 55 00 F8 F7 F6 F5"
CAPTURED_BOTH = "F4 F3 F2 F1 0D 00 02 AA 03 2A 00 64 00 00 64 00 00 55 00 F8 F7 F6 F5"
CAPTURED_ENGINEERING_LD2410B = (
    "F4 F3 F2 F1 23 00 01 AA 00 1E 00 00 1E 00 0D 00 00 08 08 13 0E 07 02 05 07 03 04 05"
    " 00 00 0D 06 05 05 05 05 05 62 00 55 00 F8 F7 F6 F5"
)
MANUAL_CONFIG_ACK = "FD FC FB FA 08 00 FF 01 00 00 01 00 40 00 04 03 02 01"


def _hex(text: str) -> bytes:
    return bytes.fromhex(text)


REAL_FRAMES = {
    "manual basic: still target": (
        MANUAL_BASIC,
        RadarReading(TargetState.STILL, 81, 0, 0, 59, 0),
    ),
    "manual engineering: both targets, 9+9 gates": (
        MANUAL_ENGINEERING,
        RadarReading(
            TargetState.BOTH,
            30,
            60,
            0,
            57,
            0,
            (0x3C, 0x22, 5, 3, 3, 4, 3, 6, 5),
            (0, 0, 0x39, 0x10, 0x13, 6, 6, 8, 4),
            b"\x03\x05",
        ),
    ),
    "captured: no target with noise energies": (
        CAPTURED_NO_TARGET,
        RadarReading(TargetState.NONE, 69, 62, 0, 58, 0),
    ),
    "captured: moving and still": (CAPTURED_BOTH, RadarReading(TargetState.BOTH, 42, 100, 0, 100, 0)),
    "captured engineering LD2410B: light and OUT pin bytes": (
        CAPTURED_ENGINEERING_LD2410B,
        RadarReading(
            TargetState.NONE,
            30,
            0,
            30,
            13,
            0,
            (0x13, 0x0E, 7, 2, 5, 7, 3, 4, 5),
            (0, 0, 0x0D, 6, 5, 5, 5, 5, 5),
            b"\x62\x00",
        ),
    ),
}


@pytest.mark.parametrize(("frame", "expected"), REAL_FRAMES.values(), ids=REAL_FRAMES.keys())
def test_real_report_frames_decode(frame, expected):
    parser = FrameParser()
    assert parser.feed(_hex(frame)) == [expected]
    assert (parser.frames, sum(parser.errors.values())) == (1, 0)


@pytest.mark.parametrize(("frame", "expected"), REAL_FRAMES.values(), ids=REAL_FRAMES.keys())
def test_encoder_reproduces_real_frames_byte_for_byte(frame, expected):
    assert encode_report(expected) == _hex(frame)


def test_engineering_flag_follows_gate_data():
    parser = FrameParser()
    basic, engineering = parser.feed(_hex(MANUAL_BASIC) + _hex(MANUAL_ENGINEERING))
    assert (basic.engineering, engineering.engineering) == (False, True)


def test_config_acknowledgement_is_a_command_frame_with_status():
    (ack,) = FrameParser().feed(_hex(MANUAL_CONFIG_ACK))
    assert ack == CommandFrame(CMD_ENABLE_CONFIG | 0x0100, _hex("00 00 01 00 40 00"))
    assert (ack.is_ack, ack.status) == (True, 0)


def test_commands_encode_as_the_manual_shows():
    assert [c.hex(" ").upper() for c in enable_engineering_commands()] == [
        "FD FC FB FA 04 00 FF 00 01 00 04 03 02 01",
        "FD FC FB FA 02 00 62 00 04 03 02 01",
        "FD FC FB FA 02 00 FE 00 04 03 02 01",
    ]


def test_ack_encoder_round_trips():
    (ack,) = FrameParser().feed(encode_ack(CMD_ENABLE_ENGINEERING))
    assert (ack.command, ack.status, ack.is_ack) == (0x0162, 0, True)


@pytest.mark.parametrize("cut", range(1, len(_hex(MANUAL_ENGINEERING))))
def test_a_frame_split_at_any_byte_decodes_once(cut):
    data = _hex(MANUAL_ENGINEERING)
    parser = FrameParser()
    assert parser.feed(data[:cut]) == []
    assert parser.feed(data[cut:]) == [REAL_FRAMES["manual engineering: both targets, 9+9 gates"][1]]


def test_byte_by_byte_feeding_decodes_every_frame():
    data = _hex(MANUAL_BASIC) + _hex(MANUAL_CONFIG_ACK) + _hex(CAPTURED_BOTH)
    parser = FrameParser()
    frames = [f for b in data for f in parser.feed(bytes([b]))]
    assert [type(f).__name__ for f in frames] == ["RadarReading", "CommandFrame", "RadarReading"]


BAD_INPUT = {
    "leading garbage is discarded": ("00 11 22 33" + " " + MANUAL_BASIC, 1, {"garbage": 1}),
    "a partial header in garbage is skipped": ("F4 F3 F2 " + MANUAL_BASIC, 1, {"garbage": 1}),
    "a corrupt footer is refused and the next frame found": (
        MANUAL_BASIC[:-2] + "00 " + MANUAL_BASIC,
        1,
        {"bad_footer": 1, "garbage": 1},
    ),
    "an absurd length is refused without waiting for it": (
        "F4 F3 F2 F1 FF 7F " + MANUAL_BASIC,
        1,
        {"bad_length": 1, "garbage": 1},
    ),
    "an unknown report type is counted": (MANUAL_BASIC.replace("0D 00 02 AA", "0D 00 07 AA"), 0, {"bad_type": 1}),
    "a missing 0xAA head is counted": (MANUAL_BASIC.replace("0D 00 02 AA", "0D 00 02 AB"), 0, {"bad_marker": 1}),
    "a missing 0x55 tail is counted": (MANUAL_BASIC.replace("55 00 F8", "54 00 F8"), 0, {"bad_marker": 1}),
    "an impossible target state is counted": (MANUAL_BASIC.replace("02 AA 02", "02 AA 07"), 0, {"bad_target": 1}),
    "a basic frame of the wrong length is counted": (
        "F4 F3 F2 F1 0E 00 02 AA 02 51 00 00 00 00 3B 00 00 00 55 00 F8 F7 F6 F5",
        0,
        {"bad_length": 1},
    ),
    "more than 9 gates is counted": (MANUAL_ENGINEERING.replace("08 08 3C", "09 08 3C"), 0, {"bad_gates": 1}),
    "gate counts longer than the frame are counted": (
        "F4 F3 F2 F1 17 00 01 AA 03 1E 00 3C 00 00 39 00 00 08 08 3C 22 05 03 03 04 03 06 55 00 F8 F7 F6 F5",
        0,
        {"bad_length": 1},
    ),
    "a short report is counted": ("F4 F3 F2 F1 02 00 02 AA F8 F7 F6 F5", 0, {"short_report": 1}),
    "a short command is counted": ("FD FC FB FA 01 00 FF 04 03 02 01", 0, {"short_command": 1}),
}


@pytest.mark.parametrize(("data", "frames", "errors"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_counted_and_never_raises(data, frames, errors):
    parser = FrameParser()
    out = parser.feed(_hex(data))
    assert (len(out), dict(parser.errors)) == (frames, errors)


def test_garbage_without_header_keeps_at_most_three_bytes():
    parser = FrameParser()
    parser.feed(b"\x00" * 10_000)
    assert parser.discarded_bytes == 10_000 - 3
    assert parser.feed(b"\x00" + _hex(MANUAL_BASIC)) != []


def _readings():
    gates = st.lists(st.integers(0, 255), min_size=1, max_size=9).map(tuple)
    basic = st.builds(
        RadarReading,
        st.sampled_from(TargetState),
        st.integers(0, 0xFFFF),
        st.integers(0, 255),
        st.integers(0, 0xFFFF),
        st.integers(0, 255),
        st.integers(0, 0xFFFF),
    )
    engineering = st.builds(
        RadarReading,
        st.sampled_from(TargetState),
        st.integers(0, 0xFFFF),
        st.integers(0, 255),
        st.integers(0, 0xFFFF),
        st.integers(0, 255),
        st.integers(0, 0xFFFF),
        gates,
        gates,
        st.sampled_from([b"", b"\x60\x01"]),
    )
    return basic | engineering


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.lists(st.integers(1, 64), max_size=40))
def test_arbitrary_bytes_in_arbitrary_chunks_never_raise(data, cuts):
    parser = FrameParser()
    position = 0
    for size in [*cuts, len(data)]:
        for frame in parser.feed(data[position : position + size]):
            assert isinstance(frame, RadarReading | CommandFrame)
        position += size


_NO_HEADER_BYTES = st.binary(max_size=30).map(lambda b: bytes(x for x in b if x not in (0xF4, 0xFD)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_NO_HEADER_BYTES, _readings()), min_size=1, max_size=8), st.integers(1, 50))
def test_every_frame_survives_interleaved_garbage_and_any_chunking(items, chunk):
    data = b"".join(garbage + encode_report(reading) for garbage, reading in items)
    parser = FrameParser()
    got = [f for i in range(0, len(data), chunk) for f in parser.feed(data[i : i + chunk])]
    assert got == [reading for _, reading in items]
