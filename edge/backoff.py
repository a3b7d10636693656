"""One retry delay for every loop that retries (broker sessions, forwarding, serial ports, radars, MFRC522):
it doubles after each failure up to a ceiling and starts again from the first delay after a success."""

from __future__ import annotations


class Backoff:
    """The delay before the next attempt: `first_s`, doubled after each failure, never above `max_s`."""

    def __init__(self, first_s: float, max_s: float) -> None:
        if first_s <= 0 or max_s < first_s:
            raise ValueError(f"a backoff needs 0 < first ({first_s}) <= max ({max_s})")
        self.first_s = first_s
        self.max_s = max_s
        self._current = first_s

    @property
    def current(self) -> float:
        """The delay the next failure will wait."""
        return self._current

    def failed(self) -> float:
        """An attempt failed: the delay to wait now (the next failure waits twice as long, up to the ceiling)."""
        delay = self._current
        self._current = min(self._current * 2, self.max_s)
        return delay

    def succeeded(self) -> None:
        """An attempt worked: the next failure waits the first delay again."""
        self._current = self.first_s
