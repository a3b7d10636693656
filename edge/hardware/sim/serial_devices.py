"""Serial readers simulated through real pseudo-terminals, reachable at a stable path that can vanish.

`path` is a symlink to the current pty (as /dev/serial/by-id/... links are to /dev/ttyUSBn): `unplug()`
closes the pty and removes the link, so the reader sees the device fail and then disappear; `replug()`
makes a new pty behind the same path.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
import tty
from pathlib import Path
from types import TracebackType
from typing import Self

from edge.hardware.rdm6300 import encode_frame


class PtySerialDevice:
    """A serial device whose other end this object writes to."""

    def __init__(self, path: str | Path | None = None) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="edge-tty-")
            path = Path(self._tmp.name) / "ttySIM0"
        self.path = str(path)
        self._master: int | None = None
        self._slave: int | None = None
        self._tty = ""
        self._lock = threading.Lock()
        self.replug()

    @property
    def plugged(self) -> bool:
        """True while the device exists."""
        return self._master is not None

    @property
    def tty(self) -> str:
        """The pty's own device path (/dev/pts/N); it changes at every replug."""
        return self._tty

    def replug(self) -> None:
        """Create the device (again) behind `path`."""
        with self._lock:
            if self._master is not None:
                return
            master, slave = os.openpty()
            tty.setraw(slave)  # no line discipline: 0x03 must not become ^C, CR must stay CR
            self._tty = os.ttyname(slave)
            link = Path(self.path)
            temporary = link.with_name(link.name + ".new")
            temporary.unlink(missing_ok=True)
            temporary.symlink_to(self._tty)
            temporary.replace(link)
            self._master, self._slave = master, slave

    def unplug(self) -> None:
        """Make the device fail under its reader and disappear."""
        with self._lock:
            Path(self.path).unlink(missing_ok=True)
            for fd in (self._master, self._slave):
                if fd is not None:
                    os.close(fd)
            self._master = self._slave = None

    def write(self, data: bytes) -> None:
        """Send bytes to whoever has the device open (lost if nobody has)."""
        with self._lock:
            if self._master is None:
                raise OSError("the simulated serial device is unplugged")
            view = memoryview(data)
            while view:
                view = view[os.write(self._master, view) :]

    def close(self) -> None:
        """Unplug and remove the temporary folder."""
        self.unplug()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class Rdm6300Sim(PtySerialDevice):
    """An RDM6300 module: sends a frame per read of a card."""

    def send_card(self, tag: str | bytes, *, checksum: int | None = None) -> None:
        """Send one frame for a 5-byte tag (hex text or bytes); `checksum` forces a (wrong) check byte."""
        data = bytes.fromhex(tag) if isinstance(tag, str) else tag
        self.write(encode_frame(data, checksum))

    def hold_card(self, tag: str | bytes, seconds: float, interval_s: float = 0.05) -> threading.Thread:
        """Repeat the card's frame every `interval_s` for `seconds` ("continuous" firmware), in a thread."""
        stop_at = time.monotonic() + seconds

        def repeat() -> None:
            while time.monotonic() < stop_at and self.plugged:
                try:
                    self.send_card(tag)
                except OSError:
                    return
                threading.Event().wait(interval_s)

        thread = threading.Thread(target=repeat, name="rdm6300-sim", daemon=True)
        thread.start()
        return thread


class LineReaderSim(PtySerialDevice):
    """A reader that prints each UID as a line of text."""

    def send_line(self, text: str, ending: str = "\r\n") -> None:
        """Print one line."""
        self.write((text + ending).encode("ascii"))
