"""An LD2410 that lives in a pty: real report frames at a steady rate, and the failures real radars have.

The device appears at `link` (a symlink to the pty's slave end, like a udev by-id link), so a reader can
reopen the same path after `unplug()` and `replug()`. It answers the engineering-mode commands the way the
radar does and then sends engineering frames. `silence()`, `freeze()` and `inject()` reproduce a radar that
stops talking, one that repeats a frozen frame, and line noise.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import threading
import tty
from pathlib import Path

from edge.hardware.ld2410 import (
    CMD_DISABLE_ENGINEERING,
    CMD_ENABLE_ENGINEERING,
    CommandFrame,
    FrameParser,
    RadarReading,
    TargetState,
    encode_ack,
    encode_report,
)

EMPTY = RadarReading(TargetState.NONE, 0, 0, 0, 0, 0)


def someone(distance_cm: int = 80, energy: int = 60, *, moving: bool = False) -> RadarReading:
    """A report of a person at `distance_cm`: still (reading, typing) unless `moving`."""
    state = TargetState.BOTH if moving else TargetState.STILL
    return RadarReading(state, distance_cm, energy if moving else 0, distance_cm, energy, distance_cm)


def _with_gates(reading: RadarReading) -> RadarReading:
    """The same reading as an engineering frame: energy in the gate of its distance, noise elsewhere."""
    gate = min(8, max(0, reading.detection_distance_cm // 75))
    moving = [3] * 9
    still = [2] * 9
    if reading.target.moving:
        moving[gate] = reading.moving_energy
    if reading.target.still:
        still[gate] = reading.still_energy
    return RadarReading(
        reading.target,
        reading.moving_distance_cm,
        reading.moving_energy,
        reading.still_distance_cm,
        reading.still_energy,
        reading.detection_distance_cm,
        tuple(moving),
        tuple(still),
        b"\x60\x01",
    )


class RadarSimulator:
    """A simulated LD2410 behind a pty; thread-safe controls for tests and the demo."""

    def __init__(self, link: str | Path, *, rate_hz: float = 10.0, reading: RadarReading = EMPTY) -> None:
        self.link = Path(link)
        self._period = 1.0 / rate_hz
        self._reading = reading
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._master: int | None = None
        self._slave: int | None = None
        self._silent = False
        self._frozen: bytes | None = None
        self._jitter = 0
        self._parser = FrameParser()
        self._thread: threading.Thread | None = None
        self.engineering = False
        self.frames_sent = 0
        self.bytes_dropped = 0
        self.commands: list[int] = []

    def start(self) -> RadarSimulator:
        """Plug the device in and start sending."""
        self.replug()
        self._thread = threading.Thread(target=self._run, name=f"radar-sim {self.link.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sending and remove the device."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.unplug()

    def __enter__(self) -> RadarSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def show(self, reading: RadarReading) -> None:
        """Report this from now on (energies jitter by a unit or two, as a real radar's do)."""
        with self._lock:
            self._reading = reading

    def silence(self, silent: bool = True) -> None:
        """Stop (or resume) sending frames while staying plugged in."""
        with self._lock:
            self._silent = silent

    def freeze(self, frozen: bool = True) -> None:
        """Repeat the current frame byte for byte (a hung radar), or resume normal reports."""
        with self._lock:
            self._frozen = self._frame() if frozen else None

    def inject(self, data: bytes) -> None:
        """Write raw bytes (line noise, a truncated frame) into the stream."""
        with self._lock:
            self._write(data)

    @property
    def plugged(self) -> bool:
        """The device is present."""
        with self._lock:
            return self._master is not None

    def unplug(self) -> None:
        """Pull the cable: the reader's next read fails and the link disappears."""
        with self._lock:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()
            for fd in (self._master, self._slave):
                if fd is not None:
                    os.close(fd)
            self._master = self._slave = None

    def replug(self) -> None:
        """Plug the cable back in: a new pty, the same link path, a radar back in basic mode (power cycled)."""
        with self._lock:
            if self._master is not None:
                return
            self.engineering = False
            self._parser = FrameParser()
            master, slave = os.openpty()
            tty.setraw(slave)  # no echo, no CR/LF translation: the bytes are binary frames
            os.set_blocking(master, False)
            tmp = self.link.with_name(self.link.name + ".new")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(os.ttyname(slave))
            tmp.replace(self.link)
            self._master, self._slave = master, slave

    def _run(self) -> None:
        while not self._stop.wait(self._period):
            with self._lock:
                self._answer_commands()
                if self._master is not None and not self._silent:
                    self._write(self._frozen or self._frame())
                    self.frames_sent += 1

    def _frame(self) -> bytes:
        # Energies jitter frame to frame on a real radar, the noise floor of an empty room included.
        reading = self._reading
        self._jitter = (self._jitter + 1) % 3
        target = reading.target
        reading = RadarReading(
            target,
            reading.moving_distance_cm,
            min(100, reading.moving_energy + self._jitter) if target.moving else 0,
            reading.still_distance_cm,
            min(100, reading.still_energy + self._jitter) if target.still or target is TargetState.NONE else 0,
            reading.detection_distance_cm,
        )
        return encode_report(_with_gates(reading) if self.engineering else reading)

    def _write(self, data: bytes) -> None:
        if self._master is None:
            return
        try:
            os.write(self._master, data)
        except BlockingIOError:
            self.bytes_dropped += len(data)  # nobody reading: a real UART drops bytes too
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise
            self.bytes_dropped += len(data)

    def _answer_commands(self) -> None:
        if self._master is None:
            return
        while select.select([self._master], [], [], 0)[0]:
            try:
                data = os.read(self._master, 256)
            except (BlockingIOError, OSError):
                return
            if not data:
                return
            for frame in self._parser.feed(data):
                if isinstance(frame, CommandFrame) and not frame.is_ack:
                    self.commands.append(frame.command)
                    if frame.command == CMD_ENABLE_ENGINEERING:
                        self.engineering = True
                    elif frame.command == CMD_DISABLE_ENGINEERING:
                        self.engineering = False
                    self._write(encode_ack(frame.command))
