"""Stop signals (SIGTERM, SIGINT) turned into a timed wait that ends early, without a lock in the signal handler.

A Python signal handler runs in the main thread between two bytecodes, possibly while that thread holds a lock:
inside `threading.Event.wait()`, for instance. A handler that calls `Event.set()` then waits for a lock its own
thread holds, and the daemon never stops (an `edge collector` was seen alive 28 minutes after SIGTERM). So the
handler here only stores the signal number in a plain attribute, and the wait is a `poll()` on the read end of a
pipe that CPython's C-level handler writes the signal number to (`signal.set_wakeup_fd`): a signal that lands
just before the wait still ends it at once, because its byte is already in the pipe.
"""

from __future__ import annotations

import math
import os
import select
import signal
from types import FrameType, TracebackType
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignals:
    """While open (main thread only), SIGTERM and SIGINT request a stop instead of ending the process."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self._read_fd = -1
        self._write_fd = -1
        self._previous: dict[signal.Signals, Any] = {}
        self._previous_wakeup = -1
        self._poll = select.poll()

    def open(self) -> StopSignals:
        """Install the handlers and the wakeup pipe; from here a stop signal no longer ends the process."""
        self._read_fd, self._write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._poll.register(self._read_fd, select.POLLIN)
        self._previous_wakeup = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        for sig in STOP_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # A plain attribute store: no lock, no logging, nothing the interrupted code could be holding.
        self.received = signal.Signals(signum)

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for a stop signal; True once one has arrived (then at once, every call)."""
        if self.received is None:
            self._poll.poll(max(0, math.ceil(timeout * 1000)))
            self._drain()
        return self.received is not None

    def _drain(self) -> None:
        # The pipe carries one byte per signal caught, whichever Python handler it has: keep the stop signals.
        while True:
            try:
                data = os.read(self._read_fd, 512)
            except BlockingIOError:
                return
            for number in data:
                if number in STOP_SIGNALS and self.received is None:
                    self.received = signal.Signals(number)
            if not data:
                return

    def close(self) -> None:
        """Put back the previous handlers and wakeup fd, and close the pipe."""
        for sig, handler in self._previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        self._previous.clear()
        if self._write_fd >= 0:
            signal.set_wakeup_fd(self._previous_wakeup)
            self._poll.unregister(self._read_fd)
            os.close(self._read_fd)
            os.close(self._write_fd)
            self._read_fd = self._write_fd = -1

    def __enter__(self) -> StopSignals:
        return self.open()

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()
