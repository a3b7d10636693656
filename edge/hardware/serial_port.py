"""The serial half of the UART readers: open the port, read without spinning, survive unplug and replug.

Framing lives in pure parsers (`rdm6300.Rdm6300Parser`, `serial_line.LineParser`); this module only moves
bytes from pyserial into one of them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any, Protocol

import serial

from edge.backoff import Backoff
from edge.clock import Clock
from edge.hardware.readers import BadgeReader, FaultCallback, ReaderHealth, ScanCallback

log = logging.getLogger(__name__)


class UidParser(Protocol):
    """An incremental parser turning received bytes into normalised UIDs."""

    def feed(self, data: bytes) -> list[str]:
        """Consume bytes; return the UIDs of the frames they completed."""
        ...

    def reset(self) -> None:
        """Drop any partial frame (the byte stream was interrupted)."""
        ...


class SerialReader(BadgeReader):
    """A badge reader on a serial port: one thread, blocking reads with a timeout, reopen with backoff."""

    kind = "serial"

    def __init__(
        self,
        name: str,
        port: str,
        parser: UidParser,
        *,
        baudrate: int = 9600,
        read_timeout_s: float = 0.5,
        reopen_min_s: float = 0.5,
        reopen_max_s: float = 10.0,
        rearm_s: float = 1.0,
        on_scan: ScanCallback | None = None,
        on_fault: FaultCallback | None = None,
        clock: Clock | None = None,
        health: ReaderHealth | None = None,
    ) -> None:
        super().__init__(name, rearm_s=rearm_s, on_scan=on_scan, on_fault=on_fault, clock=clock, health=health)
        self.port = port
        self.parser = parser
        self.baudrate = baudrate
        self.read_timeout_s = read_timeout_s
        self.reopen_min_s = reopen_min_s
        self.reopen_max_s = reopen_max_s
        self._serial: Any = None
        self._serial_lock = threading.Lock()
        self._connected = threading.Event()

    @property
    def connected(self) -> bool:
        """True while the port is open."""
        return self._connected.is_set()

    def wait_ready(self, timeout: float) -> bool:
        """Block until the port is open (or `timeout` passes): bytes a card sends before that are lost."""
        return self._connected.wait(timeout)

    def wait_connected(self, timeout: float) -> bool:
        """Block until the port is open (or `timeout` passes); return whether it is."""
        return self._connected.wait(timeout)

    def _open(self) -> Any:
        # serial_for_url accepts device paths and pyserial URLs (loop://, rfc2217://) alike.
        # exclusive=True takes an flock so a second process cannot silently steal half the bytes.
        return serial.serial_for_url(
            self.port,
            baudrate=self.baudrate,
            bytesize=serial.EIGHTBITS,
            parity=serial.PARITY_NONE,
            stopbits=serial.STOPBITS_ONE,
            timeout=self.read_timeout_s,
            exclusive=True,
        )

    def _run(self) -> None:
        backoff = Backoff(self.reopen_min_s, self.reopen_max_s)
        first = True
        while not self._stopping.is_set():
            self._back_within(self.read_timeout_s)
            try:
                port = self._open()
            except (serial.SerialException, OSError, ValueError) as exc:
                self._set_fault(True, f"cannot open {self.port}: {_reason(exc)}")
                delay = backoff.failed()
                self._back_within(delay)
                self._stopping.wait(delay)
                continue
            if not first:
                self.health.reopens += 1
            first = False
            backoff.succeeded()
            with self._serial_lock:
                self._serial = port
            self.parser.reset()
            self._connected.set()
            self._set_fault(False, f"{self.port} open")
            try:
                self._read_until_lost(port)
            finally:
                self._connected.clear()
                with self._serial_lock:
                    self._serial = None
                _close_quietly(port)

    def _read_until_lost(self, port: Any) -> None:
        while not self._stopping.is_set():
            self._back_within(self.read_timeout_s)
            try:
                # Blocks in select() until at least one byte or the timeout: no busy loop.
                data = port.read(max(1, port.in_waiting))
            except (serial.SerialException, OSError) as exc:
                self._set_fault(True, f"{self.port} lost: {_reason(exc)}")
                return
            if not data:
                continue
            at = self.clock.monotonic()
            for uid in self.parser.feed(data):
                self._deliver(uid, at)

    def _wake(self) -> None:
        with self._serial_lock:
            port = self._serial
            cancel = getattr(port, "cancel_read", None)
            if cancel is not None:
                with contextlib.suppress(serial.SerialException, OSError):
                    cancel()


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text)


def _close_quietly(port: Any) -> None:
    try:
        port.close()
    except (serial.SerialException, OSError):
        log.debug("closing a lost serial port failed", exc_info=True)
