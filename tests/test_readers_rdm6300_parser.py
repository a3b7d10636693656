"""RDM6300 framing: STX, 10 hex data, 2 hex XOR checksum, ETX; garbage resynchronises, bad checksums are dropped."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.hardware.rdm6300 import Rdm6300Parser, checksum, encode_frame

TAG = bytes.fromhex("0A00BC614E")
FRAME = encode_frame(TAG)  # b"\x020A00BC614E" + b"F9" + b"\x03"
OTHER = encode_frame(bytes.fromhex("1F2E3D4C5B"))


def test_encoded_frame_has_the_datasheet_layout():
    assert b"\x02" + b"0A00BC614E" + f"{checksum(TAG):02X}".encode() + b"\x03" == FRAME
    assert len(FRAME) == 14


@pytest.mark.parametrize(
    ("stream", "uids", "counters"),
    [
        pytest.param(FRAME, ["0A00BC614E"], {"frames_ok": 1}, id="one frame"),
        pytest.param(FRAME.lower(), ["0A00BC614E"], {"frames_ok": 1}, id="lower-case hex"),
        pytest.param(FRAME + OTHER, ["0A00BC614E", "1F2E3D4C5B"], {"frames_ok": 2}, id="two frames"),
        pytest.param(b"\xff\x00abc" + FRAME, ["0A00BC614E"], {"garbage_bytes": 5, "resyncs": 1}, id="garbage first"),
        pytest.param(FRAME[:7] + FRAME, ["0A00BC614E"], {"garbage_bytes": 7, "resyncs": 1}, id="cut frame"),
        pytest.param(encode_frame(TAG, 0x00), [], {"bad_checksum": 1, "frames_ok": 0}, id="bad checksum"),
        pytest.param(FRAME[:13] + b"\x04" + OTHER, ["1F2E3D4C5B"], {"garbage_bytes": 14}, id="no ETX"),
        pytest.param(FRAME[:5] + b"Z" + FRAME[6:] + OTHER, ["1F2E3D4C5B"], {"resyncs": 1}, id="non-hex digit"),
        pytest.param(FRAME[:-1] + b"\x02" + b"rest", [], {"garbage_bytes": 14 + 4}, id="STX instead of ETX"),
        pytest.param(b"\x03\x03" + FRAME + b"\r\n", ["0A00BC614E"], {"garbage_bytes": 4}, id="stray ETX and CRLF"),
        pytest.param(FRAME[:13], [], {"frames_ok": 0, "garbage_bytes": 0}, id="incomplete waits"),
    ],
)
def test_parser_table(stream, uids, counters):
    parser = Rdm6300Parser()
    assert parser.feed(stream) == uids
    snapshot = parser.health.snapshot()
    for name, value in counters.items():
        assert snapshot[name] == value, name


def test_frame_split_across_reads_is_assembled():
    parser = Rdm6300Parser()
    assert [uid for byte in FRAME for uid in parser.feed(bytes([byte]))] == ["0A00BC614E"]


def test_uid_without_version_byte_is_the_4_tag_bytes():
    assert Rdm6300Parser(include_version_byte=False).feed(FRAME) == ["00BC614E"]


def test_card_number_is_the_number_printed_on_the_fob():
    (frame,) = Rdm6300Parser().feed_frames(FRAME)
    assert frame.card_number == 12345678


def test_reset_drops_a_partial_frame():
    parser = Rdm6300Parser()
    parser.feed(FRAME[:8])
    parser.reset()
    assert parser.feed(FRAME[8:]) == []
    assert parser.feed(FRAME) == ["0A00BC614E"]


frames = st.binary(min_size=5, max_size=5).map(encode_frame)


@given(st.binary(max_size=300), st.lists(st.integers(min_value=1, max_value=20), max_size=40))
def test_arbitrary_bytes_never_raise_and_only_valid_frames_come_out(stream, cuts):
    parser = Rdm6300Parser()
    out, position = [], 0
    for size in [*cuts, len(stream)]:
        out.extend(parser.feed_frames(stream[position : position + size]))
        position += size
    for frame in out:
        assert checksum(frame.data) == frame.checksum
        assert encode_frame(frame.data) in stream.upper() or encode_frame(frame.data).lower() in stream.lower()
    assert parser.health.frames_ok == len(out)


@given(st.binary(max_size=200), frames)
def test_a_valid_frame_after_any_garbage_is_read(garbage, frame):
    parser = Rdm6300Parser()
    uids = parser.feed(garbage + frame)
    assert uids and uids[-1] == frame[1:11].decode()


@given(st.lists(frames, min_size=1, max_size=5), st.integers(min_value=1, max_value=13))
def test_chunking_does_not_change_the_result(stream_frames, chunk):
    stream = b"".join(stream_frames)
    whole = Rdm6300Parser().feed(stream)
    parser = Rdm6300Parser()
    pieces = [uid for i in range(0, len(stream), chunk) for uid in parser.feed(stream[i : i + chunk])]
    assert pieces == whole == [frame[1:11].decode() for frame in stream_frames]


@given(frames, st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=255))
def test_a_frame_with_one_corrupted_byte_is_never_accepted(frame, position, flip):
    corrupted = bytearray(frame)
    corrupted[position] ^= flip
    out = Rdm6300Parser().feed_frames(bytes(corrupted))
    if bytes(corrupted).upper() == frame:  # only the case of a hex letter changed: same frame
        assert [got.data for got in out] == [bytes.fromhex(frame[1:11].decode())]
    else:
        assert out == []
