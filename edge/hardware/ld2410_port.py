"""An LD2410 on a serial port: a reader thread that parses reports and survives unplug and replug.

The thread opens the port (256000 8N1), optionally switches the radar to engineering reports, and hands
readings to `on_reading(reading, at)`: at once when the target state changes (someone appears or leaves),
otherwise at most one every `forward_every_s`. A radar sends ~10 frames/s whose energies jitter constantly;
passing each one on would cost CPU for nothing, since occupancy delays are seconds. A frozen radar is still
seen as frozen, and a silent one as silent.
When the port fails (unplugged, USB adapter gone) it calls `on_offline(reason, at)` once, then reopens with
exponential backoff until the device is back.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import serial

from edge.backoff import Backoff
from edge.clock import Clock, SystemClock
from edge.hardware.ld2410 import (
    BAUDRATE,
    CommandFrame,
    FrameParser,
    RadarReading,
    enable_engineering_commands,
)

log = logging.getLogger(__name__)

READ_SIZE = 4096
INTER_BYTE_TIMEOUT_S = 0.003

ReadingCallback = Callable[[RadarReading, float], None]
OfflineCallback = Callable[[str, float], None]


class Ld2410Port:
    """Reads one LD2410 in a background thread; `start()`, then `stop()` (or use it as a context manager)."""

    def __init__(
        self,
        port: str,
        *,
        on_reading: ReadingCallback,
        on_offline: OfflineCallback,
        clock: Clock | None = None,
        baudrate: int = BAUDRATE,
        engineering: bool = False,
        forward_every_s: float = 0.5,
        reopen_min_s: float = 0.5,
        reopen_max_s: float = 30.0,
        read_timeout_s: float = 0.5,
    ) -> None:
        self.port = port
        self._on_reading = on_reading
        self._on_offline = on_offline
        self._clock = clock or SystemClock()
        self._baudrate = baudrate
        self._engineering = engineering
        self._forward_every_s = forward_every_s
        self._reopen_min_s = reopen_min_s
        self._reopen_max_s = reopen_max_s
        self._read_timeout_s = read_timeout_s
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._serial: Any = None
        self._thread: threading.Thread | None = None
        self._parser = FrameParser()
        self._last: RadarReading | None = None
        self._last_forwarded_at = 0.0
        self._offline_reported = False
        self.opens = 0
        self.acks: Counter[int] = Counter()
        self.callback_errors = 0

    @property
    def online(self) -> bool:
        """The port is open (frames may still be missing; the occupancy domain judges silence)."""
        with self._lock:
            return self._serial is not None

    def alive(self) -> bool:
        """The reader thread runs (it keeps running while the radar is unplugged)."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def frames(self) -> int:
        """Frames decoded since start, across reopens."""
        return self._parser.frames

    @property
    def errors(self) -> Counter[str]:
        """Frame problems counted by label since start."""
        return self._parser.errors

    def start(self) -> Ld2410Port:
        """Start the reader thread."""
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._run, name=f"ld2410 {self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and close the port."""
        self._stop.set()
        with self._lock:
            if self._serial is not None and hasattr(self._serial, "cancel_read"):
                self._serial.cancel_read()
        if self._thread is not None:
            self._thread.join(timeout)

    close = stop

    def __enter__(self) -> Ld2410Port:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        backoff = Backoff(self._reopen_min_s, self._reopen_max_s)
        while not self._stop.is_set():
            port = self._open()
            if port is None:
                self._stop.wait(backoff.failed())
                continue
            backoff.succeeded()
            try:
                self._read_until_failure(port)
            finally:
                with self._lock:
                    self._serial = None
                port.close()

    def _open(self) -> Any:
        try:
            # inter_byte_timeout: one read returns a whole burst (a frame, ~1 ms at 256000 baud) instead of
            # waking up per byte; it halves the CPU per frame.
            port = serial.serial_for_url(
                self.port,
                baudrate=self._baudrate,
                timeout=self._read_timeout_s,
                inter_byte_timeout=INTER_BYTE_TIMEOUT_S,
                exclusive=True,
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            self._offline(f"cannot open: {exc}")
            return None
        with self._lock:
            self._serial = port
        self.opens += 1
        self._last = None
        log.info("radar %s: port open", self.port)
        if self._engineering:
            try:
                for command in enable_engineering_commands():
                    port.write(command)
            except (serial.SerialException, OSError) as exc:
                log.warning("radar %s: cannot send engineering-mode commands: %s", self.port, exc)
        return port

    def _read_until_failure(self, port: Any) -> None:
        while not self._stop.is_set():
            try:
                data = port.read(READ_SIZE)
            except (serial.SerialException, OSError, TypeError) as exc:
                # TypeError: pyserial on a closed fd; all mean the device is gone.
                if not self._stop.is_set():
                    self._offline(f"read failed: {exc}")
                return
            if data:
                self._handle(self._parser.feed(data))

    def _handle(self, frames: list[RadarReading | CommandFrame]) -> None:
        now = self._clock.monotonic()
        for frame in frames:
            if isinstance(frame, CommandFrame):
                self._acknowledged(frame)
                continue
            same_target = self._last is not None and frame.target is self._last.target
            if same_target and now - self._last_forwarded_at < self._forward_every_s:
                continue
            self._last, self._last_forwarded_at = frame, now
            self._offline_reported = False
            try:
                self._on_reading(frame, now)
            except Exception:
                self.callback_errors += 1
                log.exception("radar %s: reading callback failed", self.port)

    def _acknowledged(self, frame: CommandFrame) -> None:
        if frame.is_ack:
            self.acks[frame.command] += 1
            if frame.status:
                log.warning("radar %s: command 0x%04x refused (status %d)", self.port, frame.command, frame.status)

    def _offline(self, reason: str) -> None:
        if self._offline_reported:
            return
        self._offline_reported = True
        log.warning("radar %s offline: %s", self.port, reason)
        try:
            self._on_offline(reason, self._clock.monotonic())
        except Exception:
            self.callback_errors += 1
            log.exception("radar %s: offline callback failed", self.port)
