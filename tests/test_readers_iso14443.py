"""The ISO 14443-A UID read (WUPA, cascade, HLTA) against scripted and fuzzed card answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.hardware.iso14443 import Reply, atqa_for, bcc, cascade_levels, crc_a, read_uid
from edge.hardware.readers import ReaderHealth
from edge.hardware.sim.iso14443_card import SimCard


def ok(data: bytes) -> Reply:
    return Reply("ok", data, len(data) * 8)


def with_bcc(part: bytes) -> bytes:
    return part + bytes([bcc(part)])


def sak(value: int) -> bytes:
    return bytes([value]) + crc_a([value])


class Script:
    """Answers in order; records what the reader sent."""

    def __init__(self, *answers: Reply) -> None:
        self.answers = list(answers)
        self.sent: list[bytes] = []

    def __call__(self, frame: bytes, tx_last_bits: int, expect_reply: bool) -> Reply:
        self.sent.append(frame)
        return self.answers.pop(0) if self.answers else Reply("no_card")


ATQA = ok(b"\x04\x00")
UID4 = bytes.fromhex("04A1B2C3")


@pytest.mark.parametrize(
    ("answers", "uid", "finished", "counter"),
    [
        pytest.param([Reply("no_card")], None, True, None, id="no card"),
        pytest.param([Reply("stuck")], None, False, None, id="chip never finished"),
        pytest.param([Reply("collision")], None, True, None, id="two cards"),
        pytest.param([ok(b"\x04")], None, True, None, id="short ATQA"),
        pytest.param([ATQA, ok(with_bcc(UID4)), ok(sak(0x08))], "04A1B2C3", True, "frames_ok", id="4 bytes"),
        pytest.param(
            [ATQA, ok(with_bcc(b"\x88\x04\x11\x22")), ok(sak(0x04)), ok(with_bcc(bytes.fromhex("33445566"))),
             ok(sak(0x00))],
            "04112233445566", True, "frames_ok", id="7 bytes",
        ),
        pytest.param([ATQA, ok(UID4 + b"\x00")], None, True, "bad_checksum", id="wrong BCC"),
        pytest.param([ATQA, ok(UID4)], None, True, "bad_frames", id="4 bytes without BCC"),
        pytest.param([ATQA, ok(with_bcc(UID4) + b"\x00")], None, True, "bad_frames", id="6 bytes"),
        pytest.param([ATQA, ok(with_bcc(UID4)), ok(b"\x08\x00\x00")], None, True, "bad_checksum", id="SAK CRC"),
        pytest.param([ATQA, ok(with_bcc(UID4)), ok(b"\x08")], None, True, "bad_frames", id="SAK without CRC"),
        pytest.param([ATQA, ok(with_bcc(UID4)), Reply("no_card")], None, True, None, id="card left during select"),
        pytest.param([ATQA, ok(with_bcc(UID4)), ok(sak(0x04))], None, True, "bad_frames", id="cascade without 88"),
        pytest.param(
            [ATQA, ok(with_bcc(b"\x88\x04\x11\x22")), ok(sak(0x08))], None, True, "bad_frames", id="4-byte UID with 88"
        ),
        pytest.param(
            [ATQA] + [ok(with_bcc(b"\x88\x01\x02\x03")), ok(sak(0x04))] * 3, None, True, "bad_frames",
            id="more than 3 levels",
        ),
    ],
)  # fmt: skip
def test_read_uid_table(answers, uid, finished, counter):
    health = ReaderHealth()
    assert read_uid(Script(*answers), health) == (uid, finished)
    if counter is not None:
        assert health.snapshot()[counter] == 1


def test_a_successful_read_ends_with_hlta():
    script = Script(ATQA, ok(with_bcc(UID4)), ok(sak(0x08)))
    read_uid(script, ReaderHealth())
    assert script.sent[0] == b"\x52"  # WUPA, so a halted card answers
    assert script.sent[-1] == b"\x50\x00" + crc_a(b"\x50\x00")


@given(st.sampled_from([4, 7, 10]), st.data())
def test_any_card_uid_is_read_whole_from_the_simulated_card(size, data):
    uid = data.draw(st.binary(min_size=size, max_size=size).filter(lambda raw: size != 4 or raw[0] != 0x88))
    card = SimCard(uid)

    def field(frame: bytes, bits: int, expect: bool) -> Reply:
        answer = card.respond(frame, bits)
        return Reply("no_card") if answer is None else ok(answer)

    assert read_uid(field, ReaderHealth()) == (uid.hex().upper(), True)
    assert card.state == "halt"
    assert read_uid(field, ReaderHealth()) == (uid.hex().upper(), True)  # WUPA wakes it again


replies = st.one_of(
    st.sampled_from([Reply("no_card"), Reply("stuck"), Reply("collision"), Reply("error")]),
    st.binary(max_size=8).map(ok),
    st.builds(lambda raw, bits: Reply("ok", raw, bits), st.binary(max_size=8), st.integers(0, 80)),
)


@given(st.lists(replies, max_size=10))
def test_arbitrary_answers_never_raise_and_only_checked_uids_come_out(answers):
    script = Script(*answers)
    uid, _ = read_uid(script, ReaderHealth())
    if uid is None:
        return
    raw = bytes.fromhex(uid)
    assert len(raw) in (4, 7, 10)
    # The UID is only returned if every level's anticollision answer carried its BCC and was selected with it.
    selects = [frame for frame in script.sent if len(frame) == 9]
    assert [frame[2:7] for frame in selects] == [with_bcc(part) for part in cascade_levels(raw)]


def test_atqa_reports_the_uid_size():
    assert [atqa_for(bytes(n))[0] >> 6 for n in (4, 7, 10)] == [0, 1, 2]
