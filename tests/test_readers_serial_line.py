"""Line readers: one UID per line as hex or decimal text, optionally picked out by a pattern."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.errors import FrameError
from edge.hardware.serial_line import LineParser, SerialLineReader, compile_pattern
from edge.hardware.sim.serial_devices import LineReaderSim
from tests.reader_events import ReaderEvents


@pytest.mark.parametrize(
    ("options", "stream", "uids"),
    [
        pytest.param({}, b"04A1B2C3\r\n", ["04A1B2C3"], id="hex CRLF"),
        pytest.param({}, b"04a1b2c3\n", ["04A1B2C3"], id="hex LF lower"),
        pytest.param({}, b"04:A1:B2:C3\r", ["04A1B2C3"], id="hex CR separators"),
        pytest.param({}, b"\x0204A1B2C3\x03\r\n", ["04A1B2C3"], id="STX/ETX decorated"),
        pytest.param({}, b"\r\n\r\n04A1B2C3\r\n\n", ["04A1B2C3"], id="empty lines ignored"),
        pytest.param({}, b"04A1B2C3\r\nDEADBEEF\r\n", ["04A1B2C3", "DEADBEEF"], id="two lines"),
        pytest.param({}, b"04A1B2C3", [], id="no terminator yet"),
        pytest.param({"fmt": "decimal"}, b"0012345678\r\n", ["00BC614E"], id="decimal"),
        pytest.param({"fmt": "decimal", "decimal_bytes": 5}, b"12345678\r\n", ["0000BC614E"], id="decimal 5 bytes"),
        pytest.param({"pattern": r"ID:(?P<uid>\w+)"}, b"ID:04A1B2C3\r\n", ["04A1B2C3"], id="named group"),
        pytest.param({"pattern": r"UID=(\d+);"}, b"UID=12345678;\n", ["12345678"], id="single group hex"),
        pytest.param({"pattern": r"UID=(\d+);", "fmt": "decimal"}, b"UID=12345678;\n", ["00BC614E"], id="group dec"),
    ],
)
def test_line_parser_table(options, stream, uids):
    assert LineParser(**options).feed(stream) == uids


@pytest.mark.parametrize(
    ("options", "line"),
    [
        ({}, b"hello"),
        ({}, b"04A1\xffB2"),
        ({"fmt": "decimal"}, b"04A1B2C3"),
        ({"fmt": "decimal"}, b"99999999999"),
        ({"pattern": r"ID:(\w+)"}, b"XX:04A1B2C3"),
        ({"pattern": r"ID:(\w+)?"}, b"ID:"),
    ],
)
def test_lines_without_a_uid_are_counted_as_bad_frames(options, line):
    parser = LineParser(**options)
    assert parser.feed(line + b"\r\n") == []
    assert parser.health.bad_frames == 1
    with pytest.raises(FrameError):
        parser.parse_line(line)


def test_an_over_long_line_is_dropped_and_the_next_line_read():
    parser = LineParser(max_line=16)
    assert parser.feed(b"A" * 40 + b"\r\n04A1B2C3\r\n") == ["04A1B2C3"]
    assert parser.health.garbage_bytes == 40
    assert parser.health.resyncs == 1


@pytest.mark.parametrize("pattern", [r"\w+", r"(a)(b)", r"(?P<x>a)(b)"])
def test_a_pattern_needs_one_group_or_a_uid_group(pattern):
    with pytest.raises(ValueError):
        compile_pattern(pattern)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise_and_give_only_normal_uids(stream):
    parser = LineParser()
    for uid in parser.feed(stream):
        assert uid == uid.upper() and len(uid) % 2 == 0
        bytes.fromhex(uid)


@given(st.binary(max_size=200), st.binary(min_size=4, max_size=10))
def test_a_valid_line_after_any_garbage_line_is_read(garbage, uid):
    parser = LineParser(max_line=32)
    assert parser.feed(garbage + b"\n" + uid.hex().encode() + b"\r\n")[-1] == uid.hex().upper()


# -- through a real pty -----------------------------------------------------------------------------------------------


@pytest.fixture
def device():
    sim = LineReaderSim()
    yield sim
    sim.close()


def test_lines_through_a_pty_become_scans(device):
    events = ReaderEvents()
    with SerialLineReader("desk", device.path, fmt="decimal", on_scan=events.on_scan, rearm_s=0.2) as reader:
        reader.start()
        assert reader.wait_connected(5)
        device.send_line("0012345678")
        device.send_line("not a number")
        device.send_line("4294967295", ending="\n")
        assert events.wait_scans(2) == ["00BC614E", "FFFFFFFF"]
        assert reader.health.bad_frames == 1


def test_line_reader_survives_unplug_and_replug(device):
    events = ReaderEvents()
    reader = SerialLineReader(
        "desk", device.path, reopen_min_s=0.02, reopen_max_s=0.1, on_scan=events.on_scan, on_fault=events.on_fault
    )
    with reader:
        reader.start()
        assert reader.wait_connected(5)
        device.write(b"04A1")  # a line cut by the unplug
        device.unplug()
        assert events.wait_faults(1) == [True]
        device.replug()
        assert reader.wait_connected(5)
        device.send_line("DEADBEEF")
        assert events.wait_scans(1) == ["DEADBEEF"]
        assert events.fault_states == [True, False]
