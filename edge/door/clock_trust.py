"""Whether the door may trust its wall clock: dates, plans' schedules, the unlocked schedule and command freshness
are only judged on a trusted clock (`access.clock_trust`: `rtc`, or `ntp` and the kernel reports synchronisation)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from edge.clock import Clock, ScaledClock
from edge.timesync import clock_synchronised

log = logging.getLogger(__name__)


class ClockTrust:
    """The clock's trust, read again by `check()` (once a second); `trusted` is the last reading."""

    def __init__(self, policy: str, clock: Clock, clock_sync: Callable[[], bool | None] | None = None) -> None:
        self.policy = policy
        self.clock = clock
        # Whether the kernel says NTP synchronised the clock (injectable: the clock is a test boundary).
        self._clock_sync = clock_sync
        self.trusted = self._read()

    def check(self) -> bool:
        """Read the clock's trust again; a change is logged."""
        trusted = self._read()
        if trusted != self.trusted:
            log.warning("clock is %s", "now trusted" if trusted else "no longer trusted")
            self.trusted = trusted
        return trusted

    def _read(self) -> bool:
        if self.policy == "rtc":
            return True
        if self._clock_sync is not None:
            return bool(self._clock_sync())
        return isinstance(self.clock, ScaledClock) or bool(clock_synchronised())
