"""Daemon logs under systemd reach the journal through its native protocol: a priority per level, a traceback as one
entry; anywhere else (a terminal, a test) they stay text lines on stderr. A real datagram socket stands in for
journald's."""

from __future__ import annotations

import io
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.daemons.journal import JournalHandler, encode_field
from edge.daemons.runtime import setup_logging
from edge.hardware.sim.serial_devices import Rdm6300Sim
from tests.badge_support import write_config
from tests.rig.journal import JournalSocket, parse_entry
from tests.rig.process import EdgeProcess
from tests.rig.servers import Mosquitto

log = logging.getLogger("edge.test.journal")


@pytest.fixture
def journal() -> Iterator[JournalSocket]:
    """A socket in a short folder (AF_UNIX paths are limited to 108 bytes), receiving as journald does."""
    folder = Path(tempfile.mkdtemp(prefix="edge-journal-"))
    sock = JournalSocket(folder / "socket")
    yield sock
    sock.close()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Put the root logger back as pytest had it after a test that reconfigures logging."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def journal_stream(file: Path) -> str:
    """`$JOURNAL_STREAM` as systemd sets it for a stderr connected to `file`: device:inode."""
    stat = file.stat()
    return f"{stat.st_dev}:{stat.st_ino}"


def test_each_level_reaches_the_journal_with_its_syslog_priority(journal: JournalSocket) -> None:
    handler = JournalHandler("edge-door", path=str(journal.path))
    record = logging.LogRecord(
        "edge.door.service", logging.INFO, "/x/door.py", 306, "door %s: granted", ("front",), None
    )
    expected = {logging.DEBUG: "7", logging.INFO: "6", logging.WARNING: "4", logging.ERROR: "3", logging.CRITICAL: "2"}
    for level in expected:
        record.levelno, record.levelname = level, logging.getLevelName(level)
        handler.emit(record)
    entries = [journal.receive() for _ in expected]
    handler.close()
    assert [e["PRIORITY"] for e in entries if e] == list(expected.values())
    assert entries[0] == {
        "MESSAGE": "door front: granted",
        "PRIORITY": "7",
        "SYSLOG_IDENTIFIER": "edge-door",
        "LOGGER": "edge.door.service",
        "THREAD_NAME": "MainThread",
        "CODE_FILE": "/x/door.py",
        "CODE_LINE": "306",
        "CODE_FUNC": "",
    }


def test_a_traceback_is_one_entry_with_the_message_and_every_line(
    journal: JournalSocket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, root_logging: None
) -> None:
    stderr = (tmp_path / "stderr").open("w")
    monkeypatch.setattr("sys.stderr", stderr)
    monkeypatch.setenv("JOURNAL_STREAM", journal_stream(tmp_path / "stderr"))
    monkeypatch.setenv("EDGE_JOURNAL_SOCKET", str(journal.path))
    setup_logging("info", identifier="edge-collector")
    try:
        {}["missing"]
    except KeyError:
        log.exception("forwarder pass failed; retrying")
    entry = journal.receive()
    stderr.close()
    assert entry is not None
    lines = entry["MESSAGE"].splitlines()
    assert lines[0] == "forwarder pass failed; retrying"
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "KeyError: 'missing'"
    assert (entry["PRIORITY"], entry["SYSLOG_IDENTIFIER"]) == ("3", "edge-collector")
    assert (entry["CODE_FILE"], entry["CODE_FUNC"]) == (
        __file__,
        "test_a_traceback_is_one_entry_with_the_message_and_every_line",
    )
    assert journal.pending() == []  # nothing else: not one entry per line
    assert (tmp_path / "stderr").read_text() == ""


def test_a_multi_line_value_uses_the_length_prefixed_form() -> None:
    assert encode_field("MESSAGE", "one line") == b"MESSAGE=one line\n"
    assert encode_field("MESSAGE", "two\nlines") == b"MESSAGE\n\x09\x00\x00\x00\x00\x00\x00\x00two\nlines\n"
    assert parse_entry(encode_field("MESSAGE", "a=b\nc") + encode_field("PRIORITY", "3")) == {
        "MESSAGE": "a=b\nc",
        "PRIORITY": "3",
    }


def test_an_entry_too_large_for_a_datagram_arrives_whole_in_a_sealed_memfd(journal: JournalSocket) -> None:
    handler = JournalHandler("edge-door", path=str(journal.path))
    text = "x" * 4_000_000  # far above the largest datagram the kernel takes
    handler.emit(logging.LogRecord("edge", logging.WARNING, "f.py", 1, text, None, None))
    handler.close()
    entry = journal.receive()
    assert entry is not None and entry["MESSAGE"] == text and entry["PRIORITY"] == "4"
    assert journal.memfds == 1


def test_a_record_the_journal_refuses_goes_to_stderr_with_its_priority_prefix(tmp_path: Path) -> None:
    stderr = io.StringIO()
    handler = JournalHandler("edge-door", path=str(tmp_path / "gone"), fallback=stderr)  # journald restarting
    try:
        raise OSError("relay write failed")
    except OSError:
        record = logging.LogRecord("edge.door", logging.ERROR, "f.py", 1, "door %s: fault", ("front",), sys.exc_info())
    handler.emit(record)
    handler.close()
    lines = stderr.getvalue().splitlines()
    assert lines[0] == "<3>ERROR edge.door: door front: fault"
    assert lines[-1] == "<3>OSError: relay write failed"
    assert all(line.startswith("<3>") for line in lines)


def test_a_daemon_under_systemd_logs_to_the_journal_with_priorities_and_its_identifier(
    journal: JournalSocket, mosquitto: Mosquitto, reader: Rdm6300Sim, tmp_path: Path
) -> None:
    config = write_config(tmp_path, mosquitto.port, reader.path)
    stderr = tmp_path / "stderr"
    stderr.touch()
    env = {"JOURNAL_STREAM": journal_stream(stderr), "EDGE_JOURNAL_SOCKET": str(journal.path)}
    with EdgeProcess("badge", "-c", str(config), log=stderr, **env) as badge:
        started = journal.receive_until("ready in")
        reader.close()  # the reader is unplugged: a warning
        unplugged = journal.receive_until("fault")
        badge.terminate()
        stopped = journal.receive_until("stopped")
        assert badge.stop() == 0
    assert {e["SYSLOG_IDENTIFIER"] for e in started + unplugged + stopped} == {"edge-badge"}
    assert (started[-1]["PRIORITY"], unplugged[-1]["PRIORITY"], stopped[-1]["PRIORITY"]) == ("6", "4", "6")
    assert started[-1]["CODE_FILE"].endswith(os.path.join("edge", "daemons", "runtime.py"))
    assert stderr.read_text() == ""  # everything went to the journal


def test_a_daemon_whose_stderr_is_not_the_journal_stream_logs_text_lines_to_stderr(
    journal: JournalSocket, mosquitto: Mosquitto, reader: Rdm6300Sim, tmp_path: Path
) -> None:
    config = write_config(tmp_path, mosquitto.port, reader.path)
    stderr = tmp_path / "stderr"
    elsewhere = tmp_path / "unit-stream"  # e.g. $JOURNAL_STREAM inherited by a shell started from a unit
    elsewhere.touch()
    env = {"JOURNAL_STREAM": journal_stream(elsewhere), "EDGE_JOURNAL_SOCKET": str(journal.path)}
    with EdgeProcess("badge", "-c", str(config), log=stderr, **env) as badge:
        badge.wait_ready()
        assert badge.stop() == 0
    assert journal.pending() == []
    text = stderr.read_text()
    assert "INFO edge.daemons.runtime: edge badge: ready in" in text
    assert "INFO edge.daemons.runtime: edge badge: stopped" in text
