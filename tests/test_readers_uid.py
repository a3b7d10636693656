"""Readers' UIDs: raw bytes, hex lines and decimal lines all reach the normal form; malformed ones are frame errors.

The normal form itself is specified in test_contract_uid.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.errors import FrameError
from edge.hardware.uid import uid_from_bytes, uid_from_decimal, uid_from_text


@pytest.mark.parametrize("text", ["", "   ", "0x", "04A1G2", "04A1B2C3!", "ÄÖ", "0" * 33])
def test_a_malformed_hex_line_is_a_frame_error(text):
    with pytest.raises(FrameError):
        uid_from_text(text, "hex")


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("12345678", 4, "00BC614E"),
        ("0012345678", 4, "00BC614E"),
        ("4294967295", 4, "FFFFFFFF"),
        ("0", 4, "00000000"),
        ("255", 1, "FF"),
        ("42949672960", 5, "0A00000000"),
    ],
)
def test_decimal_uid_is_zero_padded_hex_of_the_width(text, width, expected):
    assert uid_from_decimal(text, width) == expected


@pytest.mark.parametrize(("text", "width"), [("4294967296", 4), ("-1", 4), ("12a", 4), ("", 4), ("1.5", 4)])
def test_malformed_or_too_large_decimal_uid_is_refused(text, width):
    with pytest.raises(FrameError):
        uid_from_decimal(text, width)


def test_error_messages_never_repeat_the_uid():
    for call in (lambda: uid_from_text("04A1B2C3ZZ"), lambda: uid_from_decimal("123456789012345", 4)):
        with pytest.raises(FrameError) as caught:
            call()
        assert "04A1B2C3" not in str(caught.value)
        assert "123456789012345" not in str(caught.value)


def test_bytes_give_the_same_form_as_their_hex_text():
    assert uid_from_bytes(bytes.fromhex("04a1b2c3")) == uid_from_text("04:a1:b2:c3")


@pytest.mark.parametrize("data", [b"", bytes(17)])
def test_uid_bytes_out_of_range_are_refused(data):
    with pytest.raises(FrameError):
        uid_from_bytes(data)


@given(st.binary(min_size=1, max_size=16), st.sampled_from(["", ":", "-", " "]), st.booleans())
def test_any_uid_printed_as_hex_normalises_back_to_its_bytes(data, separator, lower):
    text = separator.join(f"{byte:02x}" if lower else f"{byte:02X}" for byte in data)
    assert uid_from_text(text, "hex") == data.hex().upper()


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_any_32_bit_decimal_normalises_to_its_4_bytes(value):
    assert uid_from_text(str(value), "decimal", decimal_bytes=4) == value.to_bytes(4, "big").hex().upper()


@given(st.text(max_size=40))
def test_normalisation_either_returns_upper_hex_or_raises_frame_error(text):
    for fmt in ("hex", "decimal"):
        try:
            uid = uid_from_text(text, fmt)
        except FrameError:
            continue
        assert uid == uid.upper() and len(uid) % 2 == 0
        bytes.fromhex(uid)
