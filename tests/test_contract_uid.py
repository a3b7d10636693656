"""The one UID normal form (`normalise_uid`): what readers print and what staff type or import give the same badge."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.contract.token import MAX_UID_BYTES, badge_token, normalise_uid
from edge.errors import FrameError
from edge.hardware.uid import uid_from_bytes, uid_from_text

uids = st.binary(min_size=1, max_size=MAX_UID_BYTES)
MALFORMED = "a UID is 1 to 16 bytes written in hexadecimal"
separators = st.sampled_from(["", ":", "-", ".", " ", "\t", "\u00a0"])


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        # Reader lines (serial_line readers print hex text).
        ("04a1b2c3", "04A1B2C3"),
        ("04:A1:B2:C3", "04A1B2C3"),
        ("04-a1-b2-c3", "04A1B2C3"),
        ("04 A1 B2 C3", "04A1B2C3"),
        ("0x04A1B2C3", "04A1B2C3"),
        ("  04A1B2C3\t", "04A1B2C3"),
        ("04112233445566", "04112233445566"),
        # A reader printing the UID as a number drops its leading zero.
        ("ABC", "0ABC"),
        ("4A23B", "04A23B"),
        ("0", "00"),
        # Staff: typed, copied from a card's label or a platform's export.
        ("04:a2-3b", "04A23B"),
        ("04.A2.3B.C4", "04A23BC4"),
        ("0X04a2b3c4", "04A2B3C4"),
        (" 04 a2 ", "04A2"),
        ("04\u00a0A2", "04A2"),  # a spreadsheet's non-breaking space
        ("04-a2-b3-c4-5d-6e-7f", "04A2B3C45D6E7F"),
        # Longest: 16 bytes.
        ("ff" * MAX_UID_BYTES, "FF" * MAX_UID_BYTES),
        ("0" + "f" * (2 * MAX_UID_BYTES - 1), "0" + "F" * (2 * MAX_UID_BYTES - 1)),
    ],
)
def test_a_uid_written_any_usual_way_has_one_normal_form(text: str, normal: str) -> None:
    assert normalise_uid(text) == normal


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "0x",
        "0X",
        ":-.",
        "xyz",
        "04:A2:B3:G4",
        "04A1B2C3!",
        "04_A1",
        "0x0x04",
        "ÄÖ",
        "\ufb00",  # the ligature "ﬀ", whose upper case is "FF"
        "\uff10\uff14",  # full-width digits
        "0" * (2 * MAX_UID_BYTES + 1),
        "0" * (2 * MAX_UID_BYTES + 2),
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=MALFORMED):
        normalise_uid(text)


@given(uids, separators, st.booleans(), st.booleans(), st.sampled_from(["", " ", "\t"]))
def test_any_uid_printed_as_hex_normalises_back_to_its_bytes(
    data: bytes, separator: str, lower: bool, prefix: bool, around: str
) -> None:
    text = separator.join(f"{byte:02x}" if lower else f"{byte:02X}" for byte in data)
    text = around + ("0x" if prefix else "") + text + around
    assert normalise_uid(text) == data.hex().upper()


@given(uids)
def test_a_uid_printed_as_a_number_without_its_leading_zero_is_the_same_badge(data: bytes) -> None:
    printed = f"{int.from_bytes(data, 'big'):X}"
    if len(printed) == 2 * len(data) - 1:  # the first byte is below 0x10: one zero dropped
        assert normalise_uid(printed) == data.hex().upper()


@given(st.text(max_size=40))
def test_any_text_gives_whole_bytes_of_upper_hex_or_a_value_error(text: str) -> None:
    try:
        uid = normalise_uid(text)
    except ValueError as exc:
        assert str(exc) == MALFORMED  # never the text: a malformed line may still be most of a member's UID
        return
    assert 1 <= len(bytes.fromhex(uid)) <= MAX_UID_BYTES
    assert uid == uid.upper() and uid.isascii()
    assert normalise_uid(uid) == uid


@given(st.text(alphabet="0123456789abcdefABCDEF:-. x", max_size=40))
def test_normalising_twice_changes_nothing(text: str) -> None:
    try:
        uid = normalise_uid(text)
    except ValueError:
        return
    assert normalise_uid(uid) == uid


@given(uids)
def test_a_reader_s_bytes_give_the_normal_form_of_their_hex(data: bytes) -> None:
    assert uid_from_bytes(data) == normalise_uid(data.hex())


@given(st.text(max_size=40))
def test_a_line_reader_s_hex_is_the_normal_form_or_a_frame_error(text: str) -> None:
    try:
        expected = normalise_uid(text)
    except ValueError:
        with pytest.raises(FrameError):
            uid_from_text(text, "hex")
        return
    assert uid_from_text(text, "hex") == expected


@given(uids, separators)
def test_the_badge_token_does_not_depend_on_how_the_uid_was_written(data: bytes, separator: str) -> None:
    key = b"k" * 32
    written = separator.join(f"{byte:02x}" for byte in data)
    assert badge_token(key, written) == badge_token(key, uid_from_bytes(data))
