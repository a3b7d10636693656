"""Generic "line" serial readers: many USB/UART readers print each UID as text followed by CR and/or LF.

`format` says how the UID is printed (`hex`, or `decimal` zero-padded to `decimal_bytes` bytes in the normal
form); an optional `pattern` (a regular expression matched against the whole line, with a group named
`uid` or a single group) picks the UID out of decorated lines such as `ID:04A1B2C3`.
"""

from __future__ import annotations

import re

from edge.clock import Clock
from edge.errors import FrameError
from edge.hardware.readers import FaultCallback, ReaderHealth, ScanCallback
from edge.hardware.serial_port import SerialReader
from edge.hardware.uid import UidFormat, uid_from_text

_TERMINATORS = b"\r\n"
_CONTROL = "".join(chr(c) for c in range(32)) + "\x7f"


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a line pattern; it must have a group named `uid` or exactly one group."""
    compiled = re.compile(pattern)
    if "uid" not in compiled.groupindex and compiled.groups != 1:
        raise ValueError("the pattern needs a group named 'uid' (?P<uid>...) or exactly one group")
    return compiled


class LineParser:
    """Incremental line parser; counts into `health` (frames_ok, bad_frames, garbage_bytes, resyncs)."""

    def __init__(
        self,
        health: ReaderHealth | None = None,
        *,
        fmt: UidFormat = "hex",
        pattern: str | None = None,
        decimal_bytes: int = 4,
        max_line: int = 64,
    ) -> None:
        self.health = health if health is not None else ReaderHealth()
        self.fmt: UidFormat = fmt
        self.pattern = compile_pattern(pattern) if pattern is not None else None
        self.decimal_bytes = decimal_bytes
        self.max_line = max_line
        self._buf = bytearray()
        self._overflow = False

    def reset(self) -> None:
        """Drop a partial line (the port was reopened); its bytes count as garbage."""
        if self._buf:
            self.health.garbage_bytes += len(self._buf)
            self.health.resyncs += 1
        self._buf.clear()
        self._overflow = False

    def feed(self, data: bytes) -> list[str]:
        """Consume received bytes; return the normalised UIDs of the complete, valid lines."""
        uids: list[str] = []
        for byte in data:
            if byte in _TERMINATORS:
                if self._overflow:
                    # An over-long line was thrown away; this terminator puts us back in step.
                    self._overflow = False
                    self.health.resyncs += 1
                elif self._buf:
                    uid = self._parse(bytes(self._buf))
                    if uid is not None:
                        uids.append(uid)
                self._buf.clear()
            elif self._overflow:
                self.health.garbage_bytes += 1
            elif len(self._buf) >= self.max_line:
                self.health.garbage_bytes += len(self._buf) + 1
                self._buf.clear()
                self._overflow = True
            else:
                self._buf.append(byte)
        return uids

    def parse_line(self, line: bytes) -> str:
        """Return the normalised UID of one line (without its terminator); raise FrameError if it has none."""
        try:
            text = line.decode("ascii").strip(_CONTROL + " ")
        except UnicodeDecodeError:
            raise FrameError("line is not ASCII") from None
        if self.pattern is not None:
            match = self.pattern.fullmatch(text)
            if match is None:
                raise FrameError("line does not match the pattern")
            text = match.group("uid") if "uid" in self.pattern.groupindex else match.group(1)
            if text is None:
                raise FrameError("the pattern's UID group matched nothing")
        return uid_from_text(text, self.fmt, decimal_bytes=self.decimal_bytes)

    def _parse(self, line: bytes) -> str | None:
        try:
            uid = self.parse_line(line)
        except FrameError:
            self.health.bad_frames += 1
            return None
        self.health.frames_ok += 1
        return uid


class SerialLineReader(SerialReader):
    """A reader that prints one UID per line on a serial port."""

    kind = "serial_line"

    def __init__(
        self,
        name: str,
        port: str,
        *,
        baudrate: int = 9600,
        fmt: UidFormat = "hex",
        pattern: str | None = None,
        decimal_bytes: int = 4,
        max_line: int = 64,
        read_timeout_s: float = 0.5,
        reopen_min_s: float = 0.5,
        reopen_max_s: float = 10.0,
        rearm_s: float = 1.0,
        on_scan: ScanCallback | None = None,
        on_fault: FaultCallback | None = None,
        clock: Clock | None = None,
    ) -> None:
        health = ReaderHealth()
        parser = LineParser(health, fmt=fmt, pattern=pattern, decimal_bytes=decimal_bytes, max_line=max_line)
        super().__init__(
            name,
            port,
            parser,
            baudrate=baudrate,
            read_timeout_s=read_timeout_s,
            reopen_min_s=reopen_min_s,
            reopen_max_s=reopen_max_s,
            rearm_s=rearm_s,
            on_scan=on_scan,
            on_fault=on_fault,
            clock=clock,
            health=health,
        )
