"""Clocks: the only place wall time and monotonic time are read, so logic can be tested with a manual clock."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """A source of wall-clock and monotonic time."""

    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        ...

    def monotonic(self) -> float:
        """Return seconds from an arbitrary origin that never goes backwards."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """Return `time.monotonic()`."""
        return time.monotonic()


class ScaledClock:
    """A clock that runs `speed` times faster than real time from a chosen instant (simulation only).

    `edge demo` runs the real daemons on these so a coworking day passes in minutes: every duration the daemons
    compute from this clock (unlock time, hysteresis, schedules) shrinks with it. Clocks built with the same
    start, speed and `anchor` (a real Unix time) agree across processes, whenever each process started.
    """

    def __init__(self, start: datetime, speed: float, anchor: float | None = None) -> None:
        if start.tzinfo is None or speed <= 0:
            raise ValueError("ScaledClock needs an aware start and a positive speed")
        self.speed = float(speed)
        self.anchor = time.time() if anchor is None else anchor
        self._start = start.astimezone(UTC)

    def _elapsed(self) -> float:
        return (time.time() - self.anchor) * self.speed

    def now(self) -> datetime:
        """Simulated wall time."""
        from datetime import timedelta

        return self._start + timedelta(seconds=self._elapsed())

    def monotonic(self) -> float:
        """Simulated seconds since the start (wall-clock based, so that processes agree)."""
        return self._elapsed()

    def spec(self) -> str:
        """The "START@SPEED@ANCHOR" text that rebuilds this clock in another process."""
        return f"{self._start.isoformat()}@{self.speed}@{self.anchor}"

    @classmethod
    def parse(cls, text: str) -> ScaledClock:
        """Build from "START@SPEED[@ANCHOR]", e.g. "2026-11-26T07:30:00+01:00@600"."""
        parts = text.split("@")
        try:
            if len(parts) not in (2, 3):
                raise ValueError
            anchor = float(parts[2]) if len(parts) == 3 else None
            return cls(datetime.fromisoformat(parts[0]), float(parts[1]), anchor)
        except ValueError:
            raise ValueError(f"expected START@SPEED[@ANCHOR] with an ISO start and offset, got {text!r}") from None


def real_seconds(clock: Clock, seconds: float) -> float:
    """How long to really wait for `seconds` of the clock's time to pass."""
    return seconds / getattr(clock, "speed", 1.0)


class ManualClock:
    """A clock that only moves when told to; for tests and for the demo's accelerated day."""

    def __init__(self, start: datetime, monotonic: float = 1000.0) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._mono = monotonic
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the current manual time."""
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        """Return the current manual monotonic time."""
        with self._lock:
            return self._mono

    def advance(self, seconds: float) -> None:
        """Move both wall and monotonic time forward."""
        from datetime import timedelta

        if seconds < 0:
            raise ValueError("time does not go backwards")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._mono += seconds

    def set(self, when: datetime) -> None:
        """Jump wall time (e.g. an NTP step); monotonic time is unchanged."""
        with self._lock:
            self._now = when.astimezone(UTC)


def rfc3339_ms(when: datetime) -> str:
    """Format an aware datetime as RFC 3339 UTC with milliseconds, e.g. 2026-11-26T09:00:00.123Z."""
    utc = when.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp into an aware UTC datetime; raise ValueError otherwise."""
    if not isinstance(text, str) or len(text) > 40:
        raise ValueError("not an RFC 3339 timestamp")
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("timestamp has no UTC offset")
    return value.astimezone(UTC)
