"""Logging to the systemd journal through its native protocol, so that entries keep their priority and a traceback
is one entry. No dependency: datagrams on the journal's AF_UNIX socket, as sd_journal_send() writes them.

Under systemd a daemon's stderr is a stream to journald (`$JOURNAL_STREAM` names it as `device:inode`). Lines on it
all get the same priority (`journalctl -p err` shows nothing) and each line of a traceback is its own entry. When
stderr is that stream, `edge.daemons.runtime.setup_logging` logs through `JournalHandler`, which sends each record
as one datagram instead, with
`PRIORITY` from the logging level, `SYSLOG_IDENTIFIER`, `CODE_FILE`/`CODE_LINE`/`CODE_FUNC`, `LOGGER` and
`THREAD_NAME`; a multi-line value uses the protocol's length-prefixed form. A record too large for a datagram is
passed in a sealed memfd, as sd-journal does. If the socket refuses a record (journald restarting), the record
goes to stderr, each line prefixed with its syslog priority (`<3>`), which journald reads from the stream.

The socket is `/run/systemd/journal/socket`. In a unit with `LogNamespace=edge`, systemd mounts the namespace's
socket directory (`/run/systemd/journal.edge/`) over `/run/systemd/journal/` in the unit's mount namespace, so
the same path reaches the namespace's journald. `$EDGE_JOURNAL_SOCKET` overrides it (tests use their own socket).
"""

from __future__ import annotations

import array
import errno
import fcntl
import logging
import os
import socket
import struct
import sys
from typing import TextIO

JOURNAL_SOCKET = "/run/systemd/journal/socket"
SOCKET_ENV = "EDGE_JOURNAL_SOCKET"
SEND_TIMEOUT_S = 2.0  # a stuck journald must not hold a door's reader thread for long

# syslog priorities: 2 crit, 3 err, 4 warning, 6 info, 7 debug
_PRIORITIES = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))
_SEALS = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL


def priority(level: int) -> int:
    """The syslog priority of a logging level (custom levels take the priority of the level below them)."""
    for threshold, value in _PRIORITIES:
        if level >= threshold:
            return value
    return 7


def stderr_is_journal(stream: TextIO | None = None) -> bool:
    """Whether stderr (or `stream`) is the journal stream systemd connected, per `$JOURNAL_STREAM` (dev:inode)."""
    device, _, inode = os.environ.get("JOURNAL_STREAM", "").partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        stat = os.fstat((stream or sys.stderr).fileno())
    except (OSError, ValueError, AttributeError):  # closed, or not a real file (a test's capture)
        return False
    return (stat.st_dev, stat.st_ino) == (int(device), int(inode))


def encode_field(name: str, value: str) -> bytes:
    """One field of the native protocol: `NAME=value\\n`, or the binary-safe form for a value with a newline."""
    key = name.encode()
    data = value.encode("utf-8", "replace")
    if b"\n" in data:
        return key + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
    return key + b"=" + data + b"\n"


class JournalHandler(logging.Handler):
    """Sends each record to journald as one entry (see the module docstring)."""

    def __init__(self, identifier: str, path: str | None = None, fallback: TextIO | None = None) -> None:
        super().__init__()
        self.identifier = identifier
        self.path = path or os.environ.get(SOCKET_ENV) or JOURNAL_SOCKET
        self._fallback = fallback
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self._socket.settimeout(SEND_TIMEOUT_S)
        self.setFormatter(logging.Formatter("%(message)s"))  # the message, then the traceback if any

    def entry(self, record: logging.LogRecord) -> bytes:
        """The datagram for one record."""
        fields = {
            "MESSAGE": self.format(record),
            "PRIORITY": str(priority(record.levelno)),
            "SYSLOG_IDENTIFIER": self.identifier,
            "LOGGER": record.name,
            "THREAD_NAME": record.threadName or "",
            "CODE_FILE": record.pathname,
            "CODE_LINE": str(record.lineno),
            "CODE_FUNC": record.funcName or "",
        }
        return b"".join(encode_field(name, value) for name, value in fields.items())

    def emit(self, record: logging.LogRecord) -> None:
        """Send the record; on a refusal, write it to stderr with its priority prefix instead."""
        try:
            data = self.entry(record)
            self._send(data)
        except OSError:
            self._to_stderr(record)
        except Exception:
            self.handleError(record)

    def _send(self, data: bytes) -> None:
        try:
            self._socket.sendto(data, self.path)
        except OSError as exc:
            if exc.errno not in (errno.EMSGSIZE, errno.ENOBUFS):
                raise
            self._send_memfd(data)

    def _send_memfd(self, data: bytes) -> None:
        # Too large for one datagram: journald reads the entry from a sealed memfd passed with SCM_RIGHTS.
        fd = os.memfd_create("edge-journal", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, _SEALS)
            rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))]
            self._socket.sendmsg([], rights, 0, self.path)
        finally:
            os.close(fd)

    def _to_stderr(self, record: logging.LogRecord) -> None:
        stream = self._fallback or sys.stderr
        try:
            prefix = f"<{priority(record.levelno)}>"
            text = f"{record.levelname} {record.name}: {self.format(record)}"
            stream.write("".join(f"{prefix}{line}\n" for line in text.splitlines()))
            stream.flush()
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        """Close the socket."""
        self._socket.close()
        super().close()
