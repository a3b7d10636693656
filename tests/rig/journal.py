"""journald's side of the native protocol: a real AF_UNIX datagram socket standing in for the journal's socket, and a
strict parser of what arrives (plain `NAME=value` fields, length-prefixed binary fields, sealed memfds)."""

from __future__ import annotations

import array
import fcntl
import os
import re
import socket
import struct
from pathlib import Path

FIELD_NAME = re.compile(rb"[A-Z0-9][A-Z0-9_]{0,63}")  # journald drops fields not named like this
SEALS = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL


def parse_entry(data: bytes) -> dict[str, str]:
    """The fields of one entry, as journald reads them; AssertionError on anything it would not accept."""
    fields: dict[str, str] = {}
    at = 0
    while at < len(data):
        end = data.index(b"\n", at)
        line = data[at:end]
        if b"=" in line:
            name, value = line.split(b"=", 1)
            at = end + 1
        else:  # NAME\n, a 64-bit little-endian length, the value, \n
            name = line
            (size,) = struct.unpack("<Q", data[end + 1 : end + 9])
            value = data[end + 9 : end + 9 + size]
            assert len(value) == size and data[end + 9 + size : end + 10 + size] == b"\n", "bad binary field"
            at = end + 10 + size
        assert FIELD_NAME.fullmatch(name), f"invalid field name {name!r}"
        assert name.decode() not in fields, f"field {name!r} twice"
        fields[name.decode()] = value.decode()
    return fields


class JournalSocket:
    """A bound datagram socket at `path` that receives entries the way journald does."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
        self.memfds = 0  # entries that came in a memfd

    def receive(self, timeout: float = 30.0) -> dict[str, str] | None:
        """The next entry, or None when none arrived within `timeout` seconds."""
        self.sock.settimeout(timeout)
        try:
            data, ancillary, _flags, _addr = self.sock.recvmsg(16 * 1024 * 1024, socket.CMSG_SPACE(4))
        except TimeoutError:
            return None
        if not ancillary:
            return parse_entry(data)
        (level, kind, raw) = ancillary[0]
        assert (level, kind) == (socket.SOL_SOCKET, socket.SCM_RIGHTS) and data == b"", "unexpected ancillary data"
        fd = array.array("i", raw[:4])[0]
        try:
            # journald refuses a memfd the sender could still change
            assert fcntl.fcntl(fd, fcntl.F_GET_SEALS) & SEALS == SEALS, "memfd not sealed"
            self.memfds += 1
            return parse_entry(os.pread(fd, os.fstat(fd).st_size, 0))
        finally:
            os.close(fd)

    def receive_until(self, predicate: str, timeout: float = 30.0) -> list[dict[str, str]]:
        """Entries up to and including the first whose MESSAGE contains `predicate`; AssertionError if none does."""
        entries: list[dict[str, str]] = []
        while True:
            entry = self.receive(timeout)
            assert entry is not None, f"no entry containing {predicate!r}; got {entries}"
            entries.append(entry)
            if predicate in entry["MESSAGE"]:
                return entries

    def pending(self) -> list[dict[str, str]]:
        """Entries already waiting, without blocking."""
        entries = []
        while (entry := self.receive(0.05)) is not None:
            entries.append(entry)
        return entries

    def close(self) -> None:
        """Close and remove the socket."""
        self.sock.close()
        self.path.unlink(missing_ok=True)
