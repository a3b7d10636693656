"""Wiegand decoding: 26/34-bit frames, parity, facility and card number; frames grouped by the gap between bits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.errors import ChecksumError, FrameError
from edge.hardware.wiegand import WiegandAssembler, decode_wiegand, encode_wiegand


def bits(text: str) -> tuple[int, ...]:
    return tuple(int(char) for char in text.replace(" ", ""))


# Worked by hand: facility 18 = 0x12, card 12345 = 0x3039; 34-bit facility 0x1234, card 0x5678.
H10301 = bits("0 00010010 0011000000111001 1")
W34 = bits("1 0001001000110100 0101011001111000 1")


@pytest.mark.parametrize(
    ("frame", "length", "facility", "card", "uid"),
    [
        (H10301, 26, 18, 12345, "123039"),
        (W34, 34, 0x1234, 0x5678, "12345678"),
        (encode_wiegand(0, 0, 26), 26, 0, 0, "000000"),
        (encode_wiegand(255, 65535, 26), 26, 255, 65535, "FFFFFF"),
        (encode_wiegand(65535, 65535, 34), 34, 65535, 65535, "FFFFFFFF"),
    ],
)
def test_valid_frames_decode(frame, length, facility, card, uid):
    decoded = decode_wiegand(frame)
    assert (decoded.bits, decoded.facility, decoded.card, decoded.uid) == (length, facility, card, uid)


def test_hand_worked_frames_match_the_encoder():
    assert encode_wiegand(18, 12345, 26) == H10301
    assert encode_wiegand(0x1234, 0x5678, 34) == W34


def flip(frame: tuple[int, ...], index: int) -> tuple[int, ...]:
    return tuple(bit ^ (position == index) for position, bit in enumerate(frame))


@pytest.mark.parametrize(
    ("frame", "formats", "error"),
    [
        pytest.param(flip(H10301, 0), (26, 34), ChecksumError, id="26 even parity bit"),
        pytest.param(flip(H10301, 25), (26, 34), ChecksumError, id="26 odd parity bit"),
        pytest.param(flip(H10301, 5), (26, 34), ChecksumError, id="26 facility bit"),
        pytest.param(flip(H10301, 20), (26, 34), ChecksumError, id="26 card bit"),
        pytest.param(flip(W34, 16), (26, 34), ChecksumError, id="34 first half"),
        pytest.param(flip(W34, 17), (26, 34), ChecksumError, id="34 second half"),
        pytest.param(H10301[:-1], (26, 34), FrameError, id="25 bits"),
        pytest.param((*H10301, 1), (26, 34), FrameError, id="27 bits"),
        pytest.param((1,), (26, 34), FrameError, id="one noise bit"),
        pytest.param(W34, (26,), FrameError, id="34 bits when only 26 allowed"),
        pytest.param(H10301, (34,), FrameError, id="26 bits when only 34 allowed"),
        pytest.param((2, *H10301[1:]), (26, 34), FrameError, id="not a bit"),
    ],
)
def test_bad_frames_are_refused(frame, formats, error):
    with pytest.raises(error):
        decode_wiegand(frame, formats)


@given(st.sampled_from([26, 34]), st.data())
def test_encode_then_decode_gives_back_facility_and_card(length, data):
    facility = data.draw(st.integers(min_value=0, max_value=255 if length == 26 else 65535))
    card = data.draw(st.integers(min_value=0, max_value=65535))
    decoded = decode_wiegand(encode_wiegand(facility, card, length))
    assert (decoded.facility, decoded.card) == (facility, card)


@given(st.sampled_from([26, 34]), st.data())
def test_every_single_bit_error_is_caught_by_parity(length, data):
    frame = encode_wiegand(data.draw(st.integers(0, 255)), data.draw(st.integers(0, 65535)), length)
    with pytest.raises(ChecksumError):
        decode_wiegand(flip(frame, data.draw(st.integers(0, length - 1))))


@given(st.lists(st.integers(min_value=0, max_value=1), max_size=80))
def test_arbitrary_bits_decode_or_raise_frame_error(frame):
    try:
        decoded = decode_wiegand(frame)
    except FrameError:
        return
    assert len(frame) in (26, 34) and decoded.uid


@pytest.mark.parametrize(
    ("edges", "frames", "pending"),
    [
        pytest.param([(1, 0.0), (0, 0.002), (1, 0.004)], [], 3, id="bits close together stay one frame"),
        pytest.param([(1, 0.0), (0, 0.002), (1, 0.030)], [(1, 0)], 1, id="a gap starts a new frame"),
        pytest.param([(1, 0.0), (0, 0.025)], [], 2, id="a gap equal to the timeout does not split"),
        pytest.param([(0, 0.0), (1, 1.0), (0, 2.0)], [(0,), (1,)], 1, id="isolated bits are separate frames"),
    ],
)
def test_assembler_splits_frames_on_gaps(edges, frames, pending):
    assembler = WiegandAssembler(gap_s=0.025)
    done = [frame for bit, at in edges if (frame := assembler.add(bit, at)) is not None]
    assert done == frames
    assert assembler.pending == pending


def test_assembler_caps_a_noise_burst():
    assembler = WiegandAssembler(gap_s=0.025, max_bits=64)
    for index in range(100):
        assembler.add(index % 2, index * 0.001)
    frame = assembler.flush()
    assert frame is not None and len(frame) == 64
    assert assembler.overflow_bits == 36
    assert assembler.flush() is None


@given(
    st.lists(st.lists(st.integers(0, 1), min_size=1, max_size=40), min_size=1, max_size=6),
    st.lists(st.floats(min_value=0.0002, max_value=0.02), min_size=40, max_size=40),
    st.floats(min_value=0.0251, max_value=5.0),
)
def test_frames_separated_by_more_than_the_timeout_never_merge(frames, intervals, gap):
    assembler = WiegandAssembler(gap_s=0.025)
    out, at = [], 0.0
    for frame in frames:
        for index, bit in enumerate(frame):
            at += gap if index == 0 else intervals[index]
            if (done := assembler.add(bit, at)) is not None:
                out.append(list(done))
    out.append(list(assembler.flush() or ()))
    assert out == frames
